# Test helpers shared by tests/ and bench/.
#
# sb_add_mpi_test(NAME name COMMAND exe args... RANKS 1 2 3 4 [LABELS l] [TIMEOUT s])
# registers one ctest per rank count, launched through FindMPI's MPIEXEC_*
# variables so that Open MPI and MPICH both work. Open MPI needs to be told it
# may run as root and oversubscribe a 2-core machine.
set(SB_MPIEXEC_EXTRA "")
execute_process(COMMAND ${MPIEXEC_EXECUTABLE} --version OUTPUT_VARIABLE _sb_mpiexec_version
                ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
if(_sb_mpiexec_version MATCHES "Open MPI|OpenRTE")
  set(SB_MPI_IS_OPENMPI TRUE)
  set(SB_MPIEXEC_EXTRA --oversubscribe --allow-run-as-root)
else()
  set(SB_MPI_IS_OPENMPI FALSE)
endif()
set(SB_MPIEXEC_EXTRA "${SB_MPIEXEC_EXTRA}" CACHE INTERNAL "")

function(sb_add_mpi_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "COMMAND;RANKS;LABELS" ${ARGN})
  if(NOT T_RANKS)
    set(T_RANKS 1 2 3 4)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  foreach(n IN LISTS T_RANKS)
    add_test(NAME ${T_NAME}_np${n}
             COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${n}
                     ${SB_MPIEXEC_EXTRA} ${MPIEXEC_PREFLAGS} ${T_COMMAND} ${MPIEXEC_POSTFLAGS})
    set_tests_properties(${T_NAME}_np${n} PROPERTIES
      TIMEOUT ${T_TIMEOUT} PROCESSORS ${n} LABELS "mpi;${T_LABELS}"
      ENVIRONMENT "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OMPI_MCA_rmaps_base_oversubscribe=1;CK_DEFAULT_TIMEOUT=240;ASAN_OPTIONS=detect_leaks=0")
  endforeach()
endfunction()

# MPI, the *parallel* HDF5, cJSON and Check. On Debian both flavours of the
# parallel HDF5 can be installed side by side; SB_MPI_FLAVOR picks one by its
# compiler wrappers so that MPI and HDF5 always come from the same MPI.
if(NOT SB_MPI_FLAVOR STREQUAL "auto")
  if(NOT SB_MPI_FLAVOR MATCHES "^(openmpi|mpich)$")
    message(FATAL_ERROR "SB_MPI_FLAVOR must be auto, openmpi or mpich (got '${SB_MPI_FLAVOR}')")
  endif()
  find_program(SB_H5PCC NAMES h5pcc.${SB_MPI_FLAVOR} REQUIRED)
  find_program(SB_MPICC NAMES mpicc.${SB_MPI_FLAVOR} REQUIRED)
  find_program(SB_MPIEXEC NAMES mpiexec.${SB_MPI_FLAVOR} mpirun.${SB_MPI_FLAVOR} REQUIRED)
  set(HDF5_C_COMPILER_EXECUTABLE "${SB_H5PCC}" CACHE FILEPATH "" FORCE)
  set(MPI_C_COMPILER "${SB_MPICC}" CACHE FILEPATH "" FORCE)
  set(MPIEXEC_EXECUTABLE "${SB_MPIEXEC}" CACHE FILEPATH "" FORCE)
endif()

find_package(MPI REQUIRED COMPONENTS C)

set(HDF5_PREFER_PARALLEL ON)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR
    "secbench-storage needs a parallel HDF5 (MPI-IO), but the HDF5 found "
    "(${HDF5_C_INCLUDE_DIRS}) is serial. On Debian: apt-get install "
    "libhdf5-openmpi-dev (or libhdf5-mpich-dev with -DSB_MPI_FLAVOR=mpich).")
endif()
if(HDF5_VERSION VERSION_LESS 1.10)
  message(FATAL_ERROR "secbench-storage needs HDF5 >= 1.10 (found ${HDF5_VERSION})")
endif()
message(STATUS "Parallel HDF5 ${HDF5_VERSION}: ${HDF5_C_INCLUDE_DIRS}")
message(STATUS "MPI launcher: ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} N ${MPIEXEC_PREFLAGS}")

find_package(PkgConfig REQUIRED)
pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
# cJSON is part of the public API: the library links cJSON::cJSON, found by
# the Find module that the installed CMake package carries too (SbInstall).
list(APPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_LIST_DIR}/modules")
find_package(cJSON REQUIRED)
if(SB_BUILD_TESTS)
  pkg_check_modules(CHECK REQUIRED IMPORTED_TARGET check)
endif()

# One imported target for HDF5 whatever FindHDF5 version produced the variables.
if(NOT TARGET sb_hdf5)
  add_library(sb_hdf5 INTERFACE)
  target_include_directories(sb_hdf5 SYSTEM INTERFACE ${HDF5_C_INCLUDE_DIRS})
  target_link_libraries(sb_hdf5 INTERFACE ${HDF5_C_LIBRARIES})
  target_compile_definitions(sb_hdf5 INTERFACE ${HDF5_C_DEFINITIONS})
endif()

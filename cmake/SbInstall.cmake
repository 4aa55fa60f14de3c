# Installation: headers, the shared and static libraries, a CMake package, a
# pkg-config file and the programs. What is installed works from any prefix
# (`cmake --install build --prefix P`: a home, a module tree, a Spack prefix)
# and keeps working when the prefix is moved:
# - the programs find the library through a relative RPATH ($ORIGIN/../lib);
#   the library's own dependencies (MPI, HDF5, cJSON) are found through the
#   system's loader paths, as for any program linked against them;
# - secbench-storage.pc locates the prefix from its own place (${pcfiledir});
# - the CMake package locates it from its own place too (CMake does that).
# tests/install/ checks all of it.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(SB_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/SecbenchStorage")

# From the installed programs' folder to the library's ("../lib").
file(RELATIVE_PATH _sb_bin_to_lib "${CMAKE_INSTALL_FULL_BINDIR}" "${CMAKE_INSTALL_FULL_LIBDIR}")
if(_sb_bin_to_lib STREQUAL "")
  set(SB_PROGRAM_INSTALL_RPATH "$ORIGIN")
else()
  set(SB_PROGRAM_INSTALL_RPATH "$ORIGIN/${_sb_bin_to_lib}")
endif()

# sb_install_programs(target...): install programs into bin/ with the
# relative RPATH. (The build tree keeps CMake's absolute build RPATH.)
function(sb_install_programs)
  set_target_properties(${ARGN} PROPERTIES INSTALL_RPATH "${SB_PROGRAM_INSTALL_RPATH}")
  install(TARGETS ${ARGN} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endfunction()

# sb_install_library(shared static): the headers, both libraries, the CMake
# package (SecbenchStorage::secbench-storage, ...-static) and secbench-storage.pc.
function(sb_install_library shared static)
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/secbench"
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(TARGETS ${shared} ${static} EXPORT SecbenchStorageTargets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

  # CMake package. Its config file finds the public dependencies (MPI, cJSON)
  # with find_dependency; FindcJSON.cmake travels with it.
  install(EXPORT SecbenchStorageTargets NAMESPACE SecbenchStorage::
          DESTINATION ${SB_INSTALL_CMAKEDIR})
  set(SB_CONFIG_MPI_C_COMPILER "${MPI_C_COMPILER}")
  configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/SecbenchStorageConfig.cmake.in"
    "${PROJECT_BINARY_DIR}/SecbenchStorageConfig.cmake"
    INSTALL_DESTINATION ${SB_INSTALL_CMAKEDIR})
  # 0.x: a new minor version may change the API (and does: the SONAME follows).
  if(PROJECT_VERSION_MAJOR EQUAL 0)
    set(compat SameMinorVersion)
  else()
    set(compat SameMajorVersion)
  endif()
  write_basic_package_version_file("${PROJECT_BINARY_DIR}/SecbenchStorageConfigVersion.cmake"
    COMPATIBILITY ${compat})
  install(FILES "${PROJECT_BINARY_DIR}/SecbenchStorageConfig.cmake"
                "${PROJECT_BINARY_DIR}/SecbenchStorageConfigVersion.cmake"
          DESTINATION ${SB_INSTALL_CMAKEDIR})
  install(FILES "${PROJECT_SOURCE_DIR}/cmake/modules/FindcJSON.cmake"
          DESTINATION ${SB_INSTALL_CMAKEDIR}/modules)

  # pkg-config. Public (Requires): MPI, through the MPI's own .pc (ompi-c or
  # mpich: mpi.h is in the API), and cJSON (libcjson: cJSON documents are in
  # the API). Private (Requires.private, used by `pkg-config --static` to link
  # libsecbench-storage.a): the parallel HDF5 of the same MPI.
  if(SB_MPI_FLAVOR STREQUAL "mpich" OR MPI_C_LIBRARIES MATCHES "mpich")
    set(SB_PC_MPI mpich)
    set(SB_PC_HDF5 hdf5-mpich)
  else()
    set(SB_PC_MPI ompi-c)
    set(SB_PC_HDF5 hdf5-openmpi)
  endif()
  # The prefix relative to the .pc file, so that --prefix P and a moved prefix work.
  file(RELATIVE_PATH SB_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
  string(REGEX REPLACE "/$" "" SB_PC_TO_PREFIX "${SB_PC_TO_PREFIX}")
  configure_file("${PROJECT_SOURCE_DIR}/cmake/secbench-storage.pc.in"
                 "${PROJECT_BINARY_DIR}/secbench-storage.pc" @ONLY)
  install(FILES "${PROJECT_BINARY_DIR}/secbench-storage.pc"
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endfunction()

# cmake -P driver: install the current build into a fresh prefix, then build
# and run tests/install/consumer against it twice: with find_package() and
# with pkg-config.
#
# Variables (-D): BUILD_DIR PROJECT_SOURCE SOURCE_DIR WORK_DIR LIBDIR GENERATOR C_COMPILER
#                 C_FLAGS (sanitizer flags, ;-list) VERSION PKG_CONFIG
foreach(v BUILD_DIR PROJECT_SOURCE SOURCE_DIR WORK_DIR LIBDIR GENERATOR C_COMPILER VERSION PKG_CONFIG)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "run_install_test.cmake: -D${v}=... is required")
  endif()
endforeach()

function(run)
  cmake_parse_arguments(R "" "WHAT" "COMMAND" ${ARGN})
  execute_process(COMMAND ${R_COMMAND} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${R_COMMAND}")
    message(FATAL_ERROR "${R_WHAT} failed (${rc}): ${cmd}\n${out}\n${err}")
  endif()
  message(STATUS "${R_WHAT}: ok")
  set(RUN_OUTPUT "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

run(WHAT "cmake --install" COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
foreach(f include/secbench/storage.h include/secbench/store.h include/secbench/dataset.h
          include/secbench/asset.h include/secbench/types.h include/secbench/errors.h
          ${LIBDIR}/libsecbench-storage.so ${LIBDIR}/libsecbench-storage.a
          ${LIBDIR}/pkgconfig/secbench-storage.pc
          ${LIBDIR}/cmake/SecbenchStorage/SecbenchStorageConfig.cmake
          ${LIBDIR}/cmake/SecbenchStorage/SecbenchStorageConfigVersion.cmake)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "cmake --install did not install ${f}")
  endif()
endforeach()
# The installed CMake files must not point back into the build or source tree.
file(GLOB cmake_files "${prefix}/${LIBDIR}/cmake/SecbenchStorage/*.cmake")
foreach(f IN LISTS cmake_files "${prefix}/${LIBDIR}/pkgconfig/secbench-storage.pc")
  file(READ "${f}" text)
  foreach(tree "${BUILD_DIR}" "${PROJECT_SOURCE}")
    string(FIND "${text}" "${tree}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${f} refers to ${tree}")
    endif()
  endforeach()
endforeach()

string(REPLACE ";" " " flags "${C_FLAGS}")
set(consumer_src "${SOURCE_DIR}/consumer")

# 1. CMake: find_package(SecbenchStorage), target SecbenchStorage::secbench-storage
run(WHAT "configure consumer (find_package)" COMMAND ${CMAKE_COMMAND}
    -S "${consumer_src}" -B "${WORK_DIR}/cmake-build" -G "${GENERATOR}"
    "-DCMAKE_C_COMPILER=${C_COMPILER}" "-DCMAKE_C_FLAGS=${flags}"
    "-DCMAKE_EXE_LINKER_FLAGS=${flags}" "-DCMAKE_PREFIX_PATH=${prefix}"
    "-DSB_EXPECTED_PREFIX=${prefix}" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
run(WHAT "build consumer (find_package)" COMMAND ${CMAKE_COMMAND} --build "${WORK_DIR}/cmake-build")
run(WHAT "run consumer (find_package)" COMMAND ${CMAKE_COMMAND} -E env
    "LD_LIBRARY_PATH=${prefix}/${LIBDIR}"
    "${WORK_DIR}/cmake-build/consumer" "${WORK_DIR}/cmake.h5" "${VERSION}")
message(STATUS "${RUN_OUTPUT}")
if(NOT EXISTS "${WORK_DIR}/cmake.h5")
  message(FATAL_ERROR "the find_package consumer wrote no store")
endif()

# 2. pkg-config: secbench-storage.pc from the prefix only
set(ENV{PKG_CONFIG_PATH} "${prefix}/${LIBDIR}/pkgconfig")
run(WHAT "pkg-config --cflags --libs" COMMAND ${PKG_CONFIG} --cflags --libs secbench-storage)
string(STRIP "${RUN_OUTPUT}" pc_flags)
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
# -I and -L must lead into the prefix (a relocatable .pc may spell them
# through ${pcfiledir}, so compare real paths).
get_filename_component(want_inc "${prefix}/include" REALPATH)
get_filename_component(want_lib "${prefix}/${LIBDIR}" REALPATH)
set(found_inc FALSE)
set(found_lib FALSE)
foreach(flag IN LISTS pc_flags)
  if(flag MATCHES "^-([IL])(.+)$")
    get_filename_component(dir "${CMAKE_MATCH_2}" REALPATH)
    if(CMAKE_MATCH_1 STREQUAL "I" AND dir STREQUAL want_inc)
      set(found_inc TRUE)
    elseif(CMAKE_MATCH_1 STREQUAL "L" AND dir STREQUAL want_lib)
      set(found_lib TRUE)
    endif()
  endif()
endforeach()
if(NOT found_inc OR NOT found_lib)
  message(FATAL_ERROR "pkg-config flags do not lead into the prefix ${prefix} "
          "(secbench-storage.pc must follow cmake --install --prefix): ${pc_flags}")
endif()
run(WHAT "pkg-config --modversion" COMMAND ${PKG_CONFIG} --modversion secbench-storage)
string(STRIP "${RUN_OUTPUT}" pc_version)
if(NOT pc_version STREQUAL VERSION)
  message(FATAL_ERROR "secbench-storage.pc says version ${pc_version}, expected ${VERSION}")
endif()
run(WHAT "build consumer (pkg-config)" COMMAND "${C_COMPILER}" ${C_FLAGS} -std=c11
    "${consumer_src}/consumer.c" -o "${WORK_DIR}/consumer-pc" ${pc_flags})
run(WHAT "run consumer (pkg-config)" COMMAND ${CMAKE_COMMAND} -E env
    "LD_LIBRARY_PATH=${prefix}/${LIBDIR}"
    "${WORK_DIR}/consumer-pc" "${WORK_DIR}/pkgconfig.h5" "${VERSION}")
message(STATUS "${RUN_OUTPUT}")

file(REMOVE_RECURSE "${WORK_DIR}")

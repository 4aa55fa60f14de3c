# FindcJSON: the cJSON library (https://github.com/DaveGamble/cJSON), a public
# dependency of secbench-storage (JSON assets take and return cJSON documents).
#
# Installed with the SecbenchStorage CMake package, so that its config file can
# find_dependency(cJSON) whether or not cJSON was installed with its own CMake
# files (Debian's libcjson-dev ships a cJSONConfig.cmake with an unnamespaced
# `cjson` target; a make-built cJSON ships none; both ship libcjson.pc).
#
# Result: the imported target cJSON::cJSON (headers as <cjson/cJSON.h>), and
# cJSON_FOUND, cJSON_VERSION, cJSON_INCLUDE_DIR, cJSON_LIBRARY.
# Hints: cJSON_ROOT (CMake >= 3.12), CMAKE_PREFIX_PATH, pkg-config's libcjson.pc.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_cJSON QUIET libcjson)
endif()

find_path(cJSON_INCLUDE_DIR NAMES cjson/cJSON.h
          HINTS ${PC_cJSON_INCLUDEDIR} ${PC_cJSON_INCLUDE_DIRS})
find_library(cJSON_LIBRARY NAMES cjson
             HINTS ${PC_cJSON_LIBDIR} ${PC_cJSON_LIBRARY_DIRS})
mark_as_advanced(cJSON_INCLUDE_DIR cJSON_LIBRARY)

set(cJSON_VERSION "")
if(cJSON_INCLUDE_DIR AND EXISTS "${cJSON_INCLUDE_DIR}/cjson/cJSON.h")
  file(STRINGS "${cJSON_INCLUDE_DIR}/cjson/cJSON.h" _sb_cjson_v
       REGEX "^#define CJSON_VERSION_(MAJOR|MINOR|PATCH) +[0-9]+")
  foreach(part MAJOR MINOR PATCH)
    string(REGEX MATCH "CJSON_VERSION_${part} +([0-9]+)" _ "${_sb_cjson_v}")
    set(_sb_cjson_${part} "${CMAKE_MATCH_1}")
  endforeach()
  if(NOT _sb_cjson_MAJOR STREQUAL "")
    set(cJSON_VERSION "${_sb_cjson_MAJOR}.${_sb_cjson_MINOR}.${_sb_cjson_PATCH}")
  endif()
  unset(_sb_cjson_v)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(cJSON
  REQUIRED_VARS cJSON_LIBRARY cJSON_INCLUDE_DIR
  VERSION_VAR cJSON_VERSION)

if(cJSON_FOUND AND NOT TARGET cJSON::cJSON)
  add_library(cJSON::cJSON UNKNOWN IMPORTED)
  set_target_properties(cJSON::cJSON PROPERTIES
    IMPORTED_LOCATION "${cJSON_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${cJSON_INCLUDE_DIR}")
endif()

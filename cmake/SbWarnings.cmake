# Project-wide warning and sanitizer flags, applied to targets through
# sb_target_defaults() so that third-party code is left alone.
set(SB_WARNING_FLAGS -Wall -Wextra -Wshadow -Wpointer-arith -Wformat=2
    $<$<COMPILE_LANGUAGE:C>:-Wstrict-prototypes> $<$<COMPILE_LANGUAGE:C>:-Wmissing-prototypes>
    $<$<COMPILE_LANGUAGE:CXX>:-Wmissing-declarations>)
if(SB_WERROR)
  list(APPEND SB_WARNING_FLAGS -Werror)
endif()

set(SB_SANITIZE_FLAGS "")
if(SB_SANITIZE)
  set(SB_SANITIZE_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=undefined)
  add_compile_options(${SB_SANITIZE_FLAGS})
  add_link_options(${SB_SANITIZE_FLAGS})
endif()

function(sb_target_defaults target)
  target_compile_options(${target} PRIVATE ${SB_WARNING_FLAGS})
endfunction()

# ASan + UBSan for every target when CTRDNS_SANITIZE is on (asan and fuzz presets).
if(CTRDNS_SANITIZE)
  set(_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # clang 14 cannot compile coroutine TUs with -fsanitize=function ("difference across sections").
    list(APPEND _san -fno-sanitize=function)
  endif()
  add_compile_options(${_san})
  add_link_options(-fsanitize=address,undefined)
endif()

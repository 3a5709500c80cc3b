# Warning flags for project targets (cmake_template's list, trimmed). -Werror only when asked (ci preset).
set(CTRDNS_WARNINGS
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast
    -Wnon-virtual-dtor -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough -Wformat=2)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND CTRDNS_WARNINGS -Wduplicated-cond -Wlogical-op)
endif()
if(CTRDNS_WERROR)
  list(APPEND CTRDNS_WARNINGS -Werror)
endif()

function(ctrdns_set_warnings target)
  target_compile_options(${target} PRIVATE ${CTRDNS_WARNINGS})
endfunction()

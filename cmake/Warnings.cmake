# Warning flags for project targets (cmake_template's list, trimmed). -Werror only when asked (ci preset).
set(CTRDNS_WARNINGS
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast
    -Wnon-virtual-dtor -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough -Wformat=2)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND CTRDNS_WARNINGS -Wduplicated-cond -Wlogical-op)
  # Release only (-O3): GCC 12's path-based -Wnull-dereference and -Wrestrict report paths inside
  # header code inlined into ours (56 from asio's scheduler, 12 from libstdc++'s istreambuf_iterator,
  # std::string and unordered_map) in a release build of ctrdns, none of them real. Marking headers as system does not help:
  # these are issued after inlining. The asan preset (-O2, -Werror) keeps both as a gate.
  list(APPEND CTRDNS_WARNINGS $<$<CONFIG:Release>:-Wno-null-dereference> $<$<CONFIG:Release>:-Wno-restrict>)
endif()
if(CTRDNS_WERROR)
  list(APPEND CTRDNS_WARNINGS -Werror)
endif()

function(ctrdns_set_warnings target)
  target_compile_options(${target} PRIVATE ${CTRDNS_WARNINGS})
endfunction()

# Standalone Asio (libasio-dev) ships no CMake config: wrap the header in an INTERFACE target.
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
find_package(Threads REQUIRED)
add_library(ctrdns_asio INTERFACE)
target_include_directories(ctrdns_asio SYSTEM INTERFACE ${ASIO_INCLUDE_DIR})
target_compile_definitions(ctrdns_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # asio's clang branch looks for <experimental/coroutine>, which libstdc++ lacks.
  target_compile_definitions(ctrdns_asio INTERFACE ASIO_HAS_CO_AWAIT=1 ASIO_HAS_STD_COROUTINE=1)
endif()
target_link_libraries(ctrdns_asio INTERFACE Threads::Threads)

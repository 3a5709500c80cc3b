# Fuzz targets are ordinary executables. Under the fuzz preset (clang, CTRDNS_FUZZ=ON) they link
# libFuzzer; otherwise they link replay_main.cpp and ctest replays their corpus (Knot's pattern).
function(ctrdns_add_fuzz_target name)
  set(src ${CMAKE_CURRENT_SOURCE_DIR}/${name}.cpp)
  if(CTRDNS_FUZZ)
    add_executable(${name} ${src})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(${name} ${src} ${CMAKE_CURRENT_SOURCE_DIR}/replay_main.cpp)
    add_test(NAME ${name}_corpus
             COMMAND ${name} ${CMAKE_CURRENT_SOURCE_DIR}/corpus/${name})
    set_tests_properties(${name}_corpus PROPERTIES LABELS fuzz-replay)
  endif()
  target_link_libraries(${name} PRIVATE ${ARGN})
  ctrdns_set_warnings(${name})
  add_dependencies(fuzzers ${name})
endfunction()

# crashgate_fuzz_target(NAME SOURCES ... LIBS ...): one fuzz target, for any engine.
# libFuzzer entry points (OSS-Fuzz style). Under the fuzz preset each is a
# libFuzzer binary; in every other build it is a <name>_replay binary that runs
# the seed corpus and corpora/<name>/regressions/ as a test, forever.
# OSS-Fuzz/ClusterFuzzLite builds (ci/oss-fuzz/build.sh) bring their own
# compiler flags in CFLAGS/CXXFLAGS and name the engine to link in
# CRASHGATE_LIB_FUZZING_ENGINE ($LIB_FUZZING_ENGINE: a flag or a library).
set(CRASHGATE_LIB_FUZZING_ENGINE "" CACHE STRING "Link fuzz targets with this fuzzing engine (OSS-Fuzz's \$LIB_FUZZING_ENGINE)")
function(crashgate_fuzz_target name)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  if(CRASHGATE_LIB_FUZZING_ENGINE)
    add_executable(${name} ${F_SOURCES})
    separate_arguments(engine UNIX_COMMAND "${CRASHGATE_LIB_FUZZING_ENGINE}")
    target_link_libraries(${name} PRIVATE ${engine})
    set(bin ${name})
  elseif(CRASHGATE_SANITIZE STREQUAL "fuzzer")
    add_executable(${name} ${F_SOURCES})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    set(bin ${name})
  else()
    add_executable(${name}_replay ${F_SOURCES} ${PROJECT_SOURCE_DIR}/harness/fuzz/replay_main.cc)
    set(bin ${name}_replay)
    if(CRASHGATE_BUILD_TESTS)
      add_test(NAME fuzz-corpus.${name}
               COMMAND ${bin} ${PROJECT_SOURCE_DIR}/corpora/${name}/seed ${PROJECT_SOURCE_DIR}/corpora/${name}/regressions)
      set_tests_properties(fuzz-corpus.${name} PROPERTIES LABELS "fuzz-corpus" TIMEOUT 300)
    endif()
  endif()
  target_link_libraries(${bin} PRIVATE ${F_LIBS})
  set_target_properties(${bin} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
endfunction()


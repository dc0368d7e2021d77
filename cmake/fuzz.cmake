# Fuzz harnesses (tests/fuzz, docs/fuzzing.md). Included from tests/CMakeLists.txt.
#
# Every build: each harness is linked with tests/fuzz/replay_main.cpp into fuzz_replay_<name>,
# which runs it over tests/fuzz/corpus/<name> and tests/fuzz/crashes/<name> as a ctest entry
# (label "fuzz"), so the Release and the sanitizer passes of scripts/run_tests.sh replay them.
#
# -DAESWEEP_FUZZ=ON (clang only, e.g. CC=clang-14 CXX=clang++-14, build dir build-fuzz): also the
# libFuzzer executables fuzz_<name>, with the project libraries they use instrumented for
# coverage and AddressSanitizer + UndefinedBehaviorSanitizer. Build only those targets.

option(AESWEEP_FUZZ "Build the libFuzzer harnesses (clang)" OFF)

set(_aesweep_fuzz_dir ${PROJECT_SOURCE_DIR}/tests/fuzz)
# harness name -> the project libraries it needs
set(_aesweep_fuzz_harnesses idx config cli)
set(_aesweep_fuzz_libs_idx aesweep_data)
set(_aesweep_fuzz_libs_config aesweep_config)
set(_aesweep_fuzz_libs_cli aesweep_cli)
if(TARGET aesweep_archive)
  list(APPEND _aesweep_fuzz_harnesses archive)
  set(_aesweep_fuzz_libs_archive aesweep_archive)
endif()

# (Not in the fuzz build: its instrumented libraries link only into libFuzzer executables.)
foreach(_h IN LISTS _aesweep_fuzz_harnesses)
  if(AESWEEP_FUZZ)
    break()
  endif()
  add_executable(fuzz_replay_${_h} ${_aesweep_fuzz_dir}/${_h}_fuzz.cpp ${_aesweep_fuzz_dir}/replay_main.cpp)
  target_link_libraries(fuzz_replay_${_h} PRIVATE ${_aesweep_fuzz_libs_${_h}})
  add_test(NAME fuzz_replay_${_h}
           COMMAND fuzz_replay_${_h} ${_aesweep_fuzz_dir}/corpus/${_h} --optional ${_aesweep_fuzz_dir}/crashes/${_h})
  set_tests_properties(fuzz_replay_${_h} PROPERTIES LABELS fuzz TIMEOUT 600)
endforeach()
if(TARGET fuzz_replay_idx)
  target_link_libraries(fuzz_replay_idx PRIVATE ZLIB::ZLIB)
endif()

if(AESWEEP_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "AESWEEP_FUZZ needs clang (CC=clang-14 CXX=clang++-14)")
  endif()
  set(_aesweep_fuzz_sanitizers -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  # Coverage and sanitizers in the libraries the harnesses call (aesweep_core only gets the
  # sanitizers: no parser in it, and its Eigen kernels are slow to instrument).
  foreach(_lib aesweep_data aesweep_config aesweep_cli aesweep_archive)
    if(TARGET ${_lib})
      target_compile_options(${_lib} PRIVATE -fsanitize=fuzzer-no-link ${_aesweep_fuzz_sanitizers})
    endif()
  endforeach()
  target_compile_options(aesweep_core PRIVATE ${_aesweep_fuzz_sanitizers})
  foreach(_h IN LISTS _aesweep_fuzz_harnesses)
    add_executable(fuzz_${_h} ${_aesweep_fuzz_dir}/${_h}_fuzz.cpp)
    target_compile_options(fuzz_${_h} PRIVATE -fsanitize=fuzzer ${_aesweep_fuzz_sanitizers})
    target_link_options(fuzz_${_h} PRIVATE -fsanitize=fuzzer ${_aesweep_fuzz_sanitizers})
    target_link_libraries(fuzz_${_h} PRIVATE ${_aesweep_fuzz_libs_${_h}})
  endforeach()
  target_link_libraries(fuzz_idx PRIVATE ZLIB::ZLIB)
endif()

# Compiler flags shared by every target: warnings, sanitizers, coverage.
add_compile_options(-Wall -Wextra -Wno-unused-parameter -fno-omit-frame-pointer)
if(CRASHGATE_WERROR)
  add_compile_options(-Werror)
endif()

if(CRASHGATE_SANITIZE STREQUAL "address,undefined")
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fsanitize-address-use-after-scope)
  add_link_options(-fsanitize=address,undefined)
elseif(CRASHGATE_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread)
  add_link_options(-fsanitize=thread)
elseif(CRASHGATE_SANITIZE STREQUAL "fuzzer")
  # Libraries get coverage instrumentation; fuzz targets add -fsanitize=fuzzer at link.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(NOT CRASHGATE_SANITIZE STREQUAL "")
  message(FATAL_ERROR "CRASHGATE_SANITIZE='${CRASHGATE_SANITIZE}' is not one of: '', address,undefined, thread, fuzzer")
endif()

if(CRASHGATE_COVERAGE)
  add_compile_options(-fprofile-instr-generate -fcoverage-mapping)
  add_link_options(-fprofile-instr-generate)
endif()

# lld links much faster than bfd; it comes with the clang packages in ci/packages.txt.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  add_link_options(-fuse-ld=lld)
endif()

# Shared CMake helpers: per-target options and one test-registration function.

# -Wno-restrict: GCC 12 false positives in std::string at -O3 (GCC bug 105329).
set(LIDISTILL_WARNINGS -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    list(APPEND LIDISTILL_WARNINGS -Wno-restrict)  # clang (the fuzz build) has no such option
endif()

# C++20, warnings, sanitizers: applied to every target of ours (never globally).
function(lidistill_target_defaults target)
    set_target_properties(${target} PROPERTIES CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON
        CXX_EXTENSIONS OFF POSITION_INDEPENDENT_CODE ON)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${LIDISTILL_WARNINGS}>)
    if(LIDISTILL_STRICT)
        target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
    endif()
    if(LIDISTILL_SANITIZER)
        target_compile_options(${target} PRIVATE -fsanitize=${LIDISTILL_SANITIZER} -fno-omit-frame-pointer)
        target_link_options(${target} PRIVATE -fsanitize=${LIDISTILL_SANITIZER})
    endif()
    if(LIDISTILL_FUZZ)
        # Coverage feedback from our code, not only the target's own file; the libFuzzer
        # driver itself is linked into the fuzz executables only (tests/fuzz).
        target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
    endif()
endfunction()

# lidistill_add_test(NAME name SOURCES ... LIBS ... LABELS ... [TIMEOUT s] [ENV k=v ...]
#                    [QTEST] [XVFB])
# GoogleTest binaries register one CTest test per TEST(); QTEST binaries register one test.
# XVFB wraps the run in xvfb-run, because QOpenGLWidget crashes on the offscreen platform.
function(lidistill_add_test)
    cmake_parse_arguments(T "QTEST;XVFB" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;ENV" ${ARGN})
    if(NOT T_TIMEOUT)
        set(T_TIMEOUT 300)
    endif()
    add_executable(${T_NAME} ${T_SOURCES})
    lidistill_target_defaults(${T_NAME})
    target_link_libraries(${T_NAME} PRIVATE ${T_LIBS})
    target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR})
    set(_env
        "LIDISTILL_SHARED_DATA=${LIDISTILL_SHARED_DATA}"
        "LIDISTILL_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
        "LIDISTILL_BINARY_DIR=${PROJECT_BINARY_DIR}"
        "OMP_NUM_THREADS=2"
        # Spinning OpenMP workers starve the other test processes on 2 cores (19 s vs 0.4 s).
        "OMP_WAIT_POLICY=PASSIVE"
        ${T_ENV})
    if(LIDISTILL_SANITIZER)
        # UBSan only prints and goes on by default, which would let a test pass; LSan skips
        # the system-library leaks listed in the suppression file.
        list(APPEND _env "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
            "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/resources/sanitizers/lsan.supp")
        if(T_XVFB)
            # Mesa's GLX and DRI modules are dlclose'd before LSan runs at exit, so their
            # leaks have no module name to suppress by: no leak check under Xvfb.
            list(APPEND _env "ASAN_OPTIONS=detect_leaks=0")
        endif()
    endif()
    if(T_QTEST)
        set_target_properties(${T_NAME} PROPERTIES AUTOMOC ON)
        target_compile_definitions(${T_NAME} PRIVATE QT_NO_KEYWORDS)
        if(T_XVFB)
            add_test(NAME ${T_NAME} COMMAND xvfb-run -a -s "-screen 0 1280x1024x24"
                $<TARGET_FILE:${T_NAME}>)
        else()
            add_test(NAME ${T_NAME} COMMAND ${T_NAME})
            list(APPEND _env "QT_QPA_PLATFORM=offscreen")
        endif()
        set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
            ENVIRONMENT "${_env}")
    else()
        target_link_libraries(${T_NAME} PRIVATE GTest::gtest GTest::gtest_main)
        # CMake 3.25's gtest_discover_tests writes list-valued properties as separate words,
        # so ENVIRONMENT would keep only its first variable. Run the binary through env(1)
        # instead: discovery and every test then see all variables.
        set_target_properties(${T_NAME} PROPERTIES CROSSCOMPILING_EMULATOR "/usr/bin/env;${_env}")
        # The same flattening hits LABELS: join several labels into one word ("ml+slow");
        # `ctest -L`/`-LE` match labels as regular expressions, so "-L ml" still selects it.
        string(REPLACE ";" "+" _labels "${T_LABELS}")
        gtest_discover_tests(${T_NAME} DISCOVERY_MODE PRE_TEST
            PROPERTIES LABELS "${_labels}" TIMEOUT ${T_TIMEOUT})
    endif()
endfunction()

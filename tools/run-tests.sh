#!/bin/sh
# run-tests.sh - the whole test suite: a gcc build, a clang build and an
# ASan+UBSan build, each running every ctest (unit, golden, integration),
# a ThreadSanitizer build running the unit and command-line tests (the
# reader, -j writer and capture-worker threads), then a libFuzzer build
# that runs each fuzz target briefly on its corpus.
# Integration tests that need root or ../shared skip cleanly without them.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
# run DIR [CMAKE ARGS] [-- CTEST ARGS]
run() {
    dir=$1; shift
    cmake_args= ctest_args=
    while [ $# -gt 0 ] && [ "$1" != -- ]; do cmake_args="$cmake_args $1"; shift; done
    [ $# -gt 0 ] && shift && ctest_args="$*"
    echo "== $dir:$cmake_args"
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo $cmake_args >/dev/null
    cmake --build "$dir" -j "$jobs"
    (cd "$dir" && ctest --output-on-failure -j "$jobs" $ctest_args)
}
CC=gcc run build-test-gcc
CC=clang run build-test-clang
CC=gcc ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run build-test-asan -DFLOWAUDIT_SANITIZE=ON
CC=clang TSAN_OPTIONS=halt_on_error=1 run build-test-tsan -DCMAKE_C_FLAGS=-fsanitize=thread -- -L "unit|cli"
CC=clang run build-test-fuzz -DFLOWAUDIT_FUZZ=ON -- -L fuzz
echo "all tests passed"

#!/usr/bin/env bash
# The whole test suite, what CI runs: installs missing packages, builds, then
#   1. the sanitizer build (build-asan, gcc, -DFLEETSIM_SANITIZE=ON: ASan +
#      UBSan, leaks checked) runs the unit and MPI tests;
#   2. the libFuzzer build (build-fuzz, clang, -DFLEETSIM_FUZZ=ON) is built
#      for the fuzz_* tests;
#   3. every ctest test of ./build (unit, MPI at np 1/2/3, end-to-end,
#      reliability incl. valgrind, fuzz, ...), whose summary ends the output.
# Arguments go to the last ctest. FLEETSIM_TEST_SANITIZE=0 skips step 1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
jobs=$(nproc)

sanitize_rc=0
if [ "${FLEETSIM_TEST_SANITIZE:-1}" != 0 ]; then
  echo "scripts/test.sh: sanitizer build (build-asan): unit and MPI tests under ASan + UBSan"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFLEETSIM_SANITIZE=ON >/dev/null
  cmake --build build-asan -j "$jobs" >/dev/null
  # Open MPI's components are built without frame pointers and unloaded at
  # MPI_Finalize: the slow unwinder gives their leaks whole stacks, which
  # tests/lsan.supp then matches (third-party libraries only).
  (cd build-asan &&
    ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:abort_on_error=0 \
    LSAN_OPTIONS=suppressions=$PWD/../tests/lsan.supp:print_suppressions=0 \
    UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --output-on-failure -j "$jobs" -L 'unit|mpi') || sanitize_rc=$?
fi

cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFLEETSIM_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-fuzz -j "$jobs" >/dev/null

rc=0
(cd build && ctest --output-on-failure -j "$jobs" "$@") || rc=$?
if [ "$sanitize_rc" -ne 0 ]; then
  echo "scripts/test.sh: the sanitizer build's unit/MPI tests FAILED (see above)" >&2
  exit "$sanitize_rc"
fi
exit "$rc"

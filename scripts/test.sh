#!/usr/bin/env bash
# The whole test suite: installs missing packages, builds, runs every ctest
# test (unit, MPI at np 1/2/3, end-to-end). This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
cd build
ctest --output-on-failure -j 2 "$@"

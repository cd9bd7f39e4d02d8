#!/usr/bin/env bash
# The main job: installs missing packages, builds, and runs the default 24 h
# fleet (1,000 nodes x 8 H100, scenarios S1-S6) on 2 MPI ranks into
# ./fleetsim-run, with L1 detection and L2-L4 escalation through the embedded
# `rules` backend. Extra arguments go to `fleetsim run` (e.g. --out DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
NP=${NP:-2}
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
[ "$NP" -gt "$(nproc)" ] && export OMPI_MCA_rmaps_base_oversubscribe=1
exec mpirun -np "$NP" build/fleetsim run "$@"

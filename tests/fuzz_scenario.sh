#!/usr/bin/env bash
# libFuzzer, bounded time: scenario-file text -> scn_parse + scn_drive on a small fleet (scenarios/).
# Saved regressions in tests/fuzz/regressions/fuzz_scenario/ are replayed first.
source "$(dirname "$0")/fuzz/fuzz_lib.sh"
fuzz_run fuzz_scenario

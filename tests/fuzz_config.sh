#!/usr/bin/env bash
# libFuzzer, bounded time: config JSON text -> cfg_apply_json + cfg_validate (src/model/config.c).
# Saved regressions in tests/fuzz/regressions/fuzz_config/ are replayed first.
source "$(dirname "$0")/fuzz/fuzz_lib.sh"
fuzz_run fuzz_config

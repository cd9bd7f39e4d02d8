#!/usr/bin/env bash
# libFuzzer, bounded time: --backend SPEC strings -> llm_spec_parse (pipeline/llm/llm_spec.c).
# Saved regressions in tests/fuzz/regressions/fuzz_llm_spec/ are replayed first.
source "$(dirname "$0")/fuzz/fuzz_lib.sh"
fuzz_run fuzz_llm_spec

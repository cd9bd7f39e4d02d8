#!/usr/bin/env bash
# libFuzzer, bounded time: raw L2/L3/L4 answers -> llm_validate_answer / llm_answer_parse (pipeline/llm/llm_schema.c).
# Saved regressions in tests/fuzz/regressions/fuzz_llm_answer/ are replayed first.
source "$(dirname "$0")/fuzz/fuzz_lib.sh"
fuzz_run fuzz_llm_answer

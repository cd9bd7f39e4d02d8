#!/usr/bin/env bash
# libFuzzer, bounded time: HTTP response bodies -> openai/anthropic parsers (pipeline/llm/llm_wire.c).
# Saved regressions in tests/fuzz/regressions/fuzz_llm_wire/ are replayed first.
source "$(dirname "$0")/fuzz/fuzz_lib.sh"
fuzz_run fuzz_llm_wire

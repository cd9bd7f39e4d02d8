/* libFuzzer target: a backend SPEC string (--backend) -> llm_spec_parse
 * (pipeline/llm/llm_spec.c). Invariants: a rejection records exactly one
 * message; an accepted spec has a valid file-stem name and NUL-terminated
 * fields. */
#include "pipeline/llm/llm_spec.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 2 * LLM_SPEC_MAX_LEN)
    return 0;
  char *text = fuzz_text(data, size);
  llm_spec s;
  diag_clear();
  int rc = llm_spec_parse(text, &s);
  if (rc == 0) {
    size_t n = strnlen(s.name, sizeof s.name);
    FUZZ_ASSERT(n > 0 && n < sizeof s.name && s.name[0] != '.');
    for (size_t i = 0; i < n; i++)
      FUZZ_ASSERT(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
                         s.name[i]) != NULL);
    FUZZ_ASSERT(strnlen(s.base_url, sizeof s.base_url) < sizeof s.base_url);
    FUZZ_ASSERT(strnlen(s.model, sizeof s.model) < sizeof s.model);
    FUZZ_ASSERT(strnlen(s.api_key_env, sizeof s.api_key_env) < sizeof s.api_key_env);
    FUZZ_ASSERT(strnlen(s.path, sizeof s.path) < sizeof s.path);
    FUZZ_ASSERT(s.kind < LLM_KIND_COUNT && s.concurrency >= 1 && s.concurrency <= 256);
  } else {
    FUZZ_ASSERT(rc == FS_EUSAGE || rc == FS_ENOMEM);
    FUZZ_ASSERT(rc == FS_ENOMEM || diag_count() == 1);
  }
  diag_clear();
  free(text);
  return 0;
}

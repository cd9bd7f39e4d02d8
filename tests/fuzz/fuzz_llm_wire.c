/* libFuzzer target: an HTTP response body -> llm_wire_openai_parse and
 * llm_wire_anthropic_parse (pipeline/llm/llm_wire.c), and any answer text they
 * extract -> the validators of every layer, as pipeline/llm/escalate.c does.
 * Invariants: success gives text and failure a clean reason, never both;
 * token counts are -1 or non-negative. */
#include "pipeline/llm/llm_schema.h"
#include "pipeline/llm/llm_wire.h"
#include "src/core/errors.h"
#include "tests/fuzz/fuzz_common.h"

typedef int (*fuzz_parser)(const char *, char **, long *, long *, char *, size_t);

static void fuzz_one(fuzz_parser parse, const char *body) {
  char *text = NULL, why[256];
  long tin = -2, tout = -2;
  why[0] = '\0';
  int rc = parse(body, &text, &tin, &tout, why, sizeof why);
  FUZZ_ASSERT(tin >= -1 && tout >= -1);
  if (rc == 0) {
    FUZZ_ASSERT(text != NULL && text[0] != '\0');
    for (int layer = LLM_LAYER_L2; layer <= LLM_LAYER_L4; layer++) {
      char w[160];
      int v = llm_validate_answer(layer, text, w, sizeof w);
      FUZZ_ASSERT(v == 0 || v == FS_EINVAL);
    }
    FUZZ_ASSERT(llm_estimate_tokens(text) > 0);
  } else {
    FUZZ_ASSERT(rc == FS_EINVAL && text == NULL);
    size_t n = strnlen(why, sizeof why);
    FUZZ_ASSERT(n > 0 && n < sizeof why);
    for (size_t i = 0; i < n; i++)
      FUZZ_ASSERT((unsigned char)why[i] >= ' ' && why[i] != 0x7f);
  }
  free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *body = fuzz_text(data, size);
  fuzz_one(llm_wire_openai_parse, body);
  fuzz_one(llm_wire_anthropic_parse, body);
  free(body);
  return 0;
}

/* libFuzzer target: a model's raw answer -> the L2/L3/L4 validators
 * (pipeline/llm/llm_schema.c). The first byte picks the layer; the rest is the
 * answer text. Invariants: a reason is given for every rejection, it is
 * NUL-terminated within its buffer and free of control characters; an
 * accepted L2/L3 answer is an object whose extracted span lies in the text. */
#include "pipeline/llm/llm_schema.h"
#include "src/core/errors.h"
#include "tests/fuzz/fuzz_common.h"

static void fuzz_check_why(const char *why, size_t cap) {
  size_t n = strnlen(why, cap);
  FUZZ_ASSERT(n > 0 && n < cap);
  for (size_t i = 0; i < n; i++)
    FUZZ_ASSERT((unsigned char)why[i] >= ' ' && why[i] != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  int layer = LLM_LAYER_L2 + data[0] % 3;
  char *text = fuzz_text(data + 1, size - 1);
  char why[160];
  why[0] = '\0';
  int rc = llm_validate_answer(layer, text, why, sizeof why);
  FUZZ_ASSERT(rc == 0 || rc == FS_EINVAL);
  if (rc != 0)
    fuzz_check_why(why, sizeof why);
  if (layer != LLM_LAYER_L4) {
    why[0] = '\0';
    json_t *obj = llm_answer_parse(layer, text, why, sizeof why);
    FUZZ_ASSERT((obj != NULL) == (rc == 0));
    if (obj) {
      FUZZ_ASSERT(json_is_object(obj));
      json_decref(obj);
    } else {
      fuzz_check_why(why, sizeof why);
    }
    size_t start = 0, len = 0;
    if (llm_extract_json_object(text, &start, &len) == 0)
      FUZZ_ASSERT(len >= 2 && start + len <= strlen(text) && text[start] == '{' &&
                  text[start + len - 1] == '}');
    else
      FUZZ_ASSERT(rc != 0);
  }
  free(text);
  return 0;
}

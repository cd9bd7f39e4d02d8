/* libFuzzer target: config JSON text -> fs_config (cfg_apply_json, then
 * cfg_validate). Invariants: an accepted config echoes (cfg_to_json) to text
 * that parses back to the same echo; a rejected one says why in diag. */
#include "src/model/config.h"
#include "src/core/diag.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_text(data, size);
  fs_config cfg;
  cfg_defaults(&cfg);
  diag_clear();
  int rc = cfg_apply_json(&cfg, text, "fuzz.json");
  if (rc == 0)
    rc = cfg_validate(&cfg);
  FUZZ_ASSERT(rc == 0 || diag_count() > 0);
  if (rc == 0) {
    char *echo = cfg_to_json(&cfg);
    FUZZ_ASSERT(echo != NULL);
    fs_config again;
    cfg_defaults(&again);
    FUZZ_ASSERT(cfg_apply_json(&again, echo, "echo") == 0 && cfg_validate(&again) == 0);
    char *echo2 = cfg_to_json(&again);
    FUZZ_ASSERT(echo2 != NULL && strcmp(echo, echo2) == 0);
    free(echo2);
    free(echo);
  }
  diag_clear();
  free(text);
  return 0;
}

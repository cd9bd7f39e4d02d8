/* libFuzzer target: scenario-file text -> scn_parse against a small fleet
 * (tests/data/small.json's shape: 120 nodes in 6 racks, 3 jobs, 3 h). An
 * accepted set must have resolved, in-range ground truth, a params echo, and
 * drive every scrape of every scenario without touching memory it should not. */
#include <math.h>

#include "scenarios/inject.h"
#include "scenarios/scenario.h"
#include "src/model/config.h"
#include "src/core/diag.h"
#include "src/model/fleet.h"
#include "tests/fuzz/fuzz_common.h"

static const char fuzz_small_config[] =
    "{\"nodes\": 120, \"racks\": 6, \"racks_per_row\": 3, \"moe_nodes\": 36, "
    "\"dense_nodes\": 42, \"training_nodes\": 42, \"hours\": 3, \"start_hour\": 12, "
    "\"window_scrapes\": 100, \"gpu_lots\": 20, \"jobs\": ["
    "{\"id\": \"train-000\", \"model\": \"llama-70b-pretrain\", \"nodes\": 16, \"step_time_s\": 2.56},"
    "{\"id\": \"train-001\", \"model\": \"mistral-22b-finetune\", \"nodes\": 12, \"step_time_s\": 3.01},"
    "{\"id\": \"train-002\", \"model\": \"internal-moe-140b-pretrain\", \"nodes\": 8, "
    "\"step_time_s\": 3.25}]}";

static fs_config fuzz_cfg;
static fleet *fuzz_fleet;
static tel_drivers fuzz_drivers[120];

static void fuzz_setup(void) {
  cfg_defaults(&fuzz_cfg);
  if (cfg_apply_json(&fuzz_cfg, fuzz_small_config, "fuzz config") || cfg_validate(&fuzz_cfg) ||
      fleet_init(&fuzz_fleet, &fuzz_cfg)) {
    diag_print(stderr);
    abort();
  }
}

static void fuzz_check_list(const int32_t *v, int n, int32_t limit) {
  for (int i = 0; i < n; i++)
    FUZZ_ASSERT(v[i] >= 0 && v[i] < limit && (i == 0 || v[i - 1] < v[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!fuzz_fleet)
    fuzz_setup();
  char *text = fuzz_text(data, size);
  scn_set *set = NULL;
  diag_clear();
  int rc = scn_parse(&set, text, "fuzz.json", fuzz_fleet);
  FUZZ_ASSERT(rc == 0 ? set != NULL : set == NULL && diag_count() > 0);
  int64_t T = cfg_scrapes(&fuzz_cfg);
  for (int i = 0; rc == 0 && i < set->n; i++) {
    const scn_def *s = &set->s[i];
    FUZZ_ASSERT(s->kind < SK_COUNT && s->t_start >= 0 && s->t_start < s->t_end && s->t_end <= T);
    fuzz_check_list(s->nodes, s->nnodes, fuzz_cfg.nodes);
    fuzz_check_list(s->impacted, s->nimpacted, fuzz_cfg.nodes);
    fuzz_check_list(s->gpus, s->ngpus, fuzz_cfg.nodes * FLEET_GPUS);
    for (int k = 0; k < s->nnodes; k++)
      FUZZ_ASSERT(isfinite(s->node_weight[k]));
    char *params = scn_params_json(s);
    FUZZ_ASSERT(params != NULL);
    free(params);
    /* the first, a middle and the last active scrape, over the whole fleet in two halves */
    int64_t ts[3] = {s->t_start, (s->t_start + s->t_end) / 2, s->t_end - 1};
    for (int k = 0; k < 3; k++)
      for (int half = 0; half < 2; half++) {
        int n0 = half * 60;
        tel_drivers_reset(fuzz_drivers + n0, 60);
        scn_drive(set, fuzz_fleet, ts[k], n0, 60, fuzz_drivers + n0);
      }
  }
  scn_destroy(&set);
  diag_clear();
  free(text);
  return 0;
}

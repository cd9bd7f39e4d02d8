/* The 12-node test fleet of the scorer and report tests: 3 racks of 4,
 * tenants interleaved (node i has tenant i % 3: moe, dense, training), one
 * job train-000 on training nodes 2 and 5, 3 h of 15 s scrapes, seed 7, and
 * gpu_lots silicon lots (0: the default). */
#ifndef FLEETSIM_TESTS_LIB_FLEET_H
#define FLEETSIM_TESTS_LIB_FLEET_H
#include <stdio.h>

#include "src/model/config.h"
#include "src/core/diag.h"
#include "tests/check.h"

static void fleet12_config(fs_config *cfg, int gpu_lots) {
  cfg_defaults(cfg);
  static const char *const set[][2] = {
      {"nodes", "12"},         {"racks", "3"}, {"moe_nodes", "4"}, {"dense_nodes", "4"},
      {"training_nodes", "4"}, {"hours", "3"}, {"seed", "7"},
  };
  for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
    if (cfg_set(cfg, set[i][0], set[i][1], "test") != 0)
      CHECK_FAIL("cfg_set %s: %s", set[i][0], diag_first());
  char lots[16];
  snprintf(lots, sizeof lots, "%d", gpu_lots);
  if (gpu_lots > 0 && cfg_set(cfg, "gpu_lots", lots, "test") != 0)
    CHECK_FAIL("cfg_set gpu_lots: %s", diag_first());
  const char *jobs = "{\"jobs\": [{\"id\": \"train-000\", \"model\": \"tiny\", \"nodes\": 2, "
                     "\"step_time_s\": 1.5}]}";
  if (cfg_apply_json(cfg, jobs, "test.json") != 0 || cfg_validate(cfg) != 0)
    CHECK_FAIL("config: %s", diag_first());
}

#endif

/* Unit tests of llm_answer_actions (pipeline/llm/llm_actions.c): an answer's
 * actions parsed against the 12-node test fleet (tests/lib_fleet.h): all
 * written, entities the fleet lacks skipped with the first reason, more
 * than max skipped, off-schema answers refused, L2 and L4. */
#include <stdio.h>
#include <string.h>

#include "pipeline/llm/llm_actions.h"
#include "pipeline/llm/llm_schema.h"
#include "src/core/errors.h"
#include "tests/check.h"
#include "tests/lib_fleet.h"

static const char L3_HEAD[] =
    "{\"root_cause\": \"r\", \"confidence\": 0.5, \"affected_scope\": \"rack-01\", "
    "\"tenant_types\": [\"training\"], \"cross_tenant_impact\": \"none\", \"causal_chain\": "
    "[\"a\"], \"recommended_actions\": [\"b\"], \"priority\": \"P2\"";

/* An L3 answer with "actions": list (none when list is NULL). */
static const char *l3(const char *list) {
  static char text[4096];
  if (list)
    snprintf(text, sizeof text, "%s, \"actions\": %s}", L3_HEAD, list);
  else
    snprintf(text, sizeof text, "%s}", L3_HEAD);
  return text;
}

int main(void) {
  static fs_config cfg;
  fleet12_config(&cfg, 0);
  fleet *f = NULL;
  CHECK_EQ(fleet_init(&f, &cfg), 0);
  act_action out[4];
  char why[256];
  int n = -1;

  /* every action written, in order, with its entity's indexes */
  CHECK_EQ(llm_answer_actions(l3("[{\"action\": \"checkpoint_job\", \"target\": \"train-000\"}, "
                                 "{\"action\": \"restart_job_without_node\", \"target\": "
                                 "\"node-0005\"}, {\"action\": \"rma_gpu\", \"target\": "
                                 "\"node-0007/gpu3\"}, {\"action\": \"no_op\"}]"),
                              LLM_LAYER_L3, f, out, 4, &n, why, sizeof why),
           0);
  CHECK_EQ(n, 4);
  CHECK_STREQ(why, "");
  CHECK_EQ(out[0].kind, ACT_CHECKPOINT_JOB);
  CHECK_EQ(out[0].job, 0);
  CHECK_EQ(out[1].kind, ACT_RESTART_JOB_WITHOUT_NODE);
  CHECK_EQ(out[1].node, 5);
  CHECK_EQ(out[1].job, 0);
  CHECK_EQ(out[2].kind, ACT_RMA_GPU);
  CHECK_EQ(out[2].node, 7);
  CHECK_EQ(out[2].gpu, 3);
  CHECK_EQ(out[2].rack, f->node_rack[7]);
  CHECK_EQ(out[3].kind, ACT_NO_OP);

  /* entities this fleet does not have: skipped, the first reason kept */
  CHECK_EQ(llm_answer_actions(l3("[{\"action\": \"drain_node\", \"target\": \"node-0012\"}, "
                                 "{\"action\": \"power_cap_rack\", \"target\": \"rack-01\"}, "
                                 "{\"action\": \"checkpoint_job\", \"target\": \"train-001\"}, "
                                 "{\"action\": \"restart_job_without_node\", \"target\": "
                                 "\"node-0000\"}]"),
                              LLM_LAYER_L3, f, out, 4, &n, why, sizeof why),
           3);
  CHECK_EQ(n, 1);
  CHECK_EQ(out[0].kind, ACT_POWER_CAP_RACK);
  CHECK_EQ(out[0].rack, 1);
  CHECK(strncmp(why, "actions[0]: drain_node: target 'node-0012' is not node-NNNN of this fleet",
                strlen("actions[0]: drain_node: target 'node-0012' is not node-NNNN of this "
                       "fleet")) == 0);
  CHECK_EQ(llm_answer_actions(l3("[{\"action\": \"restart_job_without_node\", \"target\": "
                                 "\"node-0000\"}]"),
                              LLM_LAYER_L3, f, out, 4, &n, why, sizeof why),
           1);
  CHECK_STREQ(why, "actions[0]: restart_job_without_node: target 'node-0000' runs no training "
                   "job");
  CHECK_EQ(llm_answer_actions(l3("[{\"action\": \"raise_cooling\", \"target\": \"rack-03\"}]"),
                              LLM_LAYER_L3, f, out, 4, &n, why, sizeof why),
           1);
  CHECK_EQ(n, 0);

  /* more than max: the rest skipped */
  CHECK_EQ(llm_answer_actions(l3("[{\"action\": \"no_op\"}, {\"action\": \"drain_node\", "
                                 "\"target\": \"node-0001\"}, {\"action\": \"cordon_node\", "
                                 "\"target\": \"node-0002\"}]"),
                              LLM_LAYER_L3, f, out, 2, &n, why, sizeof why),
           1);
  CHECK_EQ(n, 2);
  CHECK_STREQ(why, "actions[2]: more than 2 actions");

  /* no actions: none; off-schema: refused with the schema's reason */
  CHECK_EQ(llm_answer_actions(l3(NULL), LLM_LAYER_L3, f, out, 4, &n, why, sizeof why), 0);
  CHECK_EQ(n, 0);
  CHECK_EQ(llm_answer_actions(l3("[{\"action\": \"drain_node\", \"target\": \"rack-01\"}]"),
                              LLM_LAYER_L3, f, out, 4, &n, why, sizeof why),
           FS_EINVAL);
  CHECK_EQ(n, 0);
  CHECK_STREQ(why, "actions[0]: target 'rack-01' of drain_node is not node-NNNN");
  CHECK_EQ(llm_answer_actions("not an answer", LLM_LAYER_L3, f, out, 4, &n, NULL, 0), FS_EINVAL);

  /* L2 has none; an L4 report's closing block */
  CHECK_EQ(llm_answer_actions("{\"classification\": \"noise\", \"scope\": \"node\", "
                              "\"tenant_type\": \"training\", \"confidence\": 0.5, "
                              "\"rationale\": \"r\"}",
                              LLM_LAYER_L2, f, out, 4, &n, why, sizeof why),
           0);
  CHECK_EQ(n, 0);
  char report[1024] = "";
  for (int i = 0; i < LLM_L4_NHEADINGS; i++)
    snprintf(report + strlen(report), sizeof report - strlen(report), "## %s\n- none\n",
             llm_l4_headings[i]);
  strcat(report, "```json\n{\"actions\": [{\"action\": \"migrate_tenant\", \"target\": "
                 "\"rack-02\"}]}\n```\n");
  CHECK_EQ(llm_answer_actions(report, LLM_LAYER_L4, f, out, 4, &n, why, sizeof why), 0);
  CHECK_EQ(n, 1);
  CHECK_EQ(out[0].kind, ACT_MIGRATE_TENANT);
  CHECK_EQ(out[0].rack, 2);
  fleet_destroy(&f);
  printf("unit_llm_actions: %ld checks passed\n", check_count);
  return 0;
}

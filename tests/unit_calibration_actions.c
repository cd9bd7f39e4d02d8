/* Unit tests of the null operators' actions (pipeline/score/calibration.c)
 * on synthetic L3 and L4 contexts: every L3 and L4 answer validates with
 * its actions, each operator's actions are the ones it promises on the
 * context's own entities, and an answer to calls[i] is the same with only
 * calls[0..i] given (online use). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/llm/llm_schema.h"
#include "pipeline/score/calibration.h"
#include "pipeline/score/checklist.h"
#include "src/core/errors.h"
#include "tests/check.h"

static char L3_CTX[] =
    "{\"layer\": \"L3\", \"event\": {\"node\": \"node-0204\", \"rack\": \"rack-05\", \"job\": "
    "\"train-001\", \"tenant\": \"training\", \"scope\": \"node\", \"nodes_affected\": 1, "
    "\"escalated_by_detector\": true, \"trigger\": {\"metric\": \"gpu_nvlink_replay_total\", "
    "\"gpu\": \"node-0204/gpu3\", \"z\": 9.5, \"value\": 40, \"baseline\": 1}}}";
static char L3_CTX_NOJOB[] =
    "{\"layer\": \"L3\", \"event\": {\"node\": \"node-0007\", \"rack\": \"rack-00\", \"tenant\": "
    "\"dense-inference\", \"scope\": \"node\", \"nodes_affected\": 1, \"trigger\": {\"metric\": "
    "\"ttft_ms\", \"z\": 6, \"value\": 900, \"baseline\": 300}}}";
static char L4_CTX[] =
    "{\"layer\": \"L4\", \"window\": {\"from\": \"00:00\", \"to\": \"04:00\", \"hours\": 4}, "
    "\"escalated_incidents\": [{\"event_id\": 3, \"time\": \"01:10\", \"summary\": \"gpu event "
    "on node-0042 (training): gpu_ecc_sbe_total z=16.0\"}], \"sla_budget_remaining\": "
    "{\"moe-inference\": {\"start\": 1, \"end\": 0.99, \"burned\": 0.01}}, \"training_jobs\": []}";

/* The actions of an answer as "name target; ..." text. */
static void actions_text(int layer, const char *answer, char *out, size_t cap) {
  char why[256] = "";
  json_t *list = llm_answer_action_list(layer, answer, why, sizeof why);
  if (!list)
    CHECK_FAIL("L%d answer does not validate: %s\n%s", layer, why, answer);
  out[0] = '\0';
  for (size_t i = 0; i < json_array_size(list); i++) {
    json_t *e = json_array_get(list, i);
    snprintf(out + strlen(out), cap - strlen(out), "%s%s%s%s", i ? "; " : "",
             json_string_value(json_object_get(e, "action")),
             json_string_length(json_object_get(e, "target")) ? " " : "",
             json_string_value(json_object_get(e, "target")));
  }
  json_decref(list);
}

static void expect(const chk_set *kn, const llm_call *calls, int n, cal_operator op, int i,
                   const char *want) {
  char *a = NULL, got[2048];
  CHECK_EQ(cal_answer(op, kn, calls, n, i, &a), 0);
  CHECK_EQ(llm_validate_answer((int)calls[i].layer, a, NULL, 0), 0);
  actions_text((int)calls[i].layer, a, got, sizeof got);
  if (strcmp(got, want) != 0)
    CHECK_FAIL("%s on call %d: actions '%s', expected '%s'", cal_name(op), i, got, want);
  check_count++;
  free(a);
}

int main(void) {
  chk_set *kn = NULL;
  CHECK_EQ(chk_parse(&kn, chk_default_text(), "built-in checklists"), 0);
  llm_call calls[4] = {{.layer = LLM_L3, .event_id = 1, .context = L3_CTX},
                       {.layer = LLM_L3, .event_id = 2, .context = L3_CTX_NOJOB},
                       {.layer = LLM_L4, .event_id = -1, .context = L4_CTX},
                       {.layer = LLM_L2, .event_id = 4, .context = L3_CTX}};
  static const char *const salad3 =
      "checkpoint_job train-001; drain_node node-0204; cordon_node node-0204; "
      "restart_job_without_node node-0204; rma_gpu node-0204/gpu3; power_cap_rack rack-05; "
      "raise_cooling rack-05; migrate_tenant rack-05; rebalance_experts training; "
      "raise_kv_capacity training; cap_context_length training";
  static const char *const salad4 =
      "rebalance_experts moe-inference; raise_kv_capacity moe-inference; "
      "cap_context_length moe-inference";
  expect(kn, calls, 4, CAL_CONSTANT, 0, "drain_node node-0000");
  expect(kn, calls, 4, CAL_CONSTANT, 2, "drain_node node-0000");
  expect(kn, calls, 4, CAL_ECHO, 0, "drain_node node-0204");
  expect(kn, calls, 4, CAL_ECHO, 2, "drain_node node-0042");
  expect(kn, calls, 4, CAL_DENIAL, 0, "no_op");
  expect(kn, calls, 4, CAL_DENIAL, 2, "no_op");
  expect(kn, calls, 4, CAL_SALAD, 0, salad3);
  expect(kn, calls, 4, CAL_SALAD, 1,
         "drain_node node-0007; cordon_node node-0007; rma_gpu node-0007; power_cap_rack "
         "rack-00; raise_cooling rack-00; migrate_tenant rack-00; rebalance_experts "
         "dense-inference; raise_kv_capacity dense-inference; cap_context_length "
         "dense-inference");
  expect(kn, calls, 4, CAL_SALAD, 2, salad4);
  expect(kn, calls, 4, CAL_HEDGE, 0, "checkpoint_job train-001; drain_node node-0204");
  expect(kn, calls, 4, CAL_HEDGE, 1, "drain_node node-0007");
  expect(kn, calls, 4, CAL_HEDGE, 2, "no_op");
  /* the echo's first, then the salad's less the echo's drain_node */
  expect(kn, calls, 4, CAL_ECHO_SALAD, 0,
         "drain_node node-0204; checkpoint_job train-001; cordon_node node-0204; "
         "restart_job_without_node node-0204; rma_gpu node-0204/gpu3; power_cap_rack rack-05; "
         "raise_cooling rack-05; migrate_tenant rack-05; rebalance_experts training; "
         "raise_kv_capacity training; cap_context_length training");
  expect(kn, calls, 4, CAL_ECHO_SALAD, 2,
         "drain_node node-0042; rebalance_experts moe-inference; raise_kv_capacity "
         "moe-inference; cap_context_length moe-inference");
  /* pasted: the rules answer to the layer's first call, its actions included */
  char *first = NULL, *pasted = NULL;
  CHECK_EQ(cal_answer(CAL_PASTED, kn, calls, 4, 1, &pasted), 0);
  CHECK_EQ(cal_answer(CAL_PASTED, kn, calls, 4, 0, &first), 0);
  CHECK_STREQ(pasted, first);
  free(first);
  free(pasted);
  /* L2 answers carry none */
  expect(kn, calls, 4, CAL_SALAD, 3, "");
  /* online: calls[0..i] only give the same answer as the whole run */
  for (int op = 0; op < CAL_COUNT; op++)
    for (int i = 0; i < 4; i++) {
      char *all = NULL, *online = NULL;
      CHECK_EQ(cal_answer((cal_operator)op, kn, calls, 4, i, &all), 0);
      CHECK_EQ(cal_answer((cal_operator)op, kn, calls, i + 1, i, &online), 0);
      CHECK_STREQ(online, all);
      free(all);
      free(online);
    }
  chk_destroy(&kn);
  printf("unit_calibration_actions: %ld checks passed\n", check_count);
  return 0;
}

/* The rules backend: each failure signature is recognised from a minimal
 * hand-written context (metric names and values only, as an LLM would get
 * them), every answer passes the layer's schema, and sparse or hostile
 * contexts still give a valid answer instead of a crash. */
#include <jansson.h>

#include "pipeline/backend_rules.h"
#include "pipeline/llm_schema.h"
#include "src/errors.h"
#include "tests/check.h"

/* Answers `context` at `layer`, checks the schema, and returns the answer
 * parsed (L2/L3) or NULL (L4, whose markdown is checked by the validator). */
static json_t *answer(llm_layer layer, const char *context, char **text_out) {
  char *text = NULL;
  CHECK_EQ(rules_answer(layer, context, &text), 0);
  CHECK(text != NULL);
  char why[256] = "";
  if (llm_validate_answer(layer, text, why, sizeof why) != 0)
    CHECK_FAIL("answer does not validate (%s): %s", why, text);
  json_t *o = layer == LLM_L4 ? NULL : json_loads(text, 0, NULL);
  if (text_out)
    *text_out = text;
  else
    free(text);
  return o;
}

static void check_root_cause(const char *context, const char *expect, const char *priority) {
  json_t *o = answer(LLM_L3, context, NULL);
  const char *root = json_string_value(json_object_get(o, "root_cause"));
  CHECK(root != NULL);
  if (!strstr(root, expect))
    CHECK_FAIL("root cause lacks \"%s\": %s", expect, root);
  CHECK_STREQ(json_string_value(json_object_get(o, "priority")), priority);
  json_decref(o);
}

#define EVENT(scope, metric, z, extra)                                                     \
  "{\"event\":{\"id\":1,\"time\":\"06:05\",\"scope\":\"" scope "\",\"node\":\"node-0123\","    \
  "\"rack\":\"rack-03\",\"job\":\"train-001\",\"tenant\":\"training\",\"nodes_affected\":5,"   \
  "\"trigger\":{\"metric\":\"" metric "\",\"gpu\":null,\"z\":" #z ",\"value\":1,"              \
  "\"baseline\":0,\"units\":\"\"},\"cooccurring\":[" extra "]}"

static void test_signatures(void) {
  check_root_cause(EVENT("rack", "inlet_temp_celsius", 20, "") ",\"rack\":{\"row\":0}}",
                   "Cooling failure", "P1");
  check_root_cause(EVENT("cluster", "expert_selection_entropy_nats", -30, "") "}",
                   "expert routing collapse", "P1");
  check_root_cause(EVENT("cluster", "kv_cache_hit_ratio", -20, "") "}", "KV cache eviction",
                   "P1");
  check_root_cause(EVENT("gpu", "gpu_ecc_sbe_total", 12, "") "}", "HBM degradation", "P2");
  check_root_cause(EVENT("rack", "ib_port_rcv_errors_total", 900, "") "}", "microbursts", "P2");
  check_root_cause(EVENT("job", "allreduce_wait_ms", 30,
                         "{\"metric\":\"gpu_nvlink_replay_total\",\"gpu\":null,\"z\":200}")
                   ",\"tenant_context\":{\"job\":{\"id\":\"train-001\",\"nodes\":32,"
                   "\"baseline_step_ms\":3010,\"step_time_ms_series\":[3010,4000],"
                   "\"most_nvlink_replays\":{\"node\":\"node-0456\","
                   "\"nvlink_replays_per_5min\":2800}}}}",
                   "node-0456", "P1");
  check_root_cause(EVENT("node", "gradient_norm", 4, "") "}", "Unexplained", "P3");
}

static void test_triage(void) {
  json_t *o = answer(LLM_L2, EVENT("job", "step_time_ms", 9, "") "}", NULL);
  CHECK_STREQ(json_string_value(json_object_get(o, "classification")), "real_anomaly");
  CHECK_STREQ(json_string_value(json_object_get(o, "scope")), "job");
  CHECK_STREQ(json_string_value(json_object_get(o, "tenant_type")), "training");
  CHECK(strstr(json_string_value(json_object_get(o, "rationale")), "step_time_ms") != NULL);
  json_decref(o);
  o = answer(LLM_L2, EVENT("node", "ttft_ms", 4.6, "") "}", NULL);
  CHECK_STREQ(json_string_value(json_object_get(o, "classification")), "noise");
  json_decref(o);
}

static void test_shift_report(void) {
  char *md = NULL;
  answer(LLM_L4,
         "{\"window\":{\"from\":\"00:00\",\"to\":\"04:00\",\"hours\":4},"
         "\"cluster\":{\"it_power_mw\":6.1},\"l1\":{\"events\":3,\"escalated\":1},"
         "\"sla_budget_remaining\":{\"training\":{\"start\":0.8,\"end\":0.79,\"burned\":0.01}},"
         "\"training_jobs\":[{\"job\":\"train-001\",\"model\":\"m\",\"nodes\":32,"
         "\"step_ms_now\":4000,\"baseline_step_ms\":3010,\"step_ms_window_max\":4100,"
         "\"slowdown_now_pct\":33}],"
         "\"l3_analyses\":[\"03:10 node-0456: Training straggler\"]}",
         &md);
  CHECK(strstr(md, "| train-001 (m) | 32 | 4000 | 3010 | 4100 | degraded |") != NULL);
  CHECK(strstr(md, "Training straggler") != NULL);
  free(md);
}

static void test_hostile_contexts(void) {
  static const char *const junk[] = {"{}", "{\"event\":7}", "{\"event\":{\"trigger\":[]}}",
                                     "{\"event\":{\"scope\":\"%s%n\",\"node\":\"%n\"}}"};
  for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
    for (int layer = LLM_L2; layer <= LLM_L4; layer++)
      json_decref(answer((llm_layer)layer, junk[i], NULL));
  char *a = NULL;
  CHECK_EQ(rules_answer(LLM_L2, "not json", &a), FS_EINVAL);
  CHECK(a == NULL);
  CHECK_EQ(rules_answer(LLM_L3, "[1,2]", &a), FS_EINVAL);
}

int main(void) {
  test_signatures();
  test_triage();
  test_shift_report();
  test_hostile_contexts();
  printf("unit_backend_rules: %ld checks passed\n", check_count);
  return 0;
}

/* Unit tests of the strict score (pipeline/score/strict_score.c) through the
 * scorer: a 12-node fleet with six scenarios, hand-written contexts and
 * answers, and each gate and check met and missed once: the L2
 * classification gate, scope and tenant (and when copying the event makes
 * them not applicable), family and incoherent rationales, a rationale about
 * another place (a pasted answer); the L3 family gate
 * (foreign, missing, compatible), entity precision, lot, tenants, order,
 * negation, the none list (a metric's name invents no fault); L4 sections,
 * active vs resolved, precision, SLA verdicts, job health, risks and
 * recommendations; honest mapping. */
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "pipeline/score/checklist.h"
#include "pipeline/score/scorer.h"
#include "scenarios/scenario.h"
#include "src/model/config.h"
#include "src/core/diag.h"
#include "src/model/fleet.h"
#include "tests/check.h"
#include "tests/lib_fleet.h"


/* T [1800, 3600) roots 6, 7 (moe, dense); G [4500, 5100) root 5; H [360,
 * 7560) three GPUs of one lot; R [7200, 8400) hot GPUs 2 and 5; K [9000,
 * 9600); F [5400, 6000) roots 8-11. */
static const char *const SCENARIOS =
    "{\"scenarios\": [\n"
    " {\"id\": \"T\", \"kind\": \"thermal_cascade\", \"start_h\": 0.5, \"duration_min\": 30,"
    " \"racks\": [1], \"nodes_per_rack\": 2},\n"
    " {\"id\": \"G\", \"kind\": \"training_straggler\", \"start_h\": 1.25, \"duration_min\": 10,"
    " \"job\": \"train-000\", \"job_node\": 1},\n"
    " {\"id\": \"H\", \"kind\": \"hbm_degradation\", \"start_h\": 0.1, \"duration_min\": 120,"
    " \"gpus\": 3, \"training_gpus\": 1},\n"
    " {\"id\": \"R\", \"kind\": \"expert_routing_collapse\", \"start_h\": 2, \"duration_min\": 20,"
    " \"hot_gpus\": [2, 5]},\n"
    " {\"id\": \"K\", \"kind\": \"kv_cache_eviction_storm\", \"start_h\": 2.5, \"duration_min\": 10},\n"
    " {\"id\": \"F\", \"kind\": \"fabric_microburst\", \"start_h\": 1.5, \"duration_min\": 10,"
    " \"racks\": [2]}\n"
    "]}\n";

static const char *const TENANT[] = {"moe-inference", "dense-inference", "training"};

enum { MAXCALLS = 64 };
static llm_call calls[MAXCALLS];
static char *answers[MAXCALLS];
static int ncalls;

/* An L2/L3 call on node at t_s with scope and trigger metric (gpu >= 0: a
 * GPU signal), answered with answer. Returns its index. */
static int add_event(llm_layer layer, double t_s, const char *scope, int node, const char *metric,
                     int gpu, const char *answer) {
  llm_call *c = &calls[ncalls];
  memset(c, 0, sizeof *c);
  llm_call_id(c, layer, ncalls);
  c->layer = layer;
  c->event_id = ncalls;
  c->t_s = t_s;
  char ctx[768], g[32] = "null";
  if (gpu >= 0)
    snprintf(g, sizeof g, "\"node-%04d/gpu%d\"", node, gpu);
  snprintf(ctx, sizeof ctx,
           "{\"layer\": \"%s\", \"event\": {\"scope\": \"%s\", \"node\": \"node-%04d\", "
           "\"rack\": \"rack-%02d\", \"job\": %s, \"tenant\": \"%s\", \"trigger\": "
           "{\"metric\": \"%s\", \"gpu\": %s, \"z\": 9}}}",
           llm_layer_name(layer), scope, node, node / 4,
           node == 2 || node == 5 ? "\"train-000\"" : "null", TENANT[node % 3], metric, g);
  CHECK((c->context = strdup(ctx)) != NULL);
  CHECK((answers[ncalls] = strdup(answer)) != NULL);
  return ncalls++;
}

static int add_l4(double t_s, double hours, const char *context_tail, const char *answer) {
  llm_call *c = &calls[ncalls];
  memset(c, 0, sizeof *c);
  llm_call_id(c, LLM_L4, ncalls);
  c->layer = LLM_L4;
  c->event_id = -1;
  c->t_s = t_s;
  char ctx[2048];
  snprintf(ctx, sizeof ctx, "{\"layer\": \"L4\", \"window\": {\"hours\": %g}%s}", hours,
           context_tail);
  CHECK((c->context = strdup(ctx)) != NULL);
  CHECK((answers[ncalls] = strdup(answer)) != NULL);
  return ncalls++;
}

static char *l2(const char *cls, const char *scope, const char *tenant, const char *why) {
  json_t *o = json_pack("{s:s,s:s,s:s,s:f,s:s}", "classification", cls, "scope", scope,
                        "tenant_type", tenant, "confidence", 0.9, "rationale", why);
  char *s = json_dumps(o, 0);
  json_decref(o);
  return s;
}

/* An L3 answer; chain and actions are JSON array texts. */
static char *l3(const char *root, const char *scope, const char *tenants, const char *cross,
                const char *chain, const char *actions, const char *priority) {
  char buf[4096];
  snprintf(buf, sizeof buf,
           "{\"root_cause\": \"%s\", \"confidence\": 0.8, \"affected_scope\": \"%s\", "
           "\"tenant_types\": %s, \"cross_tenant_impact\": \"%s\", \"causal_chain\": %s, "
           "\"recommended_actions\": %s, \"priority\": \"%s\"}",
           root, scope, tenants, cross, chain, actions, priority);
  return strdup(buf);
}

/* The strict result of call i for item id: 1 met, 0 missed, -1 absent. */
static int item(const scr_backend *b, int i, const char *id) {
  const scr_call *c = scr_call_at(b, i);
  for (int k = 0; k < c->result.nitems; k++)
    if (strcmp(c->result.items[k].item, id) == 0)
      return c->result.items[k].matched;
  return -1;
}

#define ITEM(b, i, id, want)                                                                     \
  do {                                                                                           \
    int got_ = item(b, i, id);                                                                   \
    check_count++;                                                                               \
    if (got_ != (want))                                                                          \
      CHECK_FAIL("call %d (%s) item %s: %d, want %d (note '%s')\nanswer: %s", i,                \
                 scr_call_at(b, i)->call_id, id, got_, want, scr_call_at(b, i)->result.note,     \
                 answers[i]);                                                                    \
  } while (0)

int main(void) {
  fs_config cfg;
  fleet12_config(&cfg, 4);
  fleet *f = NULL;
  scn_set *scn = NULL;
  chk_set *chk = NULL;
  CHECK_EQ(fleet_init(&f, &cfg), 0);
  if (scn_parse(&scn, SCENARIOS, "test.json", f) != 0)
    CHECK_FAIL("scenarios: %s", diag_first());
  CHECK_EQ(chk_parse(&chk, chk_default_text(), "built-in"), 0);
  const scn_def *H = &scn->s[2];
  CHECK_EQ(H->ngpus, 3);
  int hg = H->gpus[0], hnode = hg / 8;
  char *a, buf[1024];

  /* ---- L2 ---- */
  int t_good = add_event(LLM_L2, 2100, "node", 7, "inlet_temp_celsius", -1,
                         a = l2("real_anomaly", "rack", "mixed",
                                "Air handler trouble: intake air is well above its peers on "
                                "several nodes."));
  free(a);
  int t_echo = add_event(LLM_L2, 2100, "node", 7, "inlet_temp_celsius", -1,
                         a = l2("real_anomaly", "node", "dense-inference",
                                "inlet_temp_celsius z=9 on node-0007"));
  free(a);
  int t_noise = add_event(LLM_L2, 2100, "node", 7, "inlet_temp_celsius", -1,
                          a = l2("noise", "rack", "mixed", "Air handler trouble, well above."));
  free(a);
  int t_salad = add_event(LLM_L2, 2100, "node", 7, "inlet_temp_celsius", -1,
                          a = l2("real_anomaly", "rack", "mixed",
                                 "Cooling failure, KV cache eviction and IB port errors, well "
                                 "above peers."));
  free(a);
  int t_rack = add_event(LLM_L2, 2100, "rack", 6, "inlet_temp_celsius", -1,
                         a = l2("real_anomaly", "node", "moe-inference", "Cooling failure."));
  free(a);
  /* the right words about another place (pasted from another event), and about this one */
  int t_pasted = add_event(LLM_L2, 2100, "node", 7, "inlet_temp_celsius", -1,
                           a = l2("real_anomaly", "rack", "mixed",
                                  "Air handler trouble on node-0011: intake air is well above its "
                                  "peers on several nodes."));
  free(a);
  int t_here = add_event(LLM_L2, 2100, "node", 7, "inlet_temp_celsius", -1,
                         a = l2("real_anomaly", "rack", "mixed",
                                "Air handler trouble on node-0006 and node-0007 of rack-01: "
                                "intake air is well above its peers on several nodes."));
  free(a);
  int n_quiet = add_event(LLM_L2, 900, "node", 9, "gradient_norm", -1,
                          a = l2("noise", "node", "moe-inference",
                                 "An isolated blip within the normal range of its peers."));
  free(a);
  int n_real = add_event(LLM_L2, 900, "node", 9, "gradient_norm", -1,
                         a = l2("real_anomaly", "node", "moe-inference", "bad"));
  free(a);
  int t_other_metric = add_event(LLM_L2, 2100, "node", 7, "gradient_norm", -1,
                                 a = l2("noise", "node", "dense-inference", "A blip."));
  free(a);
  int h_l2 = add_event(LLM_L2, 1000, "gpu", hnode, "gpu_ecc_sbe_total", hg % 8,
                       a = l2("real_anomaly", "gpu", TENANT[hnode % 3],
                              "Corrected ECC errors keep rising on this GPU."));
  free(a);

  /* ---- L3 on T ---- */
  int t3_good = add_event(
      LLM_L3, 2100, "node", 7, "inlet_temp_celsius", -1,
      a = l3("Air handler outage: the unit feeding rack-01 stopped, the GPUs overheat.",
             "rack-01", "[\"moe-inference\", \"dense-inference\"]",
             "The training servers lose clock speed ahead of the serving nodes; serving latency "
             "only suffers later.",
             "[\"intake air warms\", \"warmer inlet air makes the clocks throttle\"]",
             "[\"Checkpoint the jobs first\", \"Then migrate the hottest workloads\"]", "P1"));
  free(a);
  int t3_multi = add_event(LLM_L3, 2100, "node", 7, "inlet_temp_celsius", -1,
                           a = l3("Cooling failure and a KV cache eviction storm.", "rack-01",
                                  "[]", "none", "[]", "[\"drain\"]", "P1"));
  free(a);
  int t3_wrong = add_event(LLM_L3, 2100, "node", 7, "inlet_temp_celsius", -1,
                           a = l3("NVLink straggler on node-0007.", "rack-01", "[]", "none", "[]",
                                  "[\"drain\"]", "P1"));
  free(a);
  int t3_compat = add_event(
      LLM_L3, 2100, "node", 7, "inlet_temp_celsius", -1,
      a = l3("Cooling failure on rack-01 makes its training nodes straggle.",
             "rack-00, rack-01, rack-02", "[\"training\"]",
             "Training is not hit first.", "[]",
             "[\"Drain the hottest nodes\", \"Checkpoint the jobs\"]", "P1"));
  free(a);
  int t3_direct = add_event(LLM_L3, 2100, "node", 7, "inlet_temp_celsius", -1,
                            a = l3("Cooling failure.", "rack-01", "[]", "none", "[]",
                                   "[\"Drain the nodes after a checkpoint\"]", "P1"));
  free(a);
  int t3_negated = add_event(LLM_L3, 2100, "node", 7, "inlet_temp_celsius", -1,
                             a = l3("Cooling failure.", "rack-01", "[]", "none", "[]",
                                    "[\"Do not checkpoint\", \"drain\"]", "P1"));
  free(a);
  int t3_broken = add_event(LLM_L3, 2100, "node", 7, "inlet_temp_celsius", -1, "{\"root_cause\": 1}");

  /* ---- L3 on G, H and none ---- */
  int g3_right = add_event(LLM_L3, 4800, "job", 2, "allreduce_wait_ms", -1,
                           a = l3("NVLink CRC errors on node-0005 slow train-000.", "train-000",
                                  "[\"training\"]", "none", "[]", "[]", "P1"));
  free(a);
  int g3_wrong = add_event(LLM_L3, 4800, "job", 2, "allreduce_wait_ms", -1,
                           a = l3("NVLink CRC errors on node-0002 slow the job.", "node-0002",
                                  "[\"training\"]", "none", "[]", "[]", "P1"));
  free(a);
  /* another faulty GPU of the lot on another node, for the per-event entity */
  int other = -1;
  for (int i = 1; i < H->ngpus; i++)
    if (H->gpus[i] / 8 != hnode)
      other = H->gpus[i];
  CHECK(other >= 0);
  unsigned htenants = 0;
  for (int i = 0; i < H->ngpus; i++)
    htenants |= 1u << f->node_tenant[H->gpus[i] / 8];
  CHECK((htenants & (htenants - 1)) != 0); /* the lot spans tenants */
  snprintf(buf, sizeof buf, "ECC errors climbing on node-%04d/gpu%d, silicon lot %d.", hnode,
           hg % 8, H->lot);
  int h3_right = add_event(LLM_L3, 1000, "gpu", hnode, "gpu_ecc_sbe_total", hg % 8,
                           a = l3(buf, "one GPU", "[\"training\", \"moe-inference\", "
                                  "\"dense-inference\"]", "none", "[]", "[]", "P2"));
  free(a);
  snprintf(buf, sizeof buf, "ECC errors climbing on node-%04d/gpu%d, not lot %d but lot %d.",
           other / 8, other % 8, H->lot, H->lot + 1);
  int h3_other = add_event(LLM_L3, 1000, "gpu", hnode, "gpu_ecc_sbe_total", hg % 8,
                           a = l3(buf, "one GPU", "[\"training\"]", "none", "[]", "[]", "P2"));
  free(a);
  int n3_right = add_event(LLM_L3, 900, "node", 9, "gradient_norm", -1,
                           a = l3("A benign fluctuation: statistical noise.", "nothing", "[]",
                                  "None.", "[]", "[\"Keep monitoring; do not drain\"]", "P4"));
  free(a);
  int n3_invent = add_event(LLM_L3, 900, "node", 9, "gradient_norm", -1,
                            a = l3("A cooling failure.", "rack-02", "[]", "none", "[]",
                                   "[\"Keep monitoring\"]", "P4"));
  free(a);
  int n3_metric = add_event(LLM_L3, 900, "node", 9, "rdma_bytes_per_second", -1,
                            a = l3("Statistical noise: rdma_bytes_per_second (DCGM_FI_DEV_"
                                   "NVLINK_REPLAY_ERROR_COUNT_TOTAL flat) on node-0009.",
                                   "nothing", "[]", "None.", "[]", "[\"Keep monitoring\"]",
                                   "P4"));
  free(a);
  int n3_rdma = add_event(LLM_L3, 900, "node", 9, "rdma_bytes_per_second", -1,
                          a = l3("Statistical noise: rdma_bytes_per_second_x from RDMA congestion.",
                                 "nothing", "[]", "None.", "[]", "[\"Keep monitoring\"]", "P4"));
  free(a);
  int n3_drain = add_event(LLM_L3, 900, "node", 9, "gradient_norm", -1,
                           a = l3("Noise.", "nothing", "[]", "none", "[]", "[\"Drain node-0009\"]",
                                  "P1"));
  free(a);

  /* ---- L4 over [0, 3600]: H active, T ended at 3600 (either), G and F not yet ---- */
  const char *ctx4 =
      ", \"sla_budget_remaining\": {\"moe-inference\": {\"start\": 0.8, \"end\": 0.79, "
      "\"burned\": 0.01}, \"training\": {\"start\": 0.8, \"end\": 0.799, \"burned\": 0.001}}, "
      "\"hourly\": {\"columns\": [\"hour_ending\", \"sla_moe\", \"sla_training\"], \"rows\": "
      "[[\"00:00\", 0.8, 0.8], [\"01:00\", 0.79, 0.799]]}, \"training_jobs\": [{\"job\": "
      "\"train-000\", \"step_ms_window_max\": 1600, \"baseline_step_ms\": 1500}]";
  snprintf(buf, sizeof buf,
           "# Handoff\n## Active incidents\n- Cooling failure on rack-01\n"
           "- ECC errors on node-%04d\n## Resolved incidents\n- None\n"
           "## SLA status\n- moe: 79.0%% left, burning fast\n- training: 79.9%% left, steady\n"
           "## Training health\n- train-000: slow this shift\n"
           "## Emerging risks\n- HBM wear on node-%04d\n"
           "## Next-shift recommendations\n- Fix the cooling of rack-01\n- Drain node-%04d\n",
           hnode, hnode, hnode);
  int l4_good = add_l4(3600, 1, ctx4, buf);
  int l4_bad = add_l4(3600, 1, ctx4,
                      "## Active incidents\n- Cooling failure on rack-01, and KV cache eviction\n"
                      "- ECC errors\n## Resolved incidents\n- KV cache storm\n"
                      "## SLA status\n- moe 79.0%, training 79.9%: all fine\n"
                      "## Training health\n- all jobs healthy\n"
                      "## Emerging risks\n- None.\n## Next-shift recommendations\n- KV cache resize\n");

  json_t *tr = json_array();
  for (int i = 0; i < ncalls; i++)
    json_array_append_new(tr, json_pack("{s:s,s:s,s:s}", "call_id", calls[i].call_id, "status",
                                        "ok", "response_text", answers[i]));
  scr_truth truth = {scn, f, chk, 15.0, 3 * 3600.0};
  scr_backend *b = NULL;
  if (scr_score_backend(&b, "t", &truth, calls, ncalls, tr) != 0)
    CHECK_FAIL("score: %s", diag_first());

  /* L2 */
  CHECK_STREQ(scr_call_at(b, t_good)->scenario, "T");
  CHECK_NEAR(scr_call_at(b, t_good)->result.score, 1.0, 1e-12);
  ITEM(b, t_echo, "scope", 0);
  ITEM(b, t_echo, "tenant", 0);
  ITEM(b, t_echo, "key_metric", 1);
  ITEM(b, t_echo, "why_real", 0);
  CHECK_NEAR(scr_call_at(b, t_echo)->result.score, 2.0 / 5, 1e-12);
  CHECK_NEAR(scr_call_at(b, t_noise)->result.score, 0.0, 0);
  CHECK(strstr(scr_call_at(b, t_noise)->result.note, "classification") != NULL);
  ITEM(b, t_salad, "key_metric", 0);
  ITEM(b, t_salad, "why_real", 0);
  ITEM(b, t_salad, "scope", 1);
  ITEM(b, t_pasted, "classification", 1);
  ITEM(b, t_pasted, "key_metric", 0); /* about node-0011, not this event or its fault */
  ITEM(b, t_pasted, "why_real", 0);
  CHECK_NEAR(scr_call_at(b, t_here)->result.score, 1.0, 1e-12);
  ITEM(b, t_rack, "scope", -1); /* the event says rack: not applicable */
  ITEM(b, t_rack, "tenant", 0);
  CHECK_STREQ(scr_call_at(b, n_quiet)->scenario, "none");
  CHECK_NEAR(scr_call_at(b, n_quiet)->result.score, 1.0, 1e-12);
  CHECK_NEAR(scr_call_at(b, n_real)->result.score, 0.0, 0);
  CHECK_STREQ(scr_call_at(b, t_other_metric)->scenario, "none"); /* not T's signature */
  CHECK_STREQ(scr_call_at(b, h_l2)->scenario, "H");
  ITEM(b, h_l2, "tenant", -1); /* a localized fault: the event's tenant is right */
  ITEM(b, h_l2, "scope", -1);
  CHECK_NEAR(scr_call_at(b, h_l2)->result.score, 1.0, 1e-12);

  /* L3 */
  CHECK_NEAR(scr_call_at(b, t3_good)->result.score, 1.0, 1e-12);
  CHECK_NEAR(scr_call_at(b, t3_multi)->result.score, 0.0, 0);
  CHECK(strstr(scr_call_at(b, t3_multi)->result.note, "kv_cache_eviction_storm") != NULL);
  CHECK_NEAR(scr_call_at(b, t3_wrong)->result.score, 0.0, 0);
  CHECK(strstr(scr_call_at(b, t3_wrong)->result.note, "does not name") != NULL);
  ITEM(b, t3_compat, "cooling_failure", 1); /* the straggler family is compatible */
  ITEM(b, t3_compat, "rack_scope", 0);      /* 1 of 3 racks named is the fault's */
  ITEM(b, t3_compat, "tenants", 0);
  ITEM(b, t3_compat, "training_first", 0);  /* negated */
  ITEM(b, t3_compat, "checkpoint_before_drain", 0);
  ITEM(b, t3_compat, "migrate_or_drain", 1);
  ITEM(b, t3_direct, "checkpoint_before_drain", 1);
  ITEM(b, t3_negated, "checkpoint_before_drain", 0);
  CHECK_NEAR(scr_call_at(b, t3_broken)->result.score, 0.0, 0);
  CHECK(strstr(scr_call_at(b, t3_broken)->result.note, "does not validate") != NULL);
  CHECK_EQ(scr_layer(b, 3)->unparsable, 1);
  ITEM(b, g3_right, "straggler_node", 1);
  ITEM(b, g3_right, "job_scope", 1);
  ITEM(b, g3_right, "tenants", 1);
  ITEM(b, g3_wrong, "straggler_node", 0);
  ITEM(b, g3_wrong, "job_scope", 0);
  ITEM(b, h3_right, "degrading_gpu", 1);
  ITEM(b, h3_right, "silicon_lot", 1);
  ITEM(b, h3_right, "cross_tenant_scope", (htenants == 7u) ? 1 : 0);
  ITEM(b, h3_other, "degrading_gpu", 0); /* a faulty GPU, but not this event's */
  ITEM(b, h3_other, "silicon_lot", 0);
  ITEM(b, h3_other, "cross_tenant_scope", 0);
  CHECK_STREQ(scr_call_at(b, n3_right)->scenario, "none");
  CHECK_NEAR(scr_call_at(b, n3_right)->result.score, 1.0, 1e-12);
  CHECK_NEAR(scr_call_at(b, n3_invent)->result.score, 0.0, 0);
  CHECK_NEAR(scr_call_at(b, n3_metric)->result.score, 1.0, 1e-12); /* a metric's name */
  CHECK_NEAR(scr_call_at(b, n3_rdma)->result.score, 0.0, 0);       /* a family in words */
  ITEM(b, n3_drain, "no_intrusive_action", 0);
  ITEM(b, n3_drain, "low_priority", 0);
  ITEM(b, n3_drain, "no_fault", 1);

  /* L4 */
  CHECK_STREQ(scr_call_at(b, l4_good)->scenario, "T+H");
  ITEM(b, l4_good, "T/incident", 1);
  ITEM(b, l4_good, "T/place", 1);
  ITEM(b, l4_good, "H/incident", 1);
  ITEM(b, l4_good, "sla_status", 1);
  ITEM(b, l4_good, "training_health", 1);
  ITEM(b, l4_good, "emerging_risks", 1);
  ITEM(b, l4_good, "next_shift_recommendations", 1);
  CHECK_NEAR(scr_call_at(b, l4_good)->result.score, 1.0, 1e-12);
  ITEM(b, l4_bad, "T/incident", 0); /* KV named in the section: not a fault of the window */
  ITEM(b, l4_bad, "H/incident", 0);
  ITEM(b, l4_bad, "sla_status", 0); /* moe burned fast, called fine */
  ITEM(b, l4_bad, "training_health", 0);
  ITEM(b, l4_bad, "emerging_risks", 0);
  ITEM(b, l4_bad, "next_shift_recommendations", 0);

  scr_backend_destroy(&b);
  CHECK(b == NULL);
  json_decref(tr);
  for (int i = 0; i < ncalls; i++) {
    free(calls[i].context);
    free(answers[i]);
  }
  chk_destroy(&chk);
  scn_destroy(&scn);
  fleet_destroy(&f);
  printf("unit_strict_score: %ld checks passed\n", check_count);
  return 0;
}

/* Unit tests of the kinds' remedies (pipeline/score/remedy.c): every
 * built-in kind's "remedy" parses; bad remedies (unknown action, no_op, a
 * target the action cannot take, unknown target or key, a step listed
 * twice) fail with a message naming the list, step and value, also inside
 * the checklists document; the oracle's actions for the default scenarios
 * on the default fleet (what, on which entities, in order, each one an
 * action act_parse reads back and one that mitigates its scenario); and
 * rem_mitigates' true and false cases; and every kind once, drawn at
 * random, whose oracle actions all read back and mitigate. No MPI. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/score/checklist.h"
#include "pipeline/score/remedy.h"
#include "scenarios/scenario.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/model/config.h"
#include "src/model/fleet.h"
#include "tests/check.h"

/* Parses remedy text; returns the number of problems, the first in *msg. */
static int parse_text(const char *text, const char **msg) {
  diag_clear();
  json_t *r = json_loads(text, 0, NULL);
  CHECK(r != NULL);
  rem_kind k;
  int bad = rem_parse(&k, r, "test.json: kind 'x'");
  json_decref(r);
  *msg = diag_first();
  return bad;
}

static void expect_bad(const char *text, const char *want) {
  const char *msg;
  int bad = parse_text(text, &msg);
  if (bad == 0 || !msg || !strstr(msg, want))
    CHECK_FAIL("remedy %s: %d problems, message '%s', wanted '%s'", text, bad, msg ? msg : "",
               want);
}

static void test_parse(void) {
  for (int k = 0; k < SK_COUNT; k++) {
    const rem_kind *r = rem_of_kind((scn_kind)k);
    if (!r)
      CHECK_FAIL("kind %s: no valid remedy: %s", scn_kind_name((scn_kind)k), diag_first());
    for (int i = 0; i < r->noracle; i++)
      CHECK(r->oracle[i].action != ACT_NO_OP);
  }
  CHECK(rem_of_kind(SK_COUNT) == NULL);
  const rem_kind *tc = rem_of_kind(SK_thermal_cascade);
  CHECK_EQ(tc->noracle, 1);
  CHECK_EQ(tc->oracle[0].action, ACT_RAISE_COOLING);
  CHECK_EQ(tc->oracle[0].target, REM_RACK);
  CHECK_EQ(tc->also[0].action, ACT_POWER_CAP_RACK);
  CHECK(!rem_kind_has_remedy(SK_storage_slowdown) && !rem_kind_has_remedy(SK_hbm_uncorrectable));
  CHECK(rem_kind_has_remedy(SK_firmware_regression));
  CHECK_EQ(rem_of_kind(SK_firmware_regression)->noracle, 0);

  const char *msg;
  CHECK_EQ(parse_text("{\"oracle\": [{\"action\": \"rma_gpu\", \"target\": \"node\"}], "
                      "\"also\": []}",
                      &msg),
           0);
  expect_bad("{\"oracle\": [{\"action\": \"teleport_node\", \"target\": \"node\"}], \"also\": []}",
             "test.json: kind 'x': remedy.oracle[0]: 'teleport_node' is not an action");
  expect_bad("{\"oracle\": [], \"also\": [{\"action\": \"no_op\", \"target\": \"node\"}]}",
             "remedy.also[0]: 'no_op' is not an action that does something");
  expect_bad("{\"oracle\": [{\"action\": \"power_cap_rack\", \"target\": \"node\"}], \"also\": []}",
             "remedy.oracle[0]: action 'power_cap_rack' cannot target 'node' (it targets: rack)");
  expect_bad("{\"oracle\": [{\"action\": \"checkpoint_job\", \"target\": \"rack\"}], \"also\": []}",
             "action 'checkpoint_job' cannot target 'rack' (it targets: job)");
  expect_bad("{\"oracle\": [{\"action\": \"rebalance_experts\", \"target\": \"row\"}], "
             "\"also\": []}",
             "cannot target 'row' (it targets: node, rack, tenant)");
  expect_bad("{\"oracle\": []}", "remedy.also must be an array");
  expect_bad("{\"oracle\": [], \"also\": [], \"why\": \"x\"}", "remedy: unknown key 'why'");
  expect_bad("{\"oracle\": [{\"action\": \"drain_node\"}], \"also\": []}",
             "remedy.oracle[0] must be an object with exactly \"action\" and \"target\"");
  expect_bad("{\"oracle\": [{\"action\": \"drain_node\", \"target\": \"node\"}], "
             "\"also\": [{\"action\": \"drain_node\", \"target\": \"node\"}]}",
             "remedy.also[0]: 'drain_node' on 'node' is already in remedy.oracle");
  expect_bad("[]", "\"remedy\" must be an object");
}

/* The built-in checklists document with thermal_cascade's remedy made bad
 * fails chk_parse, naming the kind and the step. */
static void test_checklists(void) {
  chk_set *set = NULL;
  const char *text = chk_default_text();
  CHECK(text != NULL);
  CHECK_EQ(chk_parse(&set, text, "built-in"), 0);
  chk_destroy(&set);
  json_t *doc = json_loads(text, 0, NULL);
  json_t *kind = json_object_get(json_object_get(doc, "kinds"), "thermal_cascade");
  CHECK(json_is_object(json_object_get(kind, "remedy")));
  json_t *bad = json_loads("{\"oracle\": [{\"action\": \"raise_cooling\", \"target\": \"gpu\"}], "
                           "\"also\": []}",
                           0, NULL);
  CHECK_EQ(json_object_set_new(kind, "remedy", bad), 0);
  char *broken = json_dumps(doc, 0);
  diag_clear();
  CHECK_EQ(chk_parse(&set, broken, "checklists.json"), FS_EINVAL);
  char *all = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&all, &len);
  CHECK(mem != NULL);
  diag_print(mem);
  CHECK_EQ(fclose(mem), 0);
  if (!strstr(all, "checklists.json: kind 'thermal_cascade': remedy.oracle[0]: action "
                   "'raise_cooling' cannot target 'gpu'"))
    CHECK_FAIL("no remedy message in: %s", all);
  free(all);
  free(broken);
  json_decref(doc);
}

/* Every oracle action of s reads back through act_parse and mitigates s. */
static void check_valid(const fleet *f, const scn_def *s, const act_action *a, int n) {
  for (int i = 0; i < n; i++) {
    char target[64], why[256];
    act_action back;
    act_target_name(f, &a[i], target, sizeof target);
    if (act_parse(f, act_name(a[i].kind), target, &back, why, sizeof why) != 0)
      CHECK_FAIL("%s: oracle action %d: %s", s->id, i, why);
    CHECK(memcmp(&back, &a[i], sizeof back) == 0);
    CHECK_EQ(rem_mitigates(s, f, &a[i]), 1);
  }
}

static act_action parsed(const fleet *f, const char *name, const char *target) {
  act_action a;
  char why[256];
  if (act_parse(f, name, target, &a, why, sizeof why) != 0)
    CHECK_FAIL("%s", why);
  return a;
}

static int mitigates(const fleet *f, const scn_def *s, const char *name, const char *target) {
  act_action a = parsed(f, name, target);
  return rem_mitigates(s, f, &a);
}

static void test_default(void) {
  fs_config cfg;
  cfg_defaults(&cfg);
  CHECK_EQ(cfg_validate(&cfg), 0);
  fleet *f = NULL;
  CHECK_EQ(fleet_init(&f, &cfg), 0);
  scn_set *set = NULL;
  if (scn_parse(&set, scn_default_text(), "default.json", f) != 0)
    CHECK_FAIL("default scenarios: %s", diag_first());
  CHECK_EQ(set->n, 6);
  char name[64];
  for (int i = 0; i < set->n; i++) {
    const scn_def *s = &set->s[i];
    act_action *a = NULL;
    int n = -1;
    CHECK_EQ(rem_oracle_actions(s, f, &a, &n), 0);
    check_valid(f, s, a, n);
    switch (s->kind) {
    case SK_thermal_cascade: /* racks 3, 4: cool both */
      CHECK_EQ(n, 2);
      CHECK(a[0].kind == ACT_RAISE_COOLING && a[0].rack == 3 && a[1].rack == 4);
      CHECK_EQ(mitigates(f, s, "power_cap_rack", "rack-04"), 1);    /* also */
      CHECK_EQ(mitigates(f, s, "power_cap_rack", "rack-05"), 0);
      CHECK_EQ(mitigates(f, s, "migrate_tenant", "rack-04"), 1);    /* also */
      CHECK_EQ(mitigates(f, s, "rebalance_experts", "rack-03"), 0); /* not listed */
      snprintf(name, sizeof name, "node-%04d", s->nodes[0]);
      CHECK_EQ(mitigates(f, s, "drain_node", name), 1);
      CHECK_EQ(mitigates(f, s, "drain_node", "node-0000"), 0);
      break;
    case SK_expert_routing_collapse:
      CHECK_EQ(n, 1);
      CHECK(a[0].kind == ACT_REBALANCE_EXPERTS && a[0].tenant == TENANT_MOE && a[0].node < 0 &&
            a[0].rack < 0);
      CHECK_EQ(mitigates(f, s, "rebalance_experts", "dense-inference"), 0);
      snprintf(name, sizeof name, "node-%04d", s->nodes[0]);
      CHECK_EQ(mitigates(f, s, "rebalance_experts", name), 1);
      snprintf(name, sizeof name, "rack-%02d", f->node_rack[s->nodes[0]]);
      CHECK_EQ(mitigates(f, s, "rebalance_experts", name), 1);
      break;
    case SK_hbm_degradation: { /* the oracle defers the repair; an RMA of a listed GPU mitigates */
      CHECK_EQ(s->ngpus, 12);
      CHECK_EQ(n, 0);
      int node = s->gpus[0] / FLEET_GPUS, gpu = s->gpus[0] % FLEET_GPUS;
      snprintf(name, sizeof name, "node-%04d", node);
      CHECK_EQ(mitigates(f, s, "rma_gpu", name), 1); /* the node of a listed GPU */
      int other = (gpu + 1) % FLEET_GPUS;
      int listed = 0;
      for (int g = 0; g < s->ngpus; g++)
        listed |= s->gpus[g] == node * FLEET_GPUS + other;
      snprintf(name, sizeof name, "node-%04d/gpu%d", node, other);
      CHECK_EQ(mitigates(f, s, "rma_gpu", name), listed);
      CHECK_EQ(mitigates(f, s, "cordon_node", "node-0000"), 0);
      break;
    }
    case SK_fabric_microburst:
      CHECK_EQ(n, 2);
      CHECK(a[0].kind == ACT_MIGRATE_TENANT && a[0].rack == 10 && a[1].rack == 11);
      CHECK_EQ(mitigates(f, s, "migrate_tenant", "rack-12"), 0);
      break;
    case SK_kv_cache_eviction_storm:
      CHECK_EQ(n, 1);
      CHECK(a[0].kind == ACT_RAISE_KV_CAPACITY && a[0].tenant == TENANT_DENSE);
      CHECK_EQ(mitigates(f, s, "cap_context_length", "dense-inference"), 1); /* also */
      CHECK_EQ(mitigates(f, s, "raise_kv_capacity", "moe-inference"), 0);
      CHECK_EQ(mitigates(f, s, "power_cap_rack", "rack-00"), 0);
      break;
    case SK_training_straggler: { /* train-001's 8th node */
      CHECK_EQ(n, 2);
      int node = f->job_nodes[f->job_offset[s->job] + 7];
      CHECK_EQ(strcmp(cfg.jobs[s->job].id, "train-001"), 0);
      CHECK(a[0].kind == ACT_CHECKPOINT_JOB && a[0].job == s->job);
      CHECK(a[1].kind == ACT_RESTART_JOB_WITHOUT_NODE && a[1].node == node && a[1].job == s->job);
      snprintf(name, sizeof name, "node-%04d", node);
      CHECK_EQ(mitigates(f, s, "drain_node", name), 1);
      snprintf(name, sizeof name, "node-%04d", f->job_nodes[f->job_offset[s->job] + 6]);
      CHECK_EQ(mitigates(f, s, "restart_job_without_node", name), 0);
      for (int j = 0; j < f->njobs; j++)
        CHECK_EQ(mitigates(f, s, "checkpoint_job", cfg.jobs[j].id), j == s->job);
      break;
    }
    default: CHECK_FAIL("unexpected kind %s in the default scenarios", scn_kind_name(s->kind));
    }
    free(a);
  }
  scn_destroy(&set);
  fleet_destroy(&f);
}

/* Every kind once (scn_random on the default fleet): each oracle action
 * reads back and mitigates its scenario; a kind with oracle steps gets at
 * least one action. */
static void test_every_kind(void) {
  fs_config cfg;
  cfg_defaults(&cfg);
  CHECK_EQ(cfg_validate(&cfg), 0);
  fleet *f = NULL;
  CHECK_EQ(fleet_init(&f, &cfg), 0);
  char *text = NULL;
  CHECK_EQ(scn_random(&text, SK_COUNT, 11, f, NULL, 0), 0);
  scn_set *set = NULL;
  if (scn_parse(&set, text, "random.json", f) != 0)
    CHECK_FAIL("random scenarios: %s", diag_first());
  unsigned seen = 0;
  for (int i = 0; i < set->n; i++) {
    const scn_def *s = &set->s[i];
    act_action *a = NULL;
    int n = -1;
    CHECK_EQ(rem_oracle_actions(s, f, &a, &n), 0);
    check_valid(f, s, a, n);
    if (rem_of_kind(s->kind)->noracle > 0 && n == 0)
      CHECK_FAIL("%s (%s): the oracle has steps but no action", s->id, scn_kind_name(s->kind));
    seen |= 1u << s->kind;
    free(a);
  }
  CHECK_EQ(seen, (1u << SK_COUNT) - 1);
  scn_destroy(&set);
  free(text);
  fleet_destroy(&f);
}

int main(void) {
  test_parse();
  test_every_kind();
  test_checklists();
  test_default();
  printf("unit_remedy: %ld checks passed\n", check_count);
  return 0;
}

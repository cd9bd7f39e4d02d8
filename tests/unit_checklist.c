/* Unit tests of the checklists (pipeline/score/checklist.c) and their
 * benchmark's regex score on hand-written answers: the built-in document
 * (scenarios/checklists.json with every scenarios/kinds/<kind>.json) loads
 * with the benchmark's item counts (plus the
 * strict-only items) and each kind's knowledge; a short family word is
 * matched as a word; full marks, partial and no marks at L3; L2 on parsed
 * fields, the "none" list and an unparsable answer; field names never earn
 * an item; every kind's oracle wording passes its own family gates;
 * placeholder substitution (right name, wrong name, no value); L4
 * lists with prefixes; and bad checklist
 * files naming file, kind, layer, item, key and value. */
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/score/answer_text.h"
#include "pipeline/score/checklist.h"
#include "scenarios/scenario.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "tests/check.h"

static const chk_subst STRAGGLER = {"(node-0123)", "(rack-03)", "(train-001)", "(training)"};

/* A full-marks L3 answer for a training straggler on node-0123 of train-001. */
static const char *const L3_STRAGGLER_FULL =
    "```json\n{\"root_cause\": \"node-0123 has intermittent NVLink CRC errors (replay count 150 "
    "per interval vs 2) from thermal expansion of the baseboard\",\n"
    " \"confidence\": 0.8, \"affected_scope\": \"train-001, all 32 nodes\",\n"
    " \"tenant_types\": [\"training\"], \"cross_tenant_impact\": \"none\",\n"
    " \"causal_chain\": [\"NVLink replays on node-0123\", \"slow all-reduce contribution\","
    " \"the other 31 nodes are healthy but wait at the barrier\","
    " \"step time rises from 3.01 s to 4.0 s\"],\n"
    " \"recommended_actions\": [\"checkpoint train-001\", \"drain node-0123\","
    " \"expect the job completion to slip by about 30%\"],\n"
    " \"priority\": \"P1\"}\n```";

/* Ids of the matched items of r, space-separated, into buf. */
static const char *matched_ids(const chk_result *r, char *buf, size_t cap) {
  buf[0] = '\0';
  for (int i = 0; i < r->nitems; i++)
    if (r->items[i].matched) {
      strncat(buf, r->items[i].item, cap - strlen(buf) - 1);
      strncat(buf, " ", cap - strlen(buf) - 1);
    }
  return buf;
}

static void score1(chk_result *r, const chk_list *l, int layer, const char *text) {
  CHECK_EQ(chk_score(r, &l, NULL, 1, layer, text), 0);
}

/* Items of l that count in the benchmark's regex score. */
static int benchmark_items(const chk_list *l) {
  int n = 0;
  for (int i = 0; i < chk_list_count(l); i++)
    n += chk_list_item(l, i)->benchmark;
  return n;
}

static void test_default_file(const chk_set *set) {
  static const struct {
    const char *kind;
    int l3, l3_strict_only, l4;
  } want[] = {{"thermal_cascade", 8, 1, 2},         {"expert_routing_collapse", 7, 2, 1},
              {"hbm_degradation", 7, 1, 1},         {"fabric_microburst", 6, 2, 2},
              {"kv_cache_eviction_storm", 6, 1, 1}, {"training_straggler", 9, 1, 2}};
  for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
    chk_list *l2 = NULL, *l3 = NULL, *l4 = NULL;
    CHECK_EQ(chk_compile(&l2, set, want[k].kind, 2, &STRAGGLER), 0);
    CHECK_EQ(chk_compile(&l3, set, want[k].kind, 3, &STRAGGLER), 0);
    CHECK_EQ(chk_compile(&l4, set, want[k].kind, 4, &STRAGGLER), 0);
    CHECK_EQ(benchmark_items(l2), 4);
    CHECK_EQ(chk_list_count(l2), 5); /* and why_real */
    CHECK_EQ(benchmark_items(l3), want[k].l3);
    CHECK_EQ(chk_list_count(l3), want[k].l3 + want[k].l3_strict_only);
    CHECK_EQ(chk_list_count(l4), want[k].l4);
    CHECK_STREQ(chk_list_item_id(l2, 0), "classification");
    CHECK(chk_list_item(l2, 0)->gate);
    CHECK(chk_list_item_text(l3, 0) != NULL);
    CHECK(chk_list_item(l3, 0)->fields != 0);
    CHECK(chk_list_item_id(l3, chk_list_count(l3)) == NULL);
    CHECK(chk_list_item(l3, -1) == NULL);
    chk_list_destroy(&l2);
    chk_list_destroy(&l3);
    chk_list_destroy(&l4);
    CHECK(l2 == NULL && l3 == NULL && l4 == NULL);
    /* the kind's knowledge */
    const chk_kind_info *ki = chk_kind(set, (int)k);
    CHECK(ki != NULL && ki->nfamily > 0 && ki->nsignature > 0 && ki->l2_scopes != 0);
  }
  CHECK(chk_kind(set, SK_COUNT) == NULL && chk_kind(set, -1) == NULL);
  CHECK(chk_is_signature(set, 0, "inlet_temp_celsius"));
  CHECK_EQ(chk_signature_rank(set, 0, "inlet_temp_celsius"), 0);
  CHECK(!chk_is_signature(set, 0, "gpu_ecc_sbe_total"));
  CHECK_EQ(chk_signature_rank(set, 0, NULL), -1);
  CHECK(chk_kind(set, 2)->slow_burn && !chk_kind(set, 0)->slow_burn);
  /* thermal with straggler, with the row's CRAH failure and with a lying sensor */
  CHECK(chk_kind(set, 0)->compatible ==
        (1u << SK_training_straggler | 1u << SK_crah_failure | 1u << SK_temp_sensor_fault));
  chk_list *l = NULL;
  CHECK_EQ(chk_compile(&l, set, "none", 2, NULL), 0);
  CHECK_EQ(benchmark_items(l), 1);
  chk_list_destroy(&l);
  CHECK_EQ(chk_compile(&l, set, "none", 3, NULL), 0);
  CHECK_EQ(benchmark_items(l), 0); /* strict only: the benchmark scored L3 on no scenario as 0 */
  CHECK_EQ(chk_list_count(l), 4);
  chk_list_destroy(&l);
  CHECK_EQ(chk_compile(&l, set, "shift", 4, NULL), 0);
  CHECK_EQ(chk_list_count(l), 4);
  chk_list_destroy(&l);
  diag_clear();
  CHECK_EQ(chk_compile(&l, set, "shift", 3, NULL), FS_EINVAL); /* no such list */
  CHECK_EQ(chk_compile(&l, set, "volcano", 3, NULL), FS_EINVAL);
  CHECK(l == NULL);
  CHECK(strstr(diag_first(), "shift") != NULL);
  diag_clear();
}

/* 1 when one of kind k's family patterns matches text. */
static int family_matches(const chk_set *set, int k, const char *text) {
  const chk_kind_info *ki = chk_kind(set, k);
  for (int i = 0; i < ki->nfamily; i++)
    if (regexec(&ki->family[i], text, 0, NULL, 0) == 0)
      return 1;
  return 0;
}

/* A short family word matches as a word, not inside another one: "roce"
 * names the fabric, "process" names no family, a link "down" flaps but a
 * "downgraded" one does not. */
static void test_family_words(const chk_set *set) {
  for (int k = 0; k < SK_COUNT; k++)
    if (family_matches(set, k, "the process, its processes and procedures, reprocessing"))
      CHECK_FAIL("a family pattern of %s matches inside 'process'", scn_kind_name((scn_kind)k));
  CHECK(family_matches(set, SK_fabric_microburst, "RoCE"));
  CHECK(family_matches(set, SK_fabric_microburst, "lossless RoCEv2 traffic"));
  /* a link that goes down flaps; one that is downgraded has not */
  CHECK(!family_matches(set, SK_nic_flap, "PCIe link downgraded on node-0396/gpu2"));
  CHECK(!family_matches(set, SK_nic_flap, "the port downtrained to Gen4 x8"));
  CHECK(family_matches(set, SK_nic_flap, "its link went down, then up"));
  CHECK(family_matches(set, SK_nic_flap, "port down"));
}

/* The kinds whose family text names positively (as the strict score reads
 * it): a bit per kind. */
static unsigned families_named(const chk_set *set, const char *text) {
  unsigned bits = 0;
  for (int k = 0; k < SK_COUNT; k++)
    if (atx_any_positive(chk_kind(set, k)->family, chk_kind(set, k)->nfamily, text, NULL))
      bits |= 1u << k;
  return bits;
}

/* Every kind's oracle wording passes its own gates: the L3 root cause names
 * the kind's family and no family the kind does not list as compatible; the
 * L2 rationale and the report phrase name it and no pair of families of
 * which neither lists the other. A family word of one kind that catches
 * another kind's plain description fails here, not in a run. */
static void test_oracle_families(const chk_set *set) {
  for (int k = 0; k < SK_COUNT; k++) {
    const chk_kind_info *ki = chk_kind(set, k);
    const char *name = scn_kind_name((scn_kind)k);
    unsigned root = families_named(set, ki->oracle.root_cause);
    if (!((root >> k) & 1u) || (root & ~(1u << k) & ~ki->compatible))
      CHECK_FAIL("%s: oracle root cause names families 0x%x (own bit %d, compatible 0x%x)", name,
                 root, k, ki->compatible);
    const char *texts[] = {ki->oracle.why, ki->oracle.phrase};
    for (int t = 0; t < 2; t++) {
      unsigned named = families_named(set, texts[t]);
      if (!((named >> k) & 1u))
        CHECK_FAIL("%s: oracle %s does not name its family", name, t ? "phrase" : "why");
      for (int a = 0; a < SK_COUNT; a++)
        for (int b = a + 1; b < SK_COUNT; b++)
          if ((named >> a) & (named >> b) & 1u && !((chk_kind(set, a)->compatible >> b) & 1u) &&
              !((chk_kind(set, b)->compatible >> a) & 1u))
            CHECK_FAIL("%s: oracle %s names %s and %s, neither compatible with the other", name,
                       t ? "phrase" : "why", scn_kind_name((scn_kind)a),
                       scn_kind_name((scn_kind)b));
    }
  }
}

static void test_l3(const chk_set *set) {
  chk_list *l = NULL;
  chk_result r;
  char buf[1024];
  CHECK_EQ(chk_compile(&l, set, "training_straggler", 3, &STRAGGLER), 0);

  score1(&r, l, 3, L3_STRAGGLER_FULL); /* full marks */
  if (r.nmatched != 9)
    CHECK_FAIL("full marks expected, matched: %s", matched_ids(&r, buf, sizeof buf));
  CHECK_NEAR(r.score, 1.0, 1e-12);
  CHECK_STREQ(r.note, "");
  CHECK_STREQ(r.items[2].item, "straggler_node");
  chk_result_free(&r);

  /* partial: the signal and the checkpoint, but the wrong node and no job */
  score1(&r, l, 3,
         "{\"root_cause\": \"NVLink replay storm on node-0999\", \"confidence\": 0.5,"
         " \"affected_scope\": \"one node\", \"tenant_types\": [], \"cross_tenant_impact\":"
         " \"none\", \"causal_chain\": [], \"recommended_actions\": [\"checkpoint first\"],"
         " \"priority\": \"P2\"}");
  CHECK_STREQ(matched_ids(&r, buf, sizeof buf),
              "nvlink_root others_healthy checkpoint_before_drain ");
  CHECK_NEAR(r.score, 3.0 / 9.0, 1e-12);
  chk_result_free(&r);

  /* nothing relevant; prose without JSON is read as raw text, and noted */
  score1(&r, l, 3, "The cluster looks fine to me.");
  CHECK_EQ(r.nmatched, 0);
  CHECK_EQ(r.nitems, 9);
  CHECK_NEAR(r.score, 0.0, 0);
  CHECK(strstr(r.note, "raw text") != NULL);
  chk_result_free(&r);

  /* raw prose still earns what it says */
  score1(&r, l, 3, "Drain node-0123 after a checkpoint; nvlink crc errors.");
  CHECK_STREQ(matched_ids(&r, buf, sizeof buf),
              "straggler_node nvlink_root straggler_drain checkpoint_before_drain ");
  chk_result_free(&r);

  /* a failed call */
  score1(&r, l, 3, NULL);
  CHECK_EQ(r.nmatched, 0);
  CHECK_EQ(r.nitems, 9);
  CHECK_STREQ(r.note, "no answer");
  chk_result_free(&r);
  chk_list_destroy(&l);

  /* field names do not count: "cross_tenant_impact" is a key here */
  CHECK_EQ(chk_compile(&l, set, "fabric_microburst", 3, &STRAGGLER), 0);
  score1(&r, l, 3, "{\"cross_tenant_impact\": \"none\", \"root_cause\": \"unknown\"}");
  CHECK_EQ(r.nmatched, 0);
  chk_result_free(&r);
  score1(&r, l, 3, "{\"cross_tenant_impact\": \"cross-tenant: training all-reduce jitter\"}");
  CHECK(strstr(matched_ids(&r, buf, sizeof buf), "cross_tenant_impact") != NULL);
  chk_result_free(&r);
  chk_list_destroy(&l);
}

/* Placeholders: the ground-truth name, a wrong one, and none at all. */
static void test_placeholders(const chk_set *set) {
  chk_list *l = NULL;
  chk_result r;
  const char *ans = "{\"root_cause\": \"straggler node-0123 in train-001\"}";
  CHECK_EQ(chk_compile(&l, set, "training_straggler", 3, &STRAGGLER), 0);
  score1(&r, l, 3, ans);
  CHECK_EQ(r.items[1].matched, 1); /* job_scope via {job} */
  CHECK_EQ(r.items[2].matched, 1); /* straggler_node via {node} */
  chk_result_free(&r);
  chk_list_destroy(&l);

  const chk_subst other = {"(node-0007|node-0008)", "(rack-00)", "(train-004)", "(training)"};
  CHECK_EQ(chk_compile(&l, set, "training_straggler", 3, &other), 0);
  score1(&r, l, 3, ans);
  CHECK_EQ(r.items[1].matched, 0);
  CHECK_EQ(r.items[2].matched, 0);
  chk_result_free(&r);
  score1(&r, l, 3, "{\"a\": \"NODE-0008 of TRAIN-004\"}"); /* case-insensitive */
  CHECK_EQ(r.items[1].matched, 1);
  CHECK_EQ(r.items[2].matched, 1);
  chk_result_free(&r);
  chk_list_destroy(&l);

  CHECK_EQ(chk_compile(&l, set, "training_straggler", 3, NULL), 0); /* no values */
  score1(&r, l, 3, ans);
  CHECK_EQ(r.nitems, 9);
  CHECK_EQ(r.items[2].matched, 0); /* {node} alone: never matches */
  chk_result_free(&r);
  chk_list_destroy(&l);
}

static void test_l2(const chk_set *set) {
  chk_list *l = NULL, *none = NULL;
  chk_result r;
  char buf[512];
  const chk_subst thermal = {"(node-0100)", "(rack-03)", NULL, "(dense-inference)"};
  CHECK_EQ(chk_compile(&l, set, "thermal_cascade", 2, &thermal), 0);
  CHECK_EQ(chk_compile(&none, set, "none", 2, NULL), 0);

  const char *full = "{\"classification\": \"REAL_ANOMALY\", \"scope\": \"rack\", \"tenant_type\":"
                     " \"dense-inference\", \"confidence\": 0.9, \"rationale\": \"inlet "
                     "temperature z=9 on rack-03\"}";
  score1(&r, l, 2, full);
  CHECK_EQ(r.nmatched, 4);
  CHECK_NEAR(r.score, 1.0, 0);
  chk_result_free(&r);
  score1(&r, none, 2, full);
  CHECK_EQ(r.nmatched, 0);
  chk_result_free(&r);

  /* partial: tenant wrong (training is not the event's tenant), metric missing;
   * the word "rack" in the rationale does not earn the scope item */
  score1(&r, l, 2,
         "{\"classification\": \"real_anomaly\", \"scope\": \"gpu\", \"tenant_type\":"
         " \"training\", \"confidence\": 0.4, \"rationale\": \"rack-wide power shift\"}");
  CHECK_STREQ(matched_ids(&r, buf, sizeof buf), "classification ");
  CHECK_NEAR(r.score, 0.25, 1e-12);
  chk_result_free(&r);
  score1(&r, l, 2,
         "{\"classification\": \"noise\", \"scope\": \"node\", \"tenant_type\": \"mixed\","
         " \"confidence\": 0.4, \"rationale\": \"blip\"}");
  CHECK_STREQ(matched_ids(&r, buf, sizeof buf), "scope tenant ");
  chk_result_free(&r);

  /* none: right when noise or transient */
  score1(&r, none, 2,
         "{\"classification\": \"transient\", \"scope\": \"node\", \"tenant_type\": \"unknown\","
         " \"confidence\": 0.7, \"rationale\": \"clears\"}");
  CHECK_EQ(r.nmatched, 1);
  CHECK_STREQ(r.items[0].item, "noise_or_transient");
  chk_result_free(&r);

  /* unparsable: score 0, every item false, the reason noted */
  const char *bad[] = {"It is probably noise.",
                       "{\"classification\": \"maybe\", \"scope\": \"node\", \"tenant_type\":"
                       " \"training\", \"confidence\": 0.5, \"rationale\": \"inlet\"}",
                       "{\"classification\": \"real_anomaly\", \"rationale\": \"inlet temp\"}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    score1(&r, l, 2, bad[i]);
    CHECK_EQ(r.nitems, 4);
    CHECK_EQ(r.nmatched, 0);
    for (int k = 0; k < 4; k++)
      CHECK_EQ(r.items[k].matched, 0);
    CHECK_NEAR(r.score, 0.0, 0);
    CHECK(strncmp(r.note, "unparsable L2 answer: ", 22) == 0);
    chk_result_free(&r);
  }
  /* a list compiled for another layer is refused */
  CHECK_EQ(chk_score(&r, (const chk_list *const *)&l, NULL, 1, 3, full), FS_EINVAL);
  chk_list_destroy(&l);
  chk_list_destroy(&none);
}

static void test_l4(const chk_set *set) {
  chk_list *shift = NULL, *s1 = NULL, *s6 = NULL;
  const chk_subst thermal = {"(node-0120|node-0121)", "(rack-03|rack-04)", NULL, NULL};
  CHECK_EQ(chk_compile(&shift, set, "shift", 4, NULL), 0);
  CHECK_EQ(chk_compile(&s1, set, "thermal_cascade", 4, &thermal), 0);
  CHECK_EQ(chk_compile(&s6, set, "training_straggler", 4, &STRAGGLER), 0);
  const chk_list *lists[] = {shift, s1, s6};
  const char *pre[] = {NULL, "S1", "S6"};
  const char *md = "## Active incidents\n- CRAH failure on rack-04: inlet +10 C\n"
                   "## Resolved incidents\n- none\n"
                   "## SLA status\n- moe-inference budget 97.5% remaining\n"
                   "## Training health\n- train-000 step time nominal\n"
                   "## Emerging risks\n- watch ECC single-bit trend on lot 7\n"
                   "## Next-shift recommendations\n- drain the hot nodes after checkpoint\n";
  chk_result r;
  char buf[512];
  CHECK_EQ(chk_score(&r, lists, pre, 3, 4, md), 0);
  CHECK_EQ(r.nitems, 8);
  CHECK_STREQ(matched_ids(&r, buf, sizeof buf),
              "sla_status training_health emerging_risks next_shift_recommendations "
              "S1/incident S1/place ");
  CHECK_STREQ(r.items[7].item, "S6/place");
  CHECK_NEAR(r.score, 6.0 / 8.0, 1e-12);
  chk_result_free(&r);
  /* headings alone earn nothing */
  CHECK_EQ(chk_score(&r, lists, pre, 1, 4,
                     "## Active incidents\n## Resolved incidents\n## SLA status\n"
                     "## Training health\n## Emerging risks\n## Next-shift recommendations\n"),
           0);
  CHECK_EQ(r.nmatched, 0);
  chk_result_free(&r);
  chk_list_destroy(&shift);
  chk_list_destroy(&s1);
  chk_list_destroy(&s6);
}

/* Parses a mutated copy of the built-in document; checks the code and that the
 * first message contains every string of want (NULL-terminated). */
static void expect_bad(const char *text, const char *const *want) {
  chk_set *s = NULL;
  diag_clear();
  int rc = chk_parse(&s, text, "bad.json");
  CHECK_EQ(rc, FS_EINVAL);
  CHECK(s == NULL);
  for (int i = 0; want[i]; i++)
    if (!strstr(diag_first(), want[i]))
      CHECK_FAIL("message '%s' lacks '%s'", diag_first(), want[i]);
  diag_clear();
}

/* The built-in document with one change: the first pattern (or, with key, the
 * member key) of item item of kind's layer list set to value. */
static char *mutate(json_t *orig, const char *kind, const char *layer, int item, const char *key,
                    json_t *value) {
  json_t *root = json_deep_copy(orig);
  json_t *it = json_array_get(
      json_object_get(json_object_get(json_object_get(root, "kinds"), kind), layer), (size_t)item);
  if (key)
    json_object_set_new(it, key, value);
  else
    json_array_set_new(json_object_get(it, "patterns"), 0, value);
  char *s = json_dumps(root, 0);
  json_decref(root);
  return s;
}

static void test_bad_files(const char *text) {
  json_error_t err;
  json_t *orig = json_loads(text, 0, &err);
  CHECK(orig != NULL);
  struct {
    const char *kind, *layer;
    int item;
    const char *key;
    json_t *value;
    const char *want[7];
  } cases[] = {
      {"thermal_cascade", "L3", 1, NULL, json_string("(rack"),
       {"bad.json", "kind 'thermal_cascade'", "L3", "item 'rack_scope'", "'(rack'", "regcomp"}},
      {"training_straggler", "L3", 2, NULL, json_string("{host}"),
       {"item 'straggler_node'", "unknown placeholder {host}", NULL}},
      {"hbm_degradation", "L2", 0, "field", json_string("severity"),
       {"kind 'hbm_degradation'", "L2", "item 'classification'", "\"field\"", NULL}},
      {"kv_cache_eviction_storm", "L3", 0, "field", json_string("rationale"),
       {"L3", "item 'ttft_doubling'", "L2 items only", NULL}},
      {"fabric_microburst", "L3", 0, NULL, json_string("x*"),
       {"item 'rdma_fabric'", "'x*'", "empty text", NULL}},
      {"fabric_microburst", "L3", 1, "id", json_string("rdma_fabric"),
       {"item 'rdma_fabric'", "duplicate id", NULL}},
      {"expert_routing_collapse", "L3", 0, "patterns", json_array(),
       {"item 'utilization_imbalance'", "patterns", NULL}},
      {"expert_routing_collapse", "L3", 0, "text", json_string(""),
       {"item 'utilization_imbalance'", "text", NULL}},
      {"thermal_cascade", "L3", 0, "color", json_string("red"),
       {"item 'temperature_anomaly'", "unknown key 'color'", NULL}},
      {"thermal_cascade", "L3", 0, "fields", json_null(),
       {"item 'temperature_anomaly'", "\"fields\"", NULL}},
      {"thermal_cascade", "L3", 0, "fields", json_pack("[s]", "rationale"),
       {"item 'temperature_anomaly'", "element 1", "root_cause", NULL}},
      {"thermal_cascade", "L2", 0, "fields", json_pack("[s]", "root_cause"),
       {"item 'classification'", "L3 items only", NULL}},
      {"thermal_cascade", "L2", 0, "check", json_string("lot"),
       {"item 'classification'", "'lot'", "L2", NULL}},
      {"thermal_cascade", "L4", 0, "check", json_string("volcano"),
       {"item 'incident'", "'volcano'", NULL}},
      {"thermal_cascade", "L3", 0, "gate", json_string("yes"),
       {"item 'temperature_anomaly'", "\"gate\"", NULL}},
      {"thermal_cascade", "L3", 7, "order", json_pack("{s:[s]}", "first", "checkpoint"),
       {"item 'checkpoint_before_drain'", "order.then", NULL}},
      {"thermal_cascade", "L4", 0, "order", json_object(),
       {"item 'incident'", "L3 items only", NULL}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *s = mutate(orig, cases[i].kind, cases[i].layer, cases[i].item, cases[i].key,
                     cases[i].value);
    expect_bad(s, cases[i].want);
    free(s);
  }
  /* the knowledge of a kind, one bad key at a time */
  static const struct {
    const char *key;
    const char *value; /* JSON */
    const char *want;
  } kcases[] = {
      {"family", "[\"(\"]", "family pattern 1 '('"},
      {"family", "[\".*\"]", "matches empty text"},
      {"family", "[]", "\"family\" must be a non-empty array"},
      {"compatible", "[\"meteor_strike\"]", "'meteor_strike' is not another scenario kind"},
      {"compatible", "[\"thermal_cascade\"]", "'thermal_cascade' is not another"},
      {"signature_metrics", "[\"gpu_temperature\"]", "'gpu_temperature' is not a metric"},
      {"entity", "\"planet\"", "\"entity\" must be rack"},
      {"l2_scopes", "[\"galaxy\"]", "'galaxy' is not gpu, node"},
      {"slow_burn", "1", "\"slow_burn\" must be true or false"},
      {"colour", "1", "unknown key 'colour'"},
      {"oracle", "1", "\"oracle\" must be an object"},
      {"oracle", "{\"phrase\": \"x\"}", "oracle.why must be a non-empty string"},
  };
  for (size_t i = 0; i < sizeof kcases / sizeof kcases[0]; i++) {
    json_t *r = json_deep_copy(orig);
    json_object_set_new(json_object_get(json_object_get(r, "kinds"), "thermal_cascade"),
                        kcases[i].key, json_loads(kcases[i].value, JSON_DECODE_ANY, NULL));
    char *t = json_dumps(r, 0);
    expect_bad(t, (const char *const[]){"bad.json", "kind 'thermal_cascade'", kcases[i].want,
                                        NULL});
    free(t);
    json_decref(r);
  }
  /* the oracle's wording: placeholders it can fill, place only where the entity is silent */
  static const struct {
    const char *key, *value, *want;
  } ocases[] = {
      {"root_cause", "\"Outage on {rack}\"", "oracle.root_cause: '{rack}' is not a placeholder"},
      {"causal_chain", "[\"{hot} {gpu}\"]", "oracle.causal_chain: '{gpu}' is not a placeholder"},
      {"place", "\"the rack\"", "oracle.place: the entity says where"},
      {"colour", "1", "oracle: unknown key 'colour'"},
  };
  for (size_t i = 0; i < sizeof ocases / sizeof ocases[0]; i++) {
    json_t *r = json_deep_copy(orig);
    json_t *o = json_object_get(json_object_get(json_object_get(r, "kinds"), "thermal_cascade"),
                                "oracle");
    json_object_set_new(o, ocases[i].key, json_loads(ocases[i].value, JSON_DECODE_ANY, NULL));
    char *t = json_dumps(r, 0);
    expect_bad(t, (const char *const[]){"bad.json", "kind 'thermal_cascade'", ocases[i].want,
                                        NULL});
    free(t);
    json_decref(r);
  }
  json_t *r2 = json_deep_copy(orig);
  json_object_del(json_object_get(json_object_get(r2, "kinds"), "thermal_cascade"), "entity");
  char *t2 = json_dumps(r2, 0);
  expect_bad(t2, (const char *const[]){"kind 'thermal_cascade'", "\"entity\" missing", NULL});
  free(t2);
  json_object_set_new(r2, "version", json_integer(1));
  t2 = json_dumps(r2, 0);
  expect_bad(t2, (const char *const[]){"\"version\" must be 2", NULL});
  free(t2);
  json_decref(r2);
  /* a missing kind, an unknown kind, a missing group */
  json_t *root = json_deep_copy(orig);
  json_object_del(json_object_get(root, "kinds"), "hbm_degradation");
  json_object_set_new(json_object_get(root, "kinds"), "meteor_strike", json_object());
  json_object_del(root, "shift");
  char *s = json_dumps(root, 0);
  chk_set *set = NULL;
  diag_clear();
  CHECK_EQ(chk_parse(&set, s, "bad.json"), FS_EINVAL);
  CHECK_EQ(diag_count(), 3);
  CHECK(strstr(diag_first(), "meteor_strike") != NULL);
  free(s);
  json_decref(root);
  diag_clear();
  /* not JSON, not an object, no file */
  expect_bad("{\"kinds\": ", (const char *const[]){"bad.json", "line 1", NULL});
  expect_bad("[]", (const char *const[]){"bad.json", "not a JSON object", NULL});
  CHECK_EQ(chk_load(&set, "/nonexistent/checklists.json"), FS_EIO);
  CHECK(strstr(diag_first(), "/nonexistent/checklists.json") != NULL);
  diag_clear();
  CHECK_EQ(chk_parse(NULL, "{}", "x"), FS_EINVAL);
  json_decref(orig);
}

/* chk_load reads the same document from a file. */
static void test_load_file(const char *text) {
  char path[] = "/tmp/unit_checklist.XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  FILE *fp = fdopen(fd, "w");
  CHECK(fp != NULL && fputs(text, fp) >= 0 && fclose(fp) == 0);
  chk_set *set = NULL;
  CHECK_EQ(chk_load(&set, path), 0);
  CHECK(chk_kind(set, 0) != NULL && chk_kind(set, 0)->oracle.phrase != NULL);
  chk_destroy(&set);
  CHECK_EQ(unlink(path), 0);
}

int main(void) {
  chk_set *set = NULL;
  const char *builtin = chk_default_text();
  if (!builtin || chk_parse(&set, builtin, "built-in checklists") != 0) {
    diag_print(stderr);
    CHECK_FAIL("cannot parse the built-in checklists");
  }
  test_default_file(set);
  test_family_words(set);
  test_oracle_families(set);
  test_l3(set);
  test_placeholders(set);
  test_l2(set);
  test_l4(set);
  test_bad_files(builtin);
  test_load_file(builtin);
  chk_destroy(&set);
  CHECK(set == NULL);
  chk_destroy(NULL);
  printf("unit_checklist: %ld checks passed\n", check_count);
  return 0;
}

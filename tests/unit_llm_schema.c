/* Unit tests of the answer schemas and validator (pipeline/llm/llm_schema.c): the
 * generated JSON schemas meet OpenAI strict mode's rules and match the field
 * table; L2/L3 answers full, partial, fenced, prose-wrapped, with braces in
 * prose and strings, wrong enums, wrong types, out-of-range confidence, not
 * JSON, hostile and oversized text; L4 markdown section check_count; the
 * optional `actions` of L3 answers and L4 reports, valid and each kind of
 * invalid entry. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/llm/llm_schema.h"
#include "src/model/actions.h"
#include "src/core/errors.h"
#include "tests/check.h"


static const char L2_OK[] =
    "{\"classification\": \"real_anomaly\", \"scope\": \"gpu\", \"tenant_type\": "
    "\"training\", \"confidence\": 0.82, \"rationale\": \"node-0123/gpu3 "
    "gpu_nvlink_replay_total z=18.2 while its 7 peers are flat\"}";

static const char L3_OK[] =
    "{\"root_cause\": \"NVLink degradation on node-0421/gpu5\", \"confidence\": 0.7, "
    "\"affected_scope\": \"train-001 (32 nodes)\", \"tenant_types\": [\"training\"], "
    "\"cross_tenant_impact\": \"none\", \"causal_chain\": [\"replays rise\", \"allreduce "
    "slows\", \"step time +18%\"], \"recommended_actions\": [\"drain node-0421\", \"run "
    "dcgmi diag -r 3\"], \"priority\": \"P2\"}";

static const char L4_OK[] =
    "# Shift handoff 04:00-08:00\n\n"
    "## Active incidents\n- rack-03/rack-04 inlet temperature rising (P1)\n\n"
    "## Resolved incidents\nNone.\n\n"
    "## SLA status\n| tenant | budget |\n|---|---|\n| moe-inference | 97% |\n\n"
    "## Training health\ntrain-001 step time nominal.\n\n"
    "## Emerging risks\nHBM SBE counts creeping on node-0077/gpu2.\n\n"
    "## Next-shift recommendations\n1. Keep an eye on CRAH row 1.\n";

/* Validation of text at layer must fail with exactly `want` as the reason. */
static void rejects(int layer, const char *text, const char *want) {
  char why[256] = "";
  int rc = llm_validate_answer(layer, text, why, sizeof why);
  if (rc != FS_EINVAL)
    CHECK_FAIL("L%d answer accepted (rc %d), expected '%s'", layer, rc, want);
  CHECK_STREQ(why, want);
  CHECK(llm_answer_parse(layer, text, NULL, 0) == NULL || layer == LLM_LAYER_L4);
}

/* As rejects, comparing only the start of the reason. */
static void rejects_prefix(int layer, const char *text, const char *prefix) {
  char why[256] = "";
  CHECK_EQ(llm_validate_answer(layer, text, why, sizeof why), FS_EINVAL);
  if (strncmp(why, prefix, strlen(prefix)) != 0)
    CHECK_FAIL("reason '%s' does not start with '%s'", why, prefix);
  check_count++;
}

static void accepts(int layer, const char *text) {
  char why[256] = "";
  int rc = llm_validate_answer(layer, text, why, sizeof why);
  if (rc != 0)
    CHECK_FAIL("L%d answer rejected: %s\n%s", layer, why, text);
  check_count++;
}

/* Every object in the schema lists all its properties as required and
 * forbids others (OpenAI strict mode); no range keywords. */
static void check_strict(json_t *node) {
  if (json_is_array(node)) {
    size_t i;
    json_t *v;
    json_array_foreach(node, i, v) check_strict(v);
    return;
  }
  if (!json_is_object(node))
    return;
  CHECK(json_object_get(node, "minimum") == NULL);
  CHECK(json_object_get(node, "maximum") == NULL);
  json_t *props = json_object_get(node, "properties");
  if (props) {
    json_t *req = json_object_get(node, "required");
    CHECK(json_is_false(json_object_get(node, "additionalProperties")));
    CHECK_EQ(json_array_size(req), json_object_size(props));
    size_t i;
    json_t *name;
    json_array_foreach(req, i, name) CHECK(json_object_get(props, json_string_value(name)) != NULL);
  }
  const char *k;
  json_t *v;
  json_object_foreach(node, k, v) check_strict(v);
}

static void test_schemas(void) {
  CHECK_STREQ(llm_schema_name(LLM_LAYER_L2), "fleetsim_l2_triage");
  CHECK_STREQ(llm_schema_name(LLM_LAYER_L3), "fleetsim_l3_root_cause");
  CHECK(llm_schema_name(LLM_LAYER_L4) == NULL);
  CHECK(llm_schema_json(LLM_LAYER_L4) == NULL);
  CHECK(llm_schema_json(1) == NULL);
  CHECK(llm_schema_text(LLM_LAYER_L4) == NULL);

  static const char *const l2[] = {"classification", "scope", "tenant_type", "confidence",
                                   "rationale"};
  static const char *const l3[] = {
      "root_cause",          "confidence",   "affected_scope",      "tenant_types",
      "cross_tenant_impact", "causal_chain", "recommended_actions", "priority",
      "actions"};
  for (int layer = LLM_LAYER_L2; layer <= LLM_LAYER_L3; layer++) {
    json_t *s = llm_schema_json(layer);
    CHECK(s != NULL);
    CHECK_STREQ(json_string_value(json_object_get(s, "type")), "object");
    check_strict(s);
    const char *const *names = layer == LLM_LAYER_L2 ? l2 : l3;
    size_t n = layer == LLM_LAYER_L2 ? 5 : 9;
    json_t *props = json_object_get(s, "properties");
    json_t *req = json_object_get(s, "required");
    CHECK_EQ(json_object_size(props), n);
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(props, k, v) { /* in the seed's order */
      CHECK_STREQ(k, names[i]);
      CHECK_STREQ(json_string_value(json_array_get(req, i)), names[i]);
      CHECK(json_is_string(json_object_get(v, "description")));
      i++;
    }
    char *text = llm_schema_text(layer);
    json_error_t err;
    json_t *back = json_loads(text, 0, &err);
    CHECK(back != NULL);
    CHECK(json_equal(back, s));
    CHECK(strchr(text, '\n') == NULL); /* compact */
    json_decref(back);
    free(text);
    json_decref(s);
  }

  json_t *s = llm_schema_json(LLM_LAYER_L2);
  json_t *p = json_object_get(s, "properties");
  json_t *e = json_object_get(json_object_get(p, "classification"), "enum");
  CHECK_EQ(json_array_size(e), 3);
  CHECK_STREQ(json_string_value(json_array_get(e, 0)), "real_anomaly");
  CHECK_STREQ(json_string_value(json_array_get(e, 1)), "noise");
  CHECK_STREQ(json_string_value(json_array_get(e, 2)), "transient");
  e = json_object_get(json_object_get(p, "scope"), "enum");
  CHECK_EQ(json_array_size(e), 5);
  CHECK_STREQ(json_string_value(json_array_get(e, 4)), "cluster");
  e = json_object_get(json_object_get(p, "tenant_type"), "enum");
  CHECK_EQ(json_array_size(e), 5);
  CHECK_STREQ(json_string_value(json_array_get(e, 0)), "moe-inference");
  CHECK_STREQ(json_string_value(json_array_get(e, 3)), "mixed");
  CHECK_STREQ(json_string_value(json_object_get(json_object_get(p, "confidence"), "type")), "number");
  CHECK_STREQ(json_string_value(json_object_get(json_object_get(p, "rationale"), "type")), "string");
  json_decref(s);

  s = llm_schema_json(LLM_LAYER_L3);
  p = json_object_get(s, "properties");
  e = json_object_get(json_object_get(p, "priority"), "enum");
  CHECK_EQ(json_array_size(e), 4);
  CHECK_STREQ(json_string_value(json_array_get(e, 0)), "P1");
  CHECK_STREQ(json_string_value(json_array_get(e, 3)), "P4");
  json_t *arr = json_object_get(p, "causal_chain");
  CHECK_STREQ(json_string_value(json_object_get(arr, "type")), "array");
  CHECK_STREQ(json_string_value(json_object_get(json_object_get(arr, "items"), "type")), "string");
  CHECK_STREQ(json_string_value(json_object_get(json_object_get(p, "tenant_types"), "type")), "array");
  CHECK_STREQ(json_string_value(json_object_get(json_object_get(p, "root_cause"), "type")), "string");
  json_decref(s);

  CHECK_STREQ(llm_l4_headings[0], "Active incidents");
  CHECK_STREQ(llm_l4_headings[2], "SLA status");
  CHECK_STREQ(llm_l4_headings[LLM_L4_NHEADINGS - 1], "Next-shift recommendations");
}

static void test_l2(void) {
  accepts(LLM_LAYER_L2, L2_OK);
  char why[256];
  json_t *o = llm_answer_parse(LLM_LAYER_L2, L2_OK, why, sizeof why);
  CHECK(o != NULL);
  CHECK_STREQ(json_string_value(json_object_get(o, "classification")), "real_anomaly");
  CHECK_NEAR(json_number_value(json_object_get(o, "confidence")), 0.82, 1e-12);
  json_decref(o);

  /* any case in, canonical spelling out; integer confidence; extra fields */
  o = llm_answer_parse(LLM_LAYER_L2,
                       "{\"classification\": \"Real_Anomaly\", \"scope\": \"GPU\", "
                       "\"tenant_type\": \"MoE-Inference\", \"confidence\": 1, \"rationale\": "
                       "\"x\", \"extra\": [1, 2]}",
                       why, sizeof why);
  CHECK(o != NULL);
  CHECK_STREQ(json_string_value(json_object_get(o, "classification")), "real_anomaly");
  CHECK_STREQ(json_string_value(json_object_get(o, "scope")), "gpu");
  CHECK_STREQ(json_string_value(json_object_get(o, "tenant_type")), "moe-inference");
  json_decref(o);
  accepts(LLM_LAYER_L2, "{\"classification\": \"noise\", \"scope\": \"cluster\", \"tenant_type\": "
                        "\"unknown\", \"confidence\": 0, \"rationale\": \"flat\"}");
  accepts(LLM_LAYER_L2, "{\"classification\": \"transient\", \"scope\": \"job\", \"tenant_type\": "
                        "\"mixed\", \"confidence\": 1.0, \"rationale\": \"blip\"}");

  /* fences, prose, braces in prose and inside strings */
  char buf[2048];
  snprintf(buf, sizeof buf, "```json\n%s\n```", L2_OK);
  accepts(LLM_LAYER_L2, buf);
  snprintf(buf, sizeof buf, "Here is my triage:\n\n%s\n\nLet me know if {more} is needed.", L2_OK);
  accepts(LLM_LAYER_L2, buf);
  snprintf(buf, sizeof buf, "Reading {the evidence} first: } stray. %s", L2_OK);
  accepts(LLM_LAYER_L2, buf);
  snprintf(buf, sizeof buf, "[%s]", L2_OK);
  accepts(LLM_LAYER_L2, buf);
  accepts(LLM_LAYER_L2, "{\"classification\": \"noise\", \"scope\": \"node\", \"tenant_type\": "
                        "\"training\", \"confidence\": 0.5, \"rationale\": \"a } and a { and "
                        "\\\"quoted {\\\" text\"}");
  size_t start = 0, len = 0;
  CHECK_EQ(llm_extract_json_object(buf, &start, &len), 0);
  CHECK_EQ(start, 1);
  CHECK_EQ(len, strlen(L2_OK));
  CHECK_EQ(llm_extract_json_object("x {\"a\": {\"b\": 1}} y {\"c\": 2}", &start, &len), 0);
  CHECK_EQ(start, 2);
  CHECK_EQ(len, 15);
  CHECK_EQ(llm_extract_json_object("{bad} {\"c\": \"}\"}", &start, &len), 0);
  CHECK_EQ(start, 6);
  CHECK_EQ(len, 10);
  CHECK_EQ(llm_extract_json_object("no object", &start, &len), FS_EINVAL);
  CHECK_EQ(llm_extract_json_object("{\"open\": 1", &start, &len), FS_EINVAL);
  CHECK_EQ(llm_extract_json_object(NULL, &start, &len), FS_EINVAL);

  /* partial and null fields */
  rejects(LLM_LAYER_L2,
          "{\"classification\": \"noise\", \"tenant_type\": \"training\", "
          "\"confidence\": 0.5, \"rationale\": \"r\"}",
          "missing field 'scope'");
  rejects(LLM_LAYER_L2,
          "{\"classification\": \"noise\", \"scope\": \"node\", \"tenant_type\": "
          "\"training\", \"confidence\": null, \"rationale\": \"r\"}",
          "missing field 'confidence'");
  rejects(LLM_LAYER_L2, "{}", "missing field 'classification'");

  /* wrong enums and types */
  rejects(LLM_LAYER_L2, "{\"classification\": \"maybe\", \"scope\": \"node\"}",
          "classification 'maybe' not in real_anomaly|noise|transient");
  rejects(LLM_LAYER_L2, "{\"classification\": \"noise\", \"scope\": \"datacenter\"}",
          "scope 'datacenter' not in gpu|node|rack|job|cluster");
  rejects(LLM_LAYER_L2,
          "{\"classification\": \"noise\", \"scope\": \"rack\", \"tenant_type\": "
          "\"inference\"}",
          "tenant_type 'inference' not in moe-inference|dense-inference|training|mixed|unknown");
  rejects(LLM_LAYER_L2, "{\"classification\": \"real anomaly\"}",
          "classification 'real anomaly' not in real_anomaly|noise|transient");
  rejects(LLM_LAYER_L2, "{\"classification\": 3}", "field 'classification' is not a string");
  rejects(LLM_LAYER_L2, "{\"classification\": [\"noise\"]}",
          "field 'classification' is not a string");
  rejects_prefix(LLM_LAYER_L2, "{\"classification\": \"noise\\u0000x\"}",
                 "not JSON: \\u0000 is not allowed"); /* no NUL hides in a value */
  rejects(LLM_LAYER_L2,
          "{\"classification\": \"noise\", \"scope\": \"node\", \"tenant_type\": "
          "\"training\", \"confidence\": \"0.9\", \"rationale\": \"r\"}",
          "field 'confidence' is not a number");
  rejects(LLM_LAYER_L2,
          "{\"classification\": \"noise\", \"scope\": \"node\", \"tenant_type\": "
          "\"training\", \"confidence\": 1.5, \"rationale\": \"r\"}",
          "confidence 1.5 not in [0, 1]");
  rejects(LLM_LAYER_L2,
          "{\"classification\": \"noise\", \"scope\": \"node\", \"tenant_type\": "
          "\"training\", \"confidence\": -0.1, \"rationale\": \"r\"}",
          "confidence -0.1 not in [0, 1]");
  rejects(LLM_LAYER_L2,
          "{\"classification\": \"noise\", \"scope\": \"node\", \"tenant_type\": "
          "\"training\", \"confidence\": 85, \"rationale\": \"r\"}",
          "confidence 85 not in [0, 1]");
  rejects(LLM_LAYER_L2,
          "{\"classification\": \"noise\", \"scope\": \"node\", \"tenant_type\": "
          "\"training\", \"confidence\": 0.5, \"rationale\": \" \\n \"}",
          "field 'rationale' is empty");
  rejects(LLM_LAYER_L2,
          "{\"classification\": \"noise\", \"scope\": \"node\", \"tenant_type\": "
          "\"training\", \"confidence\": 0.5, \"rationale\": {\"text\": \"r\"}}",
          "field 'rationale' is not a string");

  /* not JSON */
  rejects(LLM_LAYER_L2, "I think this is noise.", "not JSON: no JSON object in the answer");
  rejects(LLM_LAYER_L2, "{\"classification\": \"noise\", \"scope\": ",
          "not JSON: unbalanced braces (cut-off answer?)");
  rejects_prefix(LLM_LAYER_L2, "{classification: noise}", "not JSON: ");
  rejects_prefix(LLM_LAYER_L2, "{\"classification\": \"noise\", \"classification\": \"noise\"}",
                 "not JSON: duplicate object key");
  rejects(LLM_LAYER_L2, "", "answer is empty");
  rejects(LLM_LAYER_L2, " \n\t ", "answer is empty");
  rejects(LLM_LAYER_L2, NULL, "no answer");
  rejects(LLM_LAYER_L2, "{\"classification\": \"\xff\xfe\"}", "answer is not valid UTF-8");
}

static void test_l3(void) {
  accepts(LLM_LAYER_L3, L3_OK);
  char why[256];
  json_t *o = llm_answer_parse(LLM_LAYER_L3,
                               "```\n{\"root_cause\": \"r\", \"confidence\": 0.1, "
                               "\"affected_scope\": \"rack-03\", \"tenant_types\": [], "
                               "\"cross_tenant_impact\": \"none\", \"causal_chain\": [], "
                               "\"recommended_actions\": [], \"priority\": \"p1\"}\n```",
                               why, sizeof why);
  CHECK(o != NULL);
  CHECK_STREQ(json_string_value(json_object_get(o, "priority")), "P1");
  CHECK_EQ(json_array_size(json_object_get(o, "tenant_types")), 0);
  json_decref(o);
  rejects(LLM_LAYER_L3, L2_OK, "missing field 'root_cause'");
  rejects(LLM_LAYER_L3,
          "{\"root_cause\": \"r\", \"confidence\": 0.5, \"affected_scope\": \"x\", "
          "\"tenant_types\": [\"training\"], \"cross_tenant_impact\": \"none\", "
          "\"causal_chain\": [\"a\"], \"recommended_actions\": [\"b\"]}",
          "missing field 'priority'");
  rejects(LLM_LAYER_L3,
          "{\"root_cause\": \"r\", \"confidence\": 0.5, \"affected_scope\": \"x\", "
          "\"tenant_types\": [\"training\"], \"cross_tenant_impact\": \"none\", "
          "\"causal_chain\": [\"a\"], \"recommended_actions\": [\"b\"], \"priority\": "
          "\"urgent\"}",
          "priority 'urgent' not in P1|P2|P3|P4");
  rejects(LLM_LAYER_L3,
          "{\"root_cause\": \"r\", \"confidence\": 0.5, \"affected_scope\": \"x\", "
          "\"tenant_types\": \"training\"}",
          "field 'tenant_types' is not an array of strings");
  rejects(LLM_LAYER_L3,
          "{\"root_cause\": \"r\", \"confidence\": 0.5, \"affected_scope\": \"x\", "
          "\"tenant_types\": [\"training\"], \"cross_tenant_impact\": \"none\", "
          "\"causal_chain\": [\"a\", 2]}",
          "field 'causal_chain' is not an array of strings");
  rejects(LLM_LAYER_L3,
          "{\"root_cause\": \"r\", \"confidence\": 0.5, \"affected_scope\": \"x\", "
          "\"tenant_types\": [\"training\"], \"cross_tenant_impact\": \"none\", "
          "\"causal_chain\": [\"a\"], \"recommended_actions\": [null]}",
          "field 'recommended_actions' is not an array of strings");
  rejects(LLM_LAYER_L3, "{\"root_cause\": \"\"}", "field 'root_cause' is empty");
  rejects(LLM_LAYER_L3, "{\"root_cause\": \"r\", \"confidence\": true}",
          "field 'confidence' is not a number");
}

/* Hostile or oversized text: reasons quote it safely. */
static void test_untrusted(void) {
  rejects(LLM_LAYER_L2, "{\"classification\": \"%s%n%x%p\"}",
          "classification '%s%n%x%p' not in real_anomaly|noise|transient");
  rejects(LLM_LAYER_L2, "{\"classification\": \"a\\nb\\tc\\u001b[31m\"}",
          "classification 'a b c [31m' not in real_anomaly|noise|transient");
  rejects(LLM_LAYER_L2, "{\"classification\": \"0123456789012345678901234567890123456789TAIL\"}",
          "classification '0123456789012345678901234567890123456789...' not in "
          "real_anomaly|noise|transient");
  /* a cut never splits a UTF-8 sequence: 39 ASCII bytes, then a 2-byte 'é' */
  rejects(LLM_LAYER_L2,
          "{\"classification\": \"012345678901234567890123456789012345678\xc3\xa9x\"}",
          "classification '012345678901234567890123456789012345678...' not in "
          "real_anomaly|noise|transient");

  char *big = malloc(LLM_ANSWER_MAX_BYTES + 2);
  CHECK(big != NULL);
  size_t n = strlen(L2_OK);
  memset(big, ' ', LLM_ANSWER_MAX_BYTES);
  memcpy(big, L2_OK, n);
  big[LLM_ANSWER_MAX_BYTES] = '\0';
  accepts(LLM_LAYER_L2, big); /* exactly at the limit */
  big[LLM_ANSWER_MAX_BYTES] = ' ';
  big[LLM_ANSWER_MAX_BYTES + 1] = '\0';
  rejects(LLM_LAYER_L2, big, "answer longer than 65536 bytes");
  rejects(LLM_LAYER_L4, big, "answer longer than 65536 bytes");
  free(big);

  /* why may be NULL or tiny */
  CHECK_EQ(llm_validate_answer(LLM_LAYER_L2, "nope", NULL, 0), FS_EINVAL);
  char tiny[8] = "unset";
  CHECK_EQ(llm_validate_answer(LLM_LAYER_L2, "{}", tiny, sizeof tiny), FS_EINVAL);
  CHECK_STREQ(tiny, "missing");
  CHECK_EQ(llm_validate_answer(LLM_LAYER_L2, "{}", tiny, 0), FS_EINVAL);
  CHECK_STREQ(tiny, "missing");

  char why[64];
  CHECK_EQ(llm_validate_answer(5, L2_OK, why, sizeof why), FS_EINVAL);
  CHECK_STREQ(why, "layer 5 has no JSON answer");
  CHECK(llm_answer_parse(1, L2_OK, why, sizeof why) == NULL);
  CHECK_STREQ(why, "layer 1 has no JSON answer");
}

static void test_l4(void) {
  accepts(LLM_LAYER_L4, L4_OK);
  accepts(LLM_LAYER_L4, "**ACTIVE INCIDENTS:** none\n**Resolved Incidents (2)**\n"
                        "### 3. SLA Status\n#### Training-Health\nEmerging risks: none\n"
                        "## 6. Next Shift Recommendations\n- rest\n");
  accepts(LLM_LAYER_L4, "Active incidents, resolved incidents, SLA status, training health, "
                        "emerging risks and next-shift recommendations: all quiet. %s%n");
  rejects(LLM_LAYER_L4, "", "answer is empty");
  rejects(LLM_LAYER_L4, NULL, "no answer");
  rejects(LLM_LAYER_L4, "# Report\nAll fine.", "missing section 'Active incidents'");
  rejects(LLM_LAYER_L4,
          "Inactive incidents; Resolved incidents; SLA status; Training health; "
          "Emerging risks; Next-shift recommendations",
          "missing section 'Active incidents'");
  rejects(LLM_LAYER_L4,
          "Active incidents; Resolved incidents; SLA statuses; Training health; "
          "Emerging risks; Next-shift recommendations",
          "missing section 'SLA status'");
  rejects(LLM_LAYER_L4,
          "Active incidents; Resolved incidents; SLA status; Training health; "
          "Emerging risks; Next-shift",
          "missing section 'Next-shift recommendations'");
  char bad[sizeof L4_OK + 4];
  snprintf(bad, sizeof bad, "%s\xc3(", L4_OK);
  rejects(LLM_LAYER_L4, bad, "answer is not valid UTF-8");
  /* each heading on its own is required */
  for (int i = 0; i < LLM_L4_NHEADINGS; i++) {
    char text[512] = "", want[96];
    for (int j = 0; j < LLM_L4_NHEADINGS; j++)
      if (j != i) {
        strcat(text, "## ");
        strcat(text, llm_l4_headings[j]);
        strcat(text, "\nbody\n");
      }
    snprintf(want, sizeof want, "missing section '%s'", llm_l4_headings[i]);
    rejects(LLM_LAYER_L4, text, want);
  }
}

/* An L3 answer (L3_OK) with "actions": list. */
static void l3_with(char *buf, size_t cap, const char *list) {
  snprintf(buf, cap, "%.*s, \"actions\": %s}", (int)(sizeof L3_OK - 2), L3_OK, list);
}

static void l3_rejects(const char *list, const char *want) {
  char text[4096];
  l3_with(text, sizeof text, list);
  rejects(LLM_LAYER_L3, text, want);
}

static void test_actions(void) {
  /* the schema: an array of {action (enum of the vocabulary), target} */
  json_t *s = llm_schema_json(LLM_LAYER_L3);
  json_t *items = json_object_get(json_object_get(json_object_get(s, "properties"), "actions"),
                                  "items");
  json_t *names = json_object_get(json_object_get(json_object_get(items, "properties"), "action"),
                                  "enum");
  CHECK_EQ(json_array_size(names), ACT_COUNT);
  CHECK_STREQ(json_string_value(json_array_get(names, ACT_DRAIN_NODE)), "drain_node");
  CHECK_STREQ(json_string_value(json_array_get(names, ACT_RMA_GPU)), "rma_gpu");
  json_decref(s);

  /* absent (older transcripts), empty, and one of every target form */
  accepts(LLM_LAYER_L3, L3_OK);
  char text[4096];
  l3_with(text, sizeof text, "[]");
  accepts(LLM_LAYER_L3, text);
  l3_with(text, sizeof text, "null");
  accepts(LLM_LAYER_L3, text);
  l3_with(text, sizeof text,
          "[{\"action\": \"no_op\"}, {\"action\": \"no_op\", \"target\": \"\"}, "
          "{\"action\": \"DRAIN_NODE\", \"target\": \"node-0421\"}, "
          "{\"action\": \"cordon_node\", \"target\": \"node-0000\"}, "
          "{\"action\": \"checkpoint_job\", \"target\": \"train-001\"}, "
          "{\"action\": \"restart_job_without_node\", \"target\": \"node-0421\"}, "
          "{\"action\": \"rebalance_experts\", \"target\": \"moe-inference\"}, "
          "{\"action\": \"raise_kv_capacity\", \"target\": \"rack-03\"}, "
          "{\"action\": \"cap_context_length\", \"target\": \"node-0007\"}, "
          "{\"action\": \"power_cap_rack\", \"target\": \"rack-03\"}, "
          "{\"action\": \"raise_cooling\", \"target\": \"rack-24\"}, "
          "{\"action\": \"migrate_tenant\", \"target\": \"rack-10\", \"why\": \"x\"}, "
          "{\"action\": \"rma_gpu\", \"target\": \"node-0421/gpu5\"}, "
          "{\"action\": \"rma_gpu\", \"target\": \"node-0421\"}]");
  accepts(LLM_LAYER_L3, text);
  char why[256];
  json_t *o = llm_answer_parse(LLM_LAYER_L3, text, why, sizeof why);
  CHECK(o != NULL);
  json_t *a = json_object_get(o, "actions");
  CHECK_EQ(json_array_size(a), 14);
  CHECK_STREQ(json_string_value(json_object_get(json_array_get(a, 2), "action")), "drain_node");
  json_decref(o);
  json_t *list = llm_answer_action_list(LLM_LAYER_L3, text, why, sizeof why);
  CHECK_EQ(json_array_size(list), 14);
  json_decref(list);
  list = llm_answer_action_list(LLM_LAYER_L3, L3_OK, why, sizeof why);
  CHECK(json_is_array(list) && json_array_size(list) == 0);
  json_decref(list);
  list = llm_answer_action_list(LLM_LAYER_L2, L2_OK, why, sizeof why);
  CHECK(json_is_array(list) && json_array_size(list) == 0);
  json_decref(list);

  /* each kind of invalid entry, named by its index and field */
  l3_rejects("{\"action\": \"no_op\"}",
             "field 'actions' is not an array of {\"action\", \"target\"} objects");
  l3_rejects("[\"drain_node node-0001\"]",
             "actions[0] is not an object {\"action\", \"target\"}");
  l3_rejects("[{\"action\": \"no_op\"}, {\"target\": \"node-0001\"}]",
             "actions[1]: missing field 'action'");
  l3_rejects("[{\"action\": 3, \"target\": \"node-0001\"}]",
             "actions[0]: field 'action' is not a string");
  l3_rejects("[{\"action\": \"reboot\", \"target\": \"node-0001\"}]",
             "actions[0]: action 'reboot' is not an action of the list (no_op, drain_node, ..., "
             "rma_gpu)");
  l3_rejects("[{\"action\": \"drain_node\"}]",
             "actions[0]: missing field 'target' (drain_node takes node-NNNN)");
  l3_rejects("[{\"action\": \"drain_node\", \"target\": 421}]",
             "actions[0]: field 'target' is not a string");
  l3_rejects("[{\"action\": \"no_op\", \"target\": \"node-0001\"}]",
             "actions[0]: target 'node-0001' of no_op is not \"\" (no target)");
  l3_rejects("[{\"action\": \"drain_node\", \"target\": \"node-12\"}]",
             "actions[0]: target 'node-12' of drain_node is not node-NNNN");
  l3_rejects("[{\"action\": \"drain_node\", \"target\": \"node-0012/gpu1\"}]",
             "actions[0]: target 'node-0012/gpu1' of drain_node is not node-NNNN");
  l3_rejects("[{\"action\": \"rma_gpu\", \"target\": \"node-0012/gpu\"}]",
             "actions[0]: target 'node-0012/gpu' of rma_gpu is not node-NNNN/gpuK (or "
             "node-NNNN: the node's misbehaving GPU)");
  l3_rejects("[{\"action\": \"power_cap_rack\", \"target\": \"rack-3\"}]",
             "actions[0]: target 'rack-3' of power_cap_rack is not rack-NN");
  l3_rejects("[{\"action\": \"checkpoint_job\", \"target\": \"train 001\"}]",
             "actions[0]: target 'train 001' of checkpoint_job is not a training job id "
             "(train-NNN)");
  l3_rejects("[{\"action\": \"checkpoint_job\", \"target\": "
             "\"j123456789012345678901234567890123\"}]",
             "actions[0]: target 'j123456789012345678901234567890123' of checkpoint_job is not a "
             "training job id (train-NNN)");
  l3_rejects("[{\"action\": \"rebalance_experts\", \"target\": \"moe\"}]",
             "actions[0]: target 'moe' of rebalance_experts is not node-NNNN, rack-NN or a "
             "tenant (moe-inference, dense-inference)");
  /* at most LLM_ACTIONS_MAX entries */
  char many[2048] = "[";
  for (int i = 0; i <= LLM_ACTIONS_MAX; i++)
    strcat(many, i ? ", {\"action\": \"no_op\"}" : "{\"action\": \"no_op\"}");
  strcat(many, "]");
  l3_rejects(many, "field 'actions' has 17 entries (at most 16)");
  many[strlen(many) - strlen(", {\"action\": \"no_op\"}]")] = '\0';
  strcat(many, "]");
  l3_with(text, sizeof text, many);
  accepts(LLM_LAYER_L3, text);

  /* L4: the actions of the report's first JSON object (a closing block) */
  char report[4096];
  snprintf(report, sizeof report,
           "%s\n```json\n{\"actions\": [{\"action\": \"power_cap_rack\", \"target\": "
           "\"rack-03\"}]}\n```\n",
           L4_OK);
  accepts(LLM_LAYER_L4, report);
  list = llm_answer_action_list(LLM_LAYER_L4, report, why, sizeof why);
  CHECK_EQ(json_array_size(list), 1);
  CHECK_STREQ(json_string_value(json_object_get(json_array_get(list, 0), "target")), "rack-03");
  json_decref(list);
  list = llm_answer_action_list(LLM_LAYER_L4, L4_OK, why, sizeof why);
  CHECK(json_is_array(list) && json_array_size(list) == 0);
  json_decref(list);
  snprintf(report, sizeof report,
           "%s\n```json\n{\"actions\": [{\"action\": \"power_cap_rack\", \"target\": "
           "\"rack-3\"}]}\n```\n",
           L4_OK);
  rejects(LLM_LAYER_L4, report, "actions[0]: target 'rack-3' of power_cap_rack is not rack-NN");
  CHECK(llm_answer_action_list(LLM_LAYER_L4, report, why, sizeof why) == NULL);
  CHECK_STREQ(why, "actions[0]: target 'rack-3' of power_cap_rack is not rack-NN");
  CHECK(llm_answer_action_list(LLM_LAYER_L4, "# Report\nAll fine.", why, sizeof why) == NULL);
  CHECK_STREQ(why, "missing section 'Active incidents'");

  /* the prose the scorers judge: the report up to its ```json block */
  snprintf(report, sizeof report,
           "%s\n```json\n{\"actions\": [{\"action\": \"no_op\"}]}\n```\n", L4_OK);
  CHECK_EQ(llm_l4_prose_len(report), strlen(L4_OK) + 1);
  CHECK_EQ(llm_l4_prose_len(L4_OK), strlen(L4_OK));
  snprintf(report, sizeof report, "%s {\"note\": 1}", L4_OK);
  CHECK_EQ(llm_l4_prose_len(report), strlen(report));
  snprintf(report, sizeof report, "%s{\"actions\": []}", L4_OK);
  CHECK_EQ(llm_l4_prose_len(report), strlen(L4_OK));

  /* the form check alone */
  CHECK(llm_action_target_ok(ACT_NO_OP, ""));
  CHECK(!llm_action_target_ok(ACT_NO_OP, "x"));
  CHECK(llm_action_target_ok(ACT_RMA_GPU, "node-123456789/gpu7"));
  CHECK(!llm_action_target_ok(ACT_RMA_GPU, "node-1234567890"));
  CHECK(!llm_action_target_ok(ACT_DRAIN_NODE, NULL));
  CHECK(!llm_action_target_ok(ACT_COUNT, "node-0001"));
  CHECK(llm_action_target_ok(ACT_RAISE_KV_CAPACITY, "training"));
}

int main(void) {
  test_schemas();
  test_actions();
  test_l2();
  test_l3();
  test_untrusted();
  test_l4();
  printf("unit_llm_schema: %ld checks passed\n", check_count);
  return 0;
}

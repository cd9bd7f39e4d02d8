/* The rules backend, a rule-based reference tuned to the known fault kinds.
 * On real contexts (tests/data/rules_contexts.jsonl: L2, L3 and L4 contexts
 * of the default run and three `fleetsim scenarios --random` runs, one or
 * two per fault kind, labelled with the kind they are about for this test
 * only): every answer passes its layer's schema, names the fault family the
 * context shows, and every number and entity it states (in its text: the
 * strings of an L2/L3 answer, an L4 report whole; not the confidence, its
 * own estimate) appears in the context it was given (a number rounded as
 * printed, or a ratio printed as a percentage; names and HH:MM times as
 * written). L4 contexts get the engine's
 * additions (l2_counts, l3_analyses from the backend's own L3 answers).
 * Sparse or hostile contexts still give a valid answer instead of a crash. */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/llm/backend_rules.h"
#include "pipeline/llm/llm_schema.h"
#include "src/core/errors.h"
#include "tests/check.h"

/* Answers `context` at `layer`, checks the schema, returns the text. */
static char *answer(llm_layer layer, const char *context) {
  char *text = NULL;
  CHECK_EQ(rules_answer(layer, context, &text), 0);
  CHECK(text != NULL);
  char why[256] = "";
  if (llm_validate_answer(layer, text, why, sizeof why) != 0)
    CHECK_FAIL("answer does not validate (%s): %s", why, text);
  return text;
}

/* ---- provenance --------------------------------------------------------- */

typedef struct {
  double *num;
  int nnum, cap;
  json_t *strings; /* every string value and key */
} ctx_facts;

static void facts_add(ctx_facts *f, const json_t *v, const char *key) {
  if (key)
    json_array_append_new(f->strings, json_string(key));
  size_t i;
  const char *k;
  json_t *x;
  switch (json_typeof(v)) {
  case JSON_OBJECT:
    json_object_foreach((json_t *)v, k, x) facts_add(f, x, k);
    break;
  case JSON_ARRAY:
    json_array_foreach(v, i, x) facts_add(f, x, NULL);
    break;
  case JSON_STRING:
    json_array_append_new(f->strings, json_string(json_string_value(v)));
    break;
  case JSON_INTEGER:
  case JSON_REAL:
    if (f->nnum == f->cap) {
      f->cap = f->cap ? 2 * f->cap : 256;
      CHECK((f->num = realloc(f->num, sizeof(double) * (size_t)f->cap)) != NULL);
    }
    f->num[f->nnum++] = json_number_value(v);
    break;
  default:
    break;
  }
}

/* 1 when s occurs in one of the context's strings. */
static int facts_has_text(const ctx_facts *f, const char *s, size_t n) {
  char *want = strndup(s, n);
  int found = 0;
  CHECK(want != NULL);
  for (size_t i = 0; !found && i < json_array_size(f->strings); i++)
    found = strstr(json_string_value(json_array_get(f->strings, i)), want) != NULL;
  free(want);
  return found;
}

/* 1 when x, printed with tolerance tol, is a context number, or one of its
 * ratios printed as a percentage. */
static int facts_has_number(const ctx_facts *f, double x, double tol) {
  for (int i = 0; i < f->nnum; i++) {
    double y = f->num[i], eps = 1e-9 * fmax(1.0, fabs(y));
    if (fabs(x - y) <= tol + eps || fabs(x - 100.0 * y) <= tol + 100 * eps)
      return 1;
  }
  return 0;
}

/* The number of numbers and entities of text that are not in the context
 * (what names the answer in the message printed for each). */
static int unsourced(const char *text, const json_t *ctx, const char *what) {
  int bad = 0;
  ctx_facts f = {NULL, 0, 0, json_array()};
  facts_add(&f, ctx, NULL);
  size_t len = strlen(text);
  for (size_t i = 0; i < len; i++) {
    char p = i > 0 ? text[i - 1] : ' ';
    /* entities: node-NNNN[/gpuK], rack-NN, train-NNN */
    if (isalpha((unsigned char)text[i]) && !isalnum((unsigned char)p)) {
      static const char *const pre[] = {"node-", "rack-", "train-"};
      for (size_t k = 0; k < 3; k++) {
        size_t n = strlen(pre[k]);
        if (strncmp(text + i, pre[k], n) != 0 || !isdigit((unsigned char)text[i + n]))
          continue;
        size_t e = i + n;
        while (isdigit((unsigned char)text[e]))
          e++;
        if (k == 0 && strncmp(text + e, "/gpu", 4) == 0 && isdigit((unsigned char)text[e + 4]))
          e += 5;
        if (!facts_has_text(&f, text + i, e - i)) {
          printf("%s: entity '%.*s' is not in the context: %s\n", what, (int)(e - i), text + i, text);
          bad++;
        }
        i = e - 1;
        break;
      }
      continue;
    }
    if (!isdigit((unsigned char)text[i]) || isalnum((unsigned char)p) || p == '_' || p == '.' ||
        p == '/' || (p == '-' && i > 1 && isalpha((unsigned char)text[i - 2])))
      continue;
    size_t e = i;
    while (isdigit((unsigned char)text[e]))
      e++;
    if (text[e] == ':' && isdigit((unsigned char)text[e + 1])) { /* an HH:MM time */
      size_t t = e + 1;
      while (isdigit((unsigned char)text[t]))
        t++;
      if (!facts_has_text(&f, text + i, t - i)) {
        printf("%s: time '%.*s' is not in the context: %s\n", what, (int)(t - i), text + i, text);
        bad++;
      }
      i = t - 1;
      continue;
    }
    int decimals = 0;
    if (text[e] == '.' && isdigit((unsigned char)text[e + 1]))
      for (e++; isdigit((unsigned char)text[e]); e++)
        decimals++;
    int exponent = 0;
    if ((text[e] == 'e' || text[e] == 'E') &&
        (isdigit((unsigned char)text[e + 1]) ||
         ((text[e + 1] == '+' || text[e + 1] == '-') && isdigit((unsigned char)text[e + 2])))) {
      char *end;
      exponent = (int)strtol(text + e + 1, &end, 10);
      e = (size_t)(end - text);
    }
    double x = strtod(text + i, NULL);
    if (p == '-' && (i < 2 || !isalnum((unsigned char)text[i - 2])))
      x = -x; /* a signed number, like z=-4.9 */
    double tol = 0.5 * pow(10.0, exponent - decimals);
    if (!facts_has_number(&f, x, tol)) {
      printf("%s: number '%.*s' is not in the context: %s\n", what, (int)(e - i), text + i, text);
      bad++;
    }
    i = e - 1;
  }
  free(f.num);
  json_decref(f.strings);
  return bad;
}

static void check_provenance(const char *text, const json_t *ctx, const char *what) {
  CHECK_EQ(unsourced(text, ctx, what), 0);
}

/* ---- the fixture -------------------------------------------------------- */

enum { MAXCTX = 64 };
static json_t *fixture[MAXCTX];
static int nfixture;

static void load_fixture(void) {
  /* the source tree (ctest sets SOURCE_DIR) */
  const char *src = getenv("SOURCE_DIR");
  if (!src)
    CHECK_FAIL("SOURCE_DIR is not set (run through ctest)");
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/data/rules_contexts.jsonl", src);
  FILE *fp = fopen(path, "r");
  if (!fp)
    CHECK_FAIL("cannot open %s", path);
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, fp) > 0 && nfixture < MAXCTX) {
    json_error_t err;
    json_t *o = json_loads(line, 0, &err);
    if (!o)
      CHECK_FAIL("%s: %s", path, err.text);
    fixture[nfixture++] = o;
  }
  free(line);
  fclose(fp);
  CHECK_GE(nfixture, 20);
}

static const char *about(int i) { return json_string_value(json_object_get(fixture[i], "about")); }
static llm_layer layer_of(int i) {
  const char *l = json_string_value(json_object_get(fixture[i], "layer"));
  return l[1] == '2' ? LLM_L2 : l[1] == '3' ? LLM_L3 : LLM_L4;
}

/* The label the rules backend gives each kind's root cause. */
static const char *label_of(const char *kind) {
  static const char *const map[][2] = {
      {"thermal_cascade", "Cooling failure"},
      {"expert_routing_collapse", "MoE expert routing collapse"},
      {"hbm_degradation", "HBM degradation"},
      {"fabric_microburst", "InfiniBand fabric microbursts"},
      {"kv_cache_eviction_storm", "KV cache eviction storm"},
      {"training_straggler", "Training straggler"}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(kind, map[i][0]) == 0)
      return map[i][1];
  return "No known failure signature";
}

/* The check itself: seed prose and invented names are caught. */
static void test_checker(void) {
  json_t *ctx = json_pack("{s:{s:s,s:f,s:s},s:[f,i]}", "event", "node", "node-0042", "z", -4.854,
                          "time", "06:05", "series", 0.7933, 3010);
  CHECK_EQ(unsourced("z=-4.9 on node-0042 at 06:05; 79.33% left; 3010 ms", ctx, "ok"), 0);
  printf("unit_backend_rules: the next 7 lines list planted unsourced facts (expected)\n");
  CHECK_EQ(unsourced("NVLink replays 80-200 per interval vs a 72-78 C baseline", ctx, "prose"), 4);
  CHECK_EQ(unsourced("drain node-0043 at 06:10, z=4.9", ctx, "invented"), 3);
  json_decref(ctx);
}

/* The L3 answer's actions: valid, every target an entity the context
 * names, and the remedy of the kind's family first (no_op when unknown). */
static void check_actions(const char *text, const char *ctx_text, const char *what,
                          const char *kind) {
  static const char *const remedy[][2] = {
      {"thermal_cascade", "raise_cooling"},    {"expert_routing_collapse", "rebalance_experts"},
      {"hbm_degradation", "cordon_node"},      {"fabric_microburst", "migrate_tenant"},
      {"kv_cache_eviction_storm", "raise_kv_capacity"},
      {"training_straggler", "checkpoint_job"}};
  char why[256] = "";
  json_t *list = llm_answer_action_list(LLM_LAYER_L3, text, why, sizeof why);
  if (!list)
    CHECK_FAIL("%s: actions do not validate: %s", what, why);
  if (json_array_size(list) == 0)
    CHECK_FAIL("%s: no actions", what);
  for (size_t k = 0; k < json_array_size(list); k++) {
    const char *t = json_string_value(json_object_get(json_array_get(list, k), "target"));
    char quoted[96];
    snprintf(quoted, sizeof quoted, "\"%s\"", t);
    if (t[0] && !strstr(ctx_text, quoted))
      CHECK_FAIL("%s: action target '%s' is not an entity of the context", what, t);
  }
  const char *first = json_string_value(json_object_get(json_array_get(list, 0), "action"));
  for (size_t k = 0; k < sizeof remedy / sizeof remedy[0]; k++)
    if (strcmp(kind, remedy[k][0]) == 0 && strcmp(first, remedy[k][1]) != 0)
      CHECK_FAIL("%s: first action %s, expected %s", what, first, remedy[k][1]);
  if (strcmp(kind, "none") == 0 && strcmp(first, "no_op") != 0)
    CHECK_FAIL("%s: first action %s on no fault, expected no_op", what, first);
  check_count++;
  json_decref(list);
}

static void test_real_contexts(void) {
  json_t *l3_lines = json_array(); /* "HH:MM node-NNNN: root cause" as the engine writes them */
  json_t *l3_times = json_array();
  int kinds_seen = 0;
  for (int i = 0; i < nfixture; i++) {
    llm_layer layer = layer_of(i);
    if (layer == LLM_L4)
      continue;
    const json_t *ctx = json_object_get(fixture[i], "context");
    char *ctx_text = json_dumps(ctx, 0);
    char *text = answer(layer, ctx_text);
    char what[96];
    snprintf(what, sizeof what, "%s %s (%s)",
             json_string_value(json_object_get(fixture[i], "call_id")),
             json_string_value(json_object_get(fixture[i], "source")), about(i));
    json_t *o = json_loads(text, 0, NULL);
    /* the quoted facts: every string of the answer (confidence is its own estimate) */
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
      size_t k;
      json_t *x;
      if (json_is_string(v))
        check_provenance(json_string_value(v), ctx, what);
      json_array_foreach(v, k, x) if (json_is_string(x)) check_provenance(json_string_value(x), ctx, what);
    }
    if (layer == LLM_L3) {
      const char *root = json_string_value(json_object_get(o, "root_cause"));
      if (strncmp(root, label_of(about(i)), strlen(label_of(about(i)))) != 0)
        CHECK_FAIL("%s: root cause does not name %s: %s", what, label_of(about(i)), root);
      kinds_seen++;
      check_actions(text, ctx_text, what, about(i));
      const json_t *ev = json_object_get(ctx, "event");
      char line[400];
      snprintf(line, sizeof line, "%s %s: %.200s", json_string_value(json_object_get(ev, "time")),
               json_string_value(json_object_get(ev, "node")), root);
      json_array_append_new(l3_lines, json_string(line));
      json_array_append_new(l3_times, json_real(json_number_value(json_object_get(fixture[i], "t_s"))));
    } else if (strcmp(about(i), "none") == 0) {
      CHECK(strcmp(json_string_value(json_object_get(o, "classification")), "real_anomaly") != 0);
    } else {
      if (strcmp(json_string_value(json_object_get(o, "classification")), "real_anomaly") != 0)
        CHECK_FAIL("%s: not called real: %s", what, text);
      check_count++;
    }
    json_decref(o);
    free(text);
    free(ctx_text);
  }
  CHECK_GE(kinds_seen, 8);
  /* L4: the engine adds the backend's own one-liners of the window */
  for (int i = 0; i < nfixture; i++) {
    if (layer_of(i) != LLM_L4)
      continue;
    json_t *ctx = json_deep_copy(json_object_get(fixture[i], "context"));
    double t1 = json_number_value(json_object_get(fixture[i], "t_s"));
    double hours = json_number_value(json_object_get(json_object_get(ctx, "window"), "hours"));
    json_t *mine = json_array();
    for (size_t k = 0; k < json_array_size(l3_lines); k++) {
      double t = json_number_value(json_array_get(l3_times, k));
      if (t > t1 - hours * 3600 && t <= t1)
        json_array_append(mine, json_array_get(l3_lines, k));
    }
    json_object_set_new(ctx, "l3_analyses", mine);
    json_object_set_new(ctx, "l2_counts", json_pack("{s:i,s:i,s:i,s:i}", "real_anomaly", 7,
                                                    "noise", 3, "transient", 1, "errors", 0));
    char *ctx_text = json_dumps(ctx, 0);
    char *md = answer(LLM_L4, ctx_text);
    check_provenance(md, ctx, json_string_value(json_object_get(fixture[i], "call_id")));
    CHECK(strstr(md, "## Training health") != NULL);
    free(md);
    free(ctx_text);
    json_decref(ctx);
  }
  json_decref(l3_lines);
  json_decref(l3_times);
}

/* ---- hand-written contexts ---------------------------------------------------- */

static void test_triage(void) {
  char *t = answer(LLM_L2,
                   "{\"event\":{\"scope\":\"node\",\"node\":\"node-0123\",\"rack\":\"rack-03\","
                   "\"tenant\":\"training\",\"nodes_affected\":1,\"trigger\":{\"metric\":"
                   "\"ttft_ms\",\"z\":4.6,\"value\":1,\"baseline\":0,\"units\":\"ms\"},"
                   "\"cooccurring\":[]}}");
  json_t *o = json_loads(t, 0, NULL);
  CHECK_STREQ(json_string_value(json_object_get(o, "classification")), "noise");
  CHECK(strstr(json_string_value(json_object_get(o, "rationale")), "isolated") != NULL);
  json_decref(o);
  free(t);
  t = answer(LLM_L2,
             "{\"event\":{\"scope\":\"node\",\"node\":\"node-0123\",\"rack\":\"rack-03\","
             "\"tenant\":\"dense-inference\",\"nodes_affected\":1,\"trigger\":{\"metric\":"
             "\"inlet_temp_celsius\",\"z\":12,\"value\":33,\"baseline\":22,\"units\":\"C\"},"
             "\"cooccurring\":[]}}");
  o = json_loads(t, 0, NULL);
  CHECK_STREQ(json_string_value(json_object_get(o, "classification")), "real_anomaly");
  CHECK_STREQ(json_string_value(json_object_get(o, "scope")), "rack");
  CHECK_STREQ(json_string_value(json_object_get(o, "tenant_type")), "mixed");
  json_decref(o);
  free(t);
}

static void test_hostile_contexts(void) {
  static const char *const junk[] = {"{}", "{\"event\":7}", "{\"event\":{\"trigger\":[]}}",
                                     "{\"event\":{\"scope\":\"%s%n\",\"node\":\"%n\"}}",
                                     "{\"event\":{\"scope\":\"job\"},\"tenant_context\":{\"job\":"
                                     "{\"id\":\"train-001\",\"most_nvlink_replays\":7}}}"};
  for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
    for (int layer = LLM_L2; layer <= LLM_L4; layer++)
      free(answer((llm_layer)layer, junk[i]));
  char *a = NULL;
  CHECK_EQ(rules_answer(LLM_L2, "not json", &a), FS_EINVAL);
  CHECK(a == NULL);
  CHECK_EQ(rules_answer(LLM_L3, "[1,2]", &a), FS_EINVAL);
}

int main(void) {
  load_fixture();
  test_checker();
  test_real_contexts();
  test_triage();
  test_hostile_contexts();
  for (int i = 0; i < nfixture; i++)
    json_decref(fixture[i]);
  printf("unit_backend_rules: %ld checks passed\n", check_count);
  return 0;
}

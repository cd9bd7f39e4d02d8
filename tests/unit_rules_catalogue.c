/* Unit tests of the rules backend's catalogue (pipeline/llm/rules_catalogue.c)
 * and its expression language (rules_expr.c): the built-in catalogue
 * compiles, holds one family per fault kind that has reasoning (a kind may
 * leave it out; a catalogue of no family compiles) with distinct labels and maps
 * metrics to families; expressions compute what they say (absent values,
 * comparisons that fail on them, text joins, series, tables, top/rest,
 * unique, join) and templates print at their precision; a broken catalogue
 * (unknown function or name, a fact that depends on itself, a bad template,
 * a bad priority, an unknown key) is refused naming the family and the key. */
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "pipeline/llm/rules_catalogue.h"
#include "scenarios/scenario.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "tests/check.h"

const char *chk_kinds_text(void); /* every kind's JSON, embedded by CMake */

/* How many kinds' JSON files have a "reasoning" object. */
static int kinds_with_reasoning(void) {
  json_t *all = json_loads(chk_kinds_text(), 0, NULL);
  int n = 0;
  for (size_t i = 0; i < json_array_size(all); i++)
    n += json_object_get(json_array_get(all, i), "reasoning") != NULL;
  CHECK_EQ((int)json_array_size(all), SK_COUNT);
  json_decref(all);
  return n;
}

static void test_builtin(void) {
  const rc_catalogue *c = rules_catalogue();
  if (!c) {
    diag_print(stderr);
    CHECK_FAIL("the built-in catalogue does not compile");
  }
  CHECK_EQ(c->n, kinds_with_reasoning());
  CHECK(c->n >= 6 && c->n <= SK_COUNT); /* the six built-in kinds keep theirs */
  /* a catalogue of no family compiles: every answer is then the generic one */
  rc_catalogue *none = NULL;
  CHECK_EQ(rc_parse(&none, "[]", "test"), 0);
  CHECK(none != NULL && none->n == 0);
  json_t *ctx0 = json_object();
  CHECK_EQ(rc_recognise(none, ctx0), -1);
  json_decref(ctx0);
  rc_destroy(&none);
  for (int i = 0; i < c->n; i++)
    for (int j = 0; j < i; j++)
      CHECK(strcmp(c->f[i].label, c->f[j].label) != 0);
  /* metric names speak for the family whose parts they contain */
  int thermal = rc_family_of_metric(c, "inlet_temp_celsius");
  int hbm = rc_family_of_metric(c, "gpu_ecc_sbe_total");
  CHECK(thermal >= 0 && hbm >= 0 && thermal != hbm);
  CHECK_STREQ(c->f[thermal].label, "Cooling failure");
  CHECK_STREQ(c->f[hbm].label, "HBM degradation");
  CHECK(c->f[hbm].l4_risk != NULL);
  CHECK_EQ(rc_family_of_metric(c, "gpu_temp_celsius"), -1);
  CHECK_EQ(rc_family_of_metric(c, NULL), -1);
  /* an empty context shows no family */
  json_t *empty = json_object();
  CHECK_EQ(rc_recognise(c, empty), -1);
  json_decref(empty);
}

/* Names for the expression tests: a = 2.5, s = "node-0007/gpu3". */
static int names(void *arg, const char *name, size_t len) {
  (void)arg;
  return len == 1 && name[0] == 'a' ? 0 : len == 1 && name[0] == 's' ? 1 : -1;
}

static json_t *name_values;
static const json_t *name_value(rx_env *env, int i) {
  (void)env;
  return json_array_get(name_values, (size_t)i);
}

static const char *const test_ctx =
    "{\"event\": {\"node\": \"node-0007\", \"trigger\": {\"z\": -4.25}},"
    " \"gpus\": [{\"gpu\": \"g0\", \"u\": 20}, {\"gpu\": \"g1\", \"u\": 95}, {\"gpu\": \"g2\","
    " \"u\": 90}, {\"gpu\": \"g3\", \"u\": 25}, {\"gpu\": \"g4\"}],"
    " \"timeline\": {\"minutes_from_event\": [-10, -5, 0, 5], \"series\": {\"m\": {\"node\":"
    " [3, null, 1, 4], \"peer_median\": [2, 2, 2, 2]}}},"
    " \"table\": {\"columns\": [\"node\", \"tenant\", \"t\"], \"rows\": [[\"n1\", \"training\","
    " 70.5], [\"n2\", \"moe-inference\", 60], [\"n3\", \"training\", 75]]}}";

/* The value of expression text over the test context, as compact JSON
 * ("absent" when absent). */
static char *eval(const char *text) {
  rx_node *x = NULL;
  char err[256];
  if (rx_compile(&x, text, names, NULL, err, sizeof err) != 0)
    CHECK_FAIL("%s: %s", text, err);
  json_t *ctx = json_loads(test_ctx, 0, NULL);
  CHECK(ctx != NULL);
  rx_env env = {.ctx = ctx, .arena = json_array(), .name = name_value, .family_z = 4.25};
  const json_t *v = rx_eval(x, &env);
  char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : strdup("absent");
  json_decref(env.arena);
  json_decref(ctx);
  rx_free(&x);
  return s;
}

static void expect(const char *text, const char *want) {
  char *got = eval(text);
  if (strcmp(got, want) != 0)
    CHECK_FAIL("%s = %s, expected %s", text, got, want);
  check_count++;
  free(got);
}

static void test_expressions(void) {
  expect("1 + 2 * 3", "7.0");
  expect("(1 + 2) * 3 - a", "6.5");
  expect("-a", "-2.5");
  expect("7", "7");
  expect("a > 2 && a < 3", "true");
  expect("@nothing > 1 || @nothing <= 1", "false"); /* absent compares false */
  expect("!exists(@nothing) && !finite(@nothing)", "true");
  expect("@event.trigger.z", "-4.25");
  expect("abs(@event.trigger.z) > 4", "true");
  expect("family_z()", "4.25");
  expect("'x' + 1", "\"x\"");
  expect("s + '/' + after(s, '/')", "\"node-0007/gpu3/gpu3\"");
  expect("after('abc', '/')", "\"\"");
  expect("@event.node == 'node-0007' && @event.tenant == ''", "true");
  expect("a == 2.5 && 2 != '2'", "true");
  expect("1 / 0", "absent");
  expect("a > 2 ? 'big' : 'small'", "\"big\"");
  /* series: numbers only, with their minutes */
  expect("series('m')", "{\"v\":[3,1,4],\"minute\":[-10,0,5]}");
  expect("series('m').v[argmin(series('m').v)]", "1");
  expect("argmax(series('m').v)", "2");
  expect("now_index(series('m'))", "1");
  expect("peer_series('m').v[3]", "2");
  expect("len(series('none').v)", "0");
  expect("argmin(series('none').v)", "-1");
  expect("series('none').v[-1]", "absent");
  /* tables and arrays of objects */
  expect("field(rows(@table), 'node')", "[\"n1\",\"n2\",\"n3\"]");
  expect("max(field(where(rows(@table), 'tenant', 'training'), 't'))", "75.0");
  expect("min(field(where_not(rows(@table), 'tenant', 'training'), 't'))", "60.0");
  expect("max(field(where(rows(@table), 'tenant', 'nobody'), 't'))", "absent");
  expect("last(field(where(rows(@table), 'node', 'n2'), 'tenant'))", "\"moe-inference\"");
  expect("unique(field(rows(@table), 'tenant'), 'training', '', 'x')",
         "[\"training\",\"moe-inference\",\"x\"]");
  expect("top(@gpus, 'u', 0).gpu + top(@gpus, 'u', 1).gpu", "\"g1g2\"");
  expect("top(@gpus, 'u', 4)", "absent");
  expect("field(rest(@gpus, 'u', 2), 'gpu')", "[\"g0\",\"g3\"]");
  expect("join(@gpus, '{gpu}={u:d}', ', ')", "\"g0=20, g1=95, g2=90, g3=25, g4=0\"");
  expect("last(numbers(series('m').v))", "4");
}

static void test_templates(void) {
  static const struct {
    const char *tpl, *want;
  } cases[] = {
      {"{a:.1f} and {a:.0f} / {a:.4g}", "2.5 and 2 / 2.5"},
      {"{s} on {@event.node}", "node-0007/gpu3 on node-0007"},
      {"{@nothing:.1f}|{@nothing}|{@nothing:d}", "nan||0"},
      {"{len(@gpus):d} GPUs", "5 GPUs"},
      {"100% {a:.2f} {a}", "100% 2.50 "}, /* a number is not text */
  };
  json_t *ctx = json_loads(test_ctx, 0, NULL);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    rx_tpl *t = NULL;
    char err[256];
    if (rx_tpl_compile(&t, cases[i].tpl, names, NULL, err, sizeof err) != 0)
      CHECK_FAIL("%s: %s", cases[i].tpl, err);
    rx_env env = {.ctx = ctx, .arena = json_array(), .name = name_value};
    strbuf b = {0};
    rx_tpl_render(t, &env, &b);
    char *s = sb_take(&b);
    CHECK_STREQ(s, cases[i].want);
    free(s);
    json_decref(env.arena);
    rx_tpl_free(&t);
  }
  json_decref(ctx);
  static const struct {
    const char *text, *want;
    int tpl;
  } bad[] = {
      {"max(1, 2)", "max takes 1 to 1 arguments", 0},
      {"maximum(a)", "unknown function 'maximum'", 0},
      {"b + 1", "unknown name 'b'", 0},
      {"a +", "unexpected end", 0},
      {"(a", "expected ')'", 0},
      {"'open", "closing quote", 0},
      {"a ? 1", "expected ':'", 0},
      {"[1]", "unexpected '['", 0},
      {"join(@gpus, s, ',')", "template text in quotes", 0},
      {"{a:.1x}", "format '.1x'", 1},
      {"{a", "closing '}'", 1},
      {"{a b}", "expected ':' or '}'", 1},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char err[256] = "";
    rx_node *x = NULL;
    rx_tpl *t = NULL;
    int rc = bad[i].tpl ? rx_tpl_compile(&t, bad[i].text, names, NULL, err, sizeof err)
                        : rx_compile(&x, bad[i].text, names, NULL, err, sizeof err);
    CHECK_EQ(rc, FS_EINVAL);
    CHECK(x == NULL && t == NULL);
    if (!strstr(err, bad[i].want))
      CHECK_FAIL("%s: '%s' lacks '%s'", bad[i].text, err, bad[i].want);
  }
}

/* A one-family catalogue with one key replaced (value NULL: deleted). */
static char *one_family(const char *path_key, const char *value) {
  const char *good =
      "[{\"label\": \"Test fault\", \"metrics\": [\"test_\"], \"precedence\": 1,"
      " \"facts\": {\"x\": \"@event.trigger.z\", \"y\": \"x * 2\"},"
      " \"recognise\": \"family_z() > 3\","
      " \"l2\": {\"scope\": [\"node\"], \"tenant\": \"{tenant}\", \"evidence\": []},"
      " \"l3\": {\"root_cause\": [\": z {x:.1f}\"], \"cross_tenant_impact\": [\"None.\"],"
      " \"affected_scope\": [\"{node}\"], \"causal_chain\": [{\"if\": \"y > 1\", \"text\": \"a\"}],"
      " \"recommended_actions\": [\"b\"], \"tenant_types\": \"unique(tenant)\","
      " \"priority\": \"P2\", \"confidence\": 0.5}}]";
  json_t *root = json_loads(good, 0, NULL);
  CHECK(root != NULL);
  json_t *o = json_array_get(root, 0);
  char key[64];
  snprintf(key, sizeof key, "%s", path_key);
  char *dot = strchr(key, '.');
  if (dot) {
    *dot = '\0';
    o = json_object_get(o, key);
  }
  const char *leaf = dot ? dot + 1 : key;
  if (value)
    json_object_set_new(o, leaf, json_loads(value, JSON_DECODE_ANY, NULL));
  else
    json_object_del(o, leaf);
  char *s = json_dumps(root, 0);
  json_decref(root);
  return s;
}

static void test_bad_catalogues(void) {
  rc_catalogue *c = NULL;
  char *good = one_family("label", "\"Test fault\"");
  CHECK_EQ(rc_parse(&c, good, "test.json"), 0);
  CHECK_EQ(c->n, 1);
  json_t *ctx =
      json_loads("{\"event\": {\"trigger\": {\"metric\": \"test_m\", \"z\": 4}}}", 0, NULL);
  CHECK_EQ(rc_recognise(c, ctx), 0);
  json_decref(ctx);
  rc_destroy(&c);
  CHECK(c == NULL);
  free(good);
  static const struct {
    const char *key, *value, *want;
  } cases[] = {
      {"facts.y", "\"maximum(x)\"", "facts.y: 'maximum(x)' at column 1: unknown function"},
      {"facts.x", "\"y + 1\"", "facts: 'x' depends on itself"},
      {"facts.node", "\"1\"", "'node' is already a name"},
      {"recognise", "\"z > 3\"", "recognise: 'z > 3' at column 1: unknown name 'z'"},
      {"recognise", NULL, "recognise: must be an expression"},
      {"l3.root_cause", "[\"{x:%d}\"]", "l3.root_cause[0]: '{x:%d}'"},
      {"l3.causal_chain", "[{\"if\": \"x >\", \"text\": \"a\"}]", "l3.causal_chain[0].if"},
      {"l3.causal_chain", "[{\"when\": \"1\", \"text\": \"a\"}]", "unknown key 'when'"},
      {"l3.priority", "\"P5\"", "l3.priority: must be P1, P2, P3 or P4"},
      {"l3.confidence", "2", "l3.confidence: must be a number in [0, 1]"},
      {"l2.scope", "[\"galaxy\"]", "l2.scope: holds a scope that is not gpu"},
      {"metrics", "\"inlet\"", "metrics: must be an array of strings"},
      {"colour", "1", "reasoning: unknown key 'colour'"},
      {"l4_risk", "\"\"", "l4_risk: must be a non-empty string"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *text = one_family(cases[i].key, cases[i].value);
    diag_clear();
    CHECK_EQ(rc_parse(&c, text, "test.json"), FS_EINVAL);
    CHECK(c == NULL);
    const char *msg = diag_first();
    if (!strstr(msg, "test.json: family 1 ('Test fault')") || !strstr(msg, cases[i].want))
      CHECK_FAIL("%s: message '%s' lacks '%s'", cases[i].key, msg, cases[i].want);
    free(text);
  }
  diag_clear();
  CHECK_EQ(rc_parse(&c, "{}", "test.json"), FS_EINVAL);
  CHECK(strstr(diag_first(), "expected an array") != NULL);
  diag_clear();
}

int main(void) {
  name_values = json_pack("[f,s]", 2.5, "node-0007/gpu3");
  test_builtin();
  test_expressions();
  test_templates();
  test_bad_catalogues();
  json_decref(name_values);
  printf("unit_rules_catalogue: %ld checks passed\n", check_count);
  return 0;
}

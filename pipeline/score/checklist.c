/* Ground-truth checklists (see checklist.h): validates the file, compiles
 * patterns with ground-truth names, scores answers. Reads answers as
 * untrusted data; decides nothing about detection or escalation. */
#include "pipeline/score/checklist.h"

#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/score/kind_knowledge.h"
#include "pipeline/llm/llm_schema.h"
#include "scenarios/scenario.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/textfile.h"

/* with match offsets: the strict scorer looks around each match */
enum { CHK_REGFLAGS = REG_EXTENDED | REG_ICASE };

const char *const chk_l2_fields[CHK_L2_NFIELDS] = {"classification", "scope", "tenant_type",
                                                   "rationale"};

const char *const chk_l3_fields[CHK_L3_NFIELDS] = {
    "root_cause",  "affected_scope",      "tenant_types", "cross_tenant_impact",
    "causal_chain", "recommended_actions", "priority"};

#define CHK_CHECK_NAME(e, s) s,
static const char *const chk_check_names[CHK_CHECK_COUNT] = {CHK_CHECKS(CHK_CHECK_NAME)};
#undef CHK_CHECK_NAME

/* Checks allowed per layer (bit per chk_check), and those that read patterns. */
#define CHK_BIT(c) (1u << (c))
static const unsigned chk_checks_of_layer[3] = {
    CHK_BIT(CHK_PATTERNS) | CHK_BIT(CHK_SCOPE) | CHK_BIT(CHK_TENANT) | CHK_BIT(CHK_FAMILY),
    CHK_BIT(CHK_PATTERNS) | CHK_BIT(CHK_ENTITY) | CHK_BIT(CHK_ENTITY_JOB) | CHK_BIT(CHK_LOT) |
        CHK_BIT(CHK_TENANTS) | CHK_BIT(CHK_CROSS_TENANT) | CHK_BIT(CHK_NO_FAMILY) |
        CHK_BIT(CHK_ABSENT),
    CHK_BIT(CHK_INCIDENT) | CHK_BIT(CHK_INCIDENT_PLACE) | CHK_BIT(CHK_SLA_FIGURES) |
        CHK_BIT(CHK_JOBS_HEALTH) | CHK_BIT(CHK_RISKS) | CHK_BIT(CHK_RECOMMENDATIONS)};
static const unsigned chk_checks_with_patterns = CHK_BIT(CHK_PATTERNS) | CHK_BIT(CHK_ABSENT);

struct chk_set {
  json_t *root; /* validated */
  chk_kind_info kind[SK_COUNT];
};

struct chk_list {
  int layer;
  chk_item *items;
  int n;
};

/* The compiled-in files (CMakeLists.txt): scenarios/checklists.json, and
 * the array of every scenarios/kinds/<kind>.json in scn_kind order. */
const char *chk_shared_text(void);
const char *chk_kinds_text(void);

/* The built-in document from the shared file and the kinds' files, as
 * malloc'd JSON text; NULL with the reason in diag. */
static char *chk_assemble(void) {
  json_error_t err;
  json_t *shared = json_loads(chk_shared_text(), JSON_REJECT_DUPLICATES, &err);
  json_t *files = shared ? json_loads(chk_kinds_text(), JSON_REJECT_DUPLICATES, &err) : NULL;
  if (!shared || !files) {
    diag_addf("built-in %s: line %d: %s",
              shared ? "scenarios/kinds/*.json" : "scenarios/checklists.json", err.line, err.text);
    json_decref(shared);
    return NULL;
  }
  char *text = NULL;
  json_t *root = json_object(), *kinds = json_object();
  int bad = !root || !kinds, said = 0;
  if (!bad && json_array_size(files) != SK_COUNT) {
    diag_addf("built-in scenarios/kinds/*.json: %zu files for the %d kinds of kinds.def",
              json_array_size(files), SK_COUNT);
    bad = said = 1;
  }
  const char *key;
  json_t *v;
  if (!bad)
    json_object_foreach(shared, key, v) {
      bad |= json_object_set(root, key, v);
      if (strcmp(key, "version") == 0)
        bad |= json_object_set(root, "kinds", kinds);
    }
  for (int k = 0; !bad && k < SK_COUNT; k++) {
    json_t *kind = json_copy(json_array_get(files, (size_t)k));
    if (json_is_object(kind))
      json_object_del(kind, "reasoning"); /* the rules backend's, not the scorer's */
    bad |= !json_is_object(kind) || json_object_set(kinds, scn_kind_name((scn_kind)k), kind);
    json_decref(kind);
  }
  if (!bad && !(text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER)))
    bad = 1;
  if (bad && !said)
    diag_addf("built-in checklists: cannot assemble scenarios/checklists.json and "
              "scenarios/kinds/*.json (out of memory, or a kind's file is not an object)");
  json_decref(kinds);
  json_decref(root);
  json_decref(files);
  json_decref(shared);
  return text;
}

const char *chk_default_text(void) {
  static char *text; /* built once, kept for the process */
  if (!text)
    text = chk_assemble();
  return text;
}

int chk_kind_has_rules(int k) {
  static int known, has[SK_COUNT]; /* read once, kept for the process */
  if (!known) {
    json_t *files = json_loads(chk_kinds_text(), 0, NULL);
    for (int i = 0; i < SK_COUNT; i++)
      has[i] = json_is_object(json_object_get(json_array_get(files, (size_t)i), "reasoning"));
    json_decref(files);
    known = 1;
  }
  return k >= 0 && k < SK_COUNT && has[k];
}

/* ---- substitution ------------------------------------------------------- */

/* Value of placeholder name[0..len) from sub: 0 found (*val may be NULL),
 * -1 unknown name. */
static int chk_placeholder(const char *name, size_t len, const chk_subst *sub, const char **val) {
  static const char *const names[] = {"node", "rack", "job", "tenant"};
  const char *vals[] = {sub ? sub->node : NULL, sub ? sub->rack : NULL, sub ? sub->job : NULL,
                        sub ? sub->tenant : NULL};
  for (int i = 0; i < 4; i++)
    if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0) {
      *val = vals[i];
      return 0;
    }
  return -1;
}

/* Expands the placeholders of pattern into *out (caller frees). Returns 0,
 * 1 when a placeholder has no value (nothing allocated), FS_EINVAL for an
 * unknown "{letters}" (its name in bad[badcap]) or FS_ENOMEM. */
static int chk_expand(const char *pattern, const chk_subst *sub, char **out, char *bad,
                      size_t badcap) {
  size_t cap = strlen(pattern) + 1, len = 0;
  const char *p;
  for (p = pattern; *p; p++) /* first pass: size */
    if (*p == '{') {
      size_t k = 1;
      while ((p[k] >= 'a' && p[k] <= 'z') || p[k] == '_')
        k++;
      const char *val;
      if (k > 1 && p[k] == '}') {
        if (chk_placeholder(p + 1, k - 1, sub, &val) != 0) {
          snprintf(bad, badcap, "%.*s", (int)(k - 1), p + 1);
          return FS_EINVAL;
        }
        if (!val)
          return 1;
        cap += strlen(val);
      }
    }
  char *s = malloc(cap);
  if (!s)
    return FS_ENOMEM;
  for (p = pattern; *p;) {
    size_t k = 1;
    while (*p == '{' && ((p[k] >= 'a' && p[k] <= 'z') || p[k] == '_'))
      k++;
    const char *val = NULL;
    if (*p == '{' && k > 1 && p[k] == '}' && chk_placeholder(p + 1, k - 1, sub, &val) == 0 &&
        val) {
      memcpy(s + len, val, strlen(val));
      len += strlen(val);
      p += k + 1;
    } else {
      s[len++] = *p++;
    }
  }
  s[len] = '\0';
  *out = s;
  return 0;
}

/* ---- validation --------------------------------------------------------- */

/* Sample names for validating patterns with placeholders. */
static const chk_subst chk_sample = {"(node-0001|node-0002)", "(rack-01)", "(train-001)",
                                     "(training)"};

/* Checks one pattern; adds problems to diag under where. Returns 1 if bad. */
static int chk_check_pattern(const char *where, int k, const char *pattern) {
  char bad[CHK_ITEM_LEN] = "";
  char *x = NULL;
  int rc = chk_expand(pattern, &chk_sample, &x, bad, sizeof bad);
  if (rc == FS_EINVAL) {
    diag_addf("%s pattern %d '%s': unknown placeholder {%s} (known: {node}, {rack}, {job}, "
              "{tenant})", where, k + 1, pattern, bad);
    return 1;
  }
  if (rc != 0) {
    diag_addf("%s pattern %d: out of memory", where, k + 1);
    return 1;
  }
  regex_t re;
  int e = regcomp(&re, x, CHK_REGFLAGS);
  free(x);
  if (e != 0) {
    char msg[128];
    regerror(e, &re, msg, sizeof msg);
    diag_addf("%s pattern %d '%s': regcomp: %s", where, k + 1, pattern, msg);
    return 1;
  }
  int empty = regexec(&re, "", 0, NULL, 0) == 0;
  regfree(&re);
  if (empty) {
    diag_addf("%s pattern %d '%s': matches empty text, so it would match any answer", where,
              k + 1, pattern);
    return 1;
  }
  return 0;
}

static int chk_field_index(const char *name) {
  for (int i = 0; i < CHK_L2_NFIELDS; i++)
    if (strcmp(chk_l2_fields[i], name) == 0)
      return i;
  return -1;
}

/* Validates a pattern array under key of an item; problems to diag. */
static int chk_check_patterns(const char *w, const char *key, json_t *pats) {
  if (!json_is_array(pats) || json_array_size(pats) == 0) {
    diag_addf("%s: missing or empty \"%s\"", w, key);
    return 1;
  }
  int bad = 0;
  size_t k;
  json_t *p;
  json_array_foreach(pats, k, p) {
    if (!json_is_string(p) || !json_string_value(p)[0]) {
      diag_addf("%s %s %zu: not a non-empty string", w, key, k + 1);
      bad++;
    } else {
      bad += chk_check_pattern(w, (int)k, json_string_value(p));
    }
  }
  return bad;
}

static int chk_check_index(const char *name) {
  for (int c = 0; c < CHK_CHECK_COUNT; c++)
    if (name && strcmp(chk_check_names[c], name) == 0)
      return c;
  return -1;
}

/* The CHK_F_* bits of a "fields" array, or 0 when it is not a non-empty
 * array of L3 field names (a problem in diag). */
static unsigned chk_fields_bits(const char *w, json_t *fields) {
  unsigned bits = 0;
  size_t i;
  json_t *f;
  if (!json_is_array(fields) || json_array_size(fields) == 0) {
    diag_addf("%s: L3 items need \"fields\": a non-empty array of answer fields", w);
    return 0;
  }
  json_array_foreach(fields, i, f) {
    int found = -1;
    for (int k = 0; k < CHK_L3_NFIELDS; k++)
      if (json_is_string(f) && strcmp(json_string_value(f), chk_l3_fields[k]) == 0)
        found = k;
    if (found < 0) {
      diag_addf("%s: \"fields\" element %zu is not root_cause, affected_scope, tenant_types, "
                "cross_tenant_impact, causal_chain, recommended_actions or priority", w, i + 1);
      return 0;
    }
    bits |= 1u << found;
  }
  return bits;
}

/* Validates the keys of one item of layer; problems to diag, their number. */
static int chk_check_item(const char *w, int layer, json_t *it) {
  static const char *const keys[] = {"id", "text", "patterns", "field", "fields", "benchmark",
                                     "gate", "check", "order", NULL};
  int bad = 0;
  const char *key;
  json_t *v;
  json_object_foreach(it, key, v) {
    int known = 0;
    for (int k = 0; keys[k]; k++)
      known |= strcmp(keys[k], key) == 0;
    if (!known) {
      diag_addf("%s: unknown key '%s'", w, key);
      bad++;
    }
  }
  json_t *field = json_object_get(it, "field"), *bench = json_object_get(it, "benchmark");
  json_t *gate = json_object_get(it, "gate"), *check = json_object_get(it, "check");
  json_t *order = json_object_get(it, "order");
  if (layer == 2 && (!json_is_string(field) || chk_field_index(json_string_value(field)) < 0)) {
    diag_addf("%s: L2 items need \"field\": classification, scope, tenant_type or rationale",
              w);
    bad++;
  } else if (layer != 2 && field) {
    diag_addf("%s: \"field\" is for L2 items only", w);
    bad++;
  }
  if (layer == 3 && !chk_fields_bits(w, json_object_get(it, "fields")))
    bad++;
  else if (layer != 3 && json_object_get(it, "fields")) {
    diag_addf("%s: \"fields\" is for L3 items only", w);
    bad++;
  }
  if ((bench && !json_is_boolean(bench)) || (gate && !json_is_boolean(gate))) {
    diag_addf("%s: \"benchmark\" and \"gate\" must be true or false", w);
    bad++;
  }
  int c = check ? chk_check_index(json_string_value(check)) : CHK_PATTERNS;
  if (c < 0 || !(chk_checks_of_layer[layer - 2] & CHK_BIT(c))) {
    diag_addf("%s: \"check\" '%s' is not a check of L%d items", w,
              json_is_string(check) ? json_string_value(check) : "(not a string)", layer);
    return bad + 1;
  }
  if (!json_is_false(bench) || (chk_checks_with_patterns & CHK_BIT(c)) ||
      json_object_get(it, "patterns"))
    bad += chk_check_patterns(w, "patterns", json_object_get(it, "patterns"));
  if (order) {
    if (layer != 3 || !json_is_object(order)) {
      diag_addf("%s: \"order\" is an object of L3 items only", w);
      return bad + 1;
    }
    bad += chk_check_patterns(w, "order.first", json_object_get(order, "first"));
    bad += chk_check_patterns(w, "order.then", json_object_get(order, "then"));
    if (json_object_get(order, "patterns"))
      bad += chk_check_patterns(w, "order.patterns", json_object_get(order, "patterns"));
  }
  return bad;
}

/* Validates list (group's layer list); adds problems to diag. Returns the
 * number of problems. */
static int chk_check_list(const char *source, const char *group, int layer, json_t *list) {
  char where[256];
  snprintf(where, sizeof where, "%s: %s '%s' L%d", source,
           strcmp(group, "none") == 0 || strcmp(group, "shift") == 0 ? "group" : "kind", group,
           layer);
  if (!json_is_array(list) || json_array_size(list) == 0) {
    diag_addf("%s: missing or empty list of items", where);
    return 1;
  }
  int bad = 0;
  size_t i;
  json_t *it;
  json_array_foreach(list, i, it) {
    const char *id = json_string_value(json_object_get(it, "id"));
    char w[384];
    if (!json_is_object(it) || !id || !id[0] || strlen(id) >= CHK_ITEM_LEN / 2) {
      diag_addf("%s item %zu: not an object with a non-empty \"id\" (under %d characters)", where,
                i + 1, CHK_ITEM_LEN / 2);
      bad++;
      continue;
    }
    snprintf(w, sizeof w, "%s item '%s'", where, id);
    for (size_t j = 0; j < i; j++) {
      const char *other = json_string_value(json_object_get(json_array_get(list, j), "id"));
      if (other && strcmp(id, other) == 0) {
        diag_addf("%s: duplicate id", w);
        bad++;
      }
    }
    const char *text = json_string_value(json_object_get(it, "text"));
    if (!text || !text[0]) {
      diag_addf("%s: missing \"text\" (the benchmark's wording)", w);
      bad++;
    }
    bad += chk_check_item(w, layer, it);
  }
  return bad;
}

void chk_destroy(chk_set **sp) {
  if (!sp || !*sp)
    return;
  for (int k = 0; k < SK_COUNT; k++)
    kk_free(&(*sp)->kind[k]);
  json_decref((*sp)->root);
  free(*sp);
  *sp = NULL;
}

int chk_parse(chk_set **out, const char *text, const char *source) {
  if (!out)
    return FS_EINVAL;
  *out = NULL;
  if (!source)
    source = "checklists";
  if (!text) {
    diag_addf("%s: no text", source);
    return FS_EINVAL;
  }
  json_error_t err;
  json_t *root = json_loads(text, 0, &err);
  if (!json_is_object(root)) {
    if (root)
      diag_addf("%s: the top level is not a JSON object", source);
    else
      diag_addf("%s: line %d column %d: %s", source, err.line, err.column, err.text);
    json_decref(root);
    return FS_EINVAL;
  }
  chk_set *s = calloc(1, sizeof *s);
  if (!s) {
    json_decref(root);
    return FS_ENOMEM;
  }
  s->root = root;
  int bad = 0, nomem = 0;
  const char *key;
  json_t *v;
  json_object_foreach(root, key, v) if (strcmp(key, "about") != 0 && strcmp(key, "version") != 0 &&
                                        strcmp(key, "kinds") != 0 && strcmp(key, "none") != 0 &&
                                        strcmp(key, "shift") != 0) {
    diag_addf("%s: unknown key '%s'", source, key);
    bad++;
  }
  if (json_integer_value(json_object_get(root, "version")) != 2) {
    diag_addf("%s: \"version\" must be 2 (this build reads checklists of version 2)", source);
    bad++;
  }
  json_t *kinds = json_object_get(root, "kinds");
  if (!json_is_object(kinds)) {
    diag_addf("%s: missing object \"kinds\"", source);
    bad++;
  } else {
    json_object_foreach(kinds, key, v) {
      int known = 0;
      for (int k = 0; k < SK_COUNT; k++)
        known |= strcmp(key, scn_kind_name((scn_kind)k)) == 0;
      if (!known) {
        diag_addf("%s: kind '%s' is not a scenario kind", source, key);
        bad++;
      }
    }
    for (int k = 0; k < SK_COUNT; k++) {
      const char *name = scn_kind_name((scn_kind)k);
      json_t *kind = json_object_get(kinds, name);
      if (!json_is_object(kind)) {
        diag_addf("%s: kind '%s' missing", source, name);
        bad++;
        continue;
      }
      int kb = kk_parse(&s->kind[k], kind, source, name);
      if (kb < 0)
        nomem = 1;
      else
        bad += kb;
      bad += chk_check_list(source, name, 2, json_object_get(kind, "L2"));
      bad += chk_check_list(source, name, 3, json_object_get(kind, "L3"));
      bad += chk_check_list(source, name, 4, json_object_get(kind, "L4"));
    }
  }
  bad += chk_check_list(source, "none", 2, json_object_get(json_object_get(root, "none"), "L2"));
  bad += chk_check_list(source, "none", 3, json_object_get(json_object_get(root, "none"), "L3"));
  bad += chk_check_list(source, "shift", 4, json_object_get(json_object_get(root, "shift"), "L4"));
  if (bad || nomem) {
    chk_destroy(&s);
    return nomem ? FS_ENOMEM : FS_EINVAL;
  }
  *out = s;
  return 0;
}

const chk_kind_info *chk_kind(const chk_set *set, int k) {
  return set && k >= 0 && k < SK_COUNT ? &set->kind[k] : NULL;
}

int chk_signature_rank(const chk_set *set, int k, const char *metric) {
  const chk_kind_info *ki = chk_kind(set, k);
  for (int i = 0; ki && metric && i < ki->nsignature; i++)
    if (strcmp(ki->signature[i], metric) == 0)
      return i;
  return -1;
}

int chk_is_signature(const chk_set *set, int k, const char *metric) {
  return chk_signature_rank(set, k, metric) >= 0;
}

int chk_load(chk_set **out, const char *path) {
  if (!out || !path)
    return FS_EINVAL;
  *out = NULL;
  char *text = NULL;
  int rc = text_read_file(path, &text, "checklists");
  if (rc != 0)
    return rc == FS_ENOMEM ? rc : FS_EIO;
  rc = chk_parse(out, text, path);
  free(text);
  return rc;
}

/* ---- compiling ---------------------------------------------------------- */

static void chk_free_patterns(regex_t *re, int n) {
  for (int k = 0; k < n; k++)
    regfree(&re[k]);
  free(re);
}

void chk_list_destroy(chk_list **lp) {
  if (!lp || !*lp)
    return;
  chk_list *l = *lp;
  for (int i = 0; i < l->n; i++) {
    chk_item *c = &l->items[i];
    chk_free_patterns(c->re, c->nre);
    chk_free_patterns(c->first, c->nfirst);
    chk_free_patterns(c->then, c->nthen);
    chk_free_patterns(c->direct, c->ndirect);
  }
  free(l->items);
  free(l);
  *lp = NULL;
}

/* The set's list for group and layer, or NULL. */
static json_t *chk_find(const chk_set *set, const char *group, int layer) {
  char key[4];
  snprintf(key, sizeof key, "L%d", layer);
  json_t *g = strcmp(group, "none") == 0 || strcmp(group, "shift") == 0
                  ? json_object_get(set->root, group)
                  : json_object_get(json_object_get(set->root, "kinds"), group);
  return json_object_get(g, key);
}

/* Compiles the pattern array pats (NULL: none) of item id into *out[*n]
 * with the substitutions sub; a pattern whose placeholder has no value is
 * left out. 0, FS_EINVAL (reason in diag) or FS_ENOMEM. */
static int chk_compile_patterns(regex_t **out, int *n, json_t *pats, const chk_subst *sub,
                                const char *group, int layer, const char *id) {
  *n = 0;
  if (!(*out = calloc(json_array_size(pats) + 1, sizeof **out)))
    return FS_ENOMEM;
  size_t k;
  json_t *p;
  json_array_foreach(pats, k, p) {
    char bad[CHK_ITEM_LEN], *x = NULL;
    int e = chk_expand(json_string_value(p), sub, &x, bad, sizeof bad);
    if (e == 1)
      continue; /* a placeholder without a value: this pattern cannot match */
    if (e == 0 && regcomp(&(*out)[*n], x, CHK_REGFLAGS) == 0) {
      (*n)++;
      free(x);
      continue;
    }
    diag_addf("checklists: '%s' L%d item '%s' pattern %zu does not compile after "
              "substitution%s%s", group, layer, id, k + 1, x ? ": " : "", x ? x : "");
    free(x);
    return e == FS_ENOMEM ? FS_ENOMEM : FS_EINVAL;
  }
  return 0;
}

int chk_compile(chk_list **out, const chk_set *set, const char *group, int layer,
                const chk_subst *sub) {
  if (!out)
    return FS_EINVAL;
  *out = NULL;
  json_t *list = set && group ? chk_find(set, group, layer) : NULL;
  if (!list) {
    diag_addf("checklists: no L%d list for '%s'", layer, group ? group : "(null)");
    return FS_EINVAL;
  }
  chk_list *l = calloc(1, sizeof *l);
  if (!l || !(l->items = calloc(json_array_size(list), sizeof *l->items))) {
    free(l);
    return FS_ENOMEM;
  }
  l->layer = layer;
  int rc = 0;
  size_t i;
  json_t *it;
  json_array_foreach(list, i, it) {
    chk_item *c = &l->items[l->n++];
    json_t *order = json_object_get(it, "order");
    c->id = json_string_value(json_object_get(it, "id"));
    c->text = json_string_value(json_object_get(it, "text"));
    c->benchmark = !json_is_false(json_object_get(it, "benchmark"));
    c->gate = json_is_true(json_object_get(it, "gate"));
    c->field = layer == 2 ? chk_field_index(json_string_value(json_object_get(it, "field"))) : -1;
    c->fields = layer == 3 ? chk_fields_bits(c->id, json_object_get(it, "fields")) : 0;
    json_t *check = json_object_get(it, "check");
    c->check = check ? (chk_check)chk_check_index(json_string_value(check)) : CHK_PATTERNS;
    rc = chk_compile_patterns(&c->re, &c->nre, json_object_get(it, "patterns"), sub, group,
                              layer, c->id);
    if (!rc)
      rc = chk_compile_patterns(&c->first, &c->nfirst, json_object_get(order, "first"), sub,
                                group, layer, c->id);
    if (!rc)
      rc = chk_compile_patterns(&c->then, &c->nthen, json_object_get(order, "then"), sub, group,
                                layer, c->id);
    if (!rc)
      rc = chk_compile_patterns(&c->direct, &c->ndirect, json_object_get(order, "patterns"), sub,
                                group, layer, c->id);
    if (rc)
      break;
  }
  if (rc)
    chk_list_destroy(&l);
  *out = l;
  return rc;
}

const chk_item *chk_list_item(const chk_list *l, int i) {
  return l && i >= 0 && i < l->n ? &l->items[i] : NULL;
}

int chk_list_count(const chk_list *l) { return l ? l->n : 0; }

const char *chk_list_item_id(const chk_list *l, int i) {
  return l && i >= 0 && i < l->n ? l->items[i].id : NULL;
}

const char *chk_list_item_text(const chk_list *l, int i) {
  return l && i >= 0 && i < l->n ? l->items[i].text : NULL;
}

/* ---- scoring ------------------------------------------------------------ */

void chk_result_free(chk_result *r) {
  if (!r)
    return;
  free(r->items);
  memset(r, 0, sizeof *r);
}

/* Appends s and a newline to the growing buffer *buf. 0 or FS_ENOMEM. */
static int chk_append(char **buf, size_t *len, size_t *cap, const char *s) {
  size_t n = strlen(s);
  if (*len + n + 2 > *cap) {
    size_t c = (*cap + n + 2) * 2;
    char *b = realloc(*buf, c);
    if (!b)
      return FS_ENOMEM;
    *buf = b;
    *cap = c;
  }
  memcpy(*buf + *len, s, n);
  *len += n;
  (*buf)[(*len)++] = '\n';
  (*buf)[*len] = '\0';
  return 0;
}

/* Appends every string and number value under v (never a key). */
static int chk_values(json_t *v, char **buf, size_t *len, size_t *cap) {
  char num[48];
  size_t i;
  const char *key;
  json_t *x;
  switch (json_typeof(v)) {
  case JSON_OBJECT:
    json_object_foreach(v, key, x) if (chk_values(x, buf, len, cap)) return FS_ENOMEM;
    return 0;
  case JSON_ARRAY:
    json_array_foreach(v, i, x) if (chk_values(x, buf, len, cap)) return FS_ENOMEM;
    return 0;
  case JSON_STRING:
    return chk_append(buf, len, cap, json_string_value(v));
  case JSON_INTEGER:
  case JSON_REAL:
    snprintf(num, sizeof num, "%g", json_number_value(v));
    return chk_append(buf, len, cap, num);
  default:
    return 0;
  }
}

/* The L3 text to match: the JSON values of the answer, or NULL when it holds
 * no JSON object (then the raw text is used). *owned is set when allocated. */
static int chk_l3_text(const char *text, char **owned) {
  size_t start, n;
  *owned = NULL;
  if (llm_extract_json_object(text, &start, &n) != 0)
    return 0;
  json_t *o = json_loadb(text + start, n, 0, NULL);
  if (!o)
    return 0;
  json_object_del(o, "actions"); /* what the answer does, not what it says: not judged */
  size_t len = 0, cap = 0;
  int rc = chk_values(o, owned, &len, &cap);
  json_decref(o);
  if (rc == 0 && !*owned)
    rc = chk_append(owned, &len, &cap, "");
  if (rc) {
    free(*owned);
    *owned = NULL;
  }
  return rc;
}

static int chk_item_matches(const chk_item *c, const char *s) {
  for (int k = 0; s && k < c->nre; k++)
    if (regexec(&c->re[k], s, 0, NULL, 0) == 0)
      return 1;
  return 0;
}

int chk_score(chk_result *out, const chk_list *const *lists, const char *const *prefixes, int n,
              int layer, const char *text) {
  if (!out)
    return FS_EINVAL;
  memset(out, 0, sizeof *out);
  if (n < 0 || (n > 0 && !lists) || layer < 2 || layer > 4)
    return FS_EINVAL;
  int total = 0;
  for (int i = 0; i < n; i++) {
    if (!lists[i] || lists[i]->layer != layer)
      return FS_EINVAL;
    for (int k = 0; k < lists[i]->n; k++)
      total += lists[i]->items[k].benchmark;
  }
  if (!(out->items = calloc((size_t)total + 1, sizeof *out->items)))
    return FS_ENOMEM;
  out->nitems = total;
  for (int i = 0, j = 0; i < n; i++)
    for (int k = 0; k < lists[i]->n; k++) {
      if (!lists[i]->items[k].benchmark)
        continue;
      const char *pre = prefixes ? prefixes[i] : NULL;
      snprintf(out->items[j++].item, CHK_ITEM_LEN, "%s%s%s", pre ? pre : "", pre ? "/" : "",
               lists[i]->items[k].id);
    }

  const char *subject = text; /* what L3/L4 patterns see */
  char *owned = NULL;
  json_t *l2 = NULL;
  if (!text || !text[0]) {
    snprintf(out->note, sizeof out->note, "no answer");
    return 0;
  }
  if (layer == 2) {
    char why[120] = "";
    if (!(l2 = llm_answer_parse(2, text, why, sizeof why))) {
      snprintf(out->note, sizeof out->note, "unparsable L2 answer: %s", why);
      return 0;
    }
  } else if (layer == 3) {
    if (chk_l3_text(text, &owned) != 0) {
      chk_result_free(out);
      return FS_ENOMEM;
    }
    if (owned)
      subject = owned;
    else
      snprintf(out->note, sizeof out->note, "no JSON object in the L3 answer: raw text scored");
  } else if (layer == 4) { /* the report without its actions block */
    if (!(owned = strndup(text, llm_l4_prose_len(text)))) {
      chk_result_free(out);
      return FS_ENOMEM;
    }
    subject = owned;
  }
  for (int i = 0, j = 0; i < n; i++)
    for (int k = 0; k < lists[i]->n; k++) {
      const chk_item *c = &lists[i]->items[k];
      if (!c->benchmark)
        continue;
      const char *s = l2 ? json_string_value(json_object_get(l2, chk_l2_fields[c->field])) : subject;
      out->items[j].matched = chk_item_matches(c, s);
      out->nmatched += out->items[j++].matched;
    }
  out->score = total > 0 ? (double)out->nmatched / total : 0.0;
  json_decref(l2);
  free(owned);
  return 0;
}

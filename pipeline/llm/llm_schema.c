/* L2/L3 answer schemas and the validator of every layer's answer, with the
 * `actions` of L3 answers and L4 reports (see llm_schema.h). One field table
 * per layer feeds both the JSON schema sent to servers and the checks; model
 * text is only ever parsed, measured and quoted (sanitized, cut short) as a
 * %s argument. */
#include "pipeline/llm/llm_schema.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "src/core/errors.h"
#include "src/core/strbuf.h"
#include "src/model/actions.h"

typedef enum { SCH_STRING, SCH_CONFIDENCE, SCH_ENUM, SCH_STRINGS, SCH_ACTIONS } sch_type;

typedef struct {
  const char *name;
  sch_type type;
  const char *const *vocab; /* SCH_ENUM: NULL-terminated canonical values */
  const char *desc;         /* the schema's description: guidance for the model */
} sch_field;

static const char *const sch_classes[] = {"real_anomaly", "noise", "transient", NULL};
static const char *const sch_scopes[] = {"gpu", "node", "rack", "job", "cluster", NULL};
static const char *const sch_tenants[] = {"moe-inference", "dense-inference", "training",
                                          "mixed",         "unknown",         NULL};
static const char *const sch_priorities[] = {"P1", "P2", "P3", "P4", NULL};

static const sch_field sch_l2[] = {
    {"classification", SCH_ENUM, sch_classes,
     "real_anomaly: a genuine fault or degradation that needs attention; noise: statistical "
     "fluctuation; transient: real but brief and already clearing"},
    {"scope", SCH_ENUM, sch_scopes, "the smallest unit that contains the problem"},
    {"tenant_type", SCH_ENUM, sch_tenants, "tenant of the affected node(s)"},
    {"confidence", SCH_CONFIDENCE, NULL, "confidence in the classification, 0 to 1"},
    {"rationale", SCH_STRING, NULL,
     "one to three sentences citing the evidence (metric names, z-scores, node-NNNN/gpuK)"},
};

static const sch_field sch_l3[] = {
    {"root_cause", SCH_STRING, NULL,
     "the underlying cause, naming the component (node-NNNN/gpuK, node-NNNN, rack-NN, "
     "train-NNN) and the signal that shows it"},
    {"confidence", SCH_CONFIDENCE, NULL, "confidence in the root cause, 0 to 1"},
    {"affected_scope", SCH_STRING, NULL, "what is affected: the GPUs, nodes, racks or jobs"},
    {"tenant_types", SCH_STRINGS, NULL,
     "tenants affected: moe-inference, dense-inference, training"},
    {"cross_tenant_impact", SCH_STRING, NULL,
     "how other tenants are or may become affected, or 'none'"},
    {"causal_chain", SCH_STRINGS, NULL, "ordered steps from the cause to the observed symptoms"},
    {"recommended_actions", SCH_STRINGS, NULL, "concrete operator actions, most urgent first"},
    {"priority", SCH_ENUM, sch_priorities,
     "P1 act now (service or job impact under way), P2 act this shift, P3 plan a fix, "
     "P4 watch only"},
    {"actions", SCH_ACTIONS, NULL,
     "the actions to apply to the fleet now, most urgent first (at most 16; [] for none): "
     "each an action of the list and its target (\"\" for no_op)"},
};

const char *const llm_l4_headings[LLM_L4_NHEADINGS] = {
    "Active incidents", "Resolved incidents", "SLA status",
    "Training health",  "Emerging risks",     "Next-shift recommendations"};

/* The field table of layer 2 or 3 and its length; NULL otherwise. */
static const sch_field *sch_fields(int layer, size_t *n) {
  if (layer == LLM_LAYER_L2) {
    *n = sizeof sch_l2 / sizeof sch_l2[0];
    return sch_l2;
  }
  if (layer == LLM_LAYER_L3) {
    *n = sizeof sch_l3 / sizeof sch_l3[0];
    return sch_l3;
  }
  *n = 0;
  return NULL;
}

const char *llm_schema_name(int layer) {
  return layer == LLM_LAYER_L2   ? "fleetsim_l2_triage"
         : layer == LLM_LAYER_L3 ? "fleetsim_l3_root_cause"
                                 : NULL;
}

/* The schema of one `actions` entry: {"action": one of the vocabulary,
 * "target": a string}, both required (strict mode). */
static json_t *sch_action_item(void) {
  json_t *names = json_array();
  for (int k = 0; k < ACT_COUNT; k++)
    json_array_append_new(names, json_string(act_name((act_kind)k)));
  return json_pack("{s:s, s:{s:{s:s, s:o}, s:{s:s, s:s}}, s:[s,s], s:b}", "type", "object",
                   "properties", "action", "type", "string", "enum", names, "target", "type",
                   "string", "description",
                   "the entity: node-NNNN, node-NNNN/gpuK, rack-NN, a job id or a tenant; \"\" "
                   "for no_op",
                   "required", "action", "target", "additionalProperties", 0);
}

/* The schema of one field. */
static json_t *sch_property(const sch_field *f) {
  json_t *p = json_object();
  if (f->type == SCH_CONFIDENCE) {
    json_object_set_new(p, "type", json_string("number"));
  } else if (f->type == SCH_STRINGS) {
    json_object_set_new(p, "type", json_string("array"));
    json_object_set_new(p, "items", json_pack("{s:s}", "type", "string"));
  } else if (f->type == SCH_ACTIONS) {
    json_object_set_new(p, "type", json_string("array"));
    json_object_set_new(p, "items", sch_action_item());
  } else {
    json_object_set_new(p, "type", json_string("string"));
  }
  if (f->type == SCH_ENUM) {
    json_t *e = json_array();
    for (const char *const *v = f->vocab; *v; v++)
      json_array_append_new(e, json_string(*v));
    json_object_set_new(p, "enum", e);
  }
  json_object_set_new(p, "description", json_string(f->desc));
  return p;
}

json_t *llm_schema_json(int layer) {
  size_t n;
  const sch_field *f = sch_fields(layer, &n);
  if (!f)
    return NULL;
  json_t *props = json_object(), *req = json_array();
  for (size_t i = 0; i < n; i++) {
    json_object_set_new(props, f[i].name, sch_property(&f[i]));
    json_array_append_new(req, json_string(f[i].name));
  }
  json_t *s = json_pack("{s:s, s:o, s:o, s:b}", "type", "object", "properties", props, "required",
                        req, "additionalProperties", 0);
  /* json_pack steals props and req even on failure; a partial build from
   * lack of memory shows as a missing or short member. */
  if (s && (json_object_size(props) != n || json_array_size(req) != n)) {
    json_decref(s);
    s = NULL;
  }
  return s;
}

char *llm_schema_text(int layer) {
  json_t *s = llm_schema_json(layer);
  char *text = s ? json_dumps(s, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(s);
  return text;
}

/* printf into why when there is room; fmt is always a literal of ours. The
 * result is made free of control characters as a whole, because some
 * arguments (jansson's parse errors) quote the answer's bytes raw. */
__attribute__((format(printf, 3, 4))) static void sch_why(char *why, size_t whylen, const char *fmt,
                                                          ...) {
  if (!why || whylen == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, whylen, fmt, ap);
  va_end(ap);
  for (char *p = why; *p; p++)
    if ((unsigned char)*p < ' ' || *p == 0x7f)
      *p = ' ';
}

/* Checks that do not depend on the layer: present, non-blank, bounded, UTF-8. */
static int sch_check_text(const char *text, char *why, size_t whylen) {
  if (!text) {
    sch_why(why, whylen, "no answer");
    return FS_EINVAL;
  }
  size_t n = strnlen(text, (size_t)LLM_ANSWER_MAX_BYTES + 1);
  if (n > LLM_ANSWER_MAX_BYTES) {
    sch_why(why, whylen, "answer longer than %d bytes", LLM_ANSWER_MAX_BYTES);
    return FS_EINVAL;
  }
  if (text[strspn(text, " \t\r\n")] == '\0') {
    sch_why(why, whylen, "answer is empty");
    return FS_EINVAL;
  }
  json_t *probe = json_stringn(text, n); /* NULL when not valid UTF-8 */
  if (!probe) {
    sch_why(why, whylen, "answer is not valid UTF-8");
    return FS_EINVAL;
  }
  json_decref(probe);
  return 0;
}

/* Scans for balanced top-level {...} candidates in order and returns the
 * first that parses as an object (and its place). Without one, why tells:
 * the first candidate's parse error, unbalanced braces, or no object. */
static json_t *sch_find_object(const char *text, size_t *start, size_t *len, char *why,
                               size_t whylen) {
  size_t n = strlen(text), i = 0;
  int candidates = 0;
  json_error_t err;
  while (i < n) {
    const char *open = memchr(text + i, '{', n - i);
    if (!open)
      break;
    size_t s = (size_t)(open - text), j = s;
    int depth = 0, in_str = 0, esc = 0;
    for (; j < n; j++) {
      char c = text[j];
      if (in_str) {
        if (esc)
          esc = 0;
        else if (c == '\\')
          esc = 1;
        else if (c == '"')
          in_str = 0;
      } else if (c == '"') {
        in_str = 1;
      } else if (c == '{') {
        depth++;
      } else if (c == '}' && --depth == 0) {
        break;
      }
    }
    if (j == n) {
      if (candidates == 0)
        sch_why(why, whylen, "not JSON: unbalanced braces (cut-off answer?)");
      return NULL;
    }
    json_t *o = json_loadb(text + s, j - s + 1, JSON_REJECT_DUPLICATES, &err);
    if (o && json_is_object(o)) {
      *start = s;
      *len = j - s + 1;
      return o;
    }
    json_decref(o);
    if (candidates++ == 0)
      sch_why(why, whylen, "not JSON: %s", err.text);
    i = j + 1;
  }
  if (candidates == 0)
    sch_why(why, whylen, "not JSON: no JSON object in the answer");
  return NULL;
}

int llm_extract_json_object(const char *text, size_t *start, size_t *len) {
  if (!text)
    return FS_EINVAL;
  json_t *o = sch_find_object(text, start, len, NULL, 0);
  json_decref(o);
  return o ? 0 : FS_EINVAL;
}

/* The number of ASCII digits at s. */
static size_t sch_digits(const char *s) { return strspn(s, "0123456789"); }

/* 1 when t is "node-" and 4 to 9 digits, then (gpu_ok) "/gpu" and 1 to 9
 * digits or nothing. */
static int sch_node_form(const char *t, int gpu_ok) {
  if (strncmp(t, "node-", 5) != 0)
    return 0;
  size_t d = sch_digits(t + 5);
  if (d < 4 || d > 9)
    return 0;
  t += 5 + d;
  if (*t == '\0')
    return 1;
  if (!gpu_ok || strncmp(t, "/gpu", 4) != 0)
    return 0;
  d = sch_digits(t + 4);
  return d >= 1 && d <= 9 && t[4 + d] == '\0';
}

static int sch_rack_form(const char *t) {
  size_t d = strncmp(t, "rack-", 5) == 0 ? sch_digits(t + 5) : 0;
  return d >= 2 && d <= 9 && t[5 + d] == '\0';
}

int llm_action_target_ok(int kind, const char *t) {
  if (kind < 0 || kind >= ACT_COUNT || !t)
    return 0;
  size_t n;
  switch (act_target_of((act_kind)kind)) {
  case ACT_TARGET_NONE: return *t == '\0';
  case ACT_TARGET_NODE: return sch_node_form(t, 0);
  case ACT_TARGET_GPU: return sch_node_form(t, 1);
  case ACT_TARGET_RACK: return sch_rack_form(t);
  case ACT_TARGET_JOB:
    n = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
    return n >= 1 && n <= LLM_ACTION_JOB_MAX && t[n] == '\0';
  default:
    for (int k = 0; k < TENANT_COUNT; k++)
      if (strcmp(t, fleet_tenant_name(k)) == 0)
        return 1;
    return sch_node_form(t, 0) || sch_rack_form(t);
  }
}

/* Checks entry i of an `actions` array and rewrites its action name to the
 * canonical spelling. */
static int sch_check_action(json_t *e, size_t i, char *why, size_t whylen) {
  char q[48];
  if (!json_is_object(e)) {
    sch_why(why, whylen, "actions[%zu] is not an object {\"action\", \"target\"}", i);
    return FS_EINVAL;
  }
  json_t *a = json_object_get(e, "action"), *t = json_object_get(e, "target");
  if (!a || json_is_null(a)) {
    sch_why(why, whylen, "actions[%zu]: missing field 'action'", i);
    return FS_EINVAL;
  }
  if (!json_is_string(a)) {
    sch_why(why, whylen, "actions[%zu]: field 'action' is not a string", i);
    return FS_EINVAL;
  }
  int k = 0;
  while (k < ACT_COUNT && strcasecmp(json_string_value(a), act_name((act_kind)k)) != 0)
    k++;
  if (k == ACT_COUNT) {
    sch_why(why, whylen, "actions[%zu]: action '%s' is not an action of the list (no_op, "
                         "drain_node, ..., rma_gpu)",
            i, sb_quote(json_string_value(a), q, 40));
    return FS_EINVAL;
  }
  if (json_object_set_new(e, "action", json_string(act_name((act_kind)k))) != 0) {
    sch_why(why, whylen, "out of memory");
    return FS_ENOMEM;
  }
  act_target_kind tk = act_target_of((act_kind)k);
  if ((!t || json_is_null(t)) && tk == ACT_TARGET_NONE)
    return 0;
  if (!t || json_is_null(t)) {
    sch_why(why, whylen, "actions[%zu]: missing field 'target' (%s takes %s)", i,
            act_name((act_kind)k), act_target_form(tk));
    return FS_EINVAL;
  }
  if (!json_is_string(t)) {
    sch_why(why, whylen, "actions[%zu]: field 'target' is not a string", i);
    return FS_EINVAL;
  }
  if (!llm_action_target_ok(k, json_string_value(t))) {
    sch_why(why, whylen, "actions[%zu]: target '%s' of %s is not %s", i,
            sb_quote(json_string_value(t), q, 40), act_name((act_kind)k),
            tk == ACT_TARGET_NONE ? "\"\" (no target)" : act_target_form(tk));
    return FS_EINVAL;
  }
  return 0;
}

/* Checks an `actions` array: at most LLM_ACTIONS_MAX entries, each valid. */
static int sch_check_actions(json_t *v, char *why, size_t whylen) {
  if (!json_is_array(v)) {
    sch_why(why, whylen, "field 'actions' is not an array of {\"action\", \"target\"} objects");
    return FS_EINVAL;
  }
  if (json_array_size(v) > LLM_ACTIONS_MAX) {
    sch_why(why, whylen, "field 'actions' has %zu entries (at most %d)", json_array_size(v),
            LLM_ACTIONS_MAX);
    return FS_EINVAL;
  }
  for (size_t i = 0; i < json_array_size(v); i++) {
    int rc = sch_check_action(json_array_get(v, i), i, why, whylen);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Checks one field of obj against f; rewrites an enum to its canonical form. */
static int sch_check_field(json_t *obj, const sch_field *f, char *why, size_t whylen) {
  char q[48];
  json_t *v = json_object_get(obj, f->name);
  if (f->type == SCH_ACTIONS) /* optional: absent means no action */
    return !v || json_is_null(v) ? 0 : sch_check_actions(v, why, whylen);
  if (!v || json_is_null(v)) {
    sch_why(why, whylen, "missing field '%s'", f->name);
    return FS_EINVAL;
  }
  switch (f->type) {
  case SCH_CONFIDENCE:
    if (!json_is_number(v)) {
      sch_why(why, whylen, "field '%s' is not a number", f->name);
      return FS_EINVAL;
    }
    if (!(json_number_value(v) >= 0 && json_number_value(v) <= 1)) {
      sch_why(why, whylen, "%s %g not in [0, 1]", f->name, json_number_value(v));
      return FS_EINVAL;
    }
    return 0;
  case SCH_STRINGS:
    for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++)
      if (!json_is_string(json_array_get(v, i)))
        v = NULL;
    if (!json_is_array(v)) {
      sch_why(why, whylen, "field '%s' is not an array of strings", f->name);
      return FS_EINVAL;
    }
    return 0;
  case SCH_STRING:
  case SCH_ENUM:
  case SCH_ACTIONS:
    break;
  }
  if (!json_is_string(v)) {
    sch_why(why, whylen, "field '%s' is not a string", f->name);
    return FS_EINVAL;
  }
  const char *s = json_string_value(v);
  if (f->type == SCH_STRING) {
    if (s[strspn(s, " \t\r\n")] == '\0') {
      sch_why(why, whylen, "field '%s' is empty", f->name);
      return FS_EINVAL;
    }
    return 0;
  }
  char list[128] = "";
  for (const char *const *e = f->vocab; *e; e++) {
    if (strcasecmp(s, *e) == 0) {
      if (json_object_set_new(obj, f->name, json_string(*e)) == 0)
        return 0;
      sch_why(why, whylen, "out of memory");
      return FS_ENOMEM;
    }
    size_t used = strlen(list);
    snprintf(list + used, sizeof list - used, "%s%s", used ? "|" : "", *e);
  }
  sch_why(why, whylen, "%s '%s' not in %s", f->name, sb_quote(s, q, 40), list);
  return FS_EINVAL;
}

json_t *llm_answer_parse(int layer, const char *text, char *why, size_t whylen) {
  size_t n, start, len;
  const sch_field *f = sch_fields(layer, &n);
  if (!f) {
    sch_why(why, whylen, "layer %d has no JSON answer", layer);
    return NULL;
  }
  if (sch_check_text(text, why, whylen) != 0)
    return NULL;
  json_t *obj = sch_find_object(text, &start, &len, why, whylen);
  for (size_t i = 0; obj && i < n; i++)
    if (sch_check_field(obj, &f[i], why, whylen) != 0) {
      json_decref(obj);
      obj = NULL;
    }
  return obj;
}

/* s lowered, every run of ASCII non-alphanumerics made one ' ', with a ' '
 * at both ends, so " sla status " finds the words anywhere; malloc'd. */
static char *sch_words(const char *s) {
  char *out = malloc(strlen(s) + 3), *o = out;
  if (!out)
    return NULL;
  *o++ = ' ';
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (isalnum(c) || c >= 0x80)
      *o++ = (char)tolower(c);
    else if (o[-1] != ' ')
      *o++ = ' ';
  }
  if (o[-1] != ' ')
    *o++ = ' ';
  *o = '\0';
  return out;
}

/* The L4 report check: every heading of llm_l4_headings is present. */
static int sch_check_report(const char *text, char *why, size_t whylen) {
  char *words = sch_words(text);
  if (!words) {
    sch_why(why, whylen, "out of memory");
    return FS_ENOMEM;
  }
  int rc = 0;
  for (int i = 0; i < LLM_L4_NHEADINGS && rc == 0; i++) {
    char *h = sch_words(llm_l4_headings[i]);
    if (!h) {
      sch_why(why, whylen, "out of memory");
      rc = FS_ENOMEM;
    } else if (!strstr(words, h)) {
      sch_why(why, whylen, "missing section '%s'", llm_l4_headings[i]);
      rc = FS_EINVAL;
    }
    free(h);
  }
  free(words);
  return rc;
}

/* The actions of an L4 report (already checked as text): the `actions` of
 * its first JSON object, validated; a new empty array when there is none. */
static json_t *sch_report_actions(const char *text, char *why, size_t whylen) {
  size_t start, len;
  json_t *o = sch_find_object(text, &start, &len, NULL, 0);
  json_t *v = json_object_get(o, "actions");
  json_t *out = !v || json_is_null(v) ? json_array() : json_incref(v);
  json_decref(o);
  if (!out) {
    sch_why(why, whylen, "out of memory");
    return NULL;
  }
  if (sch_check_actions(out, why, whylen) != 0) {
    json_decref(out);
    return NULL;
  }
  return out;
}

size_t llm_l4_prose_len(const char *report) {
  size_t n = report ? strlen(report) : 0, start, len;
  json_t *o = report ? sch_find_object(report, &start, &len, NULL, 0) : NULL;
  int has = json_object_get(o, "actions") != NULL;
  json_decref(o);
  if (!has)
    return n;
  size_t line = start; /* back over the ```json fence line that opens the block */
  while (line > 0 && (report[line - 1] == ' ' || report[line - 1] == '\t' ||
                      report[line - 1] == '\n' || report[line - 1] == '\r'))
    line--;
  size_t fence = line;
  while (fence > 0 && report[fence - 1] != '\n')
    fence--;
  if (strncmp(report + fence, "```", 3) == 0 &&
      strspn(report + fence + 3, "jsonJSON") == line - fence - 3)
    return fence;
  return start;
}

json_t *llm_answer_action_list(int layer, const char *text, char *why, size_t whylen) {
  if (layer == LLM_LAYER_L2)
    return json_array();
  if (layer == LLM_LAYER_L4)
    return sch_check_text(text, why, whylen) == 0 && sch_check_report(text, why, whylen) == 0
               ? sch_report_actions(text, why, whylen)
               : NULL;
  json_t *obj = llm_answer_parse(layer, text, why, whylen);
  if (!obj)
    return NULL;
  json_t *v = json_object_get(obj, "actions");
  json_t *out = v && !json_is_null(v) ? json_incref(v) : json_array();
  json_decref(obj);
  if (!out)
    sch_why(why, whylen, "out of memory");
  return out;
}

int llm_validate_answer(int layer, const char *text, char *why, size_t whylen) {
  if (layer == LLM_LAYER_L4) {
    int rc = sch_check_text(text, why, whylen);
    if (rc == 0)
      rc = sch_check_report(text, why, whylen);
    json_t *actions = rc == 0 ? sch_report_actions(text, why, whylen) : NULL;
    json_decref(actions);
    return rc != 0 ? rc : actions ? 0 : FS_EINVAL;
  }
  json_t *obj = llm_answer_parse(layer, text, why, whylen);
  if (!obj)
    return FS_EINVAL;
  json_decref(obj);
  return 0;
}

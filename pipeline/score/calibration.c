/* The null operators of the calibration suite (see calibration.h): answers
 * built from the context alone, with their actions, and their replay
 * transcripts. */
#include "pipeline/score/calibration.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/llm/backend_rules.h"
#include "pipeline/llm/escalate.h"
#include "pipeline/llm/llm_schema.h"
#include "pipeline/score/checklist.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/safefile.h"
#include "src/core/strbuf.h"
#include "src/model/actions.h"

static const char *const cal_names[CAL_COUNT] = {"constant", "echo",   "denial",    "salad",
                                                 "hedge",    "pasted", "echo-salad"};
static const char *const cal_abouts[CAL_COUNT] = {
    "one fixed, plausible answer for every call",
    "the event copied back: its scope, tenant and trigger metric (value, z, baseline); real "
    "when the detector escalated; the L4 incident list, SLA and job tables as given",
    "explicit denial: noise, not thermal, no ECC, no NVLink errors, no fabric or KV problem, do "
    "not drain",
    "every registered kind's keywords (its oracle phrase and reason) and actions in every field",
    "undetermined; checkpoint, drain, vendor ticket, watch the SLA; a generic shift handoff",
    "the rules answer to the first call of the layer, pasted into every call",
    "the echo with every registered kind's keywords and actions added"};

const char *cal_name(cal_operator op) { return op < CAL_COUNT ? cal_names[op] : NULL; }
const char *cal_about(cal_operator op) { return op < CAL_COUNT ? cal_abouts[op] : NULL; }

/* ---- building answers ---------------------------------------------------- */

static char *cal_dump(json_t *o) {
  char *s = o ? json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(4)) : NULL;
  json_decref(o);
  return s;
}

static json_t *cal_strings(const char *const *v, int n) {
  json_t *a = json_array();
  for (int i = 0; a && i < n; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

static char *cal_l2(const char *cls, const char *scope, const char *tenant, double conf,
                    const char *rationale) {
  return cal_dump(json_pack("{s:s,s:s,s:s,s:f,s:s}", "classification", cls, "scope", scope,
                            "tenant_type", tenant, "confidence", conf, "rationale", rationale));
}

/* An L3 answer; chain and actions are arrays (stolen). */
static char *cal_l3(const char *root, const char *scope, json_t *tenants, const char *cross,
                    json_t *chain, json_t *actions, const char *priority) {
  return cal_dump(json_pack("{s:s,s:f,s:s,s:o,s:s,s:o,s:o,s:s}", "root_cause", root, "confidence",
                            0.5, "affected_scope", scope, "tenant_types", tenants,
                            "cross_tenant_impact", cross, "causal_chain", chain,
                            "recommended_actions", actions, "priority", priority));
}

/* An L4 report with text[k] under heading k. */
static char *cal_l4(const char *title, const char *const text[LLM_L4_NHEADINGS]) {
  strbuf b = {0};
  sb_addf(&b, "# %s\n", title);
  for (int k = 0; k < LLM_L4_NHEADINGS; k++)
    sb_addf(&b, "\n## %s\n\n%s\n", llm_l4_headings[k], text[k]);
  return sb_take(&b);
}

static const char *cal_str(json_t *o, const char *key, const char *dflt) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? s : dflt;
}

/* ---- the salad ------------------------------------------------------------ */

/* Every registered kind's words and actions, as a keyword list would have
 * them: each kind's oracle phrase and L2 reason (which name its family and
 * its key metrics), and its recommended actions with their placeholders
 * made generic. The kinds' knowledge, never a scenario's truth. */
typedef struct {
  char *words;
  json_t *actions; /* array of strings */
} cal_salad;

static void cal_salad_free(cal_salad *s) {
  free(s->words);
  json_decref(s->actions);
}

/* text with {place}, {job}, {hot} and {lot} made generic ("the node" ...). */
static char *cal_generic(const char *text) {
  static const char *const ph[][2] = {
      {"{place}", "the node"}, {"{job}", "the job"}, {"{hot}", "the hot GPUs"}, {"{lot}", "the lot"}};
  strbuf b = {0};
  for (const char *p = text; *p;) {
    size_t i = 0;
    while (i < sizeof ph / sizeof ph[0] && strncmp(p, ph[i][0], strlen(ph[i][0])) != 0)
      i++;
    if (i < sizeof ph / sizeof ph[0]) {
      sb_addf(&b, "%s", ph[i][1]);
      p += strlen(ph[i][0]);
    } else {
      sb_addf(&b, "%c", *p++);
    }
  }
  return sb_take(&b);
}

/* 0 or FS_ENOMEM (*s freed). */
static int cal_salad_make(const chk_set *kn, cal_salad *s) {
  strbuf w = {0};
  s->words = NULL;
  s->actions = json_array();
  int bad = !s->actions;
  const chk_kind_info *ki;
  for (int k = 0; !bad && (ki = chk_kind(kn, k)); k++) {
    sb_addf(&w, "%s%s: %s", k ? "; " : "", ki->oracle.phrase, ki->oracle.why);
    for (int a = 0; !bad && a < ki->oracle.nactions; a++) {
      char *act = cal_generic(ki->oracle.recommended_actions[a]);
      bad = !act || json_array_append_new(s->actions, json_string(act)) != 0;
      free(act);
    }
  }
  s->words = sb_take(&w);
  if (bad || !s->words) {
    cal_salad_free(s);
    return FS_ENOMEM;
  }
  return 0;
}

/* ---- the echo ------------------------------------------------------------- */

static void cal_signal(strbuf *b, json_t *s) {
  sb_addf(b, "%s z=%.2f value %.4g vs baseline %.4g", cal_str(s, "metric", "metric"),
          json_number_value(json_object_get(s, "z")), json_number_value(json_object_get(s, "value")),
          json_number_value(json_object_get(s, "baseline")));
}

/* The echo; with the salad's words added when salad is not NULL. */
static char *cal_echo_l2(json_t *ctx, const cal_salad *salad) {
  json_t *ev = json_object_get(ctx, "event");
  strbuf b = {0};
  cal_signal(&b, json_object_get(ev, "trigger"));
  sb_addf(&b, " on %s", cal_str(ev, "node", "the node"));
  if (salad)
    sb_addf(&b, ". %s", salad->words);
  char *rationale = sb_take(&b);
  if (!rationale)
    return NULL;
  const char *tenant = cal_str(ev, "tenant", "unknown");
  char *a = cal_l2(json_is_true(json_object_get(ev, "escalated_by_detector")) ? "real_anomaly"
                                                                               : "noise",
                   cal_str(ev, "scope", "node"), tenant, 0.5, rationale);
  free(rationale);
  return a;
}

static char *cal_echo_l3(json_t *ctx, const cal_salad *salad) {
  json_t *ev = json_object_get(ctx, "event");
  strbuf root = {0}, scope = {0};
  sb_addf(&root, "%s anomaly on %s (%s%s%s)",
          cal_str(json_object_get(ev, "trigger"), "metric", "metric"), cal_str(ev, "node", "node"),
          cal_str(ev, "rack", "rack"), json_is_string(json_object_get(ev, "job")) ? ", " : "",
          cal_str(ev, "job", ""));
  if (salad)
    sb_addf(&root, ": %s", salad->words);
  sb_addf(&scope, "%s %s %s %s", cal_str(ev, "scope", "node"), cal_str(ev, "node", ""),
          cal_str(ev, "rack", ""), cal_str(ev, "job", ""));
  json_t *chain = json_array();
  strbuf s = {0};
  cal_signal(&s, json_object_get(ev, "trigger"));
  char *line = sb_take(&s);
  json_array_append_new(chain, json_string(line ? line : ""));
  free(line);
  json_t *actions = salad ? json_copy(salad->actions) : json_array();
  strbuf act = {0};
  sb_addf(&act, "Investigate %s", cal_str(ev, "node", "the node"));
  line = sb_take(&act);
  json_array_append_new(actions, json_string(line ? line : ""));
  free(line);
  json_t *tenants = json_array();
  json_array_append_new(tenants, json_string(cal_str(ev, "tenant", "unknown")));
  char cross[64];
  snprintf(cross, sizeof cross, "%lld nodes affected",
           (long long)json_integer_value(json_object_get(ev, "nodes_affected")));
  char *r = sb_take(&root), *sc = sb_take(&scope);
  char *a = r && sc ? cal_l3(r, sc, tenants, cross, chain, actions,
                             json_is_true(json_object_get(ev, "escalated_by_detector")) ? "P2" : "P3")
                    : NULL;
  if (!a) {
    json_decref(tenants);
    json_decref(chain);
    json_decref(actions);
  }
  free(r);
  free(sc);
  return a;
}

static char *cal_echo_l4(json_t *ctx, const cal_salad *salad) {
  strbuf sec[LLM_L4_NHEADINGS] = {{0}};
  json_t *inc = json_object_get(ctx, "escalated_incidents");
  for (size_t i = 0; i < json_array_size(inc); i++) {
    json_t *x = json_array_get(inc, i);
    sb_addf(&sec[0], "- %s %s\n", cal_str(x, "time", ""), cal_str(x, "summary", ""));
  }
  if (!json_array_size(inc))
    sb_addf(&sec[0], "- None.\n");
  sb_addf(&sec[1], "- None.\n");
  const char *tenant;
  json_t *v;
  json_object_foreach(json_object_get(ctx, "sla_budget_remaining"), tenant, v)
      sb_addf(&sec[2], "- %s: %.2f%% remaining (start %.2f%%, burned %.3f%%)\n", tenant,
              100 * json_number_value(json_object_get(v, "end")),
              100 * json_number_value(json_object_get(v, "start")),
              100 * json_number_value(json_object_get(v, "burned")));
  json_t *jobs = json_object_get(ctx, "training_jobs");
  for (size_t i = 0; i < json_array_size(jobs); i++) {
    json_t *j = json_array_get(jobs, i);
    sb_addf(&sec[3], "- %s: step %.0f ms, baseline %.0f ms, max %.0f ms\n", cal_str(j, "job", ""),
            json_number_value(json_object_get(j, "step_ms_now")),
            json_number_value(json_object_get(j, "baseline_step_ms")),
            json_number_value(json_object_get(j, "step_ms_window_max")));
  }
  sb_addf(&sec[4], "- %s\n", salad ? salad->words : "None identified.");
  sb_addf(&sec[5], "- Review the incidents above.\n");
  for (size_t k = 0; salad && k < json_array_size(salad->actions); k++)
    sb_addf(&sec[5], "- %s.\n", json_string_value(json_array_get(salad->actions, k)));
  if (salad)
    sb_addf(&sec[0], "- %s\n", salad->words);
  char *text[LLM_L4_NHEADINGS];
  int bad = 0;
  for (int k = 0; k < LLM_L4_NHEADINGS; k++)
    bad |= !(text[k] = sb_take(&sec[k]));
  char *a = bad ? NULL : cal_l4("Shift handoff", (const char *const *)text);
  for (int k = 0; k < LLM_L4_NHEADINGS; k++)
    free(text[k]);
  return a;
}

/* ---- the fixed answers ---------------------------------------------------- */

/* The answers that read no context (salad: the kinds' words, see cal_salad). */
static char *cal_fixed(cal_operator op, llm_layer layer, const cal_salad *salad) {
  static const char *const hedge_actions[] = {"Checkpoint", "Drain if it persists",
                                              "Open a vendor ticket", "Watch the SLA"};
  static const char *const denial_l4[LLM_L4_NHEADINGS] = {
      "- None: no incidents this shift.", "- None.", "- SLA budgets are within plan.",
      "- All training jobs are healthy.",
      "- No emerging risks: no thermal, ECC, NVLink or fabric trend.", "- No action needed."};
  static const char *const hedge_l4[LLM_L4_NHEADINGS] = {
      "- Several alerts were investigated during the shift.", "- Some earlier alerts cleared.",
      "- SLA budgets are being consumed; watch the burn rate.",
      "- Training jobs are running; some steps were slower than usual.",
      "- Hardware degradation and capacity remain risks.",
      "- Monitor the fleet, follow up open tickets and check the dashboards."};
  static const char *const constant_l4[LLM_L4_NHEADINGS] = {
      "- See the dashboards.", "- See the dashboards.", "- See the dashboards.",
      "- See the dashboards.", "- See the dashboards.", "- See the dashboards."};
  const char *none = "No cross-tenant impact.";
  switch (op) {
  case CAL_CONSTANT:
    if (layer == LLM_L2)
      return cal_l2("real_anomaly", "node", "unknown", 0.5,
                    "The detector flagged an anomaly; it needs attention.");
    if (layer == LLM_L3)
      return cal_l3("A hardware or software fault on the flagged component.",
                    "the flagged component", json_array(), "unknown",
                    json_pack("[s,s]", "fault", "anomaly flagged by the detector"),
                    json_pack("[s]", "Investigate the flagged component"), "P2");
    return cal_l4("Shift handoff", constant_l4);
  case CAL_DENIAL:
    if (layer == LLM_L2)
      return cal_l2("noise", "node", "unknown", 0.9,
                    "Not a real fault: no thermal problem, no ECC or HBM errors, no NVLink "
                    "errors, no fabric congestion, no KV-cache or expert-routing issue.");
    if (layer == LLM_L3)
      return cal_l3("No fault: this is NOT a thermal or cooling problem, not HBM or ECC "
                    "degradation, no NVLink errors, no fabric congestion, no KV-cache eviction "
                    "and no expert-routing collapse.",
                    "none", json_array(), none,
                    json_pack("[s]", "No causal chain: the signal is statistical noise."),
                    json_pack("[s]", "Do not drain, checkpoint or migrate anything; no action "
                                     "needed."),
                    "P4");
    return cal_l4("Shift handoff", denial_l4);
  case CAL_SALAD: {
    if (layer == LLM_L2)
      return cal_l2("real_anomaly", "cluster", "mixed", 0.8, salad->words);
    if (layer == LLM_L3)
      return cal_l3(salad->words, "rack, node, GPU, job and cluster",
                    json_pack("[s,s,s]", "moe-inference", "dense-inference", "training"),
                    "Cross-tenant: training and inference are affected differently (tail latency "
                    "for inference, step time and all-reduce jitter for training); SLA impact.",
                    json_pack("[s]", salad->words), json_copy(salad->actions), "P1");
    const char *salad_l4[LLM_L4_NHEADINGS] = {salad->words, salad->words, salad->words,
                                              salad->words, salad->words, salad->words};
    return cal_l4("Shift handoff", salad_l4);
  }
  case CAL_HEDGE:
    if (layer == LLM_L2)
      return cal_l2("transient", "node", "unknown", 0.5, "Possibly real, possibly noise; undetermined.");
    if (layer == LLM_L3)
      return cal_l3("Undetermined; it could be hardware, cooling, network or workload related.",
                    "undetermined", json_array(), "Unknown.", json_pack("[s]", "Undetermined."),
                    cal_strings(hedge_actions, 4), "P2");
    return cal_l4("Shift handoff", hedge_l4);
  default:
    return NULL;
  }
}

/* ---- actions ------------------------------------------------------------------ */

/* Appends {"action": name, "target": target} to list unless the target is
 * not of the action's form (an entity the context does not give), the
 * same entry is there already, or the list is full. */
static void cal_act(json_t *list, const char *name, const char *target) {
  const char *t = target ? target : "";
  if (json_array_size(list) >= LLM_ACTIONS_MAX || !llm_action_target_ok(act_by_name(name), t))
    return;
  for (size_t i = 0; i < json_array_size(list); i++) {
    json_t *e = json_array_get(list, i);
    if (strcmp(cal_str(e, "action", ""), name) == 0 && strcmp(cal_str(e, "target", ""), t) == 0)
      return;
  }
  json_array_append_new(list, json_pack("{s:s,s:s}", "action", name, "target", t));
}

static const char *const cal_on_rack[] = {"power_cap_rack", "raise_cooling", "migrate_tenant"};
static const char *const cal_on_scope[] = {"rebalance_experts", "raise_kv_capacity",
                                           "cap_context_length"};

/* The salad's actions on an L3 context: every action on every entity the
 * event names (its job, node, GPU, rack and tenant). */
static void cal_salad_acts_l3(json_t *list, json_t *ev) {
  const char *node = cal_str(ev, "node", ""), *rack = cal_str(ev, "rack", "");
  const char *job = cal_str(ev, "job", ""), *tenant = cal_str(ev, "tenant", "");
  const char *gpu = cal_str(json_object_get(ev, "trigger"), "gpu", "");
  cal_act(list, "checkpoint_job", job);
  cal_act(list, "drain_node", node);
  cal_act(list, "cordon_node", node);
  if (job[0])
    cal_act(list, "restart_job_without_node", node);
  cal_act(list, "rma_gpu", gpu[0] ? gpu : node);
  for (size_t i = 0; i < 3; i++)
    cal_act(list, cal_on_rack[i], rack);
  for (size_t i = 0; i < 3; i++)
    cal_act(list, cal_on_scope[i], tenant);
}

/* The salad's actions on an L4 context: its report names no node, rack or
 * job, so the tenant-wide ones (the tenants of the SLA table): names it
 * would add to the scored text are left out. */
static void cal_salad_acts_l4(json_t *list, json_t *ctx) {
  const char *tenant;
  json_t *v;
  json_object_foreach(json_object_get(ctx, "sla_budget_remaining"), tenant, v) {
    for (size_t i = 0; i < 3; i++)
      cal_act(list, cal_on_scope[i], tenant);
  }
}

/* The echo's actions: drain the event's node (L3), or the node of every
 * escalated incident the report lists (L4). */
static void cal_echo_acts(json_t *list, json_t *ctx, llm_layer layer) {
  if (layer == LLM_L3) {
    cal_act(list, "drain_node", cal_str(json_object_get(ctx, "event"), "node", ""));
    return;
  }
  json_t *inc = json_object_get(ctx, "escalated_incidents");
  for (size_t i = 0; i < json_array_size(inc); i++) {
    const char *at = strstr(cal_str(json_array_get(inc, i), "summary", ""), "node-");
    char node[16] = "";
    if (at && sscanf(at, "%15[a-z0-9-]", node) == 1)
      cal_act(list, "drain_node", node);
  }
}

/* The actions of op (not pasted: the pasted rules answer has its own) on an
 * L3 or L4 call with context ctx (NULL when it is not a JSON object). */
static json_t *cal_actions(cal_operator op, llm_layer layer, json_t *ctx) {
  json_t *list = json_array(), *ev = json_object_get(ctx, "event");
  switch (op) {
  case CAL_CONSTANT:
    cal_act(list, "drain_node", "node-0000");
    break;
  case CAL_ECHO:
    cal_echo_acts(list, ctx, layer);
    break;
  case CAL_ECHO_SALAD: /* the echo's, then the salad's */
  case CAL_SALAD:
    if (op == CAL_ECHO_SALAD)
      cal_echo_acts(list, ctx, layer);
    if (layer == LLM_L3)
      cal_salad_acts_l3(list, ev);
    else
      cal_salad_acts_l4(list, ctx);
    break;
  case CAL_HEDGE:
    if (layer == LLM_L3) {
      cal_act(list, "checkpoint_job", cal_str(ev, "job", ""));
      cal_act(list, "drain_node", cal_str(ev, "node", ""));
    } else { /* its report names no job or node */
      cal_act(list, "no_op", "");
    }
    break;
  default: /* denial */
    cal_act(list, "no_op", "");
    break;
  }
  return list;
}

/* Adds the `actions` of op to *answer (an L3 answer's field; an L4
 * report's closing ```json block). 0 or FS_ENOMEM (*answer freed). */
static int cal_add_actions(cal_operator op, llm_layer layer, const char *context, char **answer) {
  json_t *ctx = json_loads(context, 0, NULL);
  json_t *list = cal_actions(op, layer, json_is_object(ctx) ? ctx : NULL);
  json_decref(ctx);
  char *out = NULL;
  if (list && layer == LLM_L3) {
    json_t *o = json_loads(*answer, JSON_PRESERVE_ORDER, NULL);
    if (o && json_object_set(o, "actions", list) == 0)
      out = cal_dump(o);
    else
      json_decref(o);
  } else if (list) {
    char *block = json_dumps(list, JSON_COMPACT | JSON_PRESERVE_ORDER);
    strbuf b = {0};
    if (block)
      sb_addf(&b, "%s\n```json\n{\"actions\": %s}\n```\n", *answer, block);
    free(block);
    out = block ? sb_take(&b) : NULL;
  }
  json_decref(list);
  free(*answer);
  *answer = out;
  return out ? 0 : FS_ENOMEM;
}

int cal_answer(cal_operator op, const chk_set *kn, const llm_call *calls, int n, int i,
               char **answer) {
  *answer = NULL;
  if (op >= CAL_COUNT || i < 0 || i >= n)
    return FS_EINVAL;
  const llm_call *c = &calls[i];
  if (op == CAL_PASTED) {
    for (int k = 0; k < n; k++)
      if (calls[k].layer == c->layer)
        return rules_answer(c->layer, calls[k].context, answer);
    return FS_EINVAL;
  }
  cal_salad salad = {0};
  int with_salad = op == CAL_SALAD || op == CAL_ECHO_SALAD;
  if (with_salad && cal_salad_make(kn, &salad) != 0)
    return FS_ENOMEM;
  const cal_salad *sp = with_salad ? &salad : NULL;
  json_t *ctx = NULL;
  int rc = 0;
  if (op == CAL_ECHO || op == CAL_ECHO_SALAD)
    ctx = json_loads(c->context, 0, NULL); /* not inside json_is_object: a macro */
  if (op != CAL_ECHO && op != CAL_ECHO_SALAD) {
    *answer = cal_fixed(op, c->layer, sp);
  } else if (!json_is_object(ctx)) {
    rc = FS_EINVAL;
  } else {
    *answer = c->layer == LLM_L2   ? cal_echo_l2(ctx, sp)
              : c->layer == LLM_L3 ? cal_echo_l3(ctx, sp)
                                   : cal_echo_l4(ctx, sp);
  }
  json_decref(ctx);
  if (with_salad)
    cal_salad_free(&salad);
  if (rc == 0 && *answer && c->layer != LLM_L2)
    rc = cal_add_actions(op, c->layer, c->context, answer);
  return rc ? rc : *answer ? 0 : FS_ENOMEM;
}

/* ---- transcripts ------------------------------------------------------------ */

int cal_write_transcript(const char *path, const char *name, const runid *run,
                         const llm_call *calls, int n, char *const *answers) {
  sf_replace r;
  if (sf_replace_open(&r, path) != 0)
    return FS_EIO;
  char *header = runid_header(run);
  int rc = header ? 0 : FS_ENOMEM;
  if (rc == 0)
    fprintf(r.fp, "%s\n", header);
  free(header);
  for (int i = 0; i < n && rc == 0 && !ferror(r.fp); i++) {
    esc_line l = {.call_id = calls[i].call_id,
                  .layer = calls[i].layer,
                  .event_id = calls[i].layer == LLM_L4 ? -1 : calls[i].event_id,
                  .t_s = calls[i].t_s,
                  .backend = name,
                  .kind = "calibration",
                  .ok = 1,
                  .attempts = 1,
                  .response_text = answers[i]};
    char *line = esc_format_line(&l);
    if (!line)
      rc = FS_ENOMEM;
    else
      fprintf(r.fp, "%s\n", line);
    free(line);
  }
  return sf_replace_finish(&r, rc); /* write errors: reported by the commit */
}

int cal_write_transcripts(const char *dir, const runid *run, const chk_set *kn,
                          const llm_call *calls, int n) {
  char path[4200];
  snprintf(path, sizeof path, "%s/calibration", dir);
  if (sf_mkdir(path, "calibration directory", 0) != 0)
    return FS_EIO;
  char **answers = calloc((size_t)n + 1, sizeof *answers);
  if (!answers)
    return FS_ENOMEM;
  int rc = 0;
  for (int op = 0; op < CAL_COUNT && rc == 0; op++) {
    for (int i = 0; i < n && rc == 0; i++) {
      int same = -1; /* the pasted answer is one per layer: made once, copied */
      for (int k = 0; op == CAL_PASTED && same < 0 && k < i; k++)
        if (calls[k].layer == calls[i].layer)
          same = k;
      if (same >= 0)
        rc = (answers[i] = strdup(answers[same])) ? 0 : FS_ENOMEM;
      else
        rc = cal_answer((cal_operator)op, kn, calls, n, i, &answers[i]);
    }
    snprintf(path, sizeof path, "%s/calibration/%s.jsonl", dir, cal_names[op]);
    if (rc == 0)
      rc = cal_write_transcript(path, cal_names[op], run, calls, n, answers);
    for (int i = 0; i < n; i++) {
      free(answers[i]);
      answers[i] = NULL;
    }
  }
  free(answers);
  return rc;
}

/* The paraphrasing oracle (see calibration_oracle.h): the ground truth of
 * each call, written out in the oracle's own words. Reads ground truth. */
#include "pipeline/score/calibration_oracle.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/llm/llm_schema.h"
#include "pipeline/llm/shift_facts.h"
#include "src/core/errors.h"
#include "src/core/strbuf.h"

static double orc_num(const json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *orc_tenants_all[] = {"moe-inference", "dense-inference", "training"};

/* Bit per tenant of the root-cause nodes of s. */
static unsigned orc_truth_tenants(const scn_def *s, const fleet *f) {
  unsigned bits = 0;
  for (int i = 0; i < s->nnodes; i++)
    bits |= 1u << f->node_tenant[s->nodes[i]];
  return bits;
}

static json_t *orc_tenant_array(unsigned bits) {
  json_t *a = json_array();
  for (int t = 0; a && t < TENANT_COUNT; t++)
    if ((bits >> t) & 1u)
      json_array_append_new(a, json_string(orc_tenants_all[t]));
  return a;
}

/* The place that localizes s for an event, by its kind's entity: its rack
 * (the event's when it is one of the fault's), its node, or its faulty GPU on
 * the event's node (else the first); the oracle's own words otherwise. */
static void orc_place(const scn_def *s, const fleet *f, const chk_kind_info *ki,
                      const tmap_event *e, char *out, size_t cap) {
  if (s->nnodes == 0 || ki->entity == CHK_ENTITY_NONE || ki->entity == CHK_ENTITY_HOT_GPU) {
    snprintf(out, cap, "%s", ki->oracle.place ? ki->oracle.place : "the fleet");
  } else if (ki->entity == CHK_ENTITY_RACK) {
    int rack = f->node_rack[s->nodes[0]];
    for (int i = 0; i < s->nnodes; i++)
      if (f->node_rack[s->nodes[i]] == e->rack)
        rack = e->rack;
    snprintf(out, cap, "rack-%02d", rack);
  } else if (ki->entity == CHK_ENTITY_NODE) {
    snprintf(out, cap, "node-%04d", s->nodes[0]);
  } else { /* CHK_ENTITY_GPU */
    int g = s->ngpus ? s->gpus[0] : 0;
    for (int i = 0; i < s->ngpus; i++)
      if (s->gpus[i] / FLEET_GPUS == e->node)
        g = s->gpus[i];
    snprintf(out, cap, "node-%04d/gpu%d", g / FLEET_GPUS, g % FLEET_GPUS);
  }
}

/* "GPUs 2 and 5" for the hot GPU mask. */
static void orc_hot(const scn_def *s, char *out, size_t cap) {
  int idx[FLEET_GPUS], n = 0;
  for (int g = 0; g < FLEET_GPUS; g++)
    if ((s->gpu_mask >> g) & 1)
      idx[n++] = g;
  if (n >= 2)
    snprintf(out, cap, "GPUs %d and %d", idx[0], idx[1]);
  else
    snprintf(out, cap, "GPU %d", n ? idx[0] : 0);
}

/* What the oracle's placeholders stand for, for one scenario and event. */
typedef struct {
  char place[48], hot[32], job[48], lot[16];
} orc_names;

static void orc_names_of(orc_names *n, const scn_def *s, const fleet *f, const chk_kind_info *ki,
                         const tmap_event *e) {
  orc_place(s, f, ki, e, n->place, sizeof n->place);
  orc_hot(s, n->hot, sizeof n->hot);
  snprintf(n->job, sizeof n->job, "%s", s->job >= 0 ? f->cfg->jobs[s->job].id : "");
  snprintf(n->lot, sizeof n->lot, "%d", s->lot);
}

/* Appends text with its placeholders ({place}, {hot}, {job}, {lot}; checked
 * when the checklists were parsed) filled from n. */
static void orc_fill(strbuf *b, const char *text, const orc_names *n) {
  static const char *const keys[] = {"{place}", "{hot}", "{job}", "{lot}"};
  const char *vals[] = {n->place, n->hot, n->job, n->lot};
  while (*text) {
    size_t k = 0, len = strcspn(text, "{");
    sb_addf(b, "%.*s", (int)len, text);
    text += len;
    if (!*text)
      break;
    while (k < 4 && strncmp(text, keys[k], strlen(keys[k])) != 0)
      k++;
    sb_addf(b, "%s", k < 4 ? vals[k] : "{");
    text += k < 4 ? strlen(keys[k]) : 1;
  }
}

/* A JSON array of the strings list[0..n) filled from names. */
static json_t *orc_fill_list(const char *const *list, int n, const orc_names *names) {
  json_t *a = json_array();
  for (int i = 0; a && i < n; i++) {
    strbuf b = {0};
    orc_fill(&b, list[i], names);
    char *t = sb_take(&b);
    if (!t || json_array_append_new(a, json_string(t))) {
      json_decref(a);
      a = NULL;
    }
    free(t);
  }
  return a;
}

static char *orc_dump(json_t *o) {
  char *s = o ? json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
  json_decref(o);
  return s;
}

/* ---- L2 ------------------------------------------------------------------- */

static char *orc_l2(const tmap_truth *t, const scn_def *s, const tmap_event *e) {
  if (!s)
    return orc_dump(json_pack("{s:s,s:s,s:s,s:f,s:s}", "classification", "noise", "scope",
                              e->scope >= 0 ? ev_scope_name((ev_scope)e->scope) : "node",
                              "tenant_type",
                              e->tenant >= 0 ? orc_tenants_all[e->tenant] : "unknown",
                              "confidence", 0.7,
                              "rationale", "An isolated blip within the normal range of its peers; "
                                           "nothing corroborates it."));
  const chk_kind_info *ki = chk_kind(t->knowledge, (int)s->kind);
  const char *scope = "node";
  for (int k = EV_SCOPE_COUNT - 1; k >= 0; k--) /* the widest scope the fault has */
    if ((ki->l2_scopes >> k) & 1u)
      scope = ev_scope_name((ev_scope)k);
  if (e->scope >= 0 && (ki->l2_scopes >> e->scope) & 1u)
    scope = ev_scope_name((ev_scope)e->scope);
  unsigned truth = orc_truth_tenants(s, t->f);
  int localized = (ki->l2_scopes & ((1u << EV_SCOPE_GPU) | (1u << EV_SCOPE_NODE))) != 0;
  const char *tenant = "mixed";
  if (localized && e->node >= 0)
    tenant = orc_tenants_all[t->f->node_tenant[e->node]];
  else if (!(truth & (truth - 1)))
    for (int k = 0; k < TENANT_COUNT; k++)
      if (truth == 1u << k)
        tenant = orc_tenants_all[k];
  return orc_dump(json_pack("{s:s,s:s,s:s,s:f,s:s}", "classification", "real_anomaly", "scope",
                            scope, "tenant_type", tenant, "confidence", 0.9, "rationale",
                            ki->oracle.why));
}

/* ---- L3 ------------------------------------------------------------------- */

static char *orc_l3(const tmap_truth *t, const scn_def *s, const tmap_event *e) {
  if (!s)
    return orc_dump(json_pack("{s:s,s:f,s:s,s:[],s:s,s:[s],s:[s],s:s}", "root_cause",
                              "A benign fluctuation: nothing is broken here, it is statistical "
                              "noise.",
                              "confidence", 0.7, "affected_scope", "nothing", "tenant_types",
                              "cross_tenant_impact", "Nobody is affected.", "causal_chain",
                              "ordinary load variation moved one metric briefly",
                              "recommended_actions", "Take no action beyond normal monitoring",
                              "priority", "P4"));
  const fleet *f = t->f;
  const chk_kind_info *ki = chk_kind(t->knowledge, (int)s->kind);
  orc_names names;
  orc_names_of(&names, s, f, ki, e);
  strbuf root = {0}, cross = {0}, scope = {0};
  orc_fill(&root, ki->oracle.root_cause, &names);
  orc_fill(&cross, ki->oracle.cross_tenant_impact, &names);
  orc_fill(&scope, ki->oracle.affected_scope, &names);
  json_t *chain = orc_fill_list(ki->oracle.causal_chain, ki->oracle.nchain, &names);
  json_t *acts = orc_fill_list(ki->oracle.recommended_actions, ki->oracle.nactions, &names);
  char *r = sb_take(&root), *c = sb_take(&cross), *sc = sb_take(&scope);
  json_t *o = NULL;
  if (r && c && sc && chain && acts) /* json_pack takes chain and acts (o) */
    o = json_pack("{s:s,s:f,s:s,s:o,s:s,s:o,s:o,s:s}", "root_cause", r, "confidence", 0.9,
                  "affected_scope", sc, "tenant_types", orc_tenant_array(orc_truth_tenants(s, f)),
                  "cross_tenant_impact", c, "causal_chain", chain, "recommended_actions", acts,
                  "priority", "P1");
  else {
    json_decref(chain);
    json_decref(acts);
  }
  free(r);
  free(c);
  free(sc);
  return orc_dump(o);
}

/* ---- L4 ------------------------------------------------------------------- */

static void orc_incident(strbuf *b, const tmap_truth *t, const scn_def *s, const char *verb) {
  tmap_event none = {0, -1, -1, -1, -1, -1, NULL};
  const chk_kind_info *ki = chk_kind(t->knowledge, (int)s->kind);
  char place[48];
  orc_place(s, t->f, ki, &none, place, sizeof place);
  sb_addf(b, "- %s%s on %s", verb, ki->oracle.phrase, place);
  if (s->job >= 0)
    sb_addf(b, " (%s)", t->f->cfg->jobs[s->job].id);
  sb_addf(b, "\n");
}

static char *orc_l4(const tmap_truth *t, const json_t *ctx, const llm_call *c,
                    const double *detected_s) {
  int nscn = t->scenarios ? t->scenarios->n : 0;
  int *idx = calloc((size_t)nscn + 1, sizeof *idx);
  tmap_state *st = calloc((size_t)nscn + 1, sizeof *st);
  if (!idx || !st) {
    free(idx);
    free(st);
    return NULL;
  }
  double hours = orc_num(json_object_get(ctx, "window"), "hours");
  int n = tmap_window(t, hours > 0 ? c->t_s - hours * 3600.0 : -INFINITY, c->t_s, detected_s, idx,
                      st);
  strbuf b = {0};
  sb_addf(&b, "# Handoff\n\n## Active incidents\n\n");
  int any = 0;
  for (int i = 0; i < n; i++)
    if (st[i] & TMAP_ACTIVE) {
      orc_incident(&b, t, &t->scenarios->s[idx[i]], "");
      any = 1;
    }
  sb_addf(&b, "%s\n## Resolved incidents\n\n", any ? "" : "- Nothing open.\n");
  any = 0;
  for (int i = 0; i < n; i++)
    if (st[i] == TMAP_RESOLVED) {
      orc_incident(&b, t, &t->scenarios->s[idx[i]], "Cleared: ");
      any = 1;
    }
  sb_addf(&b, "%s\n## SLA status\n\n", any ? "" : "- Nothing cleared.\n");
  const json_t *sla = json_object_get(ctx, "sla_budget_remaining");
  const char *tenant;
  json_t *v;
  json_object_foreach((json_t *)sla, tenant, v)
      sb_addf(&b, "- %s: %.2f%% of the error budget left; %s\n", tenant, 100 * orc_num(v, "end"),
              sf_sla_fast(ctx, tenant) ? "spending it fast this shift" : "on track");
  sb_addf(&b, "\n## Training health\n\n");
  const json_t *jobs = json_object_get(ctx, "training_jobs");
  for (size_t i = 0; i < json_array_size(jobs); i++) {
    const json_t *j = json_array_get(jobs, i);
    int bad = sf_job_degraded(j);
    sb_addf(&b, "- %s: %s\n", json_string_value(json_object_get(j, "job")) ? json_string_value(json_object_get(j, "job")) : "?",
            bad ? "was slowed down this shift" : "nominal");
  }
  sb_addf(&b, "\n## Emerging risks\n\n");
  any = 0;
  for (int i = 0; i < n; i++) {
    const scn_def *s = &t->scenarios->s[idx[i]];
    if ((st[i] & TMAP_ACTIVE) && chk_kind(t->knowledge, (int)s->kind)->slow_burn) {
      orc_incident(&b, t, s, "Watch: ");
      any = 1;
    }
  }
  sb_addf(&b, "%s\n## Next-shift recommendations\n\n", any ? "" : "- Nothing developing.\n");
  for (int i = 0; i < n; i++)
    if (st[i] & TMAP_ACTIVE)
      orc_incident(&b, t, &t->scenarios->s[idx[i]], "Chase down: ");
  sb_addf(&b, "- Keep an eye on the pager.\n");
  free(idx);
  free(st);
  return sb_take(&b);
}

int cal_oracle_answer(const tmap_truth *t, const llm_call *calls, int n, int i,
                      const double *detected_s, char **answer) {
  *answer = NULL;
  if (i < 0 || i >= n)
    return FS_EINVAL;
  const llm_call *c = &calls[i];
  json_t *ctx = json_loads(c->context, 0, NULL);
  if (!json_is_object(ctx)) {
    json_decref(ctx);
    return FS_EINVAL;
  }
  if (c->layer == LLM_L4) {
    *answer = orc_l4(t, ctx, c, detected_s);
  } else {
    char metric[EV_METRIC_LEN];
    tmap_event e = tmap_of_context(ctx, c->t_s, t->f, metric);
    int k = tmap_best(t, &e);
    const scn_def *s = k >= 0 ? &t->scenarios->s[k] : NULL;
    *answer = c->layer == LLM_L2 ? orc_l2(t, s, &e) : orc_l3(t, s, &e);
  }
  json_decref(ctx);
  return *answer ? 0 : FS_ENOMEM;
}

/* The strict score's L4 checks (see strict_score.h): incidents in the right
 * section and nothing unrelated beside them, places, SLA verdicts from the
 * context's tables, job health, risks and recommendations. Reads ground
 * truth for the scorer; the report is untrusted text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/score/answer_text.h"
#include "pipeline/llm/shift_facts.h"
#include "pipeline/score/strict_internal.h"

int sct_l4_words(regex_t w[SCT_NWORDS]) {
  static const char *const words[SCT_NWORDS] = {
      "slow|degrad|straggl|elevat|regress|behind|stall|throttl|lag|jitter|spik|late|waits?|"
      "impacted|affected|hit by",
      "healthy|nominal|normal|on track|no (degradation|slowdown|impact)|unaffected|stable",
      "fast|elevat|above|accelerat|at risk|breach|excess|spik|high|impact|degrad|alarm",
      "steady|on track|within (budget|plan|target|the slo)|normal|nominal|healthy|expected "
      "pace|as planned|unaffected"};
  int n = 0;
  while (n < SCT_NWORDS && regcomp(&w[n], words[n], REG_EXTENDED | REG_ICASE) == 0)
    n++;
  return n;
}


/* 1 when text names a place of s (incident_place rules). */
static int sct_place_named(const sct_ctx *x, const scn_def *s, const chk_kind_info *ki,
                           const char *text) {
  atx_entities e;
  memset(&e, 0, sizeof e);
  atx_collect_entities(text, x->jobs, x->njobs, &e);
  for (int i = 0; ki->entity == CHK_ENTITY_RACK && i < e.nrack; i++)
    if (sct_is_root_rack(s, x->f, e.rack[i]))
      return 1;
  for (int i = 0; ki->entity == CHK_ENTITY_NODE && i < e.nnode; i++)
    if (sct_is_root(s, e.node[i]))
      return 1;
  for (int i = 0; ki->entity == CHK_ENTITY_NODE && i < e.njob; i++)
    if (sct_is_root_job(s, x->f, e.job[i]))
      return 1;
  for (int i = 0; ki->entity == CHK_ENTITY_GPU && i < e.nnode; i++)
    if (sct_node_has_gpu(s, e.node[i]))
      return 1;
  for (int i = 0; ki->entity == CHK_ENTITY_HOT_GPU && i < e.ngpu_index; i++)
    if ((s->gpu_mask >> e.gpu_index[i]) & 1)
      return 1;
  return 0;
}

/* Lines of text, each offered to fn(line, arg) as a NUL-terminated copy;
 * stops at the first nonzero return, which it returns (-1: no memory). */
static int sct_each_line(const char *text, int (*fn)(const char *, void *), void *arg) {
  for (const char *line = text; line && *line;) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    char *l = strndup(line, len);
    if (!l)
      return -1;
    int r = fn(l, arg);
    free(l);
    if (r)
      return r;
    line = nl ? nl + 1 : NULL;
  }
  return 0;
}

/* Marks which entries of names[n] a line calls out with a word of re. */
typedef struct {
  const regex_t *re;
  const char *const *names;
  int n;
  char *said;
} sct_callout;

static int sct_callout_line(const char *l, void *arg) {
  sct_callout *c = arg;
  if (!atx_positive(c->re, l, NULL))
    return 0;
  atx_entities e;
  memset(&e, 0, sizeof e);
  atx_collect_entities(l, c->names, c->n, &e);
  for (int k = 0; k < e.njob; k++)
    c->said[e.job[k]] = 1;
  return 0;
}

/* sla_figures: every tenant's remaining budget quoted, and a verdict for
 * each: a tenant burning fast (sf_sla_fast) is named on a line with a burn
 * word, any other on a line with a steady word and on none with a burn word. */
static int sct_sla_figures(const sct_ctx *x, const regex_t *burn, const regex_t *steady_words) {
  const json_t *ctx = x->c->context;
  json_t *sla = json_object_get(ctx, "sla_budget_remaining"), *v;
  const char *sec = x->section[SEC_SLA], *tenant, *names[TENANT_COUNT], *shorts[TENANT_COUNT];
  char short_names[TENANT_COUNT][32];
  char said_fast[TENANT_COUNT] = {0}, said_steady[TENANT_COUNT] = {0};
  int n = 0, ok = sec != NULL;
  json_object_foreach(sla, tenant, v) {
    if (n == TENANT_COUNT || !json_is_number(json_object_get(v, "end")))
      continue;
    names[n] = tenant; /* a line may say "moe-inference", "MoE" or "moe" */
    snprintf(short_names[n], sizeof short_names[n], "%.*s", (int)strcspn(tenant, "-"), tenant);
    shorts[n] = short_names[n];
    double e = json_number_value(json_object_get(v, "end"));
    ok &= sec && (atx_has_number(sec, strlen(sec), 100.0 * e, 0.15) ||
                  atx_has_number(sec, strlen(sec), e, 0.0015));
    n++;
  }
  if (n == 0)
    return -1;
  sct_callout fast = {burn, shorts, n, said_fast}, calm = {steady_words, shorts, n, said_steady};
  if (ok && (sct_each_line(sec, sct_callout_line, &fast) < 0 ||
             sct_each_line(sec, sct_callout_line, &calm) < 0))
    return 0;
  for (int t = 0; ok && t < n; t++)
    ok = sf_sla_fast(ctx, names[t]) ? said_fast[t] : said_steady[t] && !said_fast[t];
  return ok;
}

/* jobs_health: every degraded job (sf_job_degraded) is named on a line that
 * says it is degraded; with none, the section says the jobs are healthy and
 * calls none degraded. */
static int sct_jobs_health(const sct_ctx *x, const regex_t *slow, const regex_t *well) {
  json_t *jobs = json_object_get(x->c->context, "training_jobs");
  const char *sec = x->section[SEC_TRAINING];
  char *degraded = calloc((size_t)x->njobs + 1, 1), *said = calloc((size_t)x->njobs + 1, 1);
  int nd = 0, ok = sec != NULL && degraded && said;
  for (size_t i = 0; ok && i < json_array_size(jobs); i++) {
    json_t *j = json_array_get(jobs, i);
    const char *id = json_string_value(json_object_get(j, "job"));
    for (int k = 0; id && k < x->njobs; k++)
      if (strcmp(id, x->jobs[k]) == 0 && sf_job_degraded(j)) {
        degraded[k] = 1;
        nd++;
      }
  }
  sct_callout co = {slow, x->jobs, x->njobs, said};
  if (ok && sct_each_line(sec, sct_callout_line, &co) < 0)
    ok = 0;
  for (int j = 0; ok && j < x->njobs; j++)
    if ((degraded[j] && !said[j]) || (nd == 0 && said[j]))
      ok = 0; /* a slowed job not called degraded; or, with none slowed, one called degraded */
  if (ok && nd == 0)
    ok = atx_positive(well, sec, NULL);
  free(degraded);
  free(said);
  return ok;
}

/* 1 when text names no fault family but those of the window's incidents
 * (and the kinds compatible with them). */
static int sct_only_window_families(const sct_ctx *x, const char *text) {
  unsigned allowed = 0;
  for (int i = 0; i < x->c->nincidents; i++) {
    int k = (int)x->c->truth->scenarios->s[x->c->incidents[i]].kind;
    allowed |= 1u << k | chk_kind(x->kn, k)->compatible;
  }
  for (int k = 0; k < SK_COUNT; k++)
    if (!((allowed >> k) & 1u) && ((sct_named(x, text) >> k) & 1u))
      return 0;
  return 1;
}

/* An L4 item of list (0: shift). */
int sct_l4_item(const sct_ctx *x, const chk_item *it, int list, const regex_t *words) {
  const sct_call *c = x->c;
  tmap_state st = TMAP_EITHER;
  const scn_def *s = sct_list_scenario(x, list, &st);
  const chk_kind_info *ki = s ? chk_kind(x->kn, (int)s->kind) : NULL;
  const char *act = x->section[SEC_ACTIVE], *res = x->section[SEC_RESOLVED];
  switch (it->check) {
  case CHK_INCIDENT:
    if (!s)
      return -1;
    return ((st & TMAP_ACTIVE) && sct_line_names_family(x, (int)s->kind, act) &&
            sct_only_window_families(x, act)) ||
           ((st & TMAP_RESOLVED) && sct_line_names_family(x, (int)s->kind, res) &&
            sct_only_window_families(x, res));
  case CHK_INCIDENT_PLACE:
    if (!s)
      return -1;
    return (act && sct_place_named(x, s, ki, act)) || (res && sct_place_named(x, s, ki, res));
  case CHK_SLA_FIGURES:
    return sct_sla_figures(x, &words[2], &words[3]);
  case CHK_JOBS_HEALTH:
    return sct_jobs_health(x, &words[0], &words[1]);
  case CHK_RISKS:
  case CHK_RECOMMENDATIONS: {
    const char *sec = x->section[it->check == CHK_RISKS ? SEC_RISKS : SEC_NEXT];
    int n = 0, ok = 1;
    for (int i = 0; i < c->nincidents; i++) {
      const scn_def *si = &c->truth->scenarios->s[c->incidents[i]];
      const chk_kind_info *k = chk_kind(x->kn, (int)si->kind);
      if (!(c->states[i] & TMAP_ACTIVE) || (it->check == CHK_RISKS && !k->slow_burn))
        continue;
      n++;
      ok &= sec && (sct_line_names_family(x, (int)si->kind, sec) ||
                    (it->check == CHK_RECOMMENDATIONS && sct_place_named(x, si, k, sec)));
    }
    return n ? ok && sct_only_window_families(x, sec) : -1;
  }
  default:
    return -1;
  }
}


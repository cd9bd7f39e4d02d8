/* The strict score of one answer (see strict_score.h): field-scoped,
 * negation-aware, ordered and ground-truth checks, with the gates. Reads
 * ground truth for the scorer; answers are untrusted text. */
#include "pipeline/strict_score.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pipeline/answer_text.h"
#include "pipeline/llm_schema.h"
#include "src/errors.h"

enum { CHK_RATIONALE_FIELD = 3 /* chk_l2_fields[3] */ };

/* L4 section indices (llm_l4_headings order). */
enum { SEC_ACTIVE, SEC_RESOLVED, SEC_SLA, SEC_TRAINING, SEC_RISKS, SEC_NEXT };

typedef struct {
  const sct_call *c;
  const chk_set *kn;
  const fleet *f;
  int layer;
  json_t *answer;               /* parsed L2/L3 answer */
  char *section[LLM_L4_NHEADINGS]; /* L4 section texts (NULL when missing) */
  const char **jobs;            /* [njobs] job ids */
  int njobs;
} sct_ctx;

int sct_names_family(const chk_set *knowledge, int k, const char *text) {
  const chk_kind_info *ki = chk_kind(knowledge, k);
  return ki && atx_any_positive(ki->family, ki->nfamily, text, NULL);
}

/* The kinds other than k (and not compatible with it) whose family text
 * names: a bit per kind. */
static unsigned sct_foreign_families(const chk_set *kn, int k, const char *text) {
  const chk_kind_info *ki = k >= 0 ? chk_kind(kn, k) : NULL;
  unsigned bits = 0;
  for (int o = 0; o < SK_COUNT; o++)
    if (o != k && !(ki && (ki->compatible >> o) & 1u) && sct_names_family(kn, o, text))
      bits |= 1u << o;
  return bits;
}

/* 1 when text names two fault families that are not compatible. */
static int sct_incoherent(const chk_set *kn, const char *text) {
  unsigned named = 0;
  for (int k = 0; k < SK_COUNT; k++)
    if (sct_names_family(kn, k, text))
      named |= 1u << k;
  for (int k = 0; k < SK_COUNT; k++)
    if ((named >> k) & 1u && (named & ~(1u << k) & ~chk_kind(kn, k)->compatible))
      return 1;
  return 0;
}

/* 1 when one line of text names kind k's family and no incompatible one. */
static int sct_line_names_family(const chk_set *kn, int k, const char *text) {
  for (const char *line = text; line && *line;) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    char *l = strndup(line, len);
    int ok = l && sct_names_family(kn, k, l) && !sct_foreign_families(kn, k, l);
    free(l);
    if (ok)
      return 1;
    line = nl ? nl + 1 : NULL;
  }
  return 0;
}

/* ---- ground truth of a scenario ------------------------------------------ */

/* Tenants of the root-cause nodes of s: a bit per tenant. */
static unsigned sct_truth_tenants(const scn_def *s, const fleet *f) {
  unsigned bits = 0;
  for (int i = 0; i < s->nnodes; i++)
    if (s->nodes[i] >= 0 && s->nodes[i] < f->nodes)
      bits |= 1u << f->node_tenant[s->nodes[i]];
  return bits;
}

static int sct_is_root(const scn_def *s, int node) {
  for (int i = 0; i < s->nnodes; i++)
    if (s->nodes[i] == node)
      return 1;
  return 0;
}

static int sct_is_root_rack(const scn_def *s, const fleet *f, int rack) {
  for (int i = 0; i < s->nnodes; i++)
    if (s->nodes[i] >= 0 && s->nodes[i] < f->nodes && f->node_rack[s->nodes[i]] == rack)
      return 1;
  return 0;
}

static int sct_is_root_job(const scn_def *s, const fleet *f, int job) {
  for (int i = 0; i < s->nnodes; i++)
    if (s->nodes[i] >= 0 && s->nodes[i] < f->nodes && f->node_job[s->nodes[i]] == job)
      return 1;
  return 0;
}

static int sct_is_gpu(const scn_def *s, int gpu) {
  for (int i = 0; i < s->ngpus; i++)
    if (s->gpus[i] == gpu)
      return 1;
  return 0;
}

/* 1 when node hosts a faulty GPU of s. */
static int sct_node_has_gpu(const scn_def *s, int node) {
  for (int g = 0; g < FLEET_GPUS; g++)
    if (sct_is_gpu(s, node * FLEET_GPUS + g))
      return 1;
  return 0;
}

/* The faulty GPUs of s this event is about: those on its node, else on its
 * job's or rack's nodes for job/rack events, else all (call place filter). */
static int sct_gpu_in_place(const scn_def *s, const fleet *f, const tmap_event *e, int gpu) {
  int node = gpu / FLEET_GPUS, any_node = 0, any_group = 0;
  if (node < 0 || node >= f->nodes || !sct_is_gpu(s, gpu))
    return 0;
  for (int i = 0; i < s->ngpus; i++) {
    int n = s->gpus[i] / FLEET_GPUS;
    if (n < 0 || n >= f->nodes)
      continue;
    any_node |= n == e->node;
    any_group |= (e->scope == EV_SCOPE_JOB && e->job >= 0 && f->node_job[n] == e->job) ||
                 (e->scope == EV_SCOPE_RACK && e->rack >= 0 && f->node_rack[n] == e->rack);
  }
  if (any_node)
    return node == e->node;
  if (any_group)
    return (e->scope == EV_SCOPE_JOB && f->node_job[node] == e->job) ||
           (e->scope == EV_SCOPE_RACK && f->node_rack[node] == e->rack);
  return 1;
}

/* ---- reading the answer ---------------------------------------------------- */

/* Appends the string values of the fields (CHK_F_* bits) of an L3 answer to
 * vals[*n] (array elements one by one). */
static void sct_values(json_t *answer, unsigned fields, const char **vals, int cap, int *n) {
  *n = 0;
  for (int k = 0; k < CHK_L3_NFIELDS; k++) {
    if (!((fields >> k) & 1u))
      continue;
    json_t *v = json_object_get(answer, chk_l3_fields[k]);
    size_t i;
    json_t *x;
    if (json_is_string(v) && *n < cap)
      vals[(*n)++] = json_string_value(v);
    else if (json_is_array(v))
      json_array_foreach(v, i, x) if (json_is_string(x) && *n < cap) vals[(*n)++] =
          json_string_value(x);
  }
}

enum { SCT_MAX_VALUES = 256 };

/* 1 when one of re[0..n) has a positive match in one of the values. */
static int sct_any_value(const regex_t *re, int n, const char *const *vals, int nv) {
  for (int i = 0; i < nv; i++)
    if (atx_any_positive(re, n, vals[i], NULL))
      return 1;
  return 0;
}

static void sct_entities(const sct_ctx *x, const char *const *vals, int nv, atx_entities *e) {
  memset(e, 0, sizeof *e);
  for (int i = 0; i < nv; i++)
    atx_collect_entities(vals[i], x->jobs, x->njobs, e);
}

/* ---- checks ------------------------------------------------------------------ */

/* entity: the kind's entity for this event, named with precision >= 1/2. */
static int sct_entity(const sct_ctx *x, const scn_def *s, const chk_kind_info *ki,
                      const atx_entities *e) {
  const fleet *f = x->f;
  const tmap_event *ev = &x->c->event;
  int hit = 0, truth = 0, named = 0;
  switch (ki->entity) {
  case CHK_ENTITY_RACK: {
    int event_rack_is_truth = ev->rack >= 0 && sct_is_root_rack(s, f, ev->rack);
    for (int i = 0; i < e->nrack; i++) {
      int t = sct_is_root_rack(s, f, e->rack[i]);
      truth += t;
      hit |= t && (!event_rack_is_truth || e->rack[i] == ev->rack);
    }
    named = e->nrack;
    break;
  }
  case CHK_ENTITY_NODE:
    for (int i = 0; i < e->nnode; i++) {
      int t = sct_is_root(s, e->node[i]);
      truth += t;
      hit |= t;
    }
    named = e->nnode;
    break;
  case CHK_ENTITY_GPU:
    for (int i = 0; i < e->ngpu; i++) {
      truth += sct_is_gpu(s, e->gpu[i]);
      hit |= sct_gpu_in_place(s, f, ev, e->gpu[i]);
    }
    named = e->ngpu;
    for (int i = 0; i < e->nnode; i++) { /* a node named without a GPU */
      int bare = 1;
      for (int k = 0; k < e->ngpu; k++)
        bare &= e->gpu[k] / FLEET_GPUS != e->node[i];
      if (!bare)
        continue;
      named++;
      int t = sct_node_has_gpu(s, e->node[i]);
      truth += t;
      for (int g = 0; t && g < FLEET_GPUS; g++)
        hit |= sct_gpu_in_place(s, f, ev, e->node[i] * FLEET_GPUS + g);
    }
    break;
  case CHK_ENTITY_HOT_GPU:
    for (int i = 0; i < e->ngpu_index; i++) {
      int t = (s->gpu_mask >> e->gpu_index[i]) & 1;
      truth += t;
      hit |= t;
    }
    named = e->ngpu_index;
    break;
  case CHK_ENTITY_NONE:
    return -1;
  }
  return hit && 2 * truth >= named;
}

static int sct_entity_job(const sct_ctx *x, const scn_def *s, const atx_entities *e) {
  int hit = 0;
  for (int i = 0; i < e->njob; i++)
    hit += sct_is_root_job(s, x->f, e->job[i]);
  return hit > 0 && 2 * hit >= e->njob;
}

/* lot: "lot" followed within 12 characters (no line break) by the number. */
static int sct_lot(const char *const *vals, int nv, int lot) {
  for (int v = 0; v < nv; v++) {
    const char *t = vals[v];
    for (size_t i = 0; t[i]; i++) {
      if (strncasecmp(t + i, "lot", 3) != 0 || (i > 0 && isalnum((unsigned char)t[i - 1])))
        continue;
      size_t j = i + 3, k = 0;
      while (t[j] && !isdigit((unsigned char)t[j]) && t[j] != '\n' && k < 12)
        j++, k++;
      if (!isdigit((unsigned char)t[j]))
        continue;
      long n = strtol(t + j, NULL, 10);
      size_t end = j;
      while (isdigit((unsigned char)t[end]))
        end++;
      if (n == lot && !atx_negated(t, i, end))
        return 1;
    }
  }
  return 0;
}

/* The tenants an L3 answer's tenant_types names: a bit per tenant. */
static unsigned sct_answer_tenants(json_t *answer) {
  json_t *arr = json_object_get(answer, "tenant_types"), *v;
  unsigned got = 0;
  size_t i;
  json_array_foreach(arr, i, v) for (int t = 0; t < TENANT_COUNT; t++) if (
      json_is_string(v) && strcasecmp(json_string_value(v), fleet_tenant_name(t)) == 0) got |=
      1u << t;
  return got;
}

/* order: a positive "first" before a positive "then" across the values (in
 * order), or a direct pattern in one value. */
static int sct_order(const chk_item *it, const char *const *vals, int nv) {
  if (sct_any_value(it->direct, it->ndirect, vals, nv))
    return 1;
  for (int i = 0; i < nv; i++) {
    size_t at;
    if (!atx_any_positive(it->first, it->nfirst, vals[i], &at))
      continue;
    for (int k = 0; k < it->nthen; k++)
      if (atx_positive_from(&it->then[k], vals[i], at + 1, NULL))
        return 1;
    for (int j = i + 1; j < nv; j++)
      if (atx_any_positive(it->then, it->nthen, vals[j], NULL))
        return 1;
    return 0; /* the earliest "first" decides */
  }
  return 0;
}

/* ---- L4 --------------------------------------------------------------------- */

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

/* The context's hourly value of column col at row r, or NAN. */
static double sct_hourly(json_t *hourly, const char *col, size_t r) {
  json_t *cols = json_object_get(hourly, "columns"), *v;
  size_t i;
  json_array_foreach(cols, i, v) if (json_is_string(v) && strcmp(json_string_value(v), col) == 0) {
    json_t *x = json_array_get(json_array_get(json_object_get(hourly, "rows"), r), i);
    return json_is_number(x) ? json_number_value(x) : NAN;
  }
  return NAN;
}

/* sla_figures: every tenant's remaining budget quoted, and a verdict for
 * each: a tenant burning fast is named on a line with a burn word, any other
 * on a line with a steady word and on none with a burn word. Fast: the
 * window's burn per hour above 1.5 times the slowest hourly burn of any
 * tenant in the window. */
static int sct_sla_figures(const sct_ctx *x, const regex_t *burn, const regex_t *steady_words) {
  const json_t *ctx = x->c->context;
  json_t *sla = json_object_get(ctx, "sla_budget_remaining"), *v;
  json_t *hourly = json_object_get(ctx, "hourly");
  double hours = json_number_value(json_object_get(json_object_get(ctx, "window"), "hours"));
  const char *sec = x->section[SEC_SLA], *tenant, *names[TENANT_COUNT], *shorts[TENANT_COUNT];
  char cols[TENANT_COUNT][40], short_names[TENANT_COUNT][32];
  char said_fast[TENANT_COUNT] = {0}, said_steady[TENANT_COUNT] = {0};
  int n = 0, ok = sec != NULL;
  double steady = INFINITY;
  json_object_foreach(sla, tenant, v) {
    if (n == TENANT_COUNT || !json_is_number(json_object_get(v, "end")))
      continue;
    names[n] = tenant; /* a line may say "moe-inference", "MoE" or "moe" */
    snprintf(short_names[n], sizeof short_names[n], "%.*s", (int)strcspn(tenant, "-"), tenant);
    shorts[n] = short_names[n];
    snprintf(cols[n], sizeof cols[n], "sla_%s", short_names[n]);
    for (size_t r = 1; r < json_array_size(json_object_get(hourly, "rows")); r++) {
      double d = sct_hourly(hourly, cols[n], r - 1) - sct_hourly(hourly, cols[n], r);
      if (d >= 0 && d < steady)
        steady = d;
    }
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
  for (int t = 0; ok && t < n; t++) {
    double burned = json_number_value(json_object_get(json_object_get(sla, names[t]), "burned"));
    int is_fast = isfinite(steady) && hours > 0 && burned / hours > 1.5 * steady + 1e-6;
    ok = is_fast ? said_fast[t] : said_steady[t] && !said_fast[t];
  }
  return ok;
}

/* jobs_health: every job whose worst step time in the window is more than
 * 3% above its baseline (the context's job table) is named on a line that
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
    double worst = json_number_value(json_object_get(j, "step_ms_window_max"));
    double base = json_number_value(json_object_get(j, "baseline_step_ms"));
    for (int k = 0; id && k < x->njobs; k++)
      if (strcmp(id, x->jobs[k]) == 0 && base > 0 && worst > 1.03 * base) {
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
    if (!((allowed >> k) & 1u) && sct_names_family(x->kn, k, text))
      return 0;
  return 1;
}

/* ---- one item ------------------------------------------------------------------ */

/* The scenario list i of an L4 call is about (-1 for the shift list). */
static const scn_def *sct_list_scenario(const sct_ctx *x, int list, tmap_state *state) {
  const sct_call *c = x->c;
  if (x->layer == 4) {
    if (list == 0)
      return NULL;
    *state = c->states[list - 1];
    return &c->truth->scenarios->s[c->incidents[list - 1]];
  }
  return c->scenario >= 0 ? &c->truth->scenarios->s[c->scenario] : NULL;
}

/* An L2 item. */
static int sct_l2_item(const sct_ctx *x, const chk_item *it, const scn_def *s) {
  const char *v = json_string_value(json_object_get(x->answer, chk_l2_fields[it->field]));
  const fleet *f = x->f;
  switch (it->check) {
  case CHK_SCOPE: {
    const chk_kind_info *ki = s ? chk_kind(x->kn, (int)s->kind) : NULL;
    int e = x->c->event.scope;
    if (!ki || (e >= 0 && (ki->l2_scopes >> e) & 1u))
      return -1; /* the event states the right scope: copying it is no triage */
    for (int k = 0; v && k < EV_SCOPE_COUNT; k++)
      if (strcmp(v, ev_scope_name((ev_scope)k)) == 0)
        return (ki->l2_scopes >> k) & 1u;
    return 0;
  }
  case CHK_TENANT: {
    if (!s)
      return -1;
    const chk_kind_info *ki = chk_kind(x->kn, (int)s->kind);
    unsigned truth = sct_truth_tenants(s, f);
    int multi = (truth & (truth - 1)) != 0;
    int localized = (ki->l2_scopes & ((1u << EV_SCOPE_GPU) | (1u << EV_SCOPE_NODE))) != 0;
    int node = x->c->event.node;
    int ten = node >= 0 && node < f->nodes ? f->node_tenant[node] : x->c->event.tenant;
    if (ten >= 0 && (localized ? (truth >> ten) & 1u : truth == 1u << ten))
      return -1; /* the event states the right tenant: copying it is no triage */
    if (!v)
      return 0;
    if (strcmp(v, "mixed") == 0)
      return multi;
    for (int t = 0; t < TENANT_COUNT; t++)
      if (strcmp(v, fleet_tenant_name(t)) == 0)
        return localized ? t == ten && ((truth >> t) & 1u) : truth == 1u << t;
    return 0;
  }
  case CHK_FAMILY:
    return s && sct_names_family(x->kn, (int)s->kind, v) &&
           !sct_foreign_families(x->kn, (int)s->kind, v);
  default: /* a rationale naming incompatible fault families earns nothing */
    return atx_any_positive(it->re, it->nre, v, NULL) &&
           !(it->field == CHK_RATIONALE_FIELD && sct_incoherent(x->kn, v));
  }
}

/* An L3 item. */
static int sct_l3_item(const sct_ctx *x, const chk_item *it, const scn_def *s) {
  const char *vals[SCT_MAX_VALUES];
  int nv;
  sct_values(x->answer, it->fields, vals, SCT_MAX_VALUES, &nv);
  if (it->nfirst > 0)
    return sct_order(it, vals, nv);
  atx_entities e;
  switch (it->check) {
  case CHK_ENTITY:
    if (!s)
      return -1;
    sct_entities(x, vals, nv, &e);
    return sct_entity(x, s, chk_kind(x->kn, (int)s->kind), &e);
  case CHK_ENTITY_JOB:
    if (!s)
      return -1;
    sct_entities(x, vals, nv, &e);
    return sct_entity_job(x, s, &e);
  case CHK_LOT:
    return s && s->lot >= 0 ? sct_lot(vals, nv, s->lot) : -1;
  case CHK_TENANTS:
    return s ? sct_answer_tenants(x->answer) == sct_truth_tenants(s, x->f) : -1;
  case CHK_CROSS_TENANT: {
    if (!s)
      return -1;
    unsigned truth = sct_truth_tenants(s, x->f), got = sct_answer_tenants(x->answer);
    return (truth & (truth - 1)) ? (got & ~truth) == 0 && (got & (got - 1)) != 0 : got == truth;
  }
  case CHK_NO_FAMILY:
    for (int i = 0; i < nv; i++)
      if (sct_foreign_families(x->kn, -1, vals[i]))
        return 0;
    return 1;
  case CHK_ABSENT:
    return !sct_any_value(it->re, it->nre, vals, nv);
  default:
    return sct_any_value(it->re, it->nre, vals, nv);
  }
}

/* An L4 item of list (0: shift). */
static int sct_l4_item(const sct_ctx *x, const chk_item *it, int list, const regex_t *words) {
  const sct_call *c = x->c;
  tmap_state st = TMAP_EITHER;
  const scn_def *s = sct_list_scenario(x, list, &st);
  const chk_kind_info *ki = s ? chk_kind(x->kn, (int)s->kind) : NULL;
  const char *act = x->section[SEC_ACTIVE], *res = x->section[SEC_RESOLVED];
  switch (it->check) {
  case CHK_INCIDENT:
    if (!s)
      return -1;
    return ((st & TMAP_ACTIVE) && sct_line_names_family(x->kn, (int)s->kind, act) &&
            sct_only_window_families(x, act)) ||
           ((st & TMAP_RESOLVED) && sct_line_names_family(x->kn, (int)s->kind, res) &&
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
      ok &= sec && (sct_line_names_family(x->kn, (int)si->kind, sec) ||
                    (it->check == CHK_RECOMMENDATIONS && sct_place_named(x, si, k, sec)));
    }
    return n ? ok && sct_only_window_families(x, sec) : -1;
  }
  default:
    return -1;
  }
}

/* ---- the answer ------------------------------------------------------------------ */

static void sct_ctx_free(sct_ctx *x) {
  json_decref(x->answer);
  for (int i = 0; i < LLM_L4_NHEADINGS; i++)
    free(x->section[i]);
  free(x->jobs);
}

/* Reads the answer into x; *why set when it cannot be scored. 0 or ENOMEM. */
static int sct_read(sct_ctx *x, const char *text, char *why, size_t whylen) {
  if (!text || !text[0]) {
    snprintf(why, whylen, "no answer");
    return 0;
  }
  if (x->layer != 4) {
    char w[120] = "";
    if (!(x->answer = llm_answer_parse(x->layer, text, w, sizeof w)))
      snprintf(why, whylen, "answer does not validate: %s", w);
    return 0;
  }
  atx_sections sec;
  atx_split_sections(text, &sec);
  for (int i = 0; i < LLM_L4_NHEADINGS; i++)
    if (sec.present[i] && !(x->section[i] = strndup(text + sec.start[i], sec.len[i])))
      return FS_ENOMEM;
  return 0;
}

/* The L3 family gate; 1 passes, else the reason in why. */
static int sct_family_gate(const sct_ctx *x, const scn_def *s, char *why, size_t whylen) {
  const char *root = json_string_value(json_object_get(x->answer, "root_cause"));
  int k = (int)s->kind;
  unsigned foreign = sct_foreign_families(x->kn, k, root);
  if (foreign) {
    int o = 0;
    while (!((foreign >> o) & 1u))
      o++;
    snprintf(why, whylen, "root cause names another fault family (%s): every item forfeited",
             scn_kind_name((scn_kind)o));
    return 0;
  }
  if (!sct_names_family(x->kn, k, root)) {
    snprintf(why, whylen, "root cause does not name the %s family: every item forfeited",
             scn_kind_name((scn_kind)k));
    return 0;
  }
  return 1;
}

int sct_score(chk_result *out, const chk_list *const *lists, const char *const *prefixes, int n,
              int layer, const char *text, const sct_call *c) {
  if (!out)
    return FS_EINVAL;
  memset(out, 0, sizeof *out);
  if (!c || !c->truth || n < 1 || !lists || layer < 2 || layer > 4 ||
      (layer == 4 && n != 1 + c->nincidents) || (layer != 4 && n != 1))
    return FS_EINVAL;
  int total = 0;
  for (int i = 0; i < n; i++) {
    if (!lists[i] || chk_list_count(lists[i]) < 0)
      return FS_EINVAL;
    total += chk_list_count(lists[i]);
  }
  sct_ctx x = {.c = c, .kn = c->truth->knowledge, .f = c->truth->f, .layer = layer};
  regex_t words[4];
  int nwords = 0, rc = 0;
  if (!(out->items = calloc((size_t)total + 1, sizeof *out->items)) ||
      !(x.jobs = calloc((size_t)x.f->njobs + 1, sizeof *x.jobs))) {
    rc = FS_ENOMEM;
    goto done;
  }
  x.njobs = x.f->njobs;
  for (int j = 0; j < x.njobs; j++)
    x.jobs[j] = x.f->cfg->jobs[j].id;
  if (layer == 4) {
    static const char *const w[4] = {
        "slow|degrad|straggl|elevat|regress|behind|stall|throttl|lag|jitter|spik|late|waits?|"
        "impacted|affected|hit by",
        "healthy|nominal|normal|on track|no (degradation|slowdown|impact)|unaffected|stable",
        "fast|elevat|above|accelerat|at risk|breach|excess|spik|high|impact|degrad|alarm",
        "steady|on track|within (budget|plan|target|the slo)|normal|nominal|healthy|expected "
        "pace|as planned|unaffected"};
    for (; nwords < 4; nwords++)
      if (regcomp(&words[nwords], w[nwords], REG_EXTENDED | REG_ICASE) != 0) {
        rc = FS_ENOMEM;
        goto done;
      }
  }
  char why[CHK_NOTE_LEN] = "";
  if ((rc = sct_read(&x, text, why, sizeof why)) != 0)
    goto done;
  const scn_def *s0 = layer != 4 && c->scenario >= 0 ? &c->truth->scenarios->s[c->scenario] : NULL;
  int gate_ok = !why[0] && !(layer == 3 && s0 && !sct_family_gate(&x, s0, why, sizeof why));
  for (int i = 0; i < n; i++)
    for (int k = 0; k < chk_list_count(lists[i]); k++) {
      const chk_item *it = chk_list_item(lists[i], k);
      tmap_state st;
      const scn_def *s = sct_list_scenario(&x, i, &st);
      int m = 0;
      if (gate_ok)
        m = layer == 2 ? sct_l2_item(&x, it, s) : layer == 3 ? sct_l3_item(&x, it, s)
                                                             : sct_l4_item(&x, it, i, words);
      if (m < 0)
        continue; /* not applicable to this call */
      chk_item_result *r = &out->items[out->nitems++];
      const char *pre = prefixes ? prefixes[i] : NULL;
      snprintf(r->item, CHK_ITEM_LEN, "%s%s%s", pre ? pre : "", pre ? "/" : "", it->id);
      r->matched = m;
      if (it->gate && !m && gate_ok) {
        snprintf(why, sizeof why, "gate '%s' not met: every item forfeited", it->id);
        gate_ok = 0;
      }
    }
  if (!gate_ok)
    for (int i = 0; i < out->nitems; i++)
      out->items[i].matched = 0;
  for (int i = 0; i < out->nitems; i++)
    out->nmatched += out->items[i].matched;
  out->score = out->nitems > 0 ? (double)out->nmatched / out->nitems : 0.0;
  snprintf(out->note, sizeof out->note, "%s", why);
done:
  for (int i = 0; i < nwords; i++)
    regfree(&words[i]);
  sct_ctx_free(&x);
  if (rc)
    chk_result_free(out);
  return rc;
}

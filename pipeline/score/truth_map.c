/* The event-to-scenario rule (see truth_map.h). Reads ground truth. */
#include "pipeline/score/truth_map.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double tmap_start_s(const tmap_truth *t, const scn_def *s) {
  return (double)s->t_start * t->scrape_interval_s;
}

double tmap_end_s(const tmap_truth *t, const scn_def *s) {
  return (double)s->t_end * t->scrape_interval_s;
}

static int tmap_has(const int32_t *v, int n, int x) {
  int k = scn_lower_bound(v, n, x);
  return k < n && v[k] == x;
}

unsigned tmap_relation(const tmap_truth *t, const scn_def *s, const tmap_event *e) {
  const fleet *f = t->f;
  if (!(e->t_s >= tmap_start_s(t, s) && e->t_s <= tmap_end_s(t, s) + TMAP_GRACE_S))
    return 0;
  if (!chk_is_signature(t->knowledge, (int)s->kind, e->metric))
    return 0;
  unsigned how = 0;
  if (e->node >= 0 && tmap_has(s->nodes, s->nnodes, e->node))
    how |= TMAP_ROOT_NODE;
  if (e->node >= 0 && tmap_has(s->impacted, s->nimpacted, e->node))
    how |= TMAP_IMPACTED;
  for (int i = 0; i < s->nnodes && !(how & (TMAP_ROOT_GROUP | TMAP_TENANT)); i++) {
    int n = s->nodes[i];
    if (n < 0 || n >= f->nodes)
      continue;
    if ((e->scope == EV_SCOPE_RACK && e->rack >= 0 && f->node_rack[n] == e->rack) ||
        (e->scope == EV_SCOPE_JOB && e->job >= 0 && f->node_job[n] == e->job))
      how |= TMAP_ROOT_GROUP;
    else if (e->scope == EV_SCOPE_CLUSTER && e->tenant >= 0 && f->node_tenant[n] == e->tenant)
      how |= TMAP_TENANT;
  }
  return how;
}

/* Rank of a relation for tmap_best. */
static int tmap_tier(unsigned how) {
  return how & TMAP_ROOT_NODE ? 3 : how & TMAP_IMPACTED ? 2 : how ? 1 : 0;
}

int tmap_best(const tmap_truth *t, const tmap_event *e) {
  int best = -1, best_tier = 0, best_rank = 0;
  for (int k = 0; t->scenarios && k < t->scenarios->n; k++) {
    const scn_def *s = &t->scenarios->s[k];
    int tier = tmap_tier(tmap_relation(t, s, e));
    if (!tier)
      continue;
    int rank = chk_signature_rank(t->knowledge, (int)s->kind, e->metric);
    if (best < 0 || tier > best_tier ||
        (tier == best_tier && (rank < best_rank ||
                               (rank == best_rank && s->t_start < t->scenarios->s[best].t_start)))) {
      best = k;
      best_tier = tier;
      best_rank = rank;
    }
  }
  return best;
}

tmap_event tmap_of_event(const ev_event *e) {
  return (tmap_event){e->t_s, (int)e->scope, e->node, e->rack, e->job, e->tenant, e->top.metric};
}

/* Number after prefix in name ("node-0042" -> 42), or -1. */
static int tmap_name_number(const char *name, const char *prefix) {
  size_t n = strlen(prefix);
  if (!name || strncmp(name, prefix, n) != 0 || !name[n])
    return -1;
  char *end;
  errno = 0;
  long v = strtol(name + n, &end, 10);
  return *end || errno || v < 0 || v > 1000000000L ? -1 : (int)v;
}

tmap_event tmap_of_context(const json_t *root, double t_s, const fleet *f,
                           char metric[EV_METRIC_LEN]) {
  tmap_event p = {t_s, -1, -1, -1, -1, -1, NULL};
  json_t *e = json_object_get(root, "event");
  const char *scope = json_string_value(json_object_get(e, "scope"));
  for (int s = 0; scope && s < EV_SCOPE_COUNT; s++)
    if (strcmp(scope, ev_scope_name((ev_scope)s)) == 0)
      p.scope = s;
  p.node = tmap_name_number(json_string_value(json_object_get(e, "node")), "node-");
  p.rack = tmap_name_number(json_string_value(json_object_get(e, "rack")), "rack-");
  const char *job = json_string_value(json_object_get(e, "job"));
  for (int j = 0; job && j < f->njobs; j++)
    if (strcmp(job, f->cfg->jobs[j].id) == 0)
      p.job = j;
  const char *tenant = json_string_value(json_object_get(e, "tenant"));
  for (int t = 0; tenant && t < TENANT_COUNT; t++)
    if (strcmp(tenant, fleet_tenant_name(t)) == 0)
      p.tenant = t;
  if (p.node >= f->nodes)
    p.node = -1;
  if (p.rack >= f->racks)
    p.rack = -1;
  const char *m = json_string_value(json_object_get(json_object_get(e, "trigger"), "metric"));
  if (m) {
    snprintf(metric, EV_METRIC_LEN, "%s", m);
    p.metric = metric;
  }
  return p;
}


void tmap_first_detections(const tmap_truth *t, const llm_call *calls, int n, double *detected_s) {
  int nscn = t->scenarios ? t->scenarios->n : 0;
  for (int k = 0; k < nscn; k++)
    detected_s[k] = INFINITY;
  for (int i = 0; i < n; i++) {
    if (calls[i].layer != LLM_L2)
      continue;
    json_t *ctx = calls[i].context ? json_loads(calls[i].context, 0, NULL) : NULL;
    char metric[EV_METRIC_LEN];
    tmap_event ev = tmap_of_context(ctx, calls[i].t_s, t->f, metric);
    int k = tmap_best(t, &ev);
    if (k >= 0 && calls[i].t_s < detected_s[k])
      detected_s[k] = calls[i].t_s;
    json_decref(ctx);
  }
}

int tmap_window(const tmap_truth *t, double t0, double t1, const double *detected_s, int *idx,
                tmap_state *state) {
  int n = 0;
  for (int k = 0; t->scenarios && k < t->scenarios->n; k++) {
    const scn_def *s = &t->scenarios->s[k];
    double start = tmap_start_s(t, s), end = tmap_end_s(t, s);
    if (!(start < t1 && end > t0 && detected_s[k] <= t1))
      continue;
    state[n] = end > t1 ? TMAP_ACTIVE : end + TMAP_RESOLVED_AFTER_S <= t1 ? TMAP_RESOLVED : TMAP_EITHER;
    idx[n++] = k;
  }
  return n;
}

/* The injector, kind-agnostic: for each scenario active at a scrape, find
 * its root-cause nodes that are local and hand them to the kind's inject op,
 * which sets the physical causes (tel_drivers). Symptoms are the telemetry
 * model's business; nothing here writes a metric. */
#include "scenarios/inject.h"
#include "scenarios/kinds/kind.h"

int scn_lower_bound(const int32_t *v, int n, int32_t x) {
  int lo = 0, hi = n;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (v[mid] < x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Where scenario s stands at scrape t. */
static scn_now scn_now_at(const scn_def *s, const fleet *f, int64_t t) {
  return (scn_now){
      .f = f,
      .t = t,
      .elapsed_min = (double)(t - s->t_start) * f->cfg->scrape_interval_s / 60.0,
      .progress = (double)(t - s->t_start) / (double)(s->t_end - s->t_start),
  };
}

int scn_drive(const scn_set *set, const fleet *f, int64_t t, int node0, int nnodes,
              tel_drivers *drivers) {
  int applied = 0;
  for (int i = 0; set && i < set->n; i++) {
    const scn_def *s = &set->s[i];
    if (t < s->t_start || t >= s->t_end || !scn_kind_ops_of(s->kind)->inject)
      continue;
    int k0 = scn_lower_bound(s->nodes, s->nnodes, node0);
    int k1 = scn_lower_bound(s->nodes, s->nnodes, node0 + nnodes);
    if (k1 == k0)
      continue;
    const scn_now now = scn_now_at(s, f, t);
    scn_kind_ops_of(s->kind)->inject(s, &now, k0, k1, node0, drivers);
    applied += k1 - k0;
  }
  return applied;
}

int scn_drive_jobs(const scn_set *set, const fleet *f, int64_t t, tel_job_drivers *jd) {
  int applied = 0;
  for (int i = 0; set && i < set->n; i++) {
    const scn_def *s = &set->s[i];
    const scn_kind_ops *ops = scn_kind_ops_of(s->kind);
    if (t < s->t_start || t >= s->t_end || !ops->drive_jobs)
      continue;
    const scn_now now = scn_now_at(s, f, t);
    ops->drive_jobs(s, &now, jd);
    applied++;
  }
  return applied;
}

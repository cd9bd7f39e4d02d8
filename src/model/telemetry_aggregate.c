/* What follows a window's scrapes (see telemetry.h): job step times once
 * the ranks agree on each job's slowest node, per-rack sums of this rank's
 * racks, and on the printing rank the cluster metrics built from every
 * rack's sums (outdoor air, PUE, IT and facility power, spare GPUs, SLA
 * budgets, tokens per tenant), with the cluster state a checkpoint carries.
 * Nodes without samples in a scrape add nothing to its sums; drained
 * idle-pool nodes are not spare capacity. */
#include "src/model/telemetry_model.h"

#include <stdlib.h>
#include <string.h>

#include "src/core/checkpoint.h"
#include "src/core/errors.h"

static const double TEL_SLA_WINDOW_S = 30.0 * 86400.0; /* error budget period */
static const double TEL_SLA_START = 0.80;               /* budget left at t = 0 */

struct tel_cluster {
  const fleet *f;
  float outdoor_noise;
  uint64_t outdoor_key;
  double sla[TENANT_COUNT];
};

void tel_job_local_max(const tel_model *m, const tel_window *w, int rows, double *job_max_ms) {
  const int nj = m->f->njobs;
  memset(job_max_ms, 0, sizeof *job_max_ms * (size_t)rows * (size_t)nj);
  for (int r = 0; r < rows; r++)
    for (int i = 0; i < m->nnodes; i++) {
      int j = m->f->node_job[m->node0 + i];
      if (j < 0)
        continue;
      double v = w->step_own_ms[(size_t)r * m->nnodes + i];
      if (v > job_max_ms[(size_t)r * nj + j])
        job_max_ms[(size_t)r * nj + j] = v;
    }
}

void tel_finish_training(tel_model *m, tel_window *w, int rows, const double *job_max_ms) {
  const int nj = m->f->njobs;
  for (int r = 0; r < rows; r++)
    for (int i = 0; i < m->nnodes; i++) {
      int j = m->f->node_job[m->node0 + i];
      if (j < 0)
        continue;
      size_t o = (size_t)r * m->nnodes + i;
      if (isnan(w->node[NM_INLET_TEMP][o].f))
        continue; /* no samples from this node in this scrape (tel_stage_missing) */
      float job_ms = (float)job_max_ms[(size_t)r * nj + j];
      float own = w->step_own_ms[o];
      float base_ms = (float)(m->cfg->jobs[j].step_time_s * 1000.0);
      const int left_out = own < 0; /* the job restarted without this node */
      w->node[NM_STEP_TIME][o].f = left_out ? NAN : job_ms;
      w->node[NM_ALLREDUCE_WAIT][o].f = left_out ? NAN : 0.08f * base_ms + (job_ms - own);
    }
}

void tel_rack_aggregates(const tel_model *m, const tel_window *w, int64_t t0, int rows,
                         double *out) {
  const fleet *f = m->f;
  memset(out, 0, sizeof *out * (size_t)m->nracks * (size_t)rows * TEL_AGG_COUNT);
  for (int r = 0; r < rows; r++) {
    const float *stall = &w->job_stall_s[(size_t)r * (size_t)f->njobs]; /* tel_scrape's */
    for (int i = 0; i < m->nnodes; i++) {
      int n = m->node0 + i;
      int lr = f->node_rack[n] - m->rack0;
      double *a = &out[((size_t)lr * rows + r) * TEL_AGG_COUNT];
      size_t o = (size_t)r * m->nnodes + i;
      /* a node without samples adds nothing to the scraped sums */
      const float node_w = w->node[NM_POWER][o].f;
      a[TEL_AGG_POWER_W] += isnan(node_w) ? 0.0f : node_w;
      int tenant = f->node_tenant[n];
      if (tenant == TENANT_TRAINING) {
        int j = f->node_job[n];
        if (j < 0) {
          if (bg_node_drained(&m->bg, n, t0 + r)) /* out for maintenance: not spare */
            continue;
          for (int g = 0; g < FLEET_GPUS; g++) {
            size_t go = o * FLEET_GPUS + (size_t)g;
            if (!(w->gpu[GM_CLOCK_EVENTS][go].u & CLOCK_EVENT_HW_THERMAL) &&
                w->gpu[GM_ECC_DBE][go].u == 0)
              a[TEL_AGG_SPARE_GPUS] += 1;
          }
        } else {
          /* checkpoint stalls are planned, not SLO breaches */
          if (stall[j] == 0 &&
              w->node[NM_STEP_TIME][o].f > 1.15f * 1000.0f * m->cfg->jobs[j].step_time_s)
            a[TEL_AGG_VIOL_TRAIN] += 1;
        }
      } else {
        int moe = tenant == TENANT_MOE;
        float ttft = w->node[NM_TTFT][o].f, itl = w->node[NM_ITL][o].f;
        if (ttft > (moe ? 600.0f : 520.0f) || itl > (moe ? 55.0f : 45.0f))
          a[moe ? TEL_AGG_VIOL_MOE : TEL_AGG_VIOL_DENSE] += 1;
        const float tok = w->node[NM_TOKENS][o].f;
        a[moe ? TEL_AGG_TOK_MOE : TEL_AGG_TOK_DENSE] += isnan(tok) ? 0.0f : tok;
      }
    }
  }
}

int tel_cluster_init(tel_cluster **out, const fleet *f) {
  *out = calloc(1, sizeof **out);
  if (!*out)
    return FS_ENOMEM;
  (*out)->f = f;
  (*out)->outdoor_key = rng_key(f->cfg->seed, RNG_STREAM_TELEMETRY + 40, 0);
  for (int k = 0; k < TENANT_COUNT; k++)
    (*out)->sla[k] = TEL_SLA_START;
  return 0;
}

void tel_cluster_destroy(tel_cluster **c) {
  if (!c || !*c)
    return;
  free(*c);
  *c = NULL;
}

void tel_cluster_window(tel_cluster *c, int64_t t0, int rows, const double *agg,
                        float *const cluster[CM_COUNT]) {
  const fleet *f = c->f;
  const double dt = f->cfg->scrape_interval_s;
  int tenant_nodes[TENANT_COUNT] = {f->cfg->moe_nodes, f->cfg->dense_nodes, 0};
  for (int j = 0; j < f->njobs; j++)
    tenant_nodes[TENANT_TRAINING] += f->cfg->jobs[j].nodes;
  /* every node at its GPUs' power cap and the host's peak */
  const double it_nameplate_w = (double)f->nodes * (FLEET_GPUS * TEL_POWER_CAP_W + 1150.0);
  for (int r = 0; r < rows; r++) {
    int64_t t = t0 + r;
    double sum[TEL_AGG_COUNT] = {0};
    for (int rack = 0; rack < f->racks; rack++)
      for (int k = 0; k < TEL_AGG_COUNT; k++)
        sum[k] += agg[((size_t)rack * rows + r) * TEL_AGG_COUNT + k];
    double hour = tel_hour_of_day(f->cfg, t);
    float z = tel_ar1(&c->outdoor_noise, c->outdoor_key, t, 0.995f);
    float outdoor = tel_outdoor_base(hour) + 0.8f * z;
    /* PUE: the facility's fixed overhead (lighting, UPS losses, pumps at
     * their floor: 5% of the IT nameplate) over the IT load, plus cooling
     * that grows with the IT heat and the outdoor air */
    const double it_w = sum[TEL_AGG_POWER_W] > 0 ? sum[TEL_AGG_POWER_W] : 1.0;
    float pue = (float)(1.0 + 0.05 * it_nameplate_w / it_w) + 0.06f +
                0.008f * fmaxf(0.0f, outdoor - 5.0f);
    const int viol_k[TENANT_COUNT] = {TEL_AGG_VIOL_MOE, TEL_AGG_VIOL_DENSE, TEL_AGG_VIOL_TRAIN};
    for (int k = 0; k < TENANT_COUNT; k++) {
      double frac = tenant_nodes[k] > 0 ? sum[viol_k[k]] / tenant_nodes[k] : 0.0;
      /* steady burn of 0.6x budget pace, plus breaches at 25x pace */
      c->sla[k] -= dt / TEL_SLA_WINDOW_S * (0.6 + 25.0 * frac);
      if (c->sla[k] < 0)
        c->sla[k] = 0;
    }
    cluster[CM_OUTDOOR_TEMP][r] = outdoor;
    cluster[CM_PUE][r] = pue;
    cluster[CM_IT_POWER][r] = (float)sum[TEL_AGG_POWER_W];
    cluster[CM_FACILITY_POWER][r] = (float)(sum[TEL_AGG_POWER_W] * pue);
    cluster[CM_SPARE_GPUS][r] = (float)sum[TEL_AGG_SPARE_GPUS];
    cluster[CM_SLA_MOE][r] = (float)c->sla[TENANT_MOE];
    cluster[CM_SLA_DENSE][r] = (float)c->sla[TENANT_DENSE];
    cluster[CM_SLA_TRAIN][r] = (float)c->sla[TENANT_TRAINING];
    cluster[CM_TOKENS_MOE][r] = (float)sum[TEL_AGG_TOK_MOE];
    cluster[CM_TOKENS_DENSE][r] = (float)sum[TEL_AGG_TOK_DENSE];
  }
}

void tel_cluster_save(const tel_cluster *c, ckpt_file *f) {
  ckpt_tag(f, "TCLU");
  ckpt_put(f, &c->outdoor_noise, sizeof c->outdoor_noise);
  ckpt_put(f, c->sla, sizeof c->sla);
}

int tel_cluster_load(tel_cluster *c, ckpt_file *f) {
  if (ckpt_expect(f, "TCLU") || ckpt_get(f, &c->outdoor_noise, sizeof c->outdoor_noise) ||
      ckpt_get(f, c->sla, sizeof c->sla))
    return FS_EIO;
  return 0;
}

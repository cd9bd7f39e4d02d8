/* Helpers the kinds resolve their targets with (scenarios/kinds/kind.h):
 * node lists, seeded rack and tenant picks, the ramp and random draws every
 * kind shares. Deterministic from the keys they are given. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/kinds/kind.h"
#include "src/core/diag.h"
#include "src/core/errors.h"

int scn_list_add(scn_list *l, int32_t x) {
  if (l->n == l->cap) {
    int cap = l->cap ? l->cap * 2 : 64;
    int32_t *nv = realloc(l->v, sizeof *nv * (size_t)cap);
    if (!nv)
      return FS_ENOMEM;
    l->v = nv;
    l->cap = cap;
  }
  l->v[l->n++] = x;
  return 0;
}

static int scn_cmp_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

void scn_list_finish(scn_list *l) {
  if (l->n == 0)
    return;
  qsort(l->v, (size_t)l->n, sizeof *l->v, scn_cmp_i32);
  int k = 1;
  for (int i = 1; i < l->n; i++)
    if (l->v[i] != l->v[k - 1])
      l->v[k++] = l->v[i];
  l->n = k;
}

void scn_pick_racks(scn_def *s, const fleet *f, uint64_t key) {
  if (f->racks == 1) {
    s->racks[0] = 0;
    s->nracks = 1;
    return;
  }
  int row = (int)(rng_bits(key, 1) % (uint64_t)f->rows);
  int first = row * f->racks_per_row;
  int in_row = f->racks - first < f->racks_per_row ? f->racks - first : f->racks_per_row;
  int r;
  if (in_row >= 2)
    r = first + (int)(rng_bits(key, 2) % (uint64_t)(in_row - 1));
  else
    r = (int)(rng_bits(key, 2) % (uint64_t)(f->racks - 1));
  s->racks[0] = r;
  s->racks[1] = r + 1;
  s->nracks = 2;
}

int scn_pick_tenant_nodes(const fleet *f, int tenant, double fraction, uint64_t key,
                          scn_list *out) {
  int first = -1;
  for (int n = 0; n < f->nodes; n++) {
    if (f->node_tenant[n] != tenant)
      continue;
    if (first < 0)
      first = n;
    if (fraction >= 1.0 || rng_uniform(rng_bits(key, (uint64_t)n)) < fraction)
      if (scn_list_add(out, n))
        return FS_ENOMEM;
  }
  if (out->n == 0 && first >= 0)
    return scn_list_add(out, first);
  return 0;
}

float scn_ramp(double elapsed_min, double ramp_min) {
  if (ramp_min <= 0 || elapsed_min >= ramp_min)
    return 1.0f;
  double x = elapsed_min / ramp_min;
  return (float)(x * x * (3.0 - 2.0 * x)); /* smoothstep: physical onsets are not kinks */
}

uint64_t scn_stream_key(const fleet *f, const scn_stream *st, uint64_t entity) {
  return rng_key(f->cfg->seed, st->stream, entity);
}

double scn_random_between(uint64_t key, uint64_t ctr, double lo, double hi) {
  return lo + (hi - lo) * rng_uniform(rng_bits(key, ctr));
}

/* With s->job chosen: resolves magnitude job_node (-1: drawn with counter
 * ctr of key) into s->job_node and returns the node; -1 (diag) when out of
 * range for the job. */
static int scn_job_node_of(scn_def *s, const fleet *f, const char *source, uint64_t key,
                           int job_node, uint64_t ctr) {
  int size = f->job_offset[s->job + 1] - f->job_offset[s->job];
  int jn = (int)s->param[job_node];
  if (jn >= size) {
    diag_addf("%s: scenario '%s': key 'job_node': %d is out of range for %s, which has %d nodes",
              source, s->id, jn, f->cfg->jobs[s->job].id, size);
    return -1;
  }
  if (jn < 0) {
    jn = (int)(rng_bits(key, ctr) % (uint64_t)size);
    s->param[job_node] = jn;
  }
  s->job_node = jn;
  return f->job_nodes[f->job_offset[s->job] + jn];
}

int scn_pick_job_node(scn_def *s, const fleet *f, const char *source, uint64_t key, int job_node) {
  if (s->job < 0) {
    s->job = (int)(rng_bits(key, 7) % (uint64_t)f->njobs);
    for (int j = 0; j < f->njobs; j++)
      if (strcmp(f->cfg->jobs[j].id, "train-001") == 0)
        s->job = j;
  }
  return scn_job_node_of(s, f, source, key, job_node, 8);
}

int scn_pick_seeded_job_node(scn_def *s, const fleet *f, const char *source, uint64_t key,
                             int job_node, uint64_t ctr) {
  if (s->job < 0)
    s->job = (int)(rng_bits(key, ctr) % (uint64_t)f->njobs);
  return scn_job_node_of(s, f, source, key, job_node, ctr + 1);
}

int scn_pick_gpu(scn_def *s, uint64_t key, int gpu) {
  if (s->param[gpu] < 0)
    s->param[gpu] = (double)(rng_bits(key, 9) % FLEET_GPUS);
  return (int)s->param[gpu];
}

/* Seconds of [a, b) inside [lo, hi). */
static double scn_overlap(double a, double b, double lo, double hi) {
  return fmax(0.0, fmin(b, hi) - fmax(a, lo));
}

int scn_job_restart(const scn_now *now, double crash_min, double hang_min, double restart_min,
                    tel_job_drivers *jd) {
  const double dt = now->f->cfg->scrape_interval_s, t0 = now->elapsed_min * 60.0, t1 = t0 + dt;
  const double hang0 = crash_min * 60.0, restart0 = hang0 + hang_min * 60.0;
  const double restart1 = restart0 + restart_min * 60.0;
  jd->hang_s += (float)scn_overlap(hang0, restart0, t0, t1);
  jd->restart_s += (float)scn_overlap(restart0, restart1, t0, t1);
  return t0 >= restart1;
}

int scn_job_restart_starts(const scn_now *now, double crash_min, double hang_min) {
  const double dt = now->f->cfg->scrape_interval_s, t0 = now->elapsed_min * 60.0;
  const double restart0 = (crash_min + hang_min) * 60.0;
  return restart0 >= t0 && restart0 < t0 + dt;
}

int scn_pick_node_gpu(scn_def *s, const fleet *f, const char *source, uint64_t key, int job_node,
                      int inference_node, int gpu, scn_list *nodes, scn_list *gpus) {
  int node, inf = (int)s->param[inference_node];
  if (inf >= 0) {
    if (inf >= f->nodes || f->node_tenant[inf] == TENANT_TRAINING) {
      diag_addf("%s: scenario '%s': key 'inference_node': %d is not an inference node", source,
                s->id, inf);
      return FS_ESCENARIO;
    }
    node = inf;
    s->job = -1;
  } else if (f->njobs == 0) {
    diag_addf("%s: scenario '%s': key 'inference_node': needed, the config has no training job",
              source, s->id);
    return FS_ESCENARIO;
  } else if ((node = scn_pick_job_node(s, f, source, key, job_node)) < 0) {
    return FS_ESCENARIO;
  }
  int g = scn_pick_gpu(s, key, gpu);
  s->gpu_mask = (uint8_t)(1u << g);
  int rc = scn_list_add(nodes, node);
  return rc ? rc : scn_list_add(gpus, node * FLEET_GPUS + g);
}

int scn_random_node_target(json_t *o, uint64_t key, const fleet *f) {
  int bad = 0;
  int inference = f->cfg->moe_nodes + f->cfg->dense_nodes;
  if (inference > 0 && (f->njobs == 0 || rng_bits(key, 10) % 3 == 0)) {
    int pick = (int)(rng_bits(key, 11) % (uint64_t)inference); /* the pick-th inference node */
    for (int n = 0, seen = 0; n < f->nodes; n++)
      if (f->node_tenant[n] != TENANT_TRAINING && seen++ == pick)
        bad |= json_object_set_new(o, "inference_node", json_integer(n));
  } else {
    int j = (int)(rng_bits(key, 12) % (uint64_t)f->njobs);
    bad |= json_object_set_new(o, "job", json_string(f->cfg->jobs[j].id));
  }
  return bad;
}

/* Helpers the kinds resolve their targets with (scenarios/kinds/kind.h):
 * node lists, seeded rack and tenant picks, the ramp and random draws every
 * kind shares. Deterministic from the keys they are given. */
#include <stdlib.h>

#include "scenarios/kinds/kind.h"
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

/* Archive staging (see archive_stage.h). */
#include "src/app/archive_stage.h"

#include <stdlib.h>
#include <string.h>

#include "src/core/errors.h"

int stage_init(arch_stage *st, const tel_model *m, int capacity, int root) {
  memset(st, 0, sizeof *st);
  int rc = tel_window_init(&st->w, m, capacity);
  for (int k = 0; rc == 0 && root && k < CM_COUNT; k++)
    if (!(st->cluster[k] = malloc(sizeof(float) * (size_t)capacity)))
      rc = FS_ENOMEM;
  if (rc == 0 && root && !(st->time_s = malloc(sizeof(double) * (size_t)capacity)))
    rc = FS_ENOMEM;
  if (rc != 0)
    stage_destroy(st);
  return rc;
}

void stage_destroy(arch_stage *st) {
  tel_window_destroy(&st->w);
  for (int k = 0; k < CM_COUNT; k++)
    free(st->cluster[k]);
  free(st->time_s);
  memset(st, 0, sizeof *st);
}

void stage_view(const arch_stage *st, tel_window *w) {
  const size_t nn = (size_t)w->nnodes, at = (size_t)st->rows;
  for (int k = 0; k < GM_COUNT; k++)
    w->gpu[k] = st->w.gpu[k] + at * nn * FLEET_GPUS;
  for (int k = 0; k < NM_COUNT; k++)
    w->node[k] = st->w.node[k] + at * nn;
}

int stage_add(arch_stage *st, h5a_writer *a, int64_t t0, int rows, float *const *cluster,
              const double *time_s, int last) {
  if (st->rows == 0)
    st->t0 = t0;
  const size_t at = (size_t)st->rows, n = (size_t)rows;
  for (int k = 0; st->time_s && k < CM_COUNT; k++)
    memcpy(st->cluster[k] + at, cluster[k], n * sizeof(float));
  if (st->time_s)
    memcpy(st->time_s + at, time_s, n * sizeof(double));
  st->rows += rows;
  if (st->rows < st->w.capacity && !last)
    return 0;
  int rc = h5a_write_window(a, st->t0, st->rows, st->w.gpu, st->w.node,
                            (const float *const *)st->cluster, st->time_s);
  st->rows = 0;
  return rc;
}

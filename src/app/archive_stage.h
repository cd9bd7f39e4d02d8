/* Archive staging for a run whose simulation window is shorter than the
 * archive's write: a closed-loop run simulates one 5-minute detection
 * block per window (so actions take effect every block), while its
 * archive keeps the chunking and write size of window_scrapes rows, as an
 * open-loop run writes it. Each simulated window is a view into a larger
 * buffer, written when it is full or the run ends. */
#ifndef FLEETSIM_ARCHIVE_STAGE_H
#define FLEETSIM_ARCHIVE_STAGE_H
#include <stdint.h>

#include "io/archive.h"
#include "src/model/telemetry.h"

typedef struct {
  tel_window w;              /* capacity rows of this rank's nodes */
  float *cluster[CM_COUNT];  /* [capacity], printing rank */
  double *time_s;            /* [capacity], printing rank */
  int rows;                  /* staged */
  int64_t t0;                /* scrape of the first staged row */
} arch_stage;

/* A buffer of `capacity` rows for model m's nodes; root: with the cluster
 * metrics and times. 0 or FS_ENOMEM. */
int stage_init(arch_stage *st, const tel_model *m, int capacity, int root);

/* Frees the buffers; safe on a zeroed or freed stage. */
void stage_destroy(arch_stage *st);

/* Points the telemetry rows of w (a window of the stage's nodes, of at
 * most the rows left in the stage) at the stage's next free rows, so that
 * the scrapes simulated into w land in the stage without a copy. w keeps
 * its own buffers for tel_window_destroy. */
void stage_view(const arch_stage *st, tel_window *w);

/* Collective. The rows [0, rows) of the window viewed last (scrapes
 * [t0, t0 + rows)) are staged, with (root) cluster[m][row] and
 * time_s[row]; writes the staged rows to archive a (h5a_write_window) when
 * the buffer is full or `last`. 0 or the write's FS_* code. */
int stage_add(arch_stage *st, h5a_writer *a, int64_t t0, int rows, float *const *cluster,
              const double *time_s, int last);

#endif

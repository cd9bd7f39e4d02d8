/* The run's phase timers and its end-of-run performance report: an enum of
 * timers with a matching table of names, start/stop around each phase, and
 * the report of wall time, pace, each timer's total, peak memory and
 * checkpoint size as min/avg/max over the ranks. Timing only: nothing here
 * changes a result. */
#ifndef FLEETSIM_TIMERS_H
#define FLEETSIM_TIMERS_H
#include <stdint.h>

#include "src/model/config.h"

/* X(ENUM, name): the timers in report order. */
#define RUN_TIMERS(X)                                                                              \
  X(TIMER_SIMULATE, "simulate")       /* the model, job step times, rack and cluster sums */       \
  X(TIMER_COLLECTIVES, "collectives") /* job step maxima, rack sums to the printing rank */        \
  X(TIMER_DETECT, "detect")           /* L1 detection, aggregation, contexts, LLM submits */       \
  X(TIMER_ARCHIVE, "archive")         /* the window's collective HDF5 write */                     \
  X(TIMER_CHECKPOINT, "checkpoint")   /* archive flush and restart checkpoint */

#define TIMER_ENUM(e, name) e,
typedef enum { RUN_TIMERS(TIMER_ENUM) TIMER_COUNT } timer_id;
#undef TIMER_ENUM

/* The names of the timers, indexed by timer_id. */
extern const char *const timer_names[TIMER_COUNT];

/* One rank's timers: seconds accumulated per timer, and the start of each
 * running one. Zero-initialise (all totals 0, none running). */
typedef struct {
  double total_s[TIMER_COUNT];
  double started_s[TIMER_COUNT];
} run_timers;

/* Starts timer k (par_wtime now). Usage:
 *   timer_start(&t, TIMER_ARCHIVE); rc = h5a_write_window(...); timer_stop(&t, TIMER_ARCHIVE); */
void timer_start(run_timers *t, timer_id k);

/* Adds the seconds since timer_start(t, k) to timer k's total. */
void timer_stop(run_timers *t, timer_id k);

/* What the end-of-run report says besides the timers. */
typedef struct {
  const fs_config *cfg;
  const char *archive_path; /* DIR/fleet.h5 */
  double wall_s;            /* the run's wall time so far */
  double checkpoint_bytes;  /* this rank's bytes in the last checkpoint */
  int64_t checkpoints;      /* checkpoints this process wrote */
} run_report;

/* Collective: the end-of-run report. Every rank's timers, peak memory
 * (getrusage) and checkpoint bytes are reduced to min/avg/max; the
 * printing rank prints the archive written, the data volume, the wall time
 * and pace, one line per timer ("fleetsim: timer simulate  min ... avg ...
 * max ..."), memory and checkpoints to stdout. Nothing is printed when a
 * reduction fails. */
void timers_report(const run_timers *t, const run_report *r);

#endif

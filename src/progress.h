/* Progress line for long runs, printed on stderr by the printing rank only:
 * simulated time, percent, data-point rate and ETA. */
#ifndef FLEETSIM_PROGRESS_H
#define FLEETSIM_PROGRESS_H
#include <stdint.h>

typedef struct {
  int enabled;          /* 0: print nothing */
  int tty;              /* stderr is a terminal: redraw one line */
  double start_wall;    /* seconds */
  double last_print;    /* seconds */
  int64_t total_scrapes;
  double points_per_scrape;
  int interval_s;
  double start_hour;
} progress;

/* Starts a progress reporter; enabled only when `enabled` and this rank prints. */
void progress_init(progress *p, int enabled, int64_t total_scrapes, double points_per_scrape,
                   int interval_s, double start_hour, double now);

/* Reports that `done` scrapes are finished at wall time now; prints at most
 * about once a second (always on the last scrape). */
void progress_update(progress *p, int64_t done, double now);

#endif

/* The progress line (see progress.h). */
#include "src/progress.h"

#include <stdio.h>
#include <unistd.h>

#include "mpi/par.h"

void progress_init(progress *p, int enabled, int64_t total_scrapes, double points_per_scrape,
                   int interval_s, double start_hour, double now) {
  p->enabled = enabled && par_prints();
  p->tty = isatty(fileno(stderr));
  p->start_wall = now;
  p->last_print = now;
  p->total_scrapes = total_scrapes;
  p->points_per_scrape = points_per_scrape;
  p->interval_s = interval_s;
  p->start_hour = start_hour;
}

static void progress_hms(double s, char *buf, size_t n) {
  long v = (long)(s + 0.5);
  snprintf(buf, n, "%ld:%02ld:%02ld", v / 3600, (v / 60) % 60, v % 60);
}

void progress_update(progress *p, int64_t done, double now) {
  if (!p->enabled)
    return;
  int last = done >= p->total_scrapes;
  double min_gap = p->tty ? 1.0 : 10.0;
  if (!last && now - p->last_print < min_gap)
    return;
  p->last_print = now;
  double elapsed = now - p->start_wall;
  double rate = elapsed > 0 ? done * p->points_per_scrape / elapsed : 0;
  double eta = done > 0 ? elapsed * (double)(p->total_scrapes - done) / done : 0;
  char sim[32], total[32], eta_s[32];
  progress_hms((double)done * p->interval_s, sim, sizeof sim);
  progress_hms((double)p->total_scrapes * p->interval_s, total, sizeof total);
  progress_hms(eta, eta_s, sizeof eta_s);
  fprintf(stderr, "%sfleetsim: simulated %s of %s (%5.1f%%)  %.3g points/s  ETA %s%s",
          p->tty ? "\r" : "", sim, total, 100.0 * done / p->total_scrapes, rate, eta_s,
          p->tty && !last ? "" : "\n");
  fflush(stderr);
}

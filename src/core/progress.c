/* Progress lines (see progress.h). */
#include "src/core/progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>


void progress_line_init(progress_line *p, int enabled) {
  p->enabled = enabled;
  p->tty = isatty(fileno(stderr));
  p->drawn = 0;
  p->interval_s = p->tty ? 1.0 : 10.0;
  p->last_print = 0;
}

int progress_line_report(progress_line *p, double now, int final, const char *fmt, ...) {
  if (!p->enabled || (p->drawn && !final && now - p->last_print < p->interval_s))
    return 0;
  p->drawn = 1;
  p->last_print = now;
  char text[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  if (p->tty) /* redraw: carriage return, the text, clear to the end of the line */
    fprintf(stderr, "\r%s\033[K%s", text, final ? "\n" : "");
  else
    fprintf(stderr, "%s\n", text);
  fflush(stderr);
  return 1;
}

void progress_hms(double s, char *buf, size_t n) {
  long v = (long)(s + 0.5);
  snprintf(buf, n, "%ld:%02ld:%02ld", v / 3600, (v / 60) % 60, v % 60);
}

void progress_bytes(double bytes, char *buf, size_t n) {
  static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (bytes >= 999.5 && u < 5) {
    bytes /= 1000.0;
    u++;
  }
  snprintf(buf, n, "%.3g %s", bytes, units[u]);
}

double progress_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void progress_init(progress *p, int enabled, int64_t first_done, int64_t total_scrapes,
                   double points_per_scrape, int interval_s, double now) {
  progress_line_init(&p->line, enabled);
  p->line.drawn = 1; /* the first report comes after one interval, not at scrape 0 */
  p->line.last_print = now;
  p->start_wall = now;
  p->first_done = first_done;
  p->total_scrapes = total_scrapes;
  p->points_per_scrape = points_per_scrape;
  p->interval_s = interval_s;
}

void progress_update(progress *p, int64_t done, double now) {
  double elapsed = now - p->start_wall;
  int64_t now_done = done - p->first_done;
  double rate = elapsed > 0 ? now_done * p->points_per_scrape / elapsed : 0;
  double eta = now_done > 0 ? elapsed * (double)(p->total_scrapes - done) / now_done : 0;
  char sim[32], total[32], eta_s[32];
  progress_hms((double)done * p->interval_s, sim, sizeof sim);
  progress_hms((double)p->total_scrapes * p->interval_s, total, sizeof total);
  progress_hms(eta, eta_s, sizeof eta_s);
  progress_line_report(&p->line, now, done >= p->total_scrapes,
                       "fleetsim: simulated %s of %s (%5.1f%%)  %.3g points/s  ETA %s", sim,
                       total, 100.0 * done / p->total_scrapes, rate, eta_s);
}

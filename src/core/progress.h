/* Progress lines on stderr. On a terminal one line is redrawn in place with
 * '\r' about once a second; anywhere else (a log file, a pipe, Slurm's
 * output) each report is a whole line of its own, one per 10 s, never a
 * '\r'. Every reporter prints its first report at once and always the last.
 * Callers decide which rank prints (the run's reporter on the printing rank
 * only). */
#ifndef FLEETSIM_PROGRESS_H
#define FLEETSIM_PROGRESS_H
#include <stddef.h>
#include <stdint.h>

/* One progress line and when it was last printed. */
typedef struct {
  int enabled;       /* 0: print nothing */
  int tty;           /* stderr is a terminal: redraw one line */
  int drawn;         /* a report was printed */
  double interval_s; /* least time between two reports: 1 s on a tty, else 10 s */
  double last_print; /* seconds */
} progress_line;

/* Starts a line reporter. */
void progress_line_init(progress_line *p, int enabled);

/* Prints one report, printf-style, if one is due at now: the first report,
 * the final one (final = 1, which also ends a redrawn line) and otherwise at
 * most one per interval. Returns 1 when it printed. */
int progress_line_report(progress_line *p, double now, int final, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Seconds as "H:MM:SS" into buf. */
void progress_hms(double s, char *buf, size_t n);

/* Bytes as "680 MB", "6.77 GB", "12.3 kB" (3 significant digits, SI units)
 * into buf. */
void progress_bytes(double bytes, char *buf, size_t n);

/* Monotonic wall-clock seconds. */
double progress_now(void);

/* The run's reporter: simulated time, percent, data-point rate and ETA. */
typedef struct {
  progress_line line;
  double start_wall; /* seconds */
  int64_t first_done; /* scrapes done before this process started (--resume) */
  int64_t total_scrapes;
  double points_per_scrape;
  int interval_s;
} progress;

/* Starts the run's reporter; it prints nothing unless `enabled` (the caller
 * passes 0 on ranks that do not print). */
void progress_init(progress *p, int enabled, int64_t first_done, int64_t total_scrapes,
                   double points_per_scrape, int interval_s, double now);

/* Reports that `done` scrapes are finished at wall time now (the last scrape
 * always). */
void progress_update(progress *p, int64_t done, double now);

#endif

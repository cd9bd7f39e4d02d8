/* Signal handlers for run and escalate (see interrupt.h). The handler uses
 * only async-signal-safe calls (write, _exit) and lock-free atomics. */
#include "src/core/interrupt.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static intr_kind intr_what;
static int intr_prints, intr_interval_s = 1;
static atomic_llong intr_done, intr_ckpt; /* scrapes */

void intr_note_scrapes(int64_t done) { atomic_store_explicit(&intr_done, done, memory_order_relaxed); }

void intr_note_checkpoint(int64_t scrapes) {
  atomic_store_explicit(&intr_ckpt, scrapes, memory_order_relaxed);
}

/* Appends text to buf at *n (cap bytes), NUL not kept. */
static void intr_put(char *buf, size_t cap, size_t *n, const char *text) {
  for (; *text && *n < cap; text++)
    buf[(*n)++] = *text;
}

/* Appends HH:MM:SS (hours may take more digits) of seconds. */
static void intr_put_time(char *buf, size_t cap, size_t *n, long long s) {
  char t[32];
  int k = 0;
  long long parts[3] = {s % 60, s / 60 % 60, s / 3600};
  for (int p = 0; p < 3; p++) {
    long long v = parts[p];
    int digits = 0;
    do {
      t[k++] = (char)('0' + v % 10);
      v /= 10;
      digits++;
    } while (v > 0 || digits < 2);
    if (p < 2)
      t[k++] = ':';
  }
  while (k > 0 && *n < cap)
    buf[(*n)++] = t[--k];
}

static void intr_handler(int sig) {
  if (intr_prints) {
    char buf[320];
    size_t n = 0, cap = sizeof buf - 1;
    intr_put(buf, cap, &n, "\nfleetsim: ");
    intr_put(buf, cap, &n, sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "SIGHUP");
    if (intr_what == INTR_RUN) {
      long long ckpt = atomic_load_explicit(&intr_ckpt, memory_order_relaxed);
      intr_put(buf, cap, &n, ": interrupted at ");
      intr_put_time(buf, cap, &n,
                    atomic_load_explicit(&intr_done, memory_order_relaxed) * intr_interval_s);
      if (ckpt > 0) {
        intr_put(buf, cap, &n, " of the run; continue with --resume (it starts again from "
                               "the checkpoint at ");
        intr_put_time(buf, cap, &n, ckpt * intr_interval_s);
        intr_put(buf, cap, &n, ")");
      } else {
        intr_put(buf, cap, &n, ckpt < 0 ? " of the run, which keeps no checkpoints"
                                        : " of the run, before its first checkpoint");
        intr_put(buf, cap, &n, ": start it again with --force");
      }
    } else {
      intr_put(buf, cap, &n, ": escalate interrupted; run the same command again to continue "
                             "(finished calls are kept and skipped)");
    }
    buf[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, buf, n);
    (void)w;
  }
  _exit(128 + sig);
}

void intr_install(intr_kind kind, int prints, int scrape_interval_s) {
  intr_what = kind;
  intr_prints = prints;
  intr_interval_s = scrape_interval_s > 0 ? scrape_interval_s : 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = intr_handler;
  sigfillset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
}

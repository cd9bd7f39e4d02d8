/* The LLM tier schedule of a run (see llm_schedule.h): which contexts are
 * written after each detection step, their queueing on the backends, and
 * the drain at the end. Printing rank only; it never waits on the network
 * while the simulation runs (esc_submit queues, esc_poll waits 0). */
#include "src/app/llm_schedule.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/detect/contexts_file.h"
#include "pipeline/detect/detect.h"
#include "src/core/checkpoint.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/progress.h"
#include "src/core/safefile.h"

/* Writes one call (its context owned here, freed; NULL: out of memory),
 * written at simulated time issue_s, to contexts.jsonl, tells the closed
 * loop and queues it on every backend. */
static int lsched_call(lsched *s, llm_layer layer, int64_t id, int64_t event_id, double t_s,
                       double issue_s, char *context) {
  if (!context)
    return FS_ENOMEM;
  llm_call c = {.event_id = event_id, .t_s = t_s, .context = context};
  llm_call_id(&c, layer, id);
  int rc = ctxf_append(s->contexts, &c);
  if (rc == FS_EIO)
    diag_addf("%s: cannot write: %s", s->contexts_path, strerror(errno));
  if (rc == 0 && s->cl)
    rc = cl_on_call(s->cl, &c, issue_s);
  for (int i = 0; rc == 0 && i < s->nesc; i++) /* never waits: esc_submit only queues */
    rc = esc_submit(s->esc[i], &c);
  free(context);
  return rc;
}

/* After step `step`: L2 contexts for events [first_new, ...), L3 contexts
 * for escalated events whose 30 minutes after are in (all of them when
 * `final`), L4 every s->l4_steps steps and once more when `final`. */
static int lsched_contexts(lsched *s, const agg_state *agg, const ctx_builder *ctx, int32_t step,
                           int first_new, int final, int scrape_interval_s) {
  int n;
  const ev_event *ev = agg_events(agg, &n);
  const double issue_s = (double)(step + 1) * DET_BLOCK_SCRAPES * scrape_interval_s;
  int rc = 0;
  for (int i = first_new; rc == 0 && i < n; i++)
    rc = lsched_call(s, LLM_L2, ev[i].event_id, ev[i].event_id, ev[i].t_s, issue_s,
                     ctx_l2(ctx, &ev[i]));
  for (; rc == 0 && s->next_l3 < n; s->next_l3++) {
    const ev_event *e = &ev[s->next_l3];
    if (!final && e->step + CTX_SERIES_HALF > step)
      break;
    if (e->escalated)
      rc = lsched_call(s, LLM_L3, e->event_id, e->event_id, e->t_s, issue_s, ctx_l3(ctx, e));
  }
  if (rc == 0 && ((step + 1) % s->l4_steps == 0 || final)) {
    int32_t from = final ? -1 : step - s->l4_steps;
    rc = lsched_call(s, LLM_L4, s->next_l4++, -1, issue_s, issue_s,
                     ctx_l4(ctx, from, step, ev, n));
  }
  return rc;
}

int lsched_block(lsched *s, const agg_state *agg, const ctx_builder *ctx, int32_t step,
                 int first_new, int scrape_interval_s) {
  int rc = lsched_contexts(s, agg, ctx, step, first_new, 0, scrape_interval_s);
  for (int i = 0; rc == 0 && i < s->nesc && s->esc_rc == 0; i++) /* wait 0: never on the network */
    s->esc_rc = esc_poll(s->esc[i], 0);
  return rc ? rc : s->esc_rc;
}

/* --resume: the calls already in contexts.jsonl go to every backend again
 * in their order; those in a backend's transcript are skipped (their
 * answers still feed its L3/L4 additions), the rest are queued. */
static int lsched_resubmit(lsched *s) {
  llm_call *calls = NULL;
  runid theirs;
  int n = 0, rc = ctxf_read(s->contexts_path, &calls, &n, &theirs);
  for (int i = 0; rc == 0 && i < n; i++)
    for (int b = 0; rc == 0 && b < s->nesc; b++)
      rc = esc_submit(s->esc[b], &calls[i]);
  for (int i = 0; i < n; i++)
    free(calls[i].context);
  free(calls);
  return rc;
}

int lsched_open(lsched *s, const sim_options *opt, const runid *run, int64_t contexts_bytes,
                int l4_steps) {
  s->l4_steps = l4_steps;
  char llm_dir[4096];
  snprintf(llm_dir, sizeof llm_dir, "%s/llm", opt->out_dir);
  snprintf(s->contexts_path, sizeof s->contexts_path, "%s/contexts.jsonl", llm_dir);
  int rc = sf_mkdir(llm_dir, "LLM directory", 0);
  if (rc == 0 && opt->resume)
    rc = ckpt_truncate(s->contexts_path, contexts_bytes);
  if (rc == 0 && opt->resume)
    rc = sf_append(s->contexts_path, 0, &s->contexts, NULL);
  else if (rc == 0)
    rc = sf_create(s->contexts_path, &s->contexts);
  if (rc == 0 && !opt->resume) { /* the run header goes first */
    rc = ctxf_write_header(s->contexts, run);
    if (rc == FS_EIO)
      diag_addf("%s: cannot write: %s", s->contexts_path, strerror(errno));
  }
  if (rc == 0 && opt->nbackends > 0 && !(s->esc = calloc((size_t)opt->nbackends, sizeof *s->esc)))
    rc = FS_ENOMEM;
  for (; rc == 0 && s->nesc < opt->nbackends; s->nesc++) {
    rc = esc_open(&s->esc[s->nesc], &opt->backends[s->nesc], opt->out_dir, opt->resume, run);
    if (rc == 0 && opt->pace > 0)
      rc = esc_set_pace(s->esc[s->nesc], opt->pace);
  }
  if (rc == 0 && opt->resume && s->nesc > 0)
    rc = lsched_resubmit(s);
  return rc;
}

/* Waits until every backend has answered every call. A wait over a second
 * gets a progress line: the calls done of all submitted per backend (and
 * those --pace still holds back) and an ETA from the rate so far, no earlier
 * than the last paced release. */
static int lsched_drain(lsched *s, int quiet) {
  progress_line line;
  progress_line_init(&line, !quiet);
  long start_left = 0;
  for (int i = 0; i < s->nesc; i++)
    start_left += esc_pending(s->esc[i]);
  double t0 = progress_now();
  int rc = 0;
  for (int final = 0; rc == 0 && start_left > 0 && !final;) {
    long left = 0;
    double release_left = 0;
    for (int i = 0; i < s->nesc; i++)
      left += esc_pending(s->esc[i]);
    final = left == 0;
    char text[400], eta[32] = "?";
    int n = snprintf(text, sizeof text, "fleetsim: LLM calls answered:");
    for (int i = 0; i < s->nesc && n < (int)sizeof text; i++) {
      esc_summary sum;
      esc_stats(s->esc[i], &sum);
      long done = sum.calls_ok + sum.calls_error + sum.calls_skipped;
      n += snprintf(text + n, sizeof text - (size_t)n, "%s %s %ld/%ld", i ? "," : "", sum.name,
                    done, done + sum.pending);
      if (sum.calls_error && n < (int)sizeof text)
        n += snprintf(text + n, sizeof text - (size_t)n, " (%ld errors)", sum.calls_error);
      if (sum.held && n < (int)sizeof text)
        n += snprintf(text + n, sizeof text - (size_t)n, " (%ld held by --pace)", sum.held);
      release_left = sum.release_left_s > release_left ? sum.release_left_s : release_left;
    }
    double el = progress_now() - t0;
    double est =
        left < start_left && el > 0 ? el / (double)(start_left - left) * (double)left : -1.0;
    if (est >= 0 || release_left > 0)
      progress_hms(est > release_left ? est : release_left, eta, sizeof eta);
    if (el >= 1.0 || (final && line.drawn)) /* a wait under a second goes unreported */
      progress_line_report(&line, progress_now(), final, "%s  ETA %s", text, eta);
    for (int i = 0; rc == 0 && !final && i < s->nesc; i++)
      if (esc_pending(s->esc[i]) > 0)
        rc = esc_poll(s->esc[i], 100 / s->nesc + 1);
  }
  return rc;
}

int lsched_finish(lsched *s, const agg_state *agg, const ctx_builder *ctx, int32_t last_step,
                  int scrape_interval_s, int quiet) {
  int rc = lsched_contexts(s, agg, ctx, last_step, INT32_MAX, 1, scrape_interval_s);
  if (rc == 0)
    rc = s->esc_rc ? s->esc_rc : lsched_drain(s, quiet);
  return rc;
}

int lsched_sync(lsched *s, int64_t *bytes) {
  int rc = ckpt_sync_stream(s->contexts, s->contexts_path);
  long off = rc == 0 ? ftell(s->contexts) : -1;
  if (rc == 0 && off < 0) {
    diag_addf("%s: cannot tell its length: %s", s->contexts_path, strerror(errno));
    rc = FS_EIO;
  }
  *bytes = off;
  return rc;
}

void lsched_print_summaries(const lsched *s, FILE *out) {
  for (int i = 0; i < s->nesc; i++) {
    esc_summary sum;
    esc_stats(s->esc[i], &sum);
    esc_print_summary(&sum, out);
  }
}

void lsched_close(lsched *s) {
  if (s->contexts)
    fclose(s->contexts);
  s->contexts = NULL;
  for (int i = 0; i < s->nesc; i++)
    esc_close(&s->esc[i]);
  free(s->esc);
  s->esc = NULL;
  s->nesc = 0;
}

/* The escalation engine: one per backend. Takes llm_calls (contexts from
 * DIR/llm/contexts.jsonl), adds the backend's own history to L3/L4 contexts
 * at send time, asks the backend (rules/replay in-process, openai/anthropic
 * over pipeline/llm/transport.c) and appends one transcript line per finished
 * call to DIR/llm/<name>.jsonl (after its run header line). Single-threaded,
 * never blocks on the network except inside esc_poll/esc_drain, and never
 * writes an API key, a header or a prompt anywhere.
 *
 * Order: L2 calls never wait; an L3 call starts only when every L2 call
 * submitted before it has finished; an L4 call only when every call
 * submitted before it has finished. Otherwise up to spec concurrency calls
 * run at once.
 *
 * Pacing (esc_set_pace, `--pace X`): a call is also held until the wall time
 * since the first call's release reaches (its t_s - the first call's t_s) /
 * X (pipeline/llm/pace.h); it is released then, or when it is submitted if
 * that is later, and then starts under the rules above. Its transcript line
 * gets the fields pace, due_s, release_s, start_s and queue_s (docs/llm.md).
 * Without it, calls are due when submitted and the lines are as before.
 *
 * Usage:
 *   esc_backend *b; if ((rc = esc_open(&b, &spec, dir, 1)) < 0) return rc;
 *   for (...) esc_submit(b, &call);   (esc_poll(b, 0) now and then)
 *   esc_drain(b); esc_summary s; esc_stats(b, &s); esc_close(&b); */
#ifndef FLEETSIM_ESCALATE_H
#define FLEETSIM_ESCALATE_H
#include <stdio.h>

#include "pipeline/detect/contexts_file.h"
#include "pipeline/llm/llm_spec.h"
#include "src/core/runid.h"

typedef struct esc_backend esc_backend;

/* What a backend did since esc_open. */
typedef struct {
  char name[LLM_SPEC_NAME_LEN]; /* spec name (transcript file stem) */
  long calls_ok, calls_error;   /* calls finished and written */
  long calls_skipped;           /* already in the transcript (resume) */
  long pending;                 /* submitted, not finished */
  double wall_s;                /* first call started to last call finished */
  double latency_mean_s, latency_p50_s, latency_p95_s; /* over finished calls */
  long tokens_in, tokens_out;   /* sums (estimates for rules/replay) */
  double cost_usd;              /* sum of llm_cost_usd */
  double gpu_hours;             /* sum for local servers with gpu_hour_usd */
  double pace;                  /* esc_set_pace's X; 0 = not paced (the rest is 0 too) */
  long held;                    /* submitted calls not yet due by the pace */
  double release_left_s;        /* wall seconds until the last submitted call is due */
  double queue_mean_s, queue_p95_s; /* release to start, over finished calls */
} esc_summary;

/* Opens the engine for spec and DIR/llm/<spec name>.jsonl (DIR/llm must
 * exist) for the run `run`. The transcript is never opened through a link,
 * is locked exclusively while the engine is open (FS_EUSAGE when another
 * process holds it: two engines of one backend would send every call
 * twice), and starts with the run header of `run` (src/core/runid.h).
 * resume = 1: appends after dropping a line torn by a crash; a file of
 * another run, or without a run header, is refused (FS_EUSAGE, naming both
 * runs), and the call_ids already in it with status ok or error are
 * skipped by esc_submit (their answers still feed the L3/L4 additions).
 * resume = 0: a fresh run; the file must not exist. Replay loads
 * spec->path here. An HTTP backend whose API key is set makes the process
 * undumpable (PR_SET_DUMPABLE 0: no core dump holds the key) for the rest
 * of its life, and the key's value is replaced by "[REDACTED]" in every
 * answer and error before it is written or remembered. Returns 0, FS_EIO
 * (path in diag), FS_EUSAGE, FS_EINVAL or FS_ENOMEM; *out NULL on failure.
 * The spec is copied (to override its concurrency, pass a modified copy). */
int esc_open(esc_backend **out, const llm_spec *spec, const char *run_dir, int resume,
             const runid *run);

/* Paces the engine at X simulated seconds per wall second (see above).
 * Only before the first esc_submit. Returns 0, or FS_EINVAL when X is not in
 * (0, PACE_MAX] or calls were already submitted. */
int esc_set_pace(esc_backend *b, double pace);

/* Closed loop (`run --closed-loop`): called once for every call the engine
 * finishes, before its transcript line is written, with the call's id and
 * layer, whether it succeeded, its answer (NULL when none) and, for a
 * replay backend, the `decision` object of the replayed line (JSON text,
 * NULL when it has none). Sets *decision to a malloc'd JSON object that
 * the line carries as `decision` (the engine frees it), or NULL for none.
 * Returns 0, or FS_ENOMEM, which fails the transcript write like any other. */
typedef int (*esc_decide_fn)(void *ctx, const char *call_id, int layer, int ok,
                             const char *answer, const char *recorded, char **decision);

/* Sets the decider (see esc_decide_fn) before the first esc_submit. */
void esc_set_decider(esc_backend *b, esc_decide_fn fn, void *ctx);

/* Queues a copy of c (its context is copied). Never touches the network.
 * Returns 0 (also for a skipped call), FS_EINVAL or FS_ENOMEM. */
int esc_submit(esc_backend *b, const llm_call *c);

/* Starts what may start, drives transfers for at most wait_ms (0: never
 * waits) and writes a transcript line for every call that finished. A
 * paced engine waits no longer than until its next call is due, and with
 * nothing in flight it sleeps until then (at most wait_ms).
 * Returns 0, or FS_EIO when the transcript cannot be written. */
int esc_poll(esc_backend *b, int wait_ms);

/* Calls submitted and not yet written. */
int esc_pending(const esc_backend *b);

/* esc_poll until nothing is pending. */
int esc_drain(esc_backend *b);

/* Fills *out with the backend's figures so far. */
void esc_stats(const esc_backend *b, esc_summary *out);

/* One line: "name: N calls (ok K, error E, skipped S), wall W s, latency
 * mean/p50/p95 ..., tokens in/out, cost $", and for a paced engine ", pace X
 * (a simulated day in ...), queueing delay mean/p95". */
void esc_print_summary(const esc_summary *s, FILE *out);

/* The error text of the first call that failed since esc_open ("(none)"
 * when none did), for messages; the API key is already redacted from it. */
void esc_first_error(const esc_backend *b, char *out, size_t cap);

/* Aborts whatever is in flight (no lines for it), closes the transcript,
 * frees the engine and sets *b to NULL. Accepts NULL. */
void esc_close(esc_backend **b);

/* ---- pure parts, exposed for the unit tests ---------------------------- */

/* One transcript line (JSON, no newline), malloc'd. Fields as in docs/design.md:
 * call_id, layer, event_id (null for L4), t_s, backend, kind,
 * model (null for rules/replay), status, latency_s, tokens_in, tokens_out,
 * cost_usd, gpu_hours, attempts, error (NULL -> null), response_text (NULL
 * -> null; invalid UTF-8 replaced, cut to LLM_ANSWER_MAX_BYTES); with pace >
 * 0 then pace, due_s, release_s, start_s, queue_s (start_s - release_s); with a
 * decision, the field decision (that object). */
typedef struct {
  const char *call_id;
  llm_layer layer;
  long long event_id;
  double t_s;
  const char *backend, *kind, *model;
  int ok;
  double latency_s;
  long tokens_in, tokens_out;
  double cost_usd, gpu_hours;
  int attempts;
  const char *error, *response_text;
  double pace;                 /* 0: not paced, no timing fields */
  double due_s, release_s, start_s; /* wall seconds after the first release */
  const char *decision;        /* closed loop: a JSON object, added as "decision"; NULL: none */
} esc_line;
char *esc_format_line(const esc_line *l);

#endif

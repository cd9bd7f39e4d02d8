/* HTTP transport for LLM calls: a FIFO of POST (or GET) requests driven by
 * the libcurl multi interface with a concurrency limit, per-attempt timeouts
 * and the official OpenAI/Anthropic SDKs' retry policy. It knows nothing of
 * any API's JSON shape, never logs headers (they carry API keys) and never
 * blocks the caller longer than it asks to wait.
 *
 * Usage (single thread; one engine per backend):
 *   tx_options o; tx_options_default(&o); o.concurrency = 8;
 *   tx_engine *e; if ((rc = tx_init(&e, &o)) < 0) return rc;
 *   const char *hdr[] = {"Authorization: Bearer ...", NULL};
 *   tx_submit(e, &(tx_request){.url = url, .headers = hdr, .body = json, .user = call});
 *   while (tx_in_flight(e) > 0) {
 *     tx_result *done; int n;
 *     if ((rc = tx_poll(e, 100, &done, &n)) < 0) break;
 *     for (int i = 0; i < n; i++) { handle(&done[i]); tx_result_free(&done[i]); }
 *     free(done);
 *   }
 *   tx_destroy(&e);
 *
 * Retry policy (openai-python / anthropic-sdk-python _base_client): an
 * attempt is retried, while attempts <= max_retries, when the response
 * carries "x-should-retry: true", or (without "x-should-retry: false") its
 * status is 408, 409, 429 or >= 500, or the transfer failed without an HTTP
 * response (connection refused or reset, DNS failure, timeout, empty reply);
 * never on other statuses (400, 401, 403, 404, 422 ...), on a TLS
 * certificate failure, a malformed URL, or an oversized response. The wait
 * before retry k (k = 1, 2, ...) is the response's "retry-after-ms" (ms) or
 * "Retry-After" (seconds, or an HTTP-date) when that is in (0, 60] s;
 * otherwise min(backoff_initial_s * 2^(k-1), backoff_max_s) * (1 - 0.25 u),
 * u uniform in [0, 1) drawn from (jitter_seed, request number, k), so the
 * same submissions give the same waits. A request waiting for its retry
 * holds no transfer slot. */
#ifndef FLEETSIM_TRANSPORT_H
#define FLEETSIM_TRANSPORT_H
#include <stddef.h>
#include <stdint.h>

typedef struct tx_engine tx_engine;

typedef struct {
  int concurrency;          /* transfers running at once, 1..4096; default 4 */
  double connect_timeout_s; /* per attempt, > 0; default 10 */
  double timeout_s;         /* whole attempt (connect + answer), > 0; default 120 */
  int max_retries;          /* retries after the first attempt, 0..100; default 2 */
  double backoff_initial_s; /* first computed retry wait, >= 0; default 0.5 */
  double backoff_max_s;     /* cap on computed waits, >= initial; default 8 */
  uint64_t jitter_seed;     /* source of the deterministic jitter; default 0 */
  int verify_tls;           /* 1: verify peer certificate and host name (default);
                               0 only when a caller asks for it explicitly */
  size_t max_body_bytes;    /* larger responses fail with "response too large";
                               1..1 GiB, default 4 MiB */
} tx_options;

/* One request. Everything is copied by tx_submit; the caller may free or
 * reuse it at once. */
typedef struct {
  const char *url;            /* http:// or https:// URL, required */
  const char *const *headers; /* NULL-terminated "Name: value" strings, or NULL;
                                 no CR or LF inside. "Content-Type:
                                 application/json" is added when a body is
                                 given and no Content-Type is. */
  const char *body;           /* POST body (NUL-terminated), or NULL for GET */
  void *user;                 /* handed back untouched in tx_result.user */
} tx_request;

/* The outcome of one request after its last attempt. */
typedef struct {
  void *user;          /* tx_request.user */
  int ok;              /* 1: an HTTP 2xx answer arrived, body complete */
  long http_status;    /* last HTTP status, 0 when no response arrived */
  char *body;          /* last response body, NUL-terminated, never NULL (""
                          when none); owned by the result: release it only
                          with tx_result_free, copy it to keep it */
  size_t body_len;     /* bytes in body, without the NUL */
  double latency_s;    /* first attempt start to final completion, retry
                          waits included, queueing before it excluded */
  int attempts;        /* 1 + retries made */
  char error[256];     /* "" when ok, else e.g. "HTTP 500 after 3 attempts:
                          <body excerpt>", "timeout after 120 s (3 attempts):
                          ...", "connection refused (3 attempts): ..." */
} tx_result;

/* Fills o with the defaults documented in tx_options. */
void tx_options_default(tx_options *o);

/* Creates an engine with options o (copied; NULL means defaults). Returns 0,
 * FS_EINVAL (bad option, reported with diag_addf) or FS_ENOMEM/FS_EIO
 * (libcurl could not start). Calls curl_global_init once per process on
 * first use (not thread-safe: create the first engine before any threads). */
int tx_init(tx_engine **out, const tx_options *o);

/* Queues request r (copied) at the end of the FIFO. Never touches the
 * network. Returns 0, FS_EINVAL (NULL url, CR/LF in a header) or FS_ENOMEM. */
int tx_submit(tx_engine *e, const tx_request *r);

/* Starts queued and due-for-retry requests into free slots, drives the
 * transfers, and returns every request that finished: *done becomes a
 * malloc'ed array of *ndone results (NULL when 0); the caller calls
 * tx_result_free on each element and free on the array. Waits at most
 * wait_ms for the first result (0: never waits), returning early as soon as
 * one is ready or nothing is in flight. Returns 0, FS_EINVAL or FS_ENOMEM
 * (results are kept for the next call). */
int tx_poll(tx_engine *e, int wait_ms, tx_result **done, int *ndone);

/* Requests not yet returned by tx_poll: queued, running, waiting to retry. */
int tx_in_flight(const tx_engine *e);

/* Frees what r owns (its body) and clears it; r itself is not freed.
 * Accepts NULL. */
void tx_result_free(tx_result *r);

/* Aborts every transfer, drops unreturned results (their user pointers are
 * the caller's), frees the engine and sets *e to NULL. Accepts NULL / *e NULL. */
void tx_destroy(tx_engine **e);

#endif

/* DIR/llm/contexts.jsonl: every LLM call's context, written by `fleetsim
 * run` as the detector produces events, so that every backend (now or later,
 * through `fleetsim escalate`) answers exactly the same contexts. The first
 * line is the run header (src/core/runid.h), then one JSON object per call:
 * call_id ("L2-000012", "L3-000012", "L4-03"), layer, event_id (null for
 * L4), t_s, context (the object from pipeline/detect/context.c). */
#ifndef FLEETSIM_CONTEXTS_FILE_H
#define FLEETSIM_CONTEXTS_FILE_H
#include <stdint.h>
#include <stdio.h>

#include "src/core/runid.h"

typedef enum { LLM_L2 = 2, LLM_L3 = 3, LLM_L4 = 4 } llm_layer;

typedef struct {
  char call_id[24];
  llm_layer layer;
  int64_t event_id; /* -1 for L4 */
  double t_s;       /* when the call may be made: the event, or the end of the L4 window */
  char *context;    /* JSON object text (owned) */
} llm_call;

/* Sets call_id from layer and event id (L2/L3) or the L4 index. */
void llm_call_id(llm_call *c, llm_layer layer, int64_t id);

/* Appends one call as a JSON line and flushes. 0 or FS_EIO/FS_ENOMEM. */
int ctxf_append(FILE *out, const llm_call *c);

/* Writes the run header line of r and flushes. 0 or FS_EIO/FS_ENOMEM. */
int ctxf_write_header(FILE *out, const runid *r);

/* Reads a contexts file: its run header into *run and every call into
 * *calls (caller frees each context and the array). The file must start
 * with a run header, and every call must be well formed: a call_id of its
 * layer's form ("L2-" or "L3-" and 6+ digits, "L4-" and 2+ digits), layer
 * L2, L3 or L4, an integer event_id for L2/L3 (null for L4), a finite t_s,
 * a context object, and no call_id twice. The file is not followed when it
 * is a link. 0, FS_EIO (with the path in diag) or FS_EINVAL (the first
 * problem, with its line number). */
int ctxf_read(const char *path, llm_call **calls, int *n, runid *run);

/* "L2", "L3" or "L4". */
const char *llm_layer_name(llm_layer l);

#endif

/* Context builders for the LLM layers, on the root only. They see what an
 * operator sees: the detector's event, block features of every node (the
 * detector's allgather), cluster metrics and the configured jobs; never the
 * ground truth. A ring of recent blocks gives L3 its series 30 minutes
 * before and after the event. Contexts are JSON objects (caller frees the
 * text); every backend receives the same text. Names follow docs/design.md:
 * node-NNNN, rack-NN, node-NNNN/gpuK, train-NNN, tenant names. */
#ifndef FLEETSIM_CONTEXT_H
#define FLEETSIM_CONTEXT_H
#include <stdint.h>

#include "pipeline/detect/detect.h"
#include "src/model/events.h"

enum { CTX_SERIES_HALF = 6 /* blocks either side of an L3 event: 30 min */ };

typedef struct ctx_builder ctx_builder;

/* 0 or FS_ENOMEM. f is borrowed. total_steps bounds the per-step history. */
int ctx_init(ctx_builder **out, const fleet *f, int total_steps);
void ctx_destroy(ctx_builder **b);

/* Records detection step `step` (block ending at t_end_s): the detector's
 * block features and class medians, this step's candidates (every rank's),
 * and the cluster metrics of the block's last scrape (cluster[CM_COUNT]).
 * Call once per step, in order. 0 or FS_ENOMEM. */
int ctx_record_step(ctx_builder *b, const det_state *d, int32_t step, double t_end_s,
                    const det_candidate *cands, int ncands, const float *cluster);

/* L2 triage context for event e (about 1,000 tokens): the trigger with its
 * z-score, co-occurring signals, the node's metrics against peers and a
 * compressed summary of its 8 GPUs. Built at e's own step. NULL on ENOMEM. */
char *ctx_l2(const ctx_builder *b, const ev_event *e);

/* L3 root-cause context (3,000-5,000 tokens): the L2 material plus series of
 * the node's key metrics and the peer median from 30 minutes before to 30
 * minutes after (as far as recorded), rack neighbour state, where else the
 * detector flagged the trigger metric in that hour (same_signal_elsewhere:
 * node, tenant, GPU and silicon lot), tenant and job context (with the job's
 * NVLink replay leader over the hour, most_nvlink_replays_in_series), and
 * the actions an answer may take (actions_available: "drain_node
 * node-NNNN", ..., from src/model/actions.h). Build
 * it CTX_SERIES_HALF steps after e (or at the end of the run). The engine
 * adds the backend's recent L2 decisions. NULL on ENOMEM. */
char *ctx_l3(const ctx_builder *b, const ev_event *e);

/* L4 shift-summary context for steps (from, to]: cluster status, SLA budget
 * per tenant, detector incidents of the window (events[n], all so far), a
 * training job health table, an hourly cluster table and a per-rack thermal
 * and fabric table, and actions_available as at L3. The engine adds L2
 * counts and L3 one-liners. NULL on ENOMEM. */
char *ctx_l4(const ctx_builder *b, int32_t from, int32_t to, const ev_event *events, int n);

/* Checkpoint (resume): the ring of recent blocks and the per-step history,
 * to or from a checkpoint stream. Load returns 0, FS_EIO or FS_ENOMEM. */
typedef struct ckpt_file ckpt_file;
void ctx_save(const ctx_builder *b, ckpt_file *f);
int ctx_load(ctx_builder *b, ckpt_file *f);

#endif

/* Restart checkpoints of `fleetsim run` and --resume. After window K is in
 * the archive and flushed, every rank writes DIR/checkpoint/wK-rR.bin (its
 * nodes' model and detector records, in node order, and the detector's
 * global part), the printing rank wK-root.bin (run counters, cluster state,
 * aggregation, context builder, the LLM schedule's place, the length of
 * contexts.jsonl), then manifest.json names checkpoint K and K-1 is
 * removed. A crash at any moment leaves the manifest naming a complete
 * checkpoint whose windows are all in the archive. --resume checks that the
 * directory holds this invocation's run (config, scenarios, build, the
 * archive's and contexts' run fingerprint) and loads the checkpoint with any
 * rank count. The byte stream itself is src/core/checkpoint.h's. */
#ifndef FLEETSIM_RESTART_H
#define FLEETSIM_RESTART_H
#include <stddef.h>
#include <stdint.h>

#include "io/archive.h"
#include "pipeline/detect/aggregate.h"
#include "pipeline/detect/context.h"
#include "pipeline/detect/detect.h"
#include "src/app/llm_schedule.h"
#include "src/app/sim.h"
#include "src/core/checkpoint.h"
#include "src/core/runid.h"
#include "src/model/fleet.h"
#include "src/model/telemetry.h"

/* What a checkpoint holds, borrowed from the run (all must outlive it), and
 * the checkpoint directory's bookkeeping. Set the borrowed fields, then
 * rst_init. */
typedef struct {
  /* every rank: the state of its nodes */
  tel_model *model;
  det_state *det;
  int node0, nnodes; /* this rank's nodes (global index, count) */
  /* printing rank: the root part (NULL elsewhere) */
  tel_cluster *cluster;
  agg_state *agg;
  ctx_builder *ctx;
  lsched *llm;       /* next_l3, next_l4 and contexts.jsonl */
  int32_t *det_step; /* detection steps done */
  /* the run, for the manifest */
  const fs_config *cfg;
  const fleet *fleet;
  const char *config_json; /* cfg_to_json */
  const char *scenarios_text;
  const runid *run;
  /* owned (rst_init) */
  char dir[4200];          /* DIR/checkpoint */
  unsigned char *rec;      /* one node's record: tel, then det */
  size_t tel_rec, det_rec; /* their sizes */
  double last_bytes;       /* this rank's bytes in the last checkpoint (root part included) */
  int64_t written;         /* checkpoints written by this process */
} restart;

/* Sets r->dir to out_dir/checkpoint and allocates the node record buffer
 * (model and detector must be set). 0 or FS_ENOMEM. */
int rst_init(restart *r, const char *out_dir);

/* Frees what rst_init allocated; safe on a zeroed or destroyed r. */
void rst_destroy(restart *r);

/* Printing rank, before the first window: a resumed run (m: its manifest)
 * keeps only its own checkpoint; with an archive, makes DIR/checkpoint.
 * 0 or an FS_* code. */
int rst_prepare(const restart *r, const sim_options *opt, const ckpt_manifest *m);

/* Collective, --resume: loads every rank's nodes from the parts of
 * checkpoint m that hold them (written by any rank count) and the
 * printing rank's root part. 0 or FS_EIO on every rank (diag names the
 * file and the problem). */
int rst_load(restart *r, const ckpt_manifest *m);

/* 1 when a checkpoint is due after `windows` archive windows: the run has
 * an archive and windows is a multiple of restart_every_windows (0: never). */
int rst_due(const fs_config *cfg, int64_t windows);

/* Collective: flushes the archive and writes checkpoint `windows` (the
 * next window starting at scrape `next`), then the manifest, and removes
 * the one before. From then on an interrupt says the run can resume from
 * `next`. 0 or an FS_* code on every rank. */
int rst_write(restart *r, h5a_writer *archive, int64_t windows, int64_t next);

/* Printing rank, after the run completed: removes the checkpoint files and
 * the directory (while they exist, a --resume of the complete run redoes
 * the scoring). 0 or FS_EIO. */
int rst_remove(const restart *r);

#endif

/* Restart checkpoints (see restart.h): what each rank's part and the root
 * part hold, in which order, and loading them back with any rank count.
 * Every rank writes and reads its own files; the manifest is the printing
 * rank's. The files' byte stream and atomic commit are src/core/checkpoint.c's. */
#include "src/app/restart.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "mpi/par.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/interrupt.h"
#include "src/core/safefile.h"
#include "version.h"

int rst_init(restart *r, const char *out_dir) {
  snprintf(r->dir, sizeof r->dir, "%s/checkpoint", out_dir);
  r->tel_rec = tel_node_state_bytes(r->model);
  r->det_rec = det_node_state_bytes(r->det);
  r->rec = malloc(r->tel_rec + r->det_rec);
  return r->rec ? 0 : FS_ENOMEM;
}

void rst_destroy(restart *r) {
  free(r->rec);
  r->rec = NULL;
}

/* DIR/checkpoint/<name> of rank `rank`'s part of checkpoint `windows`, or
 * of its root part (rank < 0). */
static void rst_path(const restart *r, char *out, size_t cap, int64_t windows, int rank) {
  char name[64];
  if (rank < 0)
    snprintf(name, sizeof name, "w%06lld-root.bin", (long long)windows);
  else
    ckpt_part_name(name, sizeof name, windows, rank);
  snprintf(out, cap, "%s/%s", r->dir, name);
}

/* Bytes of a committed file (for the end-of-run report). */
static double rst_file_bytes(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (double)st.st_size : 0.0;
}

/* This rank's part: a head (rank, ranks, node range, windows, next scrape,
 * record sizes), one record per node, the detector's global part. */
static int rst_write_rank(restart *r, int64_t windows, int64_t next) {
  char path[4400];
  rst_path(r, path, sizeof path, windows, par_rank());
  ckpt_file *f = NULL;
  int rc = ckpt_create(&f, path);
  if (rc)
    return rc;
  int32_t head[4] = {par_rank(), par_size(), r->node0, r->nnodes};
  uint64_t sizes[2] = {r->tel_rec, r->det_rec};
  ckpt_tag(f, "RANK");
  ckpt_put(f, head, sizeof head);
  ckpt_put(f, &windows, sizeof windows);
  ckpt_put(f, &next, sizeof next);
  ckpt_put(f, sizes, sizeof sizes);
  for (int i = 0; i < r->nnodes; i++) {
    tel_save_node(r->model, i, r->rec);
    det_save_node(r->det, i, r->rec + r->tel_rec);
    ckpt_put(f, r->rec, r->tel_rec + r->det_rec);
  }
  det_save_global(r->det, f);
  rc = ckpt_commit(&f);
  r->last_bytes = rst_file_bytes(path);
  return rc;
}

/* The printing rank's root part: a head (windows, next scrape, detection
 * steps, the LLM schedule's next L3 and L4, contexts.jsonl's length), then
 * the cluster state, the aggregation and the context builder. */
static int rst_write_root(restart *r, int64_t windows, int64_t next, int64_t cbytes) {
  char path[4400];
  rst_path(r, path, sizeof path, windows, -1);
  ckpt_file *f = NULL;
  int rc = ckpt_create(&f, path);
  if (rc)
    return rc;
  int64_t head[6] = {windows, next, *r->det_step, r->llm->next_l3, r->llm->next_l4, cbytes};
  ckpt_tag(f, "ROOT");
  ckpt_put(f, head, sizeof head);
  tel_cluster_save(r->cluster, f);
  agg_save(r->agg, f);
  ctx_save(r->ctx, f);
  rc = ckpt_commit(&f);
  r->last_bytes += rst_file_bytes(path);
  return rc;
}

/* Printing rank: manifest.json naming checkpoint `windows` and its parts
 * (one per rank, with the node range each holds), then the one before
 * removed. */
static int rst_write_manifest(const restart *r, int64_t windows, int64_t next, int64_t cbytes) {
  ckpt_part *parts = calloc((size_t)par_size(), sizeof *parts);
  if (!parts)
    return FS_ENOMEM;
  for (int k = 0; k < par_size(); k++) {
    int first, count;
    par_rack_range_of(r->cfg->racks, k, par_size(), &first, &count);
    ckpt_part_name(parts[k].file, sizeof parts[k].file, windows, k);
    parts[k].node0 = first * r->fleet->nodes_per_rack;
    parts[k].nnodes = count * r->fleet->nodes_per_rack;
  }
  ckpt_manifest m = {.windows = windows,
                     .next_scrape = next,
                     .contexts_bytes = cbytes,
                     .ranks = par_size(),
                     .version = FLEETSIM_VERSION,
                     .git_commit = FLEETSIM_GIT_COMMIT,
                     .fingerprint = (char *)r->run->fingerprint,
                     .config_json = (char *)r->config_json,
                     .scenarios_text = (char *)r->scenarios_text,
                     .parts = parts,
                     .nparts = par_size()};
  int rc = ckpt_manifest_write(r->dir, &m);
  if (rc == 0)
    rc = ckpt_prune(r->dir, windows);
  free(parts);
  return rc;
}

int rst_due(const fs_config *cfg, int64_t windows) {
  return cfg->archive && cfg->restart_every_windows != 0 &&
         windows % cfg->restart_every_windows == 0;
}

int rst_write(restart *r, h5a_writer *archive, int64_t windows, int64_t next) {
  int rc = h5a_flush(archive);
  int64_t cbytes = 0;
  if (rc == 0 && par_prints())
    rc = lsched_sync(r->llm, &cbytes);
  rc = par_agree(rc);
  if (rc == 0)
    rc = rst_write_rank(r, windows, next);
  if (rc == 0 && par_prints())
    rc = rst_write_root(r, windows, next, cbytes);
  rc = par_agree(rc);
  if (rc == 0 && par_prints())
    rc = rst_write_manifest(r, windows, next, cbytes);
  rc = par_agree(rc);
  if (rc == 0) { /* a signal from now on says the run continues from here */
    r->written++;
    intr_note_checkpoint(next);
  }
  return rc;
}

/* Loads this rank's nodes from every part of checkpoint m that holds some
 * of them (any rank count wrote it), and the detector's global part. */
static int rst_load_nodes(restart *r, const ckpt_manifest *m) {
  const int node0 = r->node0, nn = r->nnodes;
  const size_t rec = r->tel_rec + r->det_rec;
  int covered = 0, rc = 0;
  for (int p = 0; rc == 0 && p < m->nparts; p++) {
    const ckpt_part *part = &m->parts[p];
    if (part->node0 + part->nnodes <= node0 || part->node0 >= node0 + nn)
      continue;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", r->dir, part->file);
    ckpt_file *f = NULL;
    if ((rc = ckpt_open(&f, path)) != 0)
      break;
    int32_t head[4];
    int64_t windows, next;
    uint64_t sizes[2];
    if (ckpt_expect(f, "RANK") == 0 && ckpt_get(f, head, sizeof head) == 0 &&
        ckpt_get(f, &windows, sizeof windows) == 0 && ckpt_get(f, &next, sizeof next) == 0 &&
        ckpt_get(f, sizes, sizeof sizes) == 0 &&
        (head[2] != part->node0 || head[3] != part->nnodes || windows != m->windows ||
         next != m->next_scrape || sizes[0] != r->tel_rec || sizes[1] != r->det_rec))
      ckpt_fail(f, "does not match the manifest or this fleetsim's state layout");
    for (int j = 0; j < part->nnodes && ckpt_get(f, r->rec, rec) == 0; j++) {
      int i = part->node0 + j - node0;
      if (i < 0 || i >= nn)
        continue;
      tel_load_node(r->model, i, r->rec);
      det_load_node(r->det, i, r->rec + r->tel_rec);
      covered++;
    }
    det_load_global(r->det, f);
    rc = ckpt_close(&f);
  }
  if (rc == 0 && covered != nn) {
    diag_addf("checkpoint %s: its parts hold %d of this rank's %d nodes", r->dir, covered, nn);
    rc = FS_EIO;
  }
  return rc;
}

/* The printing rank's part of checkpoint m. */
static int rst_load_root(restart *r, const ckpt_manifest *m) {
  char path[4400];
  rst_path(r, path, sizeof path, m->windows, -1);
  ckpt_file *f = NULL;
  int rc = ckpt_open(&f, path);
  if (rc)
    return rc;
  int64_t head[6];
  if (ckpt_expect(f, "ROOT") == 0 && ckpt_get(f, head, sizeof head) == 0) {
    if (head[0] != m->windows || head[1] != m->next_scrape || head[5] != m->contexts_bytes ||
        head[2] < 0 || head[2] > INT32_MAX || head[3] < 0 || head[3] > INT32_MAX ||
        head[4] < 0 || head[4] > INT32_MAX)
      ckpt_fail(f, "does not match the manifest");
    *r->det_step = (int32_t)head[2];
    r->llm->next_l3 = (int)head[3];
    r->llm->next_l4 = (int)head[4];
  }
  if (tel_cluster_load(r->cluster, f) == 0 && agg_load(r->agg, f) == 0)
    ctx_load(r->ctx, f);
  return ckpt_close(&f);
}

int rst_load(restart *r, const ckpt_manifest *m) {
  int rc = par_agree(rst_load_nodes(r, m));
  if (rc == 0)
    rc = par_agree(par_prints() ? rst_load_root(r, m) : 0);
  if (rc == 0)
    intr_note_checkpoint(m->next_scrape);
  return rc;
}

int rst_prepare(const restart *r, const sim_options *opt, const ckpt_manifest *m) {
  /* a fresh run has none: sim_run's claim removed an earlier run's */
  int rc = opt->resume ? ckpt_prune(r->dir, m->windows) : 0;
  if (rc == 0 && r->cfg->archive)
    rc = sf_mkdir(r->dir, "checkpoint directory", 0);
  return rc;
}

int rst_remove(const restart *r) { return ckpt_prune(r->dir, -1); }

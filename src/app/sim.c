/* The run loop (see sim.h). Per window: every rank simulates its racks'
 * scrapes, job step times are settled by an all-reduce MAX, per-rack sums go
 * to the printing rank for the cluster metrics, all ranks write their
 * hyperslab of the window to the archive collectively, and then a
 * checkpoint of everything that carries over to the next window (--resume). */
#include "src/app/sim.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "io/archive.h"
#include "io/archive_check.h"
#include "src/core/checkpoint.h"
#include "mpi/par.h"
#include "pipeline/detect/aggregate.h"
#include "pipeline/score/checklist.h"
#include "pipeline/detect/context.h"
#include "pipeline/detect/contexts_file.h"
#include "pipeline/detect/detect.h"
#include "pipeline/score/detection_report.h"
#include "pipeline/llm/escalate.h"
#include "pipeline/score/score_run.h"
#include "scenarios/inject.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/model/fleet.h"
#include "src/core/interrupt.h"
#include "src/core/progress.h"
#include "src/core/rundir.h"
#include "src/core/runid.h"
#include "src/core/safefile.h"
#include "src/model/sizing.h"
#include "src/model/telemetry.h"
#include "src/core/textfile.h"
#include "version.h"

/* Timers for the end-of-run report (min/avg/max over ranks). */
typedef enum {
  TIMER_SIMULATE,
  TIMER_COLLECTIVES,
  TIMER_DETECT,
  TIMER_ARCHIVE,
  TIMER_CHECKPOINT,
  TIMER_COUNT
} sim_timer;
static const char *const sim_timer_names[TIMER_COUNT] = {"simulate", "collectives", "detect",
                                                         "archive", "checkpoint"};

/* Everything one run holds; freed by sim_state_destroy. */
typedef struct {
  fleet *fleet;
  scn_set *scenarios;
  tel_model *model;
  tel_window window;
  tel_drivers *drivers;   /* [local nodes] */
  int drivers_set;        /* scn_drive changed them since the last reset */
  double *job_max_ms;     /* [window][jobs] */
  double *rack_agg;       /* [local racks][window][TEL_AGG_COUNT] */
  double *all_rack_agg;   /* [racks][window][TEL_AGG_COUNT], printing rank */
  tel_cluster *cluster;   /* printing rank */
  det_state *det;         /* L1 detector over this rank's nodes */
  agg_state *agg;         /* L1 aggregation, printing rank */
  ctx_builder *ctx;       /* LLM contexts, printing rank */
  FILE *contexts;         /* DIR/llm/contexts.jsonl, printing rank */
  esc_backend **esc;      /* [nesc] LLM backends, printing rank */
  int nesc;
  int esc_rc;             /* first escalation failure (a transcript write): ends the run */
  int next_l3;            /* first event whose L3 context is not written yet */
  int next_l4;            /* index of the next L4 shift summary */
  int32_t det_step;       /* detection steps done */
  float *cluster_buf[CM_COUNT]; /* [window], printing rank */
  double *time_s;         /* [window], printing rank */
  h5a_writer *archive;
  char contexts_path[4200];  /* DIR/llm/contexts.jsonl */
  char ckpt_dir[4200];       /* DIR/checkpoint */
  const char *config_json;   /* cfg_to_json, for the manifest */
  runid run;                 /* the run's fingerprint: archive, contexts, transcripts */
  unsigned char *rec;        /* one node's checkpoint record: tel, then det */
  size_t tel_rec, det_rec;   /* their sizes */
  double ckpt_bytes;         /* this rank's bytes in the last checkpoint */
  int64_t ckpts;             /* checkpoints written by this process */
  double timers[TIMER_COUNT];
} sim_state;

static void sim_state_destroy(sim_state *s) {
  h5a_abandon(&s->archive);
  det_destroy(&s->det);
  agg_destroy(&s->agg);
  ctx_destroy(&s->ctx);
  if (s->contexts)
    fclose(s->contexts);
  for (int i = 0; i < s->nesc; i++)
    esc_close(&s->esc[i]);
  free(s->esc);
  tel_window_destroy(&s->window);
  tel_destroy(&s->model);
  tel_cluster_destroy(&s->cluster);
  scn_destroy(&s->scenarios);
  fleet_destroy(&s->fleet);
  free(s->drivers);
  free(s->job_max_ms);
  free(s->rack_agg);
  free(s->all_rack_agg);
  for (int k = 0; k < CM_COUNT; k++)
    free(s->cluster_buf[k]);
  free(s->time_s);
  free(s->rec);
}

/* The fleet and the resolved scenarios: the inputs, checked before
 * anything is written. */
static int sim_parse_inputs(sim_state *s, const fs_config *cfg, const sim_options *opt) {
  int rc = fleet_init(&s->fleet, cfg);
  if (rc == 0)
    rc = scn_parse(&s->scenarios, opt->scenarios_text, opt->scenarios_source, s->fleet);
  return rc;
}

/* Everything else a run holds (after sim_parse_inputs). */
static int sim_alloc(sim_state *s, const fs_config *cfg, int rack0, int nracks) {
  int rc;
  const fleet *f = s->fleet;
  int node0 = rack0 * f->nodes_per_rack, nnodes = nracks * f->nodes_per_rack;
  int64_t scrapes = cfg_scrapes(cfg);
  int rows = cfg->window_scrapes < scrapes ? cfg->window_scrapes : (int)scrapes;
  if ((rc = tel_init(&s->model, f, node0, nnodes)) != 0 ||
      (rc = tel_window_init(&s->window, s->model, rows)) != 0 ||
      (rc = det_init(&s->det, f, node0, nnodes, rows)) != 0)
    return rc;
  if (!cfg->archive) { /* no archive: the window keeps what the detector reads */
    unsigned char keep[GM_COUNT];
    det_window_metrics(s->det, keep);
    tel_window_keep(&s->window, keep);
  }
  if (par_prints() && ((rc = agg_init(&s->agg, f)) != 0 ||
                       (rc = ctx_init(&s->ctx, f, (int)(scrapes / DET_BLOCK_SCRAPES) + 1)) != 0))
    return rc;
  s->tel_rec = tel_node_state_bytes(s->model);
  s->det_rec = det_node_state_bytes(s->det);
  s->rec = malloc(s->tel_rec + s->det_rec);
  s->drivers = malloc(sizeof *s->drivers * (size_t)nnodes);
  s->job_max_ms = malloc(sizeof *s->job_max_ms * (size_t)rows * (size_t)(f->njobs + 1));
  s->rack_agg = malloc(sizeof *s->rack_agg * (size_t)nracks * rows * TEL_AGG_COUNT);
  if (!s->drivers || !s->job_max_ms || !s->rack_agg || !s->rec)
    return FS_ENOMEM;
  s->drivers_set = 1; /* uninitialised: the first scrape resets them */
  if (par_prints()) {
    s->all_rack_agg = malloc(sizeof *s->all_rack_agg * (size_t)f->racks * rows * TEL_AGG_COUNT);
    s->time_s = malloc(sizeof *s->time_s * (size_t)rows);
    if (!s->all_rack_agg || !s->time_s)
      return FS_ENOMEM;
    for (int k = 0; k < CM_COUNT; k++)
      if (!(s->cluster_buf[k] = malloc(sizeof(float) * (size_t)rows)))
        return FS_ENOMEM;
    if ((rc = tel_cluster_init(&s->cluster, f)) != 0)
      return rc;
  }
  return 0;
}

enum { SIM_L4_STEPS = 48 /* a shift summary every 4 hours of 5-minute steps */ };

static int sim_write_call(sim_state *s, llm_layer layer, int64_t id, int64_t event_id,
                          double t_s, char *context) {
  if (!context)
    return FS_ENOMEM;
  llm_call c = {.event_id = event_id, .t_s = t_s, .context = context};
  llm_call_id(&c, layer, id);
  int rc = ctxf_append(s->contexts, &c);
  if (rc == FS_EIO)
    diag_addf("%s: cannot write: %s", s->contexts_path, strerror(errno));
  for (int i = 0; rc == 0 && i < s->nesc; i++) /* never waits: esc_submit only queues */
    rc = esc_submit(s->esc[i], &c);
  free(context);
  return rc;
}

/* Printing rank, after each detection step: L2 contexts for the step's new
 * events, L3 contexts for escalated events whose 30 minutes after are in (or
 * all of them when `final`), L4 every 4 hours and once more at the end. */
static int sim_contexts(sim_state *s, int32_t step, int first_new, int final) {
  int n;
  const ev_event *ev = agg_events(s->agg, &n);
  int rc = 0;
  for (int i = first_new; rc == 0 && i < n; i++)
    rc = sim_write_call(s, LLM_L2, ev[i].event_id, ev[i].event_id, ev[i].t_s,
                        ctx_l2(s->ctx, &ev[i]));
  for (; rc == 0 && s->next_l3 < n; s->next_l3++) {
    const ev_event *e = &ev[s->next_l3];
    if (!final && e->step + CTX_SERIES_HALF > step)
      break;
    if (e->escalated)
      rc = sim_write_call(s, LLM_L3, e->event_id, e->event_id, e->t_s, ctx_l3(s->ctx, e));
  }
  if (rc == 0 && ((step + 1) % SIM_L4_STEPS == 0 || final)) {
    int32_t from = final ? -1 : step - SIM_L4_STEPS;
    double t_end = (double)(step + 1) * DET_BLOCK_SCRAPES * s->fleet->cfg->scrape_interval_s;
    rc = sim_write_call(s, LLM_L4, s->next_l4++, -1, t_end, ctx_l4(s->ctx, from, step, ev, n));
  }
  return rc;
}

/* The printing rank's part of one detection block: aggregate the gathered
 * candidates (all, ncand of them) and the trends into events, record the
 * block's features for the contexts, write the contexts it completes, poll
 * the LLM tiers. The detector still holds that block's features. */
static int sim_root_block(sim_state *s, int r0, double t_end, const void *all, int ncand,
                          const det_trend *trends, int ntrends) {
  float cluster[CM_COUNT];
  for (int k = 0; k < CM_COUNT; k++)
    cluster[k] = s->cluster_buf[k][r0 + DET_BLOCK_SCRAPES - 1];
  int before;
  agg_events(s->agg, &before);
  int rc = agg_step(s->agg, s->det_step, t_end, all, ncand, trends, ntrends);
  if (rc == 0)
    rc = ctx_record_step(s->ctx, s->det, s->det_step, t_end, all, ncand, cluster);
  if (rc == 0)
    rc = sim_contexts(s, s->det_step, before, 0);
  for (int i = 0; rc == 0 && i < s->nesc && s->esc_rc == 0; i++) /* wait 0: never on the network */
    s->esc_rc = esc_poll(s->esc[i], 0);
  s->det_step++;
  /* a transcript that cannot be written (a full disk) stops the run at the
   * end of this block, with its own message, before anything else fails */
  return rc ? rc : s->esc_rc;
}

/* L1 over every complete detection block of the window: each rank finds its
 * candidates, the printing rank aggregates them into events. The printing
 * rank does that for block k after the features of block k + 1 are gathered,
 * while the others start the class statistics (the last block's at the end).
 * Collective. */
static int sim_detect(sim_state *s, const fs_config *cfg, int64_t t0, int rows) {
  int rc = 0, root = par_prints(), held = 0, held_r0 = 0, held_ncand = 0, held_ntrends = 0;
  void *held_all = NULL;
  const det_trend *held_trends = NULL;
  double held_t_end = 0;
  for (int r0 = 0; rc == 0 && r0 + DET_BLOCK_SCRAPES <= rows; r0 += DET_BLOCK_SCRAPES) {
    rc = det_block_gather(s->det, &s->window, r0);
    int root_rc = 0; /* agreed at the end of the block: the collectives go on */
    if (rc == 0 && held)
      root_rc = sim_root_block(s, held_r0, held_t_end, held_all, held_ncand, held_trends,
                               held_ntrends);
    free(held_all);
    held_all = NULL;
    held = 0;
    const det_candidate *cands;
    int ncands = 0, all_bytes = 0;
    if (rc == 0)
      rc = det_block_finish(s->det, &cands, &ncands, &held_trends, &held_ntrends);
    if (rc == 0)
      rc = par_gather_bytes(cands, ncands * (int)sizeof *cands, &held_all, &all_bytes);
    if (rc == 0 && root) {
      held = 1;
      held_r0 = r0;
      held_t_end = (double)(t0 + r0 + DET_BLOCK_SCRAPES) * cfg->scrape_interval_s;
      held_ncand = all_bytes / (int)sizeof(det_candidate);
    } else if (rc == 0) {
      s->det_step++;
    }
    rc = par_agree(rc ? rc : root_rc);
  }
  if (rc == 0 && held)
    rc = sim_root_block(s, held_r0, held_t_end, held_all, held_ncand, held_trends, held_ntrends);
  free(held_all);
  return par_agree(rc);
}

/* Simulates scrapes [t0, t0 + rows) and writes them. Collective. */
static int sim_window(sim_state *s, const fs_config *cfg, int64_t t0, int rows) {
  const fleet *f = s->fleet;
  int nnodes = s->window.nnodes, nracks = nnodes / f->nodes_per_rack;
  double w0 = par_wtime();
  for (int r = 0; r < rows; r++) {
    /* reset only what a scenario changed: most scrapes have none on this rank */
    if (s->drivers_set)
      tel_drivers_reset(s->drivers, nnodes);
    s->drivers_set = scn_drive(s->scenarios, f, t0 + r, s->window.node0, nnodes, s->drivers) > 0;
    tel_scrape(s->model, t0 + r, s->drivers, &s->window, r, det_fold_chunk, s->det);
    intr_note_scrapes(t0 + r + 1);
  }
  tel_job_local_max(s->model, &s->window, rows, s->job_max_ms);
  double w1 = par_wtime();
  int rc = 0;
  if (f->njobs > 0)
    rc = par_max_doubles(s->job_max_ms, rows * f->njobs);
  double w2 = par_wtime();
  tel_finish_training(s->model, &s->window, rows, s->job_max_ms);
  tel_rack_aggregates(s->model, &s->window, t0, rows, s->rack_agg);
  double w3 = par_wtime();
  if (rc == 0)
    rc = par_gather_rack_blocks(s->rack_agg, nracks, rows * TEL_AGG_COUNT, s->all_rack_agg);
  double w4 = par_wtime();
  if (par_prints()) {
    tel_cluster_window(s->cluster, t0, rows, s->all_rack_agg, s->cluster_buf);
    for (int r = 0; r < rows; r++)
      s->time_s[r] = (double)(t0 + r) * cfg->scrape_interval_s;
  }
  double w5 = par_wtime();
  rc = par_agree(rc);
  if (rc == 0)
    rc = sim_detect(s, cfg, t0, rows);
  double w5b = par_wtime();
  if (rc == 0 && cfg->archive)
    rc = h5a_write_window(s->archive, t0, rows, s->window.gpu, s->window.node,
                          (const float *const *)s->cluster_buf, s->time_s);
  double w6 = par_wtime();
  s->timers[TIMER_SIMULATE] += (w1 - w0) + (w3 - w2) + (w5 - w4);
  s->timers[TIMER_COLLECTIVES] += (w2 - w1) + (w4 - w3);
  s->timers[TIMER_DETECT] += w5b - w5;
  s->timers[TIMER_ARCHIVE] += w6 - w5b;
  return rc;
}

/* Ground truth for the scorer: the resolved scenarios, exactly as injected. */
static int sim_write_ground_truth(sim_state *s, const fs_config *cfg) {
  const scn_set *set = s->scenarios;
  h5a_scenario *gt = calloc((size_t)set->n + 1, sizeof *gt);
  char **params = calloc((size_t)set->n + 1, sizeof *params);
  int rc = gt && params ? 0 : FS_ENOMEM;
  for (int i = 0; rc == 0 && i < set->n; i++) {
    const scn_def *d = &set->s[i];
    if (!(params[i] = scn_params_json(d))) {
      rc = FS_ENOMEM;
      break;
    }
    gt[i] = (h5a_scenario){
        .id = d->id,
        .kind = scn_kind_name(d->kind),
        .params_json = params[i],
        .start_s = (double)d->t_start * cfg->scrape_interval_s,
        .end_s = (double)d->t_end * cfg->scrape_interval_s,
        .nodes = d->nodes,
        .nnodes = d->nnodes,
        .impacted = d->impacted,
        .nimpacted = d->nimpacted,
        .gpus = d->gpus,
        .ngpus = d->ngpus,
    };
  }
  rc = par_agree(rc);
  if (rc == 0 && cfg->archive)
    rc = h5a_write_ground_truth(s->archive, gt, set->n);
  for (int i = 0; params && i < set->n; i++)
    free(params[i]);
  free(params);
  free(gt);
  return rc;
}

/* Archives the L1 events (collective) and, on the printing rank, writes
 * DIR/results/detection.json and prints the detection table. */
static int sim_finish_events(sim_state *s, const fs_config *cfg, const char *out_dir,
                             int quiet) {
  int n = 0;
  const ev_event *ev = par_prints() ? agg_events(s->agg, &n) : NULL;
  int rc = par_bcast_int(&n);
  if (rc == 0 && cfg->archive)
    rc = h5a_write_events(s->archive, ev, n);
  if (rc == 0 && par_prints()) {
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/results", out_dir);
    snprintf(path, sizeof path, "%s/detection.json", dir);
    detrep *rep = NULL;
    chk_set *knowledge = NULL;
    rc = sf_mkdir(dir, "results directory", 0);
    if (rc == 0)
      rc = chk_parse(&knowledge, chk_default_text(), "built-in scenarios/checklists.json");
    if (rc == 0)
      rc = detrep_build(&rep, ev, n, s->scenarios, s->fleet, knowledge, cfg->scrape_interval_s,
                        (double)cfg_scrapes(cfg) * cfg->scrape_interval_s);
    chk_destroy(&knowledge);
    if (rc == 0)
      rc = detrep_write_json(rep, path);
    if (rc == 0 && !quiet) {
      printf("L1 detection (%s):\n\n", path);
      detrep_print_table(rep, stdout);
      printf("\n");
    }
    detrep_destroy(&rep);
  }
  return par_agree(rc);
}

static void sim_report(const sim_state *s, const fs_config *cfg, const char *path,
                       double wall) {
  double mn[TIMER_COUNT], av[TIMER_COUNT], mx[TIMER_COUNT];
  for (int k = 0; k < TIMER_COUNT; k++)
    if (par_min_avg_max(s->timers[k], &mn[k], &av[k], &mx[k]))
      return;
  struct rusage ru;
  double rss_mib = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss / 1024.0 : 0.0;
  double rss_min, rss_avg, rss_max;
  if (par_min_avg_max(rss_mib, &rss_min, &rss_avg, &rss_max))
    return;
  double ck_min, ck_avg, ck_max;
  if (par_min_avg_max(s->ckpt_bytes, &ck_min, &ck_avg, &ck_max))
    return;
  if (!par_prints())
    return;
  int64_t T = cfg_scrapes(cfg);
  double gpu_points = (double)T * cfg->nodes * FLEET_GPUS * GM_COUNT;
  double node_points = (double)T * cfg->nodes * NM_COUNT;
  double bytes = (gpu_points + node_points + (double)T * CM_COUNT) * 4.0 + T * 8.0;
  if (cfg->archive)
    printf("fleetsim: wrote %s (complete)\n", path);
  else
    printf("fleetsim: archive off (archive = 0): %s not written\n", path);
  printf("fleetsim: %d nodes x %d GPUs, %lld scrapes of %d s, %d ranks\n", cfg->nodes,
         FLEET_GPUS, (long long)T, cfg->scrape_interval_s, par_size());
  printf("fleetsim: %.4g GPU data points + %.4g node data points, %.3g GB of telemetry\n",
         gpu_points, node_points, bytes / 1e9);
  printf("fleetsim: wall %.2f s, %.4g data points/s\n", wall,
         (gpu_points + node_points) / wall);
  for (int k = 0; k < TIMER_COUNT; k++)
    printf("fleetsim: timer %-12s min %8.2f s  avg %8.2f s  max %8.2f s\n", sim_timer_names[k],
           mn[k], av[k], mx[k]);
  printf("fleetsim: peak memory per rank: min %.0f MiB  avg %.0f MiB  max %.0f MiB\n", rss_min,
         rss_avg, rss_max);
  printf("fleetsim: %lld checkpoints, the last %.3g MiB in all (max %.3g MiB on one rank, "
         "root part included)\n",
         (long long)s->ckpts, ck_avg * par_size() / 1048576.0, ck_max / 1048576.0);
}

/* ---- checkpoints (--resume) ------------------------------------------------
 * After window k is in the archive and flushed, every rank writes
 * DIR/checkpoint/wK-rR.bin (its nodes' model and detector records, in node
 * order, and the detector's global part), the printing rank wK-root.bin
 * (run counters, cluster state, aggregation, context builder, the length of
 * contexts.jsonl), then manifest.json names checkpoint K and K-1 is removed.
 * A crash at any moment leaves the manifest naming a complete checkpoint
 * whose windows are all in the archive. */

static void sim_ckpt_path(const sim_state *s, char *out, size_t cap, int64_t windows, int rank) {
  char name[64];
  if (rank < 0)
    snprintf(name, sizeof name, "w%06lld-root.bin", (long long)windows);
  else
    ckpt_part_name(name, sizeof name, windows, rank);
  snprintf(out, cap, "%s/%s", s->ckpt_dir, name);
}

/* Bytes of a committed file (for the end-of-run report). */
static double sim_file_bytes(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (double)st.st_size : 0.0;
}

static int sim_ckpt_rank_file(sim_state *s, int64_t windows, int64_t next) {
  char path[4400];
  sim_ckpt_path(s, path, sizeof path, windows, par_rank());
  ckpt_file *f = NULL;
  int rc = ckpt_create(&f, path);
  if (rc)
    return rc;
  int32_t head[4] = {par_rank(), par_size(), s->window.node0, s->window.nnodes};
  uint64_t sizes[2] = {s->tel_rec, s->det_rec};
  ckpt_tag(f, "RANK");
  ckpt_put(f, head, sizeof head);
  ckpt_put(f, &windows, sizeof windows);
  ckpt_put(f, &next, sizeof next);
  ckpt_put(f, sizes, sizeof sizes);
  for (int i = 0; i < s->window.nnodes; i++) {
    tel_save_node(s->model, i, s->rec);
    det_save_node(s->det, i, s->rec + s->tel_rec);
    ckpt_put(f, s->rec, s->tel_rec + s->det_rec);
  }
  det_save_global(s->det, f);
  rc = ckpt_commit(&f);
  s->ckpt_bytes = sim_file_bytes(path);
  return rc;
}

static int sim_ckpt_root_file(sim_state *s, int64_t windows, int64_t next, int64_t cbytes) {
  char path[4400];
  sim_ckpt_path(s, path, sizeof path, windows, -1);
  ckpt_file *f = NULL;
  int rc = ckpt_create(&f, path);
  if (rc)
    return rc;
  int64_t head[6] = {windows, next, s->det_step, s->next_l3, s->next_l4, cbytes};
  ckpt_tag(f, "ROOT");
  ckpt_put(f, head, sizeof head);
  tel_cluster_save(s->cluster, f);
  agg_save(s->agg, f);
  ctx_save(s->ctx, f);
  rc = ckpt_commit(&f);
  s->ckpt_bytes += sim_file_bytes(path);
  return rc;
}

/* The checkpoint after `windows` windows, the next one starting at scrape
 * `next`. Collective. */
static int sim_checkpoint(sim_state *s, const fs_config *cfg, const sim_options *opt,
                          int64_t windows, int64_t next) {
  if (!cfg->archive || cfg->restart_every_windows == 0 || /* nothing to continue */
      windows % cfg->restart_every_windows != 0)
    return 0;
  double t0 = par_wtime();
  int rc = h5a_flush(s->archive);
  int64_t cbytes = 0;
  if (rc == 0 && par_prints()) {
    rc = ckpt_sync_stream(s->contexts, s->contexts_path);
    long off = rc == 0 ? ftell(s->contexts) : -1;
    if (rc == 0 && off < 0) {
      diag_addf("%s: cannot tell its length: %s", s->contexts_path, strerror(errno));
      rc = FS_EIO;
    }
    cbytes = off;
  }
  rc = par_agree(rc);
  if (rc == 0)
    rc = sim_ckpt_rank_file(s, windows, next);
  if (rc == 0 && par_prints())
    rc = sim_ckpt_root_file(s, windows, next, cbytes);
  rc = par_agree(rc);
  if (rc == 0 && par_prints()) {
    ckpt_part *parts = calloc((size_t)par_size(), sizeof *parts);
    if (!parts)
      rc = FS_ENOMEM;
    for (int r = 0; parts && r < par_size(); r++) {
      int first, count;
      par_rack_range_of(cfg->racks, r, par_size(), &first, &count);
      ckpt_part_name(parts[r].file, sizeof parts[r].file, windows, r);
      parts[r].node0 = first * s->fleet->nodes_per_rack;
      parts[r].nnodes = count * s->fleet->nodes_per_rack;
    }
    ckpt_manifest m = {.windows = windows,
                       .next_scrape = next,
                       .contexts_bytes = cbytes,
                       .ranks = par_size(),
                       .version = FLEETSIM_VERSION,
                       .git_commit = FLEETSIM_GIT_COMMIT,
                       .fingerprint = s->run.fingerprint,
                       .config_json = (char *)s->config_json,
                       .scenarios_text = (char *)opt->scenarios_text,
                       .parts = parts,
                       .nparts = par_size()};
    if (rc == 0)
      rc = ckpt_manifest_write(s->ckpt_dir, &m);
    if (rc == 0)
      rc = ckpt_prune(s->ckpt_dir, windows);
    free(parts);
  }
  s->timers[TIMER_CHECKPOINT] += par_wtime() - t0;
  rc = par_agree(rc);
  if (rc == 0) { /* a signal from now on says the run continues from here */
    s->ckpts++;
    intr_note_checkpoint(next);
  }
  return rc;
}

/* Loads this rank's nodes from every part of checkpoint m that holds some
 * of them (any rank count wrote it), and the detector's global part. */
static int sim_restore_nodes(sim_state *s, const ckpt_manifest *m) {
  const int node0 = s->window.node0, nn = s->window.nnodes;
  const size_t rec = s->tel_rec + s->det_rec;
  int covered = 0, rc = 0;
  for (int p = 0; rc == 0 && p < m->nparts; p++) {
    const ckpt_part *part = &m->parts[p];
    if (part->node0 + part->nnodes <= node0 || part->node0 >= node0 + nn)
      continue;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", s->ckpt_dir, part->file);
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
         next != m->next_scrape || sizes[0] != s->tel_rec || sizes[1] != s->det_rec))
      ckpt_fail(f, "does not match the manifest or this fleetsim's state layout");
    for (int j = 0; j < part->nnodes && ckpt_get(f, s->rec, rec) == 0; j++) {
      int i = part->node0 + j - node0;
      if (i < 0 || i >= nn)
        continue;
      tel_load_node(s->model, i, s->rec);
      det_load_node(s->det, i, s->rec + s->tel_rec);
      covered++;
    }
    det_load_global(s->det, f);
    rc = ckpt_close(&f);
  }
  if (rc == 0 && covered != nn) {
    diag_addf("checkpoint %s: its parts hold %d of this rank's %d nodes", s->ckpt_dir, covered,
              nn);
    rc = FS_EIO;
  }
  return rc;
}

/* The printing rank's part of checkpoint m. */
static int sim_restore_root(sim_state *s, const ckpt_manifest *m) {
  char path[4400];
  sim_ckpt_path(s, path, sizeof path, m->windows, -1);
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
    s->det_step = (int32_t)head[2];
    s->next_l3 = (int)head[3];
    s->next_l4 = (int)head[4];
  }
  if (tel_cluster_load(s->cluster, f) == 0 && agg_load(s->agg, f) == 0)
    ctx_load(s->ctx, f);
  return ckpt_close(&f);
}

/* Every config key whose value differs between the config of `whose`
 * ("checkpoint", "finished run"; was) and this invocation's (now), into
 * diag. Returns how many. */
static int sim_config_diff(const char *whose, const char *was, const char *now) {
  json_error_t err;
  json_t *a = json_loads(was, 0, &err), *b = json_loads(now, 0, &err);
  int n = 0;
  if (!json_is_object(a) || !json_is_object(b)) {
    diag_addf("--resume: the %s's config cannot be read", whose);
    n = 1;
  }
  const char *key;
  json_t *va;
  for (int pass = 0; n == 0 && pass < 2; pass++) {
    json_t *x = pass == 0 ? a : b, *y = pass == 0 ? b : a;
    json_object_foreach(x, key, va) {
      json_t *vb = json_object_get(y, key);
      if (pass == 1 && vb)
        continue; /* compared in pass 0 */
      if (vb && json_equal(va, vb))
        continue;
      char *sa = json_dumps(pass == 0 ? va : vb, JSON_ENCODE_ANY | JSON_COMPACT);
      char *sb = json_dumps(pass == 0 ? vb : va, JSON_ENCODE_ANY | JSON_COMPACT);
      diag_addf("--resume: config key '%s' differs from the %s's: %s %.200s, now %.200s", key,
                whose, whose, sa ? sa : "(none)", sb ? sb : "(none)");
      free(sa);
      free(sb);
      n++;
    }
  }
  json_decref(a);
  json_decref(b);
  return n;
}

/* 1 when two scenario texts hold the same JSON (formatting aside). */
static int sim_same_json(const char *x, const char *y) {
  json_error_t err;
  json_t *a = json_loads(x, 0, &err), *b = json_loads(y, 0, &err);
  int same = a && b ? json_equal(a, b) : strcmp(x, y) == 0;
  json_decref(a);
  json_decref(b);
  return same;
}

/* "--resume: WHAT belongs to run A (...); this invocation is run B (...)"
 * into diag. */
static void sim_other_run(const char *what, const runid *theirs, const runid *ours) {
  char a[160], b[160];
  runid_describe(theirs, a, sizeof a);
  runid_describe(ours, b, sizeof b);
  diag_addf("--resume: %s belongs to %s; this invocation is %s", what, a, b);
}

/* A complete DIR/fleet.h5 on --resume: fine when it is this invocation's
 * run; else every difference (config keys, scenarios, build) into diag. */
static int sim_resume_finished(const char *path, const sim_options *opt, const char *config_json,
                               const runid *run) {
  runid theirs;
  if (h5a_read_runid(path, &theirs) != 0)
    return FS_EUSAGE;
  if (runid_same(&theirs, run))
    return 0;
  char *config = NULL, *scenarios = NULL;
  if (h5a_read_root_text(path, "config", &config) == 0)
    sim_config_diff("finished run", config, config_json);
  if (h5a_read_root_text(path, "scenarios", &scenarios) == 0 &&
      !sim_same_json(scenarios, opt->scenarios_text))
    diag_addf("--resume: the scenarios (%s) differ from the finished run's", opt->scenarios_source);
  free(config);
  free(scenarios);
  sim_other_run(path, &theirs, run);
  return FS_EUSAGE;
}

/* Printing rank: reads and checks out_dir's checkpoint for this invocation
 * into *text (the manifest), or sets *complete when fleet.h5 is finished
 * (and is this invocation's run). The archive and contexts.jsonl must be
 * regular files of the same run as the checkpoint. */
static int sim_resume_check_root(const fs_config *cfg, const sim_options *opt,
                                 const char *config_json, const runid *run, char **text,
                                 int *complete) {
  if (!cfg->archive) {
    diag_addf("--resume with archive = 0: a run without fleet.h5 keeps no checkpoints, so "
              "there is nothing to resume; drop --resume or --set archive=0");
    return FS_EUSAGE;
  }
  char path[4400], mpath[4400], cpath[4400];
  snprintf(path, sizeof path, "%s/fleet.h5", opt->out_dir);
  if (h5a_archive_state(path) == H5A_COMPLETE) {
    *complete = 1;
    return sim_resume_finished(path, opt, config_json, run);
  }
  snprintf(mpath, sizeof mpath, "%s/checkpoint/manifest.json", opt->out_dir);
  struct stat st;
  if (lstat(mpath, &st) != 0) {
    diag_addf("--resume: %s has no checkpoint to resume from (%s: %s); start the run again "
              "without --resume",
              opt->out_dir, mpath, strerror(errno));
    return FS_EUSAGE;
  }
  snprintf(path, sizeof path, "%s/fleet.h5.partial", opt->out_dir);
  if (lstat(path, &st) != 0) {
    diag_addf("--resume: %s: %s, so the checkpoint has no archive to continue; start the run "
              "again without --resume",
              path, strerror(errno));
    return FS_EUSAGE;
  }
  if (!S_ISREG(st.st_mode)) {
    diag_addf("--resume: %s is %s, not the archive fleetsim wrote (it does not write through "
              "links)",
              path, S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
    return FS_EUSAGE;
  }
  int rc = text_read_file(mpath, text, "--resume");
  ckpt_manifest m;
  if (rc == 0)
    rc = ckpt_manifest_parse(*text, mpath, &m);
  if (rc != 0)
    return rc;
  if (strcmp(m.version, FLEETSIM_VERSION) != 0 || strcmp(m.git_commit, FLEETSIM_GIT_COMMIT) != 0) {
    diag_addf("--resume: the checkpoint in %s was written by fleetsim %s (git %s), this is %s "
              "(git %s): resume with the build that started the run",
              opt->out_dir, m.version, m.git_commit, FLEETSIM_VERSION, FLEETSIM_GIT_COMMIT);
    rc = FS_EUSAGE;
  }
  if (sim_config_diff("checkpoint", m.config_json, config_json) > 0)
    rc = FS_EUSAGE;
  if (!sim_same_json(m.scenarios_text, opt->scenarios_text)) {
    diag_addf("--resume: the scenarios (%s) differ from the ones the checkpoint in %s was run "
              "with: resume with the same scenario file",
              opt->scenarios_source, opt->out_dir);
    rc = FS_EUSAGE;
  }
  if (rc == 0 && strcmp(m.fingerprint, run->fingerprint) != 0) {
    runid theirs = *run;
    snprintf(theirs.fingerprint, sizeof theirs.fingerprint, "%.16s", m.fingerprint);
    sim_other_run(mpath, &theirs, run);
    rc = FS_EUSAGE;
  }
  ckpt_manifest_free(&m);
  /* the archive and the contexts must be the checkpoint's run too */
  runid theirs;
  runid_file state;
  if (rc == 0 && h5a_read_runid(path, &theirs) != 0)
    rc = FS_EUSAGE;
  if (rc == 0 && !runid_same(&theirs, run)) {
    sim_other_run(path, &theirs, run);
    rc = FS_EUSAGE;
  }
  snprintf(cpath, sizeof cpath, "%s/llm/contexts.jsonl", opt->out_dir);
  if (rc == 0 && runid_read_file(cpath, &state, &theirs) != 0)
    rc = FS_EUSAGE;
  if (rc == 0 && state != RUNID_FILE_HEADER) {
    diag_addf("--resume: %s has no run header: it was not written by this run", cpath);
    rc = FS_EUSAGE;
  }
  if (rc == 0 && !runid_same(&theirs, run)) {
    sim_other_run(cpath, &theirs, run);
    rc = FS_EUSAGE;
  }
  return rc;
}

/* Collective. *m: the checked manifest of out_dir's checkpoint, on every
 * rank; or *complete = 1 when the run has already finished. */
static int sim_resume_check(const fs_config *cfg, const sim_options *opt,
                            const char *config_json, const runid *run, ckpt_manifest *m,
                            int *complete) {
  char *text = NULL;
  memset(m, 0, sizeof *m);
  *complete = 0;
  int rc =
      par_prints() ? sim_resume_check_root(cfg, opt, config_json, run, &text, complete) : 0;
  rc = par_agree(rc);
  if (rc == 0)
    rc = par_bcast_int(complete);
  if (rc == 0 && !*complete) {
    rc = par_bcast_text(&text);
    if (rc == 0)
      rc = par_agree(text ? ckpt_manifest_parse(text, "manifest.json", m) : FS_EIO);
  }
  free(text);
  return rc;
}

/* --resume of a run that completed: nothing to simulate. If the finish was
 * cut short after fleet.h5 was renamed (the checkpoint is still there), the
 * scoring is redone and the checkpoint removed. Printing rank. */
static int sim_resume_complete(const sim_options *opt) {
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/checkpoint", opt->out_dir);
  struct stat st;
  int leftover = stat(dir, &st) == 0;
  printf("fleetsim: %s/fleet.h5 is complete: nothing to resume\n", opt->out_dir);
  int rc = 0;
  if (leftover && opt->nbackends > 0) {
    printf("fleetsim: the run's finish was interrupted: scoring it again\n");
    rc = score_run_archive(opt->out_dir, !opt->quiet);
  }
  if (rc == 0 && leftover)
    rc = ckpt_prune(dir, -1);
  return rc;
}

/* --resume: the calls already in contexts.jsonl go to every backend again
 * in their order; those in a backend's transcript are skipped (their
 * answers still feed its L3/L4 additions), the rest are queued. */
static int sim_resubmit(sim_state *s) {
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

/* Printing rank: DIR/llm/contexts.jsonl (cut back to the checkpoint's
 * length on resume) and the backends' transcripts. */
static int sim_open_llm(sim_state *s, const sim_options *opt, const ckpt_manifest *m) {
  char llm_dir[4096];
  snprintf(llm_dir, sizeof llm_dir, "%s/llm", opt->out_dir);
  snprintf(s->contexts_path, sizeof s->contexts_path, "%s/contexts.jsonl", llm_dir);
  int rc = sf_mkdir(llm_dir, "LLM directory", 0);
  if (rc == 0 && opt->resume)
    rc = ckpt_truncate(s->contexts_path, m->contexts_bytes);
  if (rc == 0 && opt->resume)
    rc = sf_append(s->contexts_path, 0, &s->contexts, NULL);
  else if (rc == 0)
    rc = sf_create(s->contexts_path, &s->contexts);
  if (rc == 0 && !opt->resume) { /* the run header goes first */
    rc = ctxf_write_header(s->contexts, &s->run);
    if (rc == FS_EIO)
      diag_addf("%s: cannot write: %s", s->contexts_path, strerror(errno));
  }
  if (rc == 0 && opt->nbackends > 0 && !(s->esc = calloc((size_t)opt->nbackends, sizeof *s->esc)))
    rc = FS_ENOMEM;
  for (; rc == 0 && s->nesc < opt->nbackends; s->nesc++) {
    rc = esc_open(&s->esc[s->nesc], &opt->backends[s->nesc], opt->out_dir, opt->resume,
                  &s->run);
    if (rc == 0 && opt->pace > 0)
      rc = esc_set_pace(s->esc[s->nesc], opt->pace);
  }
  if (rc == 0 && opt->resume && s->nesc > 0)
    rc = sim_resubmit(s);
  return rc;
}

/* Printing rank, after the simulation: waits until every backend has
 * answered every call. A wait over a second gets a progress line: the calls
 * done of all submitted per backend (and those --pace still holds back) and
 * an ETA from the rate so far, no earlier than the last paced release. */
static int sim_drain(sim_state *s, int quiet) {
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

/* Printing rank, before anything is written: makes --out and locks it
 * (DIR/.lock, held until the run ends); for a fresh run, refuses a
 * directory that holds another run (--force: removes fleetsim's files of
 * it) and a run that does not fit (--force: tries anyway). */
static int sim_claim(const fs_config *cfg, const sim_options *opt, const sizing *z,
                     int node_ranks, int *lock_fd) {
  struct stat st;
  int rc = 0;
  if (opt->resume && stat(opt->out_dir, &st) != 0)
    return 0; /* nothing to lock: the resume check says what is missing */
  if (!opt->resume && (rc = sf_mkdir(opt->out_dir, "--out", 1)) != 0)
    return rc;
  if ((rc = rundir_lock(opt->out_dir, 1, "run", lock_fd)) != 0 || opt->resume)
    return rc;
  char list[1024];
  int held = rundir_held(opt->out_dir, list, sizeof list);
  if (held < 0)
    return FS_EIO;
  if (held > 0 && !opt->force) {
    diag_addf("run: %s holds another run (%s): continue it with --resume, choose another --out, "
              "or pass --force to remove fleetsim's files of it",
              opt->out_dir, list);
    return FS_EUSAGE;
  }
  if (held > 0 && (rc = rundir_clear(opt->out_dir)) != 0)
    return rc;
  return opt->force ? 0 : sizing_check_fits(z, cfg, opt->out_dir, node_ranks);
}

int sim_run(const fs_config *cfg, const sim_options *opt) {
  double t_start = par_wtime();
  if (par_size() > cfg->racks) {
    diag_addf("%d MPI ranks for %d racks: ranks own whole racks, so use at most %d ranks",
              par_size(), cfg->racks, cfg->racks);
    return FS_EUSAGE;
  }
  intr_install(INTR_RUN, par_prints(), cfg->scrape_interval_s);
  intr_note_checkpoint(cfg->archive && cfg->restart_every_windows > 0 ? 0 : -1);
  sizing z;
  sizing_estimate(cfg, par_size(), &z);
  int node_ranks = par_node_ranks(), lock_fd = -1;
  runid run;
  sim_state s;
  memset(&s, 0, sizeof s);
  char *config_json = cfg_to_json(cfg);
  int rc = par_agree(config_json ? runid_make(&run, config_json, opt->scenarios_text, cfg->seed)
                                 : FS_ENOMEM);
  /* bad inputs are refused before the run directory is even made */
  if (rc == 0)
    rc = par_agree(sim_parse_inputs(&s, cfg, opt));
  if (rc == 0)
    rc = par_agree(par_prints() ? sim_claim(cfg, opt, &z, node_ranks, &lock_fd) : 0);
  int claimed = rc == 0 && !opt->resume, simulated = 0;
  ckpt_manifest man;
  memset(&man, 0, sizeof man);
  if (rc == 0 && opt->resume) {
    int complete = 0;
    rc = sim_resume_check(cfg, opt, config_json, &run, &man, &complete);
    if (rc == 0 && complete) {
      rc = par_agree_idle(par_prints() ? sim_resume_complete(opt) : 0);
      free(config_json);
      sim_state_destroy(&s);
      rundir_unlock(&lock_fd);
      return rc;
    }
  }
  if (rc != 0) {
    free(config_json);
    sim_state_destroy(&s);
    rundir_unlock(&lock_fd);
    return rc;
  }
  int rack0, nracks;
  par_rack_range(cfg->racks, &rack0, &nracks);
  s.config_json = config_json;
  s.run = run;
  snprintf(s.ckpt_dir, sizeof s.ckpt_dir, "%s/checkpoint", opt->out_dir);
  rc = par_agree(sim_alloc(&s, cfg, rack0, nracks));
  if (rc == FS_ENOMEM && par_prints()) {
    char rank[32], win[32];
    sizing_bytes(z.rank_bytes, rank, sizeof rank);
    sizing_bytes(z.window_bytes, win, sizeof win);
    diag_addf("run: out of memory for the run's buffers: they take about %s per rank (the "
              "window buffer %s = window_scrapes %d x %d nodes per rank x 1040 B): lower "
              "window_scrapes or nodes, or use more ranks",
              rank, win, cfg->window_scrapes, z.local_nodes);
  }
  if (rc == 0 && par_prints()) {
    /* a resumed run keeps only its own checkpoint (a fresh one has none:
     * sim_claim removed an earlier run's) */
    rc = opt->resume ? ckpt_prune(s.ckpt_dir, man.windows) : 0;
    if (rc == 0 && cfg->archive)
      rc = sf_mkdir(s.ckpt_dir, "checkpoint directory", 0);
    if (rc == 0)
      rc = sim_open_llm(&s, opt, &man);
  }
  rc = par_agree(rc);
  char path[4096];
  snprintf(path, sizeof path, "%s/fleet.h5", opt->out_dir);
  h5a_layout lay = {
      .scrapes = cfg_scrapes(cfg),
      .nodes = cfg->nodes,
      .nodes_per_rack = s.fleet ? s.fleet->nodes_per_rack : 1,
      .window_scrapes = s.window.capacity,
      .node0 = rack0 * (s.fleet ? s.fleet->nodes_per_rack : 1),
      .nnodes = nracks * (s.fleet ? s.fleet->nodes_per_rack : 1),
      .reserve_bytes = z.archive_bytes,
  };
  if (rc == 0 && opt->resume) {
    rc = h5a_reopen(&s.archive, path, &lay, par_size());
    if (rc == 0)
      rc = par_agree(sim_restore_nodes(&s, &man));
    if (rc == 0)
      rc = par_agree(par_prints() ? sim_restore_root(&s, &man) : 0);
    if (rc == 0)
      intr_note_checkpoint(man.next_scrape);
  } else if (rc == 0 && cfg->archive) {
    h5a_provenance prov = {
        .version = FLEETSIM_VERSION,
        .git_commit = FLEETSIM_GIT_COMMIT,
        .fingerprint = run.fingerprint,
        .config_json = config_json,
        .scenarios_json = opt->scenarios_text,
        .seed = cfg->seed,
        .ranks = par_size(),
        .scrape_interval_s = cfg->scrape_interval_s,
    };
    rc = h5a_create(&s.archive, path, &lay, &prov);
    if (rc == 0)
      rc = h5a_write_topology(s.archive, s.fleet);
    if (rc == 0)
      rc = sim_write_ground_truth(&s, cfg);
  }
  int64_t T = cfg_scrapes(cfg);
  int64_t windows = opt->resume ? man.windows : 0;
  int64_t t_begin = opt->resume ? man.next_scrape : 0;
  if (rc == 0 && opt->resume && !opt->quiet && par_prints())
    fprintf(stderr, "fleetsim: resuming %s after window %lld (scrape %lld of %lld), written "
                    "by %d ranks\n",
            opt->out_dir, (long long)windows, (long long)t_begin, (long long)T, man.ranks);
  progress prog;
  progress_init(&prog, !opt->quiet && par_prints(), t_begin, T,
                (double)cfg->nodes * (FLEET_GPUS * GM_COUNT + NM_COUNT), cfg->scrape_interval_s,
                par_wtime());
  for (int64_t t0 = t_begin; rc == 0 && t0 < T; t0 += s.window.capacity) {
    int rows = (int)(T - t0 < s.window.capacity ? T - t0 : s.window.capacity);
    rc = sim_window(&s, cfg, t0, rows);
    if (rc == 0)
      rc = sim_checkpoint(&s, cfg, opt, ++windows, t0 + rows);
    progress_update(&prog, t0 + rows, par_wtime());
  }
  simulated = rc == 0;
  if (rc == 0 && par_prints())
    rc = sim_contexts(&s, s.det_step - 1, INT32_MAX, 1);
  if (rc == 0 && par_prints())
    rc = s.esc_rc ? s.esc_rc : sim_drain(&s, opt->quiet);
  rc = par_agree_idle(rc); /* the other ranks sleep while the LLM calls finish */
  if (rc == 0)
    rc = sim_finish_events(&s, cfg, opt->out_dir, opt->quiet);
  if (rc == 0 && cfg->archive)
    rc = h5a_finish(&s.archive);
  if (rc == 0)
    sim_report(&s, cfg, path, par_wtime() - t_start);
  if (rc == 0 && par_prints() && s.nesc > 0) /* the seed's tables for this run's backends */
    rc = score_run_dir(opt->out_dir, s.fleet, s.scenarios, !opt->quiet);
  /* finished: the checkpoints are no longer needed (while they exist, a
   * --resume of the complete run redoes the scoring) */
  if (rc == 0 && par_prints())
    rc = ckpt_prune(s.ckpt_dir, -1);
  rc = par_agree_idle(rc);
  for (int i = 0; rc == 0 && i < s.nesc; i++) {
    esc_summary sum;
    esc_stats(s.esc[i], &sum);
    esc_print_summary(&sum, stdout);
  }
  ckpt_manifest_free(&man);
  free(config_json);
  sim_state_destroy(&s);
  /* a fresh run that failed before anything could be resumed or kept
   * (no checkpoint, the simulation unfinished) leaves no files behind */
  if (rc != 0 && claimed && !simulated && s.ckpts == 0 && par_prints())
    rundir_clear(opt->out_dir);
  rundir_unlock(&lock_fd);
  return rc;
}

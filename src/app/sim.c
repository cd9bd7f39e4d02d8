/* The run loop (see sim.h): the order of work in `fleetsim run`. Per
 * window: every rank simulates its racks' scrapes, job step times are
 * settled by an all-reduce MAX, per-rack sums go to the printing rank for
 * the cluster metrics, L1 detection runs every 20 scrapes (the printing
 * rank aggregating and handing contexts to the LLM schedule), all ranks
 * write their hyperslab of the window to the archive collectively, and a
 * restart checkpoint follows. Checkpoints and --resume are restart.c's and
 * resume_check.c's, the LLM tiers llm_schedule.c's, the timers timers.c's. */
#include "src/app/sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/archive.h"
#include "mpi/par.h"
#include "pipeline/detect/aggregate.h"
#include "pipeline/detect/context.h"
#include "pipeline/detect/detect.h"
#include "pipeline/score/score_run.h"
#include "scenarios/inject.h"
#include "src/app/archive_stage.h"
#include "src/app/llm_schedule.h"
#include "src/app/restart.h"
#include "src/app/resume_check.h"
#include "src/app/run_record.h"
#include "src/app/timers.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/interrupt.h"
#include "src/core/progress.h"
#include "src/core/rundir.h"
#include "src/core/runid.h"
#include "src/core/safefile.h"
#include "src/model/fleet.h"
#include "src/model/sizing.h"
#include "src/model/telemetry.h"
#include "version.h"

/* Everything one run holds; freed by sim_state_destroy. */
typedef struct {
  fleet *fleet;
  scn_set *scenarios;
  tel_model *model;
  tel_window window;
  tel_drivers *drivers;   /* [local nodes] */
  int drivers_set;        /* scn_drive changed them since the last reset */
  int jobs_set;           /* scn_drive_jobs changed the model's job drivers since */
  double *job_max_ms;     /* [window][jobs] */
  double *rack_agg;       /* [local racks][window][TEL_AGG_COUNT] */
  double *all_rack_agg;   /* [racks][window][TEL_AGG_COUNT], printing rank */
  tel_cluster *cluster;   /* printing rank */
  det_state *det;         /* L1 detector over this rank's nodes */
  agg_state *agg;         /* L1 aggregation, printing rank */
  ctx_builder *ctx;       /* LLM contexts, printing rank */
  lsched llm;             /* the LLM tiers, printing rank */
  int32_t det_step;       /* detection steps done */
  float *cluster_buf[CM_COUNT]; /* [window], printing rank */
  double *time_s;         /* [window], printing rank */
  h5a_writer *archive;
  runid run;              /* the run's fingerprint: archive, contexts, transcripts */
  restart rst;            /* restart checkpoints */
  run_timers timers;
  cl_state *cl;           /* closed loop (opt->closed_loop), every rank */
  arch_stage stage;       /* opt->archive_window: rows waiting for their archive write */
  int staged;             /* 1: the archive is written through the stage */
} sim_state;

static void sim_state_destroy(sim_state *s) {
  h5a_abandon(&s->archive);
  det_destroy(&s->det);
  agg_destroy(&s->agg);
  ctx_destroy(&s->ctx);
  lsched_close(&s->llm);
  cl_destroy(&s->cl);
  stage_destroy(&s->stage);
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
  rst_destroy(&s->rst);
}

/* The fleet and the resolved scenarios: the inputs, checked before
 * anything is written. */
static int sim_parse_inputs(sim_state *s, const fs_config *cfg, const sim_options *opt) {
  int rc = fleet_init(&s->fleet, cfg);
  if (rc == 0)
    rc = scn_parse(&s->scenarios, opt->scenarios_text, opt->scenarios_source, s->fleet);
  return rc;
}

/* Everything else a run holds (after sim_parse_inputs), for racks
 * [rack0, rack0 + nracks); the restart checkpoints borrow its parts. */
static int sim_alloc(sim_state *s, const fs_config *cfg, const sim_options *opt,
                     const char *config_json, int rack0, int nracks) {
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
  s->drivers = malloc(sizeof *s->drivers * (size_t)nnodes);
  s->job_max_ms = malloc(sizeof *s->job_max_ms * (size_t)rows * (size_t)(f->njobs + 1));
  s->rack_agg = malloc(sizeof *s->rack_agg * (size_t)nracks * rows * TEL_AGG_COUNT);
  if (!s->drivers || !s->job_max_ms || !s->rack_agg)
    return FS_ENOMEM;
  s->drivers_set = 1; /* uninitialised: the first scrape resets them */
  if (opt->closed_loop && (rc = cl_init(&s->cl, opt->closed_loop, f, s->scenarios)) != 0)
    return rc;
  if (cfg->archive && opt->archive_window > rows) {
    int cap = scrapes < opt->archive_window ? (int)scrapes : opt->archive_window;
    if ((rc = stage_init(&s->stage, s->model, cap, par_prints())) != 0)
      return rc;
    s->staged = 1;
  }
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
  s->rst = (restart){.model = s->model,
                     .det = s->det,
                     .node0 = node0,
                     .nnodes = nnodes,
                     .cluster = s->cluster,
                     .agg = s->agg,
                     .ctx = s->ctx,
                     .llm = &s->llm,
                     .det_step = &s->det_step,
                     .cfg = cfg,
                     .fleet = f,
                     .config_json = config_json,
                     .scenarios_text = opt->scenarios_text,
                     .run = &s->run};
  return rst_init(&s->rst, opt->out_dir);
}

/* The printing rank's part of one detection block: aggregate the gathered
 * candidates (all, ncand of them) and the trends into events, record the
 * block's features for the contexts, and hand the step to the LLM
 * schedule. The detector still holds that block's features. */
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
  if (rc == 0 && s->cl) {
    int n;
    const ev_event *ev = agg_events(s->agg, &n);
    rc = cl_on_events(s->cl, ev, before, n, t_end);
  }
  /* a transcript that cannot be written (a full disk) stops the run at the
   * end of this block, with its own message, before anything else fails */
  if (rc == 0)
    rc = lsched_block(&s->llm, s->agg, s->ctx, s->det_step, before,
                      s->fleet->cfg->scrape_interval_s);
  s->det_step++;
  return rc;
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
  run_timers *tm = &s->timers;
  if (s->cl) { /* the actions taking effect now, on every rank */
    int rc = cl_boundary(s->cl, t0);
    if (rc != 0)
      return rc;
  }
  if (s->staged) /* the scrapes go straight into the archive's staging rows */
    stage_view(&s->stage, &s->window);
  timer_start(tm, TIMER_SIMULATE);
  for (int r = 0; r < rows; r++) {
    /* reset only what a scenario changed: most scrapes have none on this rank */
    if (s->drivers_set)
      tel_drivers_reset(s->drivers, nnodes);
    s->drivers_set = scn_drive(s->scenarios, f, t0 + r, s->window.node0, nnodes, s->drivers) > 0;
    tel_job_drivers *jd = tel_job_drivers_of(s->model);
    if (s->jobs_set)
      tel_job_drivers_reset(jd, f->njobs);
    s->jobs_set = scn_drive_jobs(s->scenarios, f, t0 + r, jd) > 0;
    if (s->cl && cl_drive(s->cl, t0 + r, s->window.node0, nnodes, s->drivers, jd))
      s->drivers_set = s->jobs_set = 1;
    tel_scrape(s->model, t0 + r, s->drivers, &s->window, r, det_fold_chunk, s->det);
    intr_note_scrapes(t0 + r + 1);
  }
  tel_job_local_max(s->model, &s->window, rows, s->job_max_ms);
  timer_stop(tm, TIMER_SIMULATE);
  int rc = 0;
  timer_start(tm, TIMER_COLLECTIVES);
  if (f->njobs > 0)
    rc = par_max_doubles(s->job_max_ms, rows * f->njobs);
  timer_stop(tm, TIMER_COLLECTIVES);
  timer_start(tm, TIMER_SIMULATE);
  tel_finish_training(s->model, &s->window, rows, s->job_max_ms);
  tel_rack_aggregates(s->model, &s->window, t0, rows, s->rack_agg);
  timer_stop(tm, TIMER_SIMULATE);
  timer_start(tm, TIMER_COLLECTIVES);
  if (rc == 0)
    rc = par_gather_rack_blocks(s->rack_agg, nracks, rows * TEL_AGG_COUNT, s->all_rack_agg);
  timer_stop(tm, TIMER_COLLECTIVES);
  timer_start(tm, TIMER_SIMULATE);
  if (par_prints()) {
    tel_cluster_window(s->cluster, t0, rows, s->all_rack_agg, s->cluster_buf);
    for (int r = 0; r < rows; r++)
      s->time_s[r] = (double)(t0 + r) * cfg->scrape_interval_s;
    if (s->cl)
      cl_account(s->cl, t0, rows, s->job_max_ms, s->cluster_buf);
  }
  timer_stop(tm, TIMER_SIMULATE);
  timer_start(tm, TIMER_DETECT);
  rc = par_agree(rc);
  if (rc == 0)
    rc = sim_detect(s, cfg, t0, rows);
  timer_stop(tm, TIMER_DETECT);
  timer_start(tm, TIMER_ARCHIVE);
  if (rc == 0 && cfg->archive && s->staged)
    rc = stage_add(&s->stage, s->archive, t0, rows, s->cluster_buf, s->time_s,
                   t0 + rows == cfg_scrapes(cfg));
  else if (rc == 0 && cfg->archive)
    rc = h5a_write_window(s->archive, t0, rows, s->window.gpu, s->window.node,
                          (const float *const *)s->cluster_buf, s->time_s);
  timer_stop(tm, TIMER_ARCHIVE);
  return rc;
}

/* The restart checkpoint after `windows` windows, when one is due, the
 * next window starting at scrape `next`. Collective. */
static int sim_checkpoint(sim_state *s, const fs_config *cfg, int64_t windows, int64_t next) {
  if (!rst_due(cfg, windows))
    return 0;
  timer_start(&s->timers, TIMER_CHECKPOINT);
  int rc = rst_write(&s->rst, s->archive, windows, next);
  timer_stop(&s->timers, TIMER_CHECKPOINT);
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
  if (!opt->parent_locked && (rc = rundir_lock(opt->out_dir, 1, "run", lock_fd)) != 0)
    return rc;
  if (opt->resume)
    return 0;
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

/* The run's buffers and outputs, collective: this rank's racks, the
 * printing rank's checkpoint directory and LLM schedule, then the archive:
 * created with topology and ground truth, or (--resume, man its checked
 * manifest) reopened (uncompressed) or rebuilt with the checkpoint's rows
 * (compressed), and the checkpoint loaded. */
static int sim_open(sim_state *s, const fs_config *cfg, const sim_options *opt, const sizing *z,
                    const char *config_json, const ckpt_manifest *man, const char *path) {
  int rack0, nracks;
  par_rack_range(cfg->racks, &rack0, &nracks);
  int rc = par_agree(sim_alloc(s, cfg, opt, config_json, rack0, nracks));
  if (rc == FS_ENOMEM && par_prints()) {
    char rank[32], win[32];
    sizing_bytes(z->rank_bytes, rank, sizeof rank);
    sizing_bytes(z->window_bytes, win, sizeof win);
    diag_addf("run: out of memory for the run's buffers: they take about %s per rank (the "
              "window buffer %s = window_scrapes %d x %d nodes per rank x %.0f B): lower "
              "window_scrapes or nodes, or use more ranks",
              rank, win, cfg->window_scrapes, z->local_nodes, z->node_scrape_bytes);
  }
  if (rc == 0 && par_prints()) {
    rc = rst_prepare(&s->rst, opt, man);
    if (rc == 0)
      rc = lsched_open(&s->llm, opt, &s->run, man->contexts_bytes, cfg->det.l4_every_steps);
    if (rc == 0 && s->cl) {
      s->llm.cl = s->cl;
      if (opt->closed_loop->role == CL_BACKEND && s->llm.nesc == 1)
        cl_attach(s->cl, s->llm.esc[0]);
    }
  }
  rc = par_agree(rc);
  if (rc != 0)
    return rc;
  const int per_rack = s->fleet->nodes_per_rack;
  h5a_layout lay = {
      .scrapes = cfg_scrapes(cfg),
      .nodes = cfg->nodes,
      .nodes_per_rack = per_rack,
      .window_scrapes = s->staged ? s->stage.w.capacity : s->window.capacity,
      .node0 = rack0 * per_rack,
      .nnodes = nracks * per_rack,
      .reserve_bytes = z->archive_bytes,
  };
  /* an uncompressed archive has all its space from the start: it is
   * continued in place; a compressed one is rebuilt (h5a_rebuild) */
  int in_place = cfg->archive_compression == CFG_COMPRESSION_NONE;
  if (opt->resume && in_place) {
    rc = h5a_reopen(&s->archive, path, &lay, par_size());
    return rc == 0 ? rst_load(&s->rst, man) : rc;
  }
  if (!cfg->archive)
    return 0;
  h5a_provenance prov = {
      .version = FLEETSIM_VERSION,
      .git_commit = FLEETSIM_GIT_COMMIT,
      .fingerprint = s->run.fingerprint,
      .config_json = config_json,
      .scenarios_json = opt->scenarios_text,
      .seed = cfg->seed,
      .ranks = par_size(),
      .scrape_interval_s = cfg->scrape_interval_s,
  };
  if (opt->resume)
    rc = h5a_rebuild(&s->archive, path, &lay, &prov, man->next_scrape);
  else
    rc = h5a_create(&s->archive, path, &lay, &prov);
  if (rc == 0)
    rc = h5a_write_topology(s->archive, s->fleet);
  if (rc == 0)
    rc = record_ground_truth(s->archive, s->scenarios, cfg);
  if (rc == 0 && opt->resume)
    rc = h5a_rebuild_commit(s->archive);
  return rc == 0 && opt->resume ? rst_load(&s->rst, man) : rc;
}

/* The simulation after sim_open: every window from the first one not in
 * the archive (man: --resume's manifest) with its checkpoint, then the LLM
 * schedule's last contexts and drain (the other ranks sleep meanwhile).
 * *simulated = 1 when every window is done. Collective. */
static int sim_loop(sim_state *s, const fs_config *cfg, const sim_options *opt,
                    const ckpt_manifest *man, int *simulated) {
  int64_t T = cfg_scrapes(cfg);
  int64_t windows = opt->resume ? man->windows : 0;
  int64_t t_begin = opt->resume ? man->next_scrape : 0;
  if (opt->resume && !opt->quiet && par_prints())
    fprintf(stderr, "fleetsim: resuming %s after window %lld (scrape %lld of %lld), written "
                    "by %d ranks\n",
            opt->out_dir, (long long)windows, (long long)t_begin, (long long)T, man->ranks);
  progress prog;
  progress_init(&prog, !opt->quiet && par_prints(), t_begin, T,
                (double)cfg->nodes * (FLEET_GPUS * GM_COUNT + NM_COUNT), cfg->scrape_interval_s,
                par_wtime());
  int rc = 0;
  for (int64_t t0 = t_begin; rc == 0 && t0 < T; t0 += s->window.capacity) {
    int rows = (int)(T - t0 < s->window.capacity ? T - t0 : s->window.capacity);
    rc = sim_window(s, cfg, t0, rows);
    if (rc == 0)
      rc = sim_checkpoint(s, cfg, ++windows, t0 + rows);
    progress_update(&prog, t0 + rows, par_wtime());
  }
  *simulated = rc == 0;
  if (rc == 0 && par_prints())
    rc = lsched_finish(&s->llm, s->agg, s->ctx, s->det_step - 1, cfg->scrape_interval_s,
                       opt->quiet);
  if (rc == 0 && par_prints() && s->cl)
    rc = cl_write_record(s->cl);
  return par_agree_idle(rc); /* the other ranks sleep while the LLM calls finish */
}

int sim_run(const fs_config *cfg, const sim_options *opt) {
  double t_start = par_wtime();
  /* a closed loop's comparison twin reports its progress only */
  const int twin = opt->closed_loop && opt->closed_loop->role != CL_BACKEND;
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
  sim_state s;
  memset(&s, 0, sizeof s);
  char *config_json = cfg_to_json(cfg);
  int rc = par_agree(config_json ? runid_make(&s.run, config_json, opt->scenarios_text, cfg->seed)
                                 : FS_ENOMEM);
  /* bad inputs are refused before the run directory is even made */
  if (rc == 0)
    rc = par_agree(sim_parse_inputs(&s, cfg, opt));
  if (rc == 0)
    rc = par_agree(par_prints() ? sim_claim(cfg, opt, &z, node_ranks, &lock_fd) : 0);
  int claimed = rc == 0 && !opt->resume, simulated = 0, complete = 0;
  ckpt_manifest man;
  memset(&man, 0, sizeof man);
  if (rc == 0 && opt->resume)
    rc = resume_check(cfg, opt, config_json, &s.run, &man, &complete);
  char path[4096];
  snprintf(path, sizeof path, "%s/fleet.h5", opt->out_dir);
  if (rc == 0 && complete) {
    rc = par_agree_idle(par_prints() ? resume_finish_complete(opt) : 0);
  } else if (rc == 0) {
    rc = sim_open(&s, cfg, opt, &z, config_json, &man, path);
    if (rc == 0)
      rc = sim_loop(&s, cfg, opt, &man, &simulated);
    if (rc == 0)
      rc = record_events(s.archive, s.agg, s.scenarios, s.fleet, opt->out_dir,
                         opt->quiet || twin); /* a twin's detection table is its run's */
    if (rc == 0 && cfg->archive)
      rc = h5a_finish(&s.archive);
    if (rc == 0 && !twin) {
      run_report r = {.cfg = cfg,
                      .archive_path = path,
                      .wall_s = par_wtime() - t_start,
                      .checkpoint_bytes = s.rst.last_bytes,
                      .checkpoints = s.rst.written};
      timers_report(&s.timers, &r);
    }
    if (rc == 0 && par_prints() && s.llm.nesc > 0) /* the seed's tables for this run's backends */
      rc = score_run_dir(opt->out_dir, s.fleet, s.scenarios, !opt->quiet);
    /* finished: the checkpoints are no longer needed (while they exist, a
     * --resume of the complete run redoes the scoring) */
    if (rc == 0 && par_prints())
      rc = rst_remove(&s.rst);
    rc = par_agree_idle(rc);
    if (rc == 0)
      lsched_print_summaries(&s.llm, stdout);
  }
  int64_t written = s.rst.written;
  ckpt_manifest_free(&man);
  free(config_json);
  sim_state_destroy(&s);
  /* a fresh run that failed before anything could be resumed or kept
   * (no checkpoint, the simulation unfinished) leaves no files behind */
  if (rc != 0 && claimed && !simulated && written == 0 && par_prints())
    rundir_clear(opt->out_dir);
  if (opt->keep_lock)
    *opt->keep_lock = lock_fd;
  else
    rundir_unlock(&lock_fd);
  return rc;
}

/* The run loop (see sim.h). Per window: every rank simulates its racks'
 * scrapes, job step times are settled by an all-reduce MAX, per-rack sums go
 * to the printing rank for the cluster metrics, and all ranks write their
 * hyperslab of the window to the archive collectively. */
#include "src/sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "io/archive.h"
#include "mpi/par.h"
#include "pipeline/aggregate.h"
#include "pipeline/context.h"
#include "pipeline/contexts_file.h"
#include "pipeline/detect.h"
#include "pipeline/detection_report.h"
#include "pipeline/escalate.h"
#include "pipeline/score_run.h"
#include "scenarios/scenario.h"
#include "src/diag.h"
#include "src/errors.h"
#include "src/fleet.h"
#include "src/progress.h"
#include "src/telemetry.h"
#include "version.h"

/* Timers for the end-of-run report (min/avg/max over ranks). */
typedef enum { TIMER_SIMULATE, TIMER_COLLECTIVES, TIMER_DETECT, TIMER_ARCHIVE, TIMER_COUNT } sim_timer;
static const char *const sim_timer_names[TIMER_COUNT] = {"simulate", "collectives", "detect",
                                                         "archive"};

/* Everything one run holds; freed by sim_state_destroy. */
typedef struct {
  fleet *fleet;
  scn_set *scenarios;
  tel_model *model;
  tel_window window;
  tel_drivers *drivers;   /* [local nodes] */
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
  int esc_rc;             /* first escalation failure, reported after the loop */
  int next_l3;            /* first event whose L3 context is not written yet */
  int next_l4;            /* index of the next L4 shift summary */
  int32_t det_step;       /* detection steps done */
  float *cluster_buf[CM_COUNT]; /* [window], printing rank */
  double *time_s;         /* [window], printing rank */
  h5a_writer *archive;
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
}

/* Creates out_dir (one level, like mkdir) unless it is already a directory. */
static int sim_make_out_dir(const char *dir) {
  struct stat st;
  if (stat(dir, &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      diag_addf("--out %s: exists and is not a directory", dir);
      return FS_EIO;
    }
    return 0;
  }
  if (mkdir(dir, 0777) != 0) {
    diag_addf("--out %s: cannot create directory: %s", dir, strerror(errno));
    return FS_EIO;
  }
  return 0;
}

static int sim_alloc(sim_state *s, const fs_config *cfg, const sim_options *opt, int rack0,
                     int nracks) {
  int rc = fleet_init(&s->fleet, cfg);
  if (rc)
    return rc;
  if ((rc = scn_parse(&s->scenarios, opt->scenarios_text, opt->scenarios_source, s->fleet)))
    return rc;
  const fleet *f = s->fleet;
  int node0 = rack0 * f->nodes_per_rack, nnodes = nracks * f->nodes_per_rack;
  int64_t scrapes = cfg_scrapes(cfg);
  int rows = cfg->window_scrapes < scrapes ? cfg->window_scrapes : (int)scrapes;
  if ((rc = tel_init(&s->model, f, node0, nnodes)) != 0 ||
      (rc = tel_window_init(&s->window, s->model, rows)) != 0 ||
      (rc = det_init(&s->det, f, node0, nnodes)) != 0)
    return rc;
  if (par_prints() && ((rc = agg_init(&s->agg, f)) != 0 ||
                       (rc = ctx_init(&s->ctx, f, (int)(scrapes / DET_BLOCK_SCRAPES) + 1)) != 0))
    return rc;
  s->drivers = malloc(sizeof *s->drivers * (size_t)nnodes);
  s->job_max_ms = malloc(sizeof *s->job_max_ms * (size_t)rows * (size_t)(f->njobs + 1));
  s->rack_agg = malloc(sizeof *s->rack_agg * (size_t)nracks * rows * TEL_AGG_COUNT);
  if (!s->drivers || !s->job_max_ms || !s->rack_agg)
    return FS_ENOMEM;
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

/* L1 over every complete detection block of the window: each rank finds its
 * candidates, the printing rank aggregates them into events. Collective. */
static int sim_detect(sim_state *s, const fs_config *cfg, int64_t t0, int rows) {
  int rc = 0;
  for (int r0 = 0; rc == 0 && r0 + DET_BLOCK_SCRAPES <= rows; r0 += DET_BLOCK_SCRAPES) {
    const det_candidate *cands;
    const det_trend *trends;
    int ncands, ntrends;
    rc = det_block(s->det, &s->window, r0, &cands, &ncands, &trends, &ntrends);
    void *all = NULL;
    int all_bytes = 0;
    if (rc == 0)
      rc = par_gather_bytes(cands, ncands * (int)sizeof *cands, &all, &all_bytes);
    if (rc == 0 && par_prints()) {
      double t_end = (double)(t0 + r0 + DET_BLOCK_SCRAPES) * cfg->scrape_interval_s;
      int ncand = all_bytes / (int)sizeof(det_candidate), before;
      float cluster[CM_COUNT];
      for (int k = 0; k < CM_COUNT; k++)
        cluster[k] = s->cluster_buf[k][r0 + DET_BLOCK_SCRAPES - 1];
      agg_events(s->agg, &before);
      rc = agg_step(s->agg, s->det_step, t_end, all, ncand, trends, ntrends);
      if (rc == 0)
        rc = ctx_record_step(s->ctx, s->det, s->det_step, t_end, all, ncand, cluster);
      if (rc == 0)
        rc = sim_contexts(s, s->det_step, before, 0);
      for (int i = 0; i < s->nesc && s->esc_rc == 0; i++) /* wait 0: never on the network */
        s->esc_rc = esc_poll(s->esc[i], 0);
    }
    free(all);
    rc = par_agree(rc);
    s->det_step++;
  }
  return rc;
}

/* Simulates scrapes [t0, t0 + rows) and writes them. Collective. */
static int sim_window(sim_state *s, const fs_config *cfg, int64_t t0, int rows) {
  const fleet *f = s->fleet;
  int nnodes = s->window.nnodes, nracks = nnodes / f->nodes_per_rack;
  double w0 = par_wtime();
  for (int r = 0; r < rows; r++) {
    tel_drivers_reset(s->drivers, nnodes);
    scn_drive(s->scenarios, f, t0 + r, s->window.node0, nnodes, s->drivers);
    tel_scrape(s->model, t0 + r, s->drivers, &s->window, r);
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
    rc = sim_make_out_dir(dir);
    if (rc == 0)
      rc = detrep_build(&rep, ev, n, s->scenarios, s->fleet, cfg->scrape_interval_s,
                        (double)cfg_scrapes(cfg) * cfg->scrape_interval_s);
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
}

int sim_run(const fs_config *cfg, const sim_options *opt) {
  double t_start = par_wtime();
  if (par_size() > cfg->racks) {
    diag_addf("%d MPI ranks for %d racks: ranks own whole racks, so use at most %d ranks",
              par_size(), cfg->racks, cfg->racks);
    return FS_EUSAGE;
  }
  int rack0, nracks;
  par_rack_range(cfg->racks, &rack0, &nracks);
  sim_state s;
  memset(&s, 0, sizeof s);
  int rc = par_agree(sim_alloc(&s, cfg, opt, rack0, nracks));
  if (rc == 0)
    rc = par_agree(par_prints() ? sim_make_out_dir(opt->out_dir) : 0);
  if (rc == 0 && par_prints()) {
    char llm_dir[4096], cpath[4200];
    snprintf(llm_dir, sizeof llm_dir, "%s/llm", opt->out_dir);
    snprintf(cpath, sizeof cpath, "%s/contexts.jsonl", llm_dir);
    rc = sim_make_out_dir(llm_dir);
    if (rc == 0 && !(s.contexts = fopen(cpath, "w"))) {
      diag_addf("%s: cannot create: %s", cpath, strerror(errno));
      rc = FS_EIO;
    }
    if (rc == 0 && opt->nbackends > 0 &&
        !(s.esc = calloc((size_t)opt->nbackends, sizeof *s.esc)))
      rc = FS_ENOMEM;
    for (; rc == 0 && s.nesc < opt->nbackends; s.nesc++)
      rc = esc_open(&s.esc[s.nesc], &opt->backends[s.nesc], opt->out_dir, 0);
  }
  rc = par_agree(rc);
  char path[4096];
  snprintf(path, sizeof path, "%s/fleet.h5", opt->out_dir);
  char *config_json = NULL;
  if (rc == 0) {
    config_json = cfg_to_json(cfg);
    rc = par_agree(config_json ? 0 : FS_ENOMEM);
  }
  if (rc == 0 && cfg->archive) {
    h5a_layout lay = {
        .scrapes = cfg_scrapes(cfg),
        .nodes = cfg->nodes,
        .nodes_per_rack = s.fleet->nodes_per_rack,
        .window_scrapes = s.window.capacity,
        .node0 = rack0 * s.fleet->nodes_per_rack,
        .nnodes = nracks * s.fleet->nodes_per_rack,
    };
    h5a_provenance prov = {
        .version = FLEETSIM_VERSION,
        .git_commit = FLEETSIM_GIT_COMMIT,
        .config_json = config_json,
        .scenarios_json = opt->scenarios_text,
        .seed = cfg->seed,
        .ranks = par_size(),
        .scrape_interval_s = cfg->scrape_interval_s,
    };
    rc = h5a_create(&s.archive, path, &lay, &prov);
  }
  if (rc == 0 && cfg->archive)
    rc = h5a_write_topology(s.archive, s.fleet);
  if (rc == 0)
    rc = sim_write_ground_truth(&s, cfg);
  int64_t T = cfg_scrapes(cfg);
  progress prog;
  progress_init(&prog, !opt->quiet, T,
                (double)cfg->nodes * (FLEET_GPUS * GM_COUNT + NM_COUNT), cfg->scrape_interval_s,
                cfg->start_hour, par_wtime());
  for (int64_t t0 = 0; rc == 0 && t0 < T; t0 += s.window.capacity) {
    int rows = (int)(T - t0 < s.window.capacity ? T - t0 : s.window.capacity);
    rc = sim_window(&s, cfg, t0, rows);
    progress_update(&prog, t0 + rows, par_wtime());
  }
  if (rc == 0 && par_prints())
    rc = sim_contexts(&s, s.det_step - 1, INT32_MAX, 1);
  for (int i = 0; rc == 0 && i < s.nesc; i++)
    rc = s.esc_rc ? s.esc_rc : esc_drain(s.esc[i]);
  rc = par_agree(rc);
  if (rc == 0)
    rc = sim_finish_events(&s, cfg, opt->out_dir, opt->quiet);
  if (rc == 0 && cfg->archive)
    rc = h5a_finish(&s.archive);
  if (rc == 0)
    sim_report(&s, cfg, path, par_wtime() - t_start);
  if (rc == 0 && par_prints() && s.nesc > 0) /* the seed's tables for this run's backends */
    rc = score_run_dir(opt->out_dir, s.fleet, s.scenarios, !opt->quiet);
  rc = par_agree(rc);
  for (int i = 0; rc == 0 && i < s.nesc; i++) {
    esc_summary sum;
    esc_stats(s.esc[i], &sum);
    esc_print_summary(&sum, stdout);
  }
  free(config_json);
  sim_state_destroy(&s);
  return rc;
}

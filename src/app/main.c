/* fleetsim entry point: starts MPI, parses the command line, dispatches to a
 * subcommand, prints collected errors once (from the printing rank) and
 * returns the same exit status on every rank. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/archive.h"
#include "io/archive_check.h"
#include "io/openmetrics.h"
#include "mpi/io_hints.h"
#include "mpi/par.h"
#include "pipeline/detect/contexts_file.h"
#include "pipeline/llm/escalate.h"
#include "pipeline/llm/llm_spec.h"
#include "pipeline/llm/pace.h"
#include "pipeline/score/score_run.h"
#include "scenarios/scenario.h"
#include "src/app/cli.h"
#include "src/app/closed_loop_run.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/model/fleet.h"
#include "src/core/interrupt.h"
#include "src/model/metrics.h"
#include "src/core/progress.h"
#include "src/core/rundir.h"
#include "src/core/runid.h"
#include "src/app/sim.h"
#include "src/model/sizing.h"
#include "version.h"

/* The scenario text of this invocation (cli_load_scenarios); the printing
 * rank prints the notices of built-in scenarios left out. Collective. */
static int main_load_scenarios(const cli_args *a, const fs_config *cfg, char **text,
                               const char **source) {
  char *notices = NULL;
  int rc = cli_load_scenarios(a, cfg, text, source, &notices);
  if (rc == 0 && notices)
    fputs(notices, stderr);
  free(notices);
  return rc;
}

/* FLEETSIM_MPIIO_HINTS, checked before run writes anything (and by
 * validate); the printing rank names the hints when there are any.
 * Collective. */
static int main_check_io_hints(void) {
  char shown[1024];
  int rc = par_io_hints_check(shown, sizeof shown);
  if (rc == 0 && shown[0] && par_prints())
    printf("fleetsim: MPI-IO hints for fleet.h5 (%s): %s\n", PAR_IO_HINTS_ENV, shown);
  return rc;
}

/* Parses the scenarios against the configured fleet (all ranks). */
static int main_check_scenarios(const cli_args *a, const fs_config *cfg, int *count) {
  char *text = NULL;
  const char *source = NULL;
  fleet *f = NULL;
  scn_set *set = NULL;
  int rc = main_load_scenarios(a, cfg, &text, &source);
  if (rc == 0)
    rc = fleet_init(&f, cfg);
  if (rc == 0)
    rc = scn_parse(&set, text, source, f);
  *count = set ? set->n : 0;
  scn_destroy(&set);
  fleet_destroy(&f);
  free(text);
  return par_agree(rc);
}

/* How long --pace X makes the releases of calls spread over span_s
 * simulated seconds (of `what`) last, times `runs` (escalates one backend
 * after another): one line to out. With hours_only, only when that is an
 * hour or more, as a note. */
static void main_pace_notice(double pace, double span_s, const char *what, int runs, FILE *out,
                             int hours_only) {
  double wall = pace_wall_s(span_s, pace) * runs;
  if (pace <= 0 || (hours_only && wall < 3600))
    return;
  char text[PACE_TEXT_LEN], hms[32];
  pace_describe(pace, text, sizeof text);
  progress_hms(wall, hms, sizeof hms);
  fprintf(out,
          "fleetsim: %s--pace %s: the LLM calls are released over up to %s of wall time (%s "
          "%.4g simulated h / %.6g%s)%s\n",
          hours_only ? "note: " : "", text, hms, what, span_s / 3600.0, pace,
          runs > 1 ? ", one backend after another" : "",
          hours_only ? "; it ends only after the last is answered (a larger --pace shortens it)"
                     : "");
}

static int main_validate(const cli_args *a, const fs_config *cfg, const llm_spec *specs,
                         int nspecs) {
  int nscn = 0;
  int rc = main_check_scenarios(a, cfg, &nscn);
  if (rc)
    return rc;
  if (par_prints()) {
    int64_t T = cfg_scrapes(cfg);
    printf("fleetsim: configuration is valid: %d nodes x 8 GPUs in %d racks, %d jobs, "
           "%lld scrapes of %d s (%.4g GPU data points)\n",
           cfg->nodes, cfg->racks, cfg->njobs, (long long)T, cfg->scrape_interval_s,
           (double)T * cfg->nodes * FLEET_GPUS * GM_COUNT);
    const char *what = !a->scenarios_path                    ? "(built-in default)"
                       : strcmp(a->scenarios_path, "none") == 0 ? "none (fault-free run)"
                                                                : a->scenarios_path;
    printf("fleetsim: scenarios %s are valid: %d scenario%s in the run\n", what, nscn,
           nscn == 1 ? "" : "s");
    printf("fleetsim: backends are valid:");
    for (int i = 0; i < nspecs; i++)
      printf(" %s (%s)", specs[i].name, llm_kind_name(specs[i].kind));
    printf("\n");
    main_pace_notice(a->pace, cfg->hours * 3600.0, "the run's", 1, stdout, 0);
    sizing z;
    sizing_estimate(cfg, par_size(), &z);
    sizing_print(&z, cfg, par_size(), stdout);
  }
  return 0;
}

/* fleetsim scenarios --random N: writes a random valid scenario file. */
/* `scenarios --kinds`: every kind's keys, on the printing rank. */
static int main_list_kinds(const cli_args *a) {
  unsigned char sel[SK_COUNT];
  int rc = scn_kinds_select(a->kinds, a->exclude_kinds, "--kinds", "--exclude-kinds", sel);
  if (rc || !par_prints())
    return rc;
  char *text = scn_kinds_markdown(sel);
  if (!text)
    return FS_ENOMEM;
  int bad = fputs(text, stdout) < 0 || fflush(stdout) != 0;
  free(text);
  if (bad) {
    diag_addf("scenarios --kinds: cannot write to stdout: %s", strerror(errno));
    return FS_EIO;
  }
  return 0;
}

static int main_random_scenarios(const cli_args *a, const fs_config *cfg) {
  uint64_t seed = cfg->seed;
  if (a->random_seed) {
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(a->random_seed, &end, 10);
    if (a->random_seed[0] == '\0' || *end != '\0' || errno || a->random_seed[0] == '-') {
      diag_addf("--seed %s: expected a non-negative integer", a->random_seed);
      return FS_EUSAGE;
    }
    seed = v;
  }
  unsigned char sel[SK_COUNT];
  int rc = scn_kinds_select(a->kinds, a->exclude_kinds, "--kinds", "--exclude-kinds", sel);
  if (rc || !par_prints())
    return rc;
  fleet *f = NULL;
  char *text = NULL;
  scn_set *check = NULL;
  rc = fleet_init(&f, cfg);
  if (rc == 0)
    rc = scn_random(&text, (int)a->random_count, seed, f, sel, a->overlap);
  if (rc == 0) /* what we write must parse: a generator bug is ours, not the user's */
    rc = scn_parse(&check, text, "generated scenarios", f);
  if (rc == 0) {
    FILE *out = a->out_dir ? fopen(a->out_dir, "w") : stdout;
    if (!out) {
      diag_addf("--out %s: cannot open for writing: %s", a->out_dir, strerror(errno));
      rc = FS_EIO;
    } else {
      if (fprintf(out, "%s\n", text) < 0 || (out != stdout ? fclose(out) : fflush(out)) != 0) {
        diag_addf("--out %s: write failed: %s", a->out_dir ? a->out_dir : "(stdout)",
                  strerror(errno));
        rc = FS_EIO;
      }
    }
  }
  scn_destroy(&check);
  free(text);
  fleet_destroy(&f);
  return rc;
}

/* Parses every --backend (default `rules` for run unless --no-llm) into
 * specs[]. Pure: the same on every rank. */
static int main_parse_backends(const cli_args *a, llm_spec *specs, int *n) {
  *n = 0;
  if (a->command == CLI_RUN && a->no_llm)
    return 0;
  if (a->nbackends == 0) {
    *n = 1;
    return llm_spec_parse("rules", &specs[0]);
  }
  for (int i = 0; i < a->nbackends; i++) {
    int rc = llm_spec_parse(a->backends[i], &specs[i]);
    if (rc)
      return rc;
    for (int k = 0; k < i; k++)
      if (strcmp(specs[k].name, specs[i].name) == 0) {
        diag_addf("two backends are both named '%s': give one a name= (it names "
                  "DIR/llm/<name>.jsonl)",
                  specs[i].name);
        return FS_EUSAGE;
      }
    *n = i + 1;
  }
  return 0;
}

/* Progress of one backend on stderr: calls done / total, rate, ETA (paced:
 * the calls held back and no earlier than the last release). */
static void main_escalate_progress(progress_line *line, const esc_backend *b, int total,
                                   double t0, int final) {
  esc_summary s;
  esc_stats(b, &s);
  long done = s.calls_ok + s.calls_error + s.calls_skipped;
  long sent = s.calls_ok + s.calls_error;
  double now = progress_now(), el = now - t0, rate = el > 0 ? (double)sent / el : 0.0;
  char eta[32] = "?", held[64] = "";
  if (rate > 0 || s.held > 0)
    progress_hms(fmax(rate > 0 ? (double)(total - done) / rate : 0.0, s.release_left_s), eta,
                 sizeof eta);
  if (s.pace > 0)
    snprintf(held, sizeof held, ", %ld held by --pace", s.held);
  progress_line_report(line, now, final,
                       "fleetsim: escalate %s: %ld/%d calls (%ld errors, %ld skipped%s), %.1f "
                       "calls/s, ETA %s",
                       s.name, done, total, s.calls_error, s.calls_skipped, held, rate, eta);
}

/* One backend over all calls: submits in order while at most `window`
 * calls are pending (memory stays bounded; paced: all at once, so that each
 * is released at its due time however far the backend falls behind),
 * polls, drains. A backend that answered none of the calls it sent fails
 * the command (exit 1): a wrong key or URL must not look like a finished
 * escalation. */
static int main_escalate_one(const llm_spec *spec, const char *dir, const runid *run,
                             const llm_call *calls, int n, double pace, int quiet) {
  esc_backend *b = NULL;
  /* resumes: an interrupted escalate's finished calls are skipped */
  int rc = esc_open(&b, spec, dir, 1, run);
  if (rc == 0 && pace > 0)
    rc = esc_set_pace(b, pace);
  if (rc) {
    esc_close(&b);
    return rc;
  }
  int window = pace > 0 ? n : 4 * spec->concurrency + 256, next = 0;
  progress_line line;
  progress_line_init(&line, !quiet);
  double t0 = progress_now();
  while (rc == 0 && (next < n || esc_pending(b) > 0)) {
    while (rc == 0 && next < n && esc_pending(b) < window)
      rc = esc_submit(b, &calls[next++]);
    if (rc == 0)
      rc = esc_poll(b, 100);
    main_escalate_progress(&line, b, n, t0, 0);
  }
  main_escalate_progress(&line, b, n, t0, 1);
  esc_summary s;
  esc_stats(b, &s);
  if (rc == 0)
    esc_print_summary(&s, stdout);
  if (rc == 0 && s.calls_ok == 0 && s.calls_error > 0) {
    char first[200];
    esc_first_error(b, first, sizeof first);
    diag_addf("escalate: backend %s: all %ld calls it sent failed (the first: %s); see %s/llm/%s.jsonl",
              s.name, s.calls_error, first, dir, s.name);
    rc = FS_EIO;
  }
  esc_close(&b);
  return rc;
}

/* fleetsim escalate: a finished run's calls through more backends, on the
 * printing rank only (it may be started without mpirun). */
static int main_escalate(const cli_args *a, const llm_spec *specs, int nspecs) {
  if (!par_prints())
    return 0;
  char path[4200];
  snprintf(path, sizeof path, "%s/fleet.h5", a->run_dir);
  int rc0 = h5a_require_complete("escalate", path, a->run_dir);
  if (rc0)
    return rc0;
  /* shared: escalates of other backends may run beside it, a run or a
   * score may not */
  int lock_fd = -1;
  if ((rc0 = rundir_lock(a->run_dir, 0, "escalate", &lock_fd)) != 0)
    return rc0;
  intr_install(INTR_ESCALATE, 1, 1);
  runid run, ctx_run;
  llm_call *calls = NULL;
  int n = 0, rc = h5a_read_runid(path, &run);
  snprintf(path, sizeof path, "%s/llm/contexts.jsonl", a->run_dir);
  if (rc == 0)
    rc = ctxf_read(path, &calls, &n, &ctx_run);
  if (rc == 0 && !runid_same(&run, &ctx_run)) {
    char x[160], y[160];
    runid_describe(&run, x, sizeof x);
    runid_describe(&ctx_run, y, sizeof y);
    diag_addf("escalate: %s/fleet.h5 belongs to %s, but %s to %s: the directory mixes two runs",
              a->run_dir, x, path, y);
    rc = FS_EINVAL;
  }
  if (rc == 0 && a->pace > 0 && n > 0) {
    double lo = calls[0].t_s, hi = calls[0].t_s;
    for (int i = 1; i < n; i++) {
      lo = fmin(lo, calls[i].t_s);
      hi = fmax(hi, calls[i].t_s);
    }
    main_pace_notice(a->pace, hi - lo, "the calls'", nspecs, stderr, 1);
  }
  for (int i = 0; rc == 0 && i < nspecs; i++) {
    llm_spec s = specs[i];
    if (a->concurrency > 0)
      s.concurrency = a->concurrency;
    rc = main_escalate_one(&s, a->run_dir, &run, calls, n, a->pace, a->quiet);
  }
  for (int i = 0; i < n; i++)
    free(calls[i].context);
  free(calls);
  rundir_unlock(&lock_fd);
  return rc;
}

/* fleetsim score: the printing rank alone, holding DIR/.lock exclusively
 * (no run or escalate writes the directory meanwhile). */
static int main_score(const cli_args *a) {
  if (!par_prints())
    return 0;
  char path[4200];
  snprintf(path, sizeof path, "%s/fleet.h5", a->run_dir);
  int lock_fd = -1, rc = h5a_require_complete("score", path, a->run_dir);
  if (rc == 0)
    rc = rundir_lock(a->run_dir, 1, "score", &lock_fd);
  if (rc == 0)
    rc = score_run_archive(a->run_dir, !a->quiet);
  rundir_unlock(&lock_fd);
  return rc;
}

/* fleetsim export: the printing rank alone writes the file (it may be
 * started without mpirun). */
static int main_export(const cli_args *a) {
  if (!par_prints())
    return 0;
  om_options o = {.run_dir = a->run_dir,
                  .out_path = a->exp.out,
                  .nodes = a->exp.nodes,
                  .metrics = a->exp.metrics,
                  .naming = a->exp.naming,
                  .from_h = a->exp.from_h,
                  .to_h = a->exp.to_h,
                  .has_start_epoch = a->exp.has_start_epoch,
                  .start_epoch = a->exp.start_epoch,
                  .progress = !a->quiet};
  om_stats st;
  int rc = om_export(&o, &st);
  if (rc == 0)
    om_print_summary(&o, &st, stdout);
  return rc;
}

/* After the ranks agreed on a failure: when the printing rank has no
 * message of its own, it gets the first message of the lowest rank that
 * has one (a checkpoint file that only rank 1 could not write). */
static void main_share_message(void) {
  int who = par_agree(diag_count() > 0 ? par_rank() : par_size());
  if (who <= 0 || who >= par_size())
    return;
  char *text = par_rank() == who ? strdup(diag_first()) : NULL;
  if (par_bcast_text_from(who, &text) == 0 && par_prints() && text)
    diag_addf("%s", text);
  free(text);
}

/* "fleetsim ARG ..." (the command as given, cut to len) into buf. */
static void main_command_line(int argc, char **argv, char *buf, size_t len) {
  size_t n = (size_t)snprintf(buf, len, "fleetsim");
  for (int i = 1; i < argc && n < len; i++)
    n += (size_t)snprintf(buf + n, len - n, " %s", argv[i]);
}

int main(int argc, char **argv) {
  if (par_init(&argc, &argv)) {
    fprintf(stderr, "fleetsim: error: MPI could not be initialised\n");
    return 1;
  }
  cli_args args;
  fs_config cfg;
  static llm_spec specs[CLI_MAX_BACKENDS];
  int nspecs = 0;
  int rc = cli_parse(argc, argv, &args);
  if (rc == 0 && (args.command == CLI_RUN || args.command == CLI_VALIDATE ||
                  args.command == CLI_ESCALATE))
    rc = main_parse_backends(&args, specs, &nspecs);
  if (rc == 0) {
    switch (args.command) {
    case CLI_HELP:
      if (par_prints() && args.markdown)
        cli_print_markdown(stdout);
      else if (par_prints())
        cli_print_help(stdout);
      break;
    case CLI_VERSION:
      if (par_prints())
        printf("fleetsim %s (git %s)\n", FLEETSIM_VERSION, FLEETSIM_GIT_COMMIT);
      break;
    case CLI_VALIDATE:
      rc = cli_load_config(&args, &cfg);
      if (rc == 0)
        rc = main_check_io_hints();
      if (rc == 0)
        rc = main_validate(&args, &cfg, specs, nspecs);
      break;
    case CLI_SCENARIOS:
      rc = cli_load_config(&args, &cfg);
      if (rc == 0 && args.list_kinds)
        rc = par_agree(main_list_kinds(&args));
      else if (rc == 0)
        rc = par_agree(main_random_scenarios(&args, &cfg));
      break;
    case CLI_ESCALATE:
      rc = main_escalate(&args, specs, nspecs);
      break;
    case CLI_EXPORT:
      rc = main_export(&args);
      break;
    case CLI_SCORE:
      rc = main_score(&args);
      break;
    case CLI_RUN: {
      char *text = NULL;
      const char *source = NULL;
      rc = cli_load_config(&args, &cfg);
      if (rc == 0)
        rc = main_check_io_hints();
      if (rc == 0)
        rc = main_load_scenarios(&args, &cfg, &text, &source);
      if (rc == 0) {
        sim_options opt = {.out_dir = args.out_dir,
                           .quiet = args.quiet,
                           .scenarios_text = text,
                           .scenarios_source = source,
                           .backends = specs,
                           .nbackends = nspecs,
                           .resume = args.resume,
                           .force = args.force,
                           .pace = args.pace};
        if (par_prints() && nspecs > 0)
          main_pace_notice(args.pace, cfg.hours * 3600.0, "the run's", 1, stderr, 1);
        char command[2048];
        main_command_line(argc, argv, command, sizeof command);
        rc = args.closed_loop ? clr_run(&cfg, &opt, command) : sim_run(&cfg, &opt);
      }
      free(text);
      break;
    }
    }
  }
  rc = par_agree_idle(rc); /* score, escalate, export: rank 0 alone works */
  if (rc != 0)
    main_share_message();
  if (rc != 0 && par_prints()) {
    if (diag_count() > 0)
      diag_print(stderr);
    else
      fprintf(stderr, "fleetsim: error: %s\n", fs_strerror(rc));
  }
  /* an archive left open after an I/O failure: MPI_Finalize would try to
   * close it collectively and could hang */
  if (h5a_stranded())
    par_exit(fs_exit_status(rc));
  par_finalize();
  return fs_exit_status(rc);
}

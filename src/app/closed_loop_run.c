/* The twins of `run --closed-loop` and their outcomes (see
 * closed_loop_run.h). */
#include "src/app/closed_loop_run.h"

#include <stdio.h>
#include <string.h>

#include "mpi/par.h"
#include "pipeline/detect/detect.h"
#include "pipeline/score/calibration.h"
#include "pipeline/score/outcomes.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/rundir.h"

/* The twins after the main one, in the order they run. */
static const struct {
  cl_role role;
  const char *name;
  int null_op;
} clr_twins[] = {
    {CL_FAULT_FREE, "fault-free", 0}, {CL_NO_ACTION, "no-action", 0}, {CL_ORACLE, "oracle", 0},
    {CL_NULL, "salad", CAL_SALAD},    {CL_NULL, "pasted", CAL_PASTED},
};
enum { CLR_TWINS = sizeof clr_twins / sizeof clr_twins[0] };

static int clr_check(const sim_options *opt) {
  if (opt->nbackends != 1) {
    diag_addf("run --closed-loop: the fleet follows one operator: give exactly one --backend "
              "(%d given)",
              opt->nbackends);
    return FS_EUSAGE;
  }
  if (opt->resume) {
    diag_addf("run --closed-loop: --resume is not supported (a closed-loop run writes no restart "
              "checkpoints): run it again with --force");
    return FS_EUSAGE;
  }
  if (opt->pace > 0) {
    diag_addf("run --closed-loop: --pace does not apply (the run waits for every answer that can "
              "still take effect; latency counts in real time)");
    return FS_EUSAGE;
  }
  return 0;
}

/* Printing rank: the outcomes of every twin, from their records. */
static int clr_outcomes(const fs_config *cfg, const sim_options *opt, const char *command) {
  fleet *f = NULL;
  scn_set *set = NULL;
  int rc = fleet_init(&f, cfg);
  if (rc == 0)
    rc = scn_parse(&set, opt->scenarios_text, opt->scenarios_source, f);
  if (rc == 0)
    rc = outcomes_write(opt->out_dir, f, set, NULL, 0, command); /* every twin's record */
  if (rc == 0 && !opt->quiet)
    printf("fleetsim: closed-loop outcomes: %s/results/outcomes.md\n", opt->out_dir);
  scn_destroy(&set);
  fleet_destroy(&f);
  return rc;
}

int clr_run(const fs_config *cfg, const sim_options *opt, const char *command) {
  int rc = clr_check(opt);
  if (rc != 0)
    return rc;
  fs_config c = *cfg;
  c.window_scrapes = DET_BLOCK_SCRAPES;
  c.restart_every_windows = 0;
  char record_dir[4096];
  snprintf(record_dir, sizeof record_dir, "%s/closed_loop", opt->out_dir);
  cl_policy main_policy = {.role = CL_BACKEND, .record_dir = record_dir};
  snprintf(main_policy.name, sizeof main_policy.name, "%s", opt->backends[0].name);
  int lock = -1;
  sim_options o = *opt;
  o.closed_loop = &main_policy;
  o.keep_lock = &lock;
  o.archive_window = cfg->window_scrapes;
  rc = sim_run(&c, &o);
  fs_config tc = c;
  tc.archive = 0;
  for (int i = 0; rc == 0 && i < CLR_TWINS; i++) {
    cl_policy p = {.role = clr_twins[i].role, .null_op = clr_twins[i].null_op,
                   .record_dir = record_dir};
    snprintf(p.name, sizeof p.name, "%s", clr_twins[i].name);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", record_dir, p.name);
    int none = p.role == CL_FAULT_FREE;
    sim_options t = {.out_dir = dir,
                     .scenarios_text = none ? "{\"scenarios\": []}" : opt->scenarios_text,
                     .scenarios_source = none ? "--scenarios none" : opt->scenarios_source,
                     .quiet = opt->quiet,
                     .force = 1,
                     .parent_locked = 1,
                     .closed_loop = &p};
    if (!opt->quiet && par_prints()) {
      printf("fleetsim: closed loop: twin %d of %d: %s (%s)\n", i + 2, 1 + CLR_TWINS, p.name,
             cl_role_name(p.role));
      fflush(stdout);
    }
    rc = sim_run(&tc, &t);
  }
  if (rc == 0)
    rc = par_agree_idle(par_prints() ? clr_outcomes(&c, opt, command) : 0);
  rundir_unlock(&lock);
  return rc;
}

/* fleetsim entry point: starts MPI, parses the command line, dispatches to a
 * subcommand, prints collected errors once (from the printing rank) and
 * returns the same exit status on every rank. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/par.h"
#include "scenarios/scenario.h"
#include "src/cli.h"
#include "src/diag.h"
#include "src/errors.h"
#include "src/fleet.h"
#include "src/metrics.h"
#include "src/sim.h"
#include "version.h"

/* Parses the scenario file against the configured fleet (all ranks). */
static int main_check_scenarios(const cli_args *a, const fs_config *cfg, int *count) {
  char *text = NULL;
  const char *source = NULL;
  fleet *f = NULL;
  scn_set *set = NULL;
  int rc = cli_load_scenarios(a, &text, &source);
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

static int main_validate(const cli_args *a, const fs_config *cfg) {
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
    printf("fleetsim: scenario file %s is valid: %d scenarios\n",
           a->scenarios_path ? a->scenarios_path : "(built-in default)", nscn);
  }
  return 0;
}

/* fleetsim scenarios --random N: writes a random valid scenario file. */
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
  if (!par_prints())
    return 0;
  fleet *f = NULL;
  char *text = NULL;
  scn_set *check = NULL;
  int rc = fleet_init(&f, cfg);
  if (rc == 0)
    rc = scn_random(&text, (int)a->random_count, seed, f);
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

int main(int argc, char **argv) {
  if (par_init(&argc, &argv)) {
    fprintf(stderr, "fleetsim: error: MPI could not be initialised\n");
    return 1;
  }
  cli_args args;
  fs_config cfg;
  int rc = cli_parse(argc, argv, &args);
  if (rc == 0) {
    switch (args.command) {
    case CLI_HELP:
      if (par_prints())
        cli_print_help(stdout);
      break;
    case CLI_VERSION:
      if (par_prints())
        printf("fleetsim %s (git %s)\n", FLEETSIM_VERSION, FLEETSIM_GIT_COMMIT);
      break;
    case CLI_VALIDATE:
      rc = cli_load_config(&args, &cfg);
      if (rc == 0)
        rc = main_validate(&args, &cfg);
      break;
    case CLI_SCENARIOS:
      rc = cli_load_config(&args, &cfg);
      if (rc == 0)
        rc = par_agree(main_random_scenarios(&args, &cfg));
      break;
    case CLI_RUN: {
      char *text = NULL;
      const char *source = NULL;
      rc = cli_load_config(&args, &cfg);
      if (rc == 0)
        rc = cli_load_scenarios(&args, &text, &source);
      if (rc == 0) {
        sim_options opt = {.out_dir = args.out_dir,
                           .quiet = args.quiet,
                           .scenarios_text = text,
                           .scenarios_source = source};
        rc = sim_run(&cfg, &opt);
      }
      free(text);
      break;
    }
    }
  }
  rc = par_agree(rc);
  if (rc != 0 && par_prints()) {
    if (diag_count() > 0)
      diag_print(stderr);
    else
      fprintf(stderr, "fleetsim: error: %s\n", fs_strerror(rc));
  }
  par_finalize();
  return fs_exit_status(rc);
}

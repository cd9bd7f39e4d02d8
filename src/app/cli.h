/* Command-line parsing for every subcommand: turns argv into a cli_args
 * record and loads the config (defaults, --config file, flags) on all ranks.
 * One table of commands and one of options drive the parser, `--help` and
 * the Markdown reference (docs/cli.md), so the three cannot drift apart. It
 * prints nothing itself except the help text. */
#ifndef FLEETSIM_CLI_H
#define FLEETSIM_CLI_H
#include "io/openmetrics_names.h"
#include "src/model/config.h"

typedef enum {
  CLI_HELP,
  CLI_VERSION,
  CLI_RUN,
  CLI_VALIDATE,
  CLI_SCENARIOS,
  CLI_ESCALATE,
  CLI_SCORE,
  CLI_EXPORT
} cli_command;

enum { CLI_MAX_SETS = 64, CLI_MAX_BACKENDS = 16 };

typedef struct {
  cli_command command;
  const char *config_path;    /* --config F or NULL */
  const char *scenarios_path; /* --scenarios F, "none", or NULL (built-in default) */
  long random_count;          /* scenarios --random N */
  const char *random_seed;    /* scenarios --seed K (text, checked later) */
  int list_kinds;             /* scenarios --kinds without --random */
  const char *kinds;          /* scenarios --kinds LIST (NULL: every kind) */
  const char *exclude_kinds;  /* scenarios --exclude-kinds LIST */
  double overlap;             /* scenarios --overlap P (default 0.25) */
  const char *out_dir;        /* run: --out DIR (default "fleetsim-run");
                                 scenarios: --out FILE (default stdout) */
  const char *sets[CLI_MAX_SETS]; /* "key=value" from --seed, --hours, --set */
  int nsets;
  int quiet;                  /* --quiet: no progress */
  int no_llm;                 /* --no-llm */
  int closed_loop;            /* run --closed-loop */
  int resume;                 /* run: --resume */
  int markdown;               /* help --markdown */
  int force;                  /* run: --force */
  const char *backends[CLI_MAX_BACKENDS]; /* run, validate, escalate: --backend SPEC
                                             (text, parsed later by llm_spec_parse) */
  int nbackends;
  const char *run_dir;        /* escalate, score, export: --run DIR */
  int concurrency;            /* escalate: --concurrency N, 0 = the spec's */
  double pace;                /* run, validate, escalate: --pace X, 0 = not paced */
  struct {                    /* export (with run_dir and quiet) */
    const char *format;       /* --format: "openmetrics" */
    const char *out;          /* --out FILE */
    const char *nodes;        /* --nodes "0-7,40", NULL = all */
    const char *metrics;      /* --metrics "a,b", NULL = all */
    om_naming naming;         /* --naming, default OM_NAMING_FLEETSIM */
    double from_h, to_h;      /* --from/--to simulated hours, NAN = not given */
    int has_start_epoch;      /* --start-epoch given */
    long long start_epoch;    /* Unix seconds of t = 0 */
  } exp;
  char flag_sets[2][96];      /* storage of the "seed=N", "hours=H" in sets[] */
} cli_args;

/* Parses argv. Returns 0, or FS_EUSAGE with the problem in diag. Pure: the
 * same argv gives the same result on every rank. */
int cli_parse(int argc, char **argv, cli_args *out);

/* Builds the final config on every rank: defaults, then the --config file
 * (read on the printing rank, broadcast), then the flags, then validation.
 * Collective. Returns 0 or FS_ECONFIG on all ranks, problems in diag. */
int cli_load_config(const cli_args *a, fs_config *cfg);

/* The scenario text of a run with config cfg, on every rank: --scenarios F
 * (read on the printing rank, broadcast; checked strictly later), `none`
 * (no scenarios: a fault-free run), or the built-in default without the
 * scenarios that do not start inside the run. *source is set to the name for
 * messages. *notices (printing rank, else NULL; caller frees) gets one line
 * per built-in scenario left out, "fleetsim: S2 at 14:00 is outside a 1 h
 * run: left out\n", or NULL when none was. Collective. Returns 0,
 * FS_ESCENARIO (unreadable file) or FS_ENOMEM on all ranks. */
int cli_load_scenarios(const cli_args *a, const fs_config *cfg, char **text,
                       const char **source, char **notices);

/* Prints the usage text (commands, options, settings table) to out. */
void cli_print_help(FILE *out);

/* Prints the same reference as Markdown (the text of docs/cli.md). */
void cli_print_markdown(FILE *out);

#endif

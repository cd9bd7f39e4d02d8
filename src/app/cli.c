/* Argument parsing, help and config assembly for the fleetsim subcommands
 * (see cli.h). The command and option tables below are the only description
 * of the command line: the parser, `--help` and `help --markdown` read them.
 * Files are read once, on the printing rank, and broadcast so that every rank
 * validates identical text and reaches the same verdict. */
#include "src/app/cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/par.h"
#include "pipeline/llm/pace.h"
#include "scenarios/scenario.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/paths.h"
#include "src/core/textfile.h"

#define CLI_BIT(c) (1u << (c))
#define CB_RUN CLI_BIT(CLI_RUN)
#define CB_VALIDATE CLI_BIT(CLI_VALIDATE)
#define CB_SCENARIOS CLI_BIT(CLI_SCENARIOS)
#define CB_ESCALATE CLI_BIT(CLI_ESCALATE)
#define CB_SCORE CLI_BIT(CLI_SCORE)
#define CB_EXPORT CLI_BIT(CLI_EXPORT)
#define CB_HELP CLI_BIT(CLI_HELP)

/* One subcommand: how it is started, what it does, an example that runs as
 * written once `fleetsim` is on PATH (the tests run every one of them, in
 * this order, in one directory). */
typedef struct {
  cli_command cmd;
  const char *name;
  const char *launch;  /* what comes before "fleetsim" in the synopsis */
  const char *summary;
  const char *example;
} cli_command_info;

static const cli_command_info cli_commands[] = {
    {CLI_RUN, "run", "mpirun -np N ",
     "Simulates the fleet and writes DIR/fleet.h5 (telemetry, topology, ground truth, L1 "
     "events), detects anomalies (L1), escalates the events through the LLM backends "
     "(DIR/llm/), scores the answers (DIR/results/, DIR/judgment/) and prints the detection "
     "table, a run summary and one line per backend. Ranks own whole racks, so N may be 1 .. "
     "racks. Progress goes to stderr on rank 0: one line per interval ('\\r' redraws it on a "
     "terminal), then the LLM calls still being answered after the simulation. "
     "FLEETSIM_MPIIO_HINTS=key=value,... in the environment gives fleet.h5 MPI-IO hints "
     "(striping_factor, striping_unit, cb_nodes, cb_buffer_size, romio_cb_write, ...); "
     "validate checks them too.",
     "mpirun -np 2 fleetsim run --hours 1 --out first-run"},
    {CLI_VALIDATE, "validate", "",
     "Checks the configuration, the scenarios and the backend specs exactly as run would for "
     "the same options, prints what the run would be, and writes nothing.",
     "fleetsim validate --hours 1"},
    {CLI_ESCALATE, "escalate", "",
     "Sends a finished run's LLM calls (DIR/llm/contexts.jsonl) through more backends, so "
     "that every backend answers identical contexts. It resumes: calls already in "
     "DIR/llm/<name>.jsonl are skipped. Run score afterwards for the tables.",
     "fleetsim escalate --run first-run --backend rules:name=rules-again"},
    {CLI_SCORE, "score", "",
     "Scores every backend transcript in DIR/llm against the checklists, strictly (the "
     "default in every table) and by the benchmark's regex method, and writes "
     "DIR/results/calls.jsonl, summary.json, summary.md and DIR/judgment/; then the "
     "scorer's calibration (null operators, the rules reference and an oracle, with their "
     "targets) to DIR/results/calibration.md and DIR/calibration/. run does this itself at "
     "its end.",
     "fleetsim score --run first-run"},
    {CLI_EXPORT, "export", "",
     "Writes a finished run's telemetry as OpenMetrics text, the input of `promtool tsdb "
     "create-blocks-from openmetrics`. It prints its estimated size first, refuses an export "
     "larger than the free space, and shows progress with the total and an ETA. One process: "
     "mpirun is not needed.",
     "fleetsim export --run first-run --format openmetrics --out first-run.om --nodes 0-7 "
     "--metrics gpu_temp_celsius"},
    {CLI_SCENARIOS, "scenarios", "",
     "Writes a random but valid scenario file for the configured fleet, for robustness "
     "studies; with --kinds, lists every fault kind's scenario-file keys instead.",
     "fleetsim scenarios --random 6 --seed 7 --out random.json"},
    {CLI_HELP, "help", "",
     "Prints this reference (also `fleetsim --help`); with --markdown as Markdown, which is "
     "docs/cli.md.",
     "fleetsim help --markdown"},
};
enum { CLI_NCOMMANDS = sizeof cli_commands / sizeof cli_commands[0] };

typedef enum {
  OPT_CONFIG,
  OPT_SCENARIOS,
  OPT_SET,
  OPT_SEED,
  OPT_HOURS,
  OPT_BACKEND,
  OPT_OUT_DIR,
  OPT_NO_LLM,
  OPT_RESUME,
  OPT_FORCE,
  OPT_CLOSED_LOOP,
  OPT_QUIET,
  OPT_RUN_DIR,
  OPT_CONCURRENCY,
  OPT_PACE,
  OPT_FORMAT,
  OPT_EXPORT_OUT,
  OPT_NODES,
  OPT_METRICS,
  OPT_FROM,
  OPT_TO,
  OPT_START_EPOCH,
  OPT_NAMING,
  OPT_RANDOM,
  OPT_RANDOM_SEED,
  OPT_RANDOM_OUT,
  OPT_KINDS,
  OPT_EXCLUDE_KINDS,
  OPT_OVERLAP,
  OPT_MARKDOWN
} cli_option_id;

enum { CLI_REQUIRED = 1, CLI_REPEAT = 2 };

/* One option of one or more commands. The same name may appear in several
 * rows for different commands (--out is a directory for run, a file for
 * export); a command's options are listed in table order. */
typedef struct {
  const char *name;   /* "--hours" */
  const char *arg;    /* placeholder of its value ("H"), NULL for a flag */
  unsigned commands;  /* CLI_BIT of every command that takes it */
  unsigned flags;     /* CLI_REQUIRED, CLI_REPEAT */
  cli_option_id id;
  const char *help;
} cli_option;

static const cli_option cli_options[] = {
    {"--config", "F", CB_RUN | CB_VALIDATE | CB_SCENARIOS, 0, OPT_CONFIG,
     "JSON object of settings (the keys under Settings) applied over the defaults"},
    {"--scenarios", "F", CB_RUN | CB_VALIDATE, 0, OPT_SCENARIOS,
     "scenario file. Default: the built-in scenarios/default.json (the benchmark's S1-S6, "
     "starting 03:00-21:00); those that do not start inside the run are left out, one "
     "notice line each. `none`: no scenarios, a fault-free run. A file of your own is "
     "checked strictly: a scenario starting outside the run is an error"},
    {"--set", "KEY=VALUE", CB_RUN | CB_VALIDATE | CB_SCENARIOS, CLI_REPEAT, OPT_SET,
     "one setting, applied after --config, in order (e.g. --set nodes=200)"},
    {"--seed", "N", CB_RUN | CB_VALIDATE, 0, OPT_SEED, "same as --set seed=N"},
    {"--hours", "H", CB_RUN | CB_VALIDATE, 0, OPT_HOURS,
     "same as --set hours=H: simulated hours (default 24; --hours 1 for a first try)"},
    {"--backend", "SPEC", CB_RUN | CB_VALIDATE, CLI_REPEAT, OPT_BACKEND,
     "LLM backend for L2-L4 (default: rules, the embedded rule-based reference tuned to the "
     "known fault kinds; not an LLM). SPEC is KIND[:key=value,...], KIND one of "
     "rules, openai, anthropic, replay; keys name, base_url, model, api_key_env, timeout_s, "
     "retries, concurrency, price_in, price_out, gpu_hour_usd, max_tokens, json_schema, "
     "temperature, path (replay), e.g. "
     "openai:base_url=http://127.0.0.1:8000/v1,model=M,concurrency=8. API keys come only "
     "from the variable named by api_key_env. Transcripts: DIR/llm/<name>.jsonl, one line "
     "per call. validate checks the spec and contacts nothing"},
    {"--out", "DIR", CB_RUN, 0, OPT_OUT_DIR,
     "output directory (default: fleetsim-run); created if missing"},
    {"--no-llm", NULL, CB_RUN, 0, OPT_NO_LLM,
     "write DIR/llm/contexts.jsonl but make no LLM calls (escalate them later)"},
    {"--pace", "X", CB_RUN | CB_VALIDATE, 0, OPT_PACE,
     "release each LLM call at its simulated time divided by X, counted from the first "
     "call (1: real time, 60: a simulated day in 24 min, 1440: in 1 min), so that latency "
     "is measured under the events' own arrival process; the run does not wait for it while "
     "simulating, but at its end until the last call is released and answered. Default: no "
     "pacing, every call is sent as soon as the order rules and concurrency allow. Needs "
     "LLM calls (not with --no-llm); validate prints how long the releases take"},
    {"--closed-loop", NULL, CB_RUN, 0, OPT_CLOSED_LOOP,
     "the operator acts: the actions in the backend's L3/L4 answers take effect on the "
     "simulated fleet (at the first 5-minute boundary after the answer, its latency counted "
     "in real time), and the same fleet runs again as twins without faults, without "
     "actions, under the oracle and under two null operators (DIR/closed_loop/); "
     "DIR/results/outcomes.md compares their goodput, SLA budgets, GPU-hours lost, "
     "collateral and time to mitigation. One --backend; not with --resume, --pace or "
     "--no-llm"},
    {"--resume", NULL, CB_RUN, 0, OPT_RESUME,
     "continue the interrupted run in --out DIR from its last checkpoint (DIR/checkpoint/, "
     "written after every window); same config, scenarios and build, any rank count"},
    {"--force", NULL, CB_RUN, 0, OPT_FORCE,
     "start afresh in a DIR that holds another run: remove fleetsim's files of it (only "
     "those), and run even when the size estimate says it does not fit on disk or in "
     "memory"},
    {"--run", "DIR", CB_ESCALATE | CB_SCORE | CB_EXPORT, CLI_REQUIRED, OPT_RUN_DIR,
     "a finished run directory (DIR/fleet.h5 complete; escalate also reads "
     "DIR/llm/contexts.jsonl)"},
    {"--backend", "SPEC", CB_ESCALATE, CLI_REQUIRED | CLI_REPEAT, OPT_BACKEND,
     "as for run; several backends run one after another"},
    {"--concurrency", "N", CB_ESCALATE, 0, OPT_CONCURRENCY,
     "requests in flight (1-256), overriding the spec's concurrency"},
    {"--pace", "X", CB_ESCALATE, 0, OPT_PACE,
     "as for run: release each call at (its simulated time - the first call's) / X of wall "
     "time; the transcript records each call's release, start and queueing delay"},
    {"--format", "openmetrics", CB_EXPORT, CLI_REQUIRED, OPT_FORMAT,
     "output format; openmetrics is the only one"},
    {"--out", "FILE", CB_EXPORT, CLI_REQUIRED, OPT_EXPORT_OUT,
     "written as FILE.partial, renamed to FILE once complete"},
    {"--nodes", "LIST", CB_EXPORT, 0, OPT_NODES,
     "node indices and inclusive ranges, e.g. 0-7,40 (default: all); cluster metrics have "
     "no node and are always written"},
    {"--metrics", "LIST", CB_EXPORT, 0, OPT_METRICS,
     "comma list of archive metric names (or the naming's, e.g. DCGM_FI_DEV_GPU_TEMP), e.g. "
     "gpu_temp_celsius,ttft_ms,gpu_ecc_sbe_total, and the annotation series "
     "fleetsim_scenario_active and fleetsim_l1_event (default: all)"},
    {"--naming", "N", CB_EXPORT, 0, OPT_NAMING,
     "series names, labels and units: fleetsim (the archive's, the default), dcgm "
     "(dcgm-exporter's DCGM_FI_* names, labels and units wherever a metric has a DCGM field) "
     "or prometheus (base units: seconds, ratios 0-1, bytes, joules, hertz); docs/export.md "
     "maps every metric"},
    {"--from", "H", CB_EXPORT, 0, OPT_FROM,
     "first simulated hour to write (default: the start of the run)"},
    {"--to", "H", CB_EXPORT, 0, OPT_TO,
     "simulated hour to stop before (default: the end of the run)"},
    {"--start-epoch", "S", CB_EXPORT, 0, OPT_START_EPOCH,
     "Unix time of t = 0 (default: start_hour:00 UTC of the latest day on which the whole "
     "run ends before the archive's created_utc)"},
    {"--random", "N", CB_SCENARIOS, 0, OPT_RANDOM, "number of scenarios, 1-1000"},
    {"--seed", "K", CB_SCENARIOS, 0, OPT_RANDOM_SEED,
     "seed of the generator (default: the config's seed)"},
    {"--out", "FILE", CB_SCENARIOS, 0, OPT_RANDOM_OUT, "file to write (default: stdout)"},
    {"--kinds", "[LIST]", CB_SCENARIOS, 0, OPT_KINDS,
     "the fault kinds to use, a comma list of kind names (default: every kind), e.g. "
     "thermal_cascade,fail_slow_gpu; with --random it draws only these; without --random it "
     "prints their keys as Markdown (targets; magnitudes with their default, bounds, units "
     "and what they set) from the kinds' own tables, and writes no file. Alone, `--kinds` "
     "lists every kind"},
    {"--exclude-kinds", "LIST", CB_SCENARIOS, 0, OPT_EXCLUDE_KINDS,
     "comma list of kinds to leave out of --kinds (held-out evaluation: tune on some kinds, "
     "test on the others)"},
    {"--overlap", "P", CB_SCENARIOS, 0, OPT_OVERLAP,
     "probability, 0-1, that a random scenario co-occurs with the one drawn before it: it "
     "starts inside that one's window, on the same racks where both kinds take racks "
     "(default 0.25; 0 draws what the generator drew before the option existed)"},
    {"--quiet", NULL, CB_RUN | CB_ESCALATE | CB_SCORE | CB_EXPORT, 0, OPT_QUIET,
     "no progress on stderr (summaries still go to stdout)"},
    {"--markdown", NULL, CB_HELP, 0, OPT_MARKDOWN, "print the reference as Markdown"},
};
enum { CLI_NOPTIONS = sizeof cli_options / sizeof cli_options[0] };

static const char cli_intro[] =
    "fleetsim - distributed simulator of a GPU fleet and of the AIOps pipeline that "
    "watches it (MPI + parallel HDF5).";
static const char cli_exit_text[] =
    "Exit status: 0 success; 1 run-time failure (I/O, MPI, a run that does not fit on "
    "disk or in memory, an escalate whose backend answered none of its calls); 2 bad input "
    "(config, scenarios, command line, a run directory in use or holding another run); "
    "128+N interrupted by signal N (SIGINT, SIGTERM, SIGHUP: continue with --resume). Every "
    "problem is reported once, from rank 0, and all ranks exit with the same status.";

/* ---- parsing ------------------------------------------------------------------ */

/* 1 when arg is opt, or opt=VALUE for an option that takes a value. */
static int cli_is(const char *arg, const cli_option *o) {
  size_t n = strlen(o->name);
  return strncmp(arg, o->name, n) == 0 && (arg[n] == '\0' || (o->arg && arg[n] == '='));
}

/* The table row for arg in command cmd, or NULL. */
static const cli_option *cli_find(const char *arg, cli_command cmd) {
  for (int k = 0; k < CLI_NOPTIONS; k++)
    if ((cli_options[k].commands & CLI_BIT(cmd)) && cli_is(arg, &cli_options[k]))
      return &cli_options[k];
  return NULL;
}

static const char *cli_value(int argc, char **argv, int *i, const char *opt) {
  const char *arg = argv[*i];
  size_t n = strlen(opt);
  if (strncmp(arg, opt, n) == 0 && arg[n] == '=')
    return arg + n + 1;
  if (*i + 1 >= argc) {
    diag_addf("option %s needs a value (see 'fleetsim --help')", opt);
    return NULL;
  }
  return argv[++*i];
}

static int cli_add_set(cli_args *a, const char *kv) {
  if (a->nsets >= CLI_MAX_SETS) {
    diag_addf("too many settings on the command line (at most %d)", CLI_MAX_SETS);
    return FS_EUSAGE;
  }
  a->sets[a->nsets++] = kv;
  return 0;
}

/* An integer in [lo, hi] written in decimal, or 0 with *ok = 0. */
static long long cli_integer(const char *v, long long lo, long long hi, int *ok) {
  char *end = NULL;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  *ok = *v != '\0' && *end == '\0' && errno == 0 && x >= lo && x <= hi;
  return *ok ? x : 0;
}

/* Stores option o with value v (NULL for a flag) into a. Returns 0 or
 * FS_EUSAGE with the problem in diag. */
static int cli_apply(cli_args *a, const cli_option *o, const char *v) {
  int ok = 1;
  if ((o->id == OPT_CONFIG || o->id == OPT_SCENARIOS || o->id == OPT_OUT_DIR ||
       o->id == OPT_EXPORT_OUT || o->id == OPT_RUN_DIR || o->id == OPT_RANDOM_OUT) &&
      path_check_arg(o->name, v) != 0)
    return FS_EUSAGE;
  switch (o->id) {
  case OPT_CONFIG:
    a->config_path = v;
    return 0;
  case OPT_SCENARIOS:
    a->scenarios_path = v;
    return 0;
  case OPT_SET:
    if (!strchr(v, '=')) {
      diag_addf("--set %s: expected KEY=VALUE, e.g. --set nodes=200", v);
      return FS_EUSAGE;
    }
    return cli_add_set(a, v);
  case OPT_SEED:
  case OPT_HOURS: {
    int w = o->id == OPT_SEED ? 0 : 1;
    snprintf(a->flag_sets[w], sizeof a->flag_sets[w], "%s=%s", w == 0 ? "seed" : "hours", v);
    return cli_add_set(a, a->flag_sets[w]);
  }
  case OPT_BACKEND:
    if (a->nbackends >= CLI_MAX_BACKENDS) {
      diag_addf("too many --backend options (at most %d)", CLI_MAX_BACKENDS);
      return FS_EUSAGE;
    }
    a->backends[a->nbackends++] = v;
    return 0;
  case OPT_OUT_DIR:
    if (v[0] == '\0') {
      diag_addf("--out: the output directory must not be empty");
      return FS_EUSAGE;
    }
    a->out_dir = v;
    return 0;
  case OPT_NO_LLM:
    a->no_llm = 1;
    return 0;
  case OPT_RESUME:
    a->resume = 1;
    return 0;
  case OPT_FORCE:
    a->force = 1;
    return 0;
  case OPT_CLOSED_LOOP:
    a->closed_loop = 1;
    return 0;
  case OPT_QUIET:
    a->quiet = 1;
    return 0;
  case OPT_MARKDOWN:
    a->markdown = 1;
    return 0;
  case OPT_RUN_DIR:
    if (v[0] == '\0') {
      diag_addf("--run: the run directory must not be empty");
      return FS_EUSAGE;
    }
    a->run_dir = v;
    return 0;
  case OPT_CONCURRENCY:
    a->concurrency = (int)cli_integer(v, 1, 256, &ok);
    if (!ok)
      diag_addf("--concurrency %s: expected an integer in [1, 256]", v);
    return ok ? 0 : FS_EUSAGE;
  case OPT_PACE:
    if (!cfg_parse_decimal(v, &a->pace) || !pace_valid(a->pace)) {
      diag_addf("--pace %s: expected a number > 0 and at most %g (simulated seconds per wall "
                "second: 1 is real time, 60 a simulated day in 24 min)",
                v, PACE_MAX);
      return FS_EUSAGE;
    }
    return 0;
  case OPT_FORMAT:
    if (strcmp(v, "openmetrics") != 0) {
      diag_addf("--format %s: unknown format (supported: openmetrics)", v);
      return FS_EUSAGE;
    }
    a->exp.format = v;
    return 0;
  case OPT_EXPORT_OUT:
    if (v[0] == '\0') {
      diag_addf("--out: the output file must not be empty");
      return FS_EUSAGE;
    }
    a->exp.out = v;
    return 0;
  case OPT_NODES:
    a->exp.nodes = v;
    return 0;
  case OPT_METRICS:
    a->exp.metrics = v;
    return 0;
  case OPT_FROM:
  case OPT_TO: {
    double h;
    if (!cfg_parse_decimal(v, &h) || h < 0) {
      diag_addf("%s %s: expected simulated hours, a number >= 0", o->name, v);
      return FS_EUSAGE;
    }
    *(o->id == OPT_FROM ? &a->exp.from_h : &a->exp.to_h) = h;
    return 0;
  }
  case OPT_NAMING: {
    om_naming naming;
    if (om_parse_naming(v, &naming) != 0)
      return FS_EUSAGE;
    a->exp.naming = naming;
    return 0;
  }
  case OPT_START_EPOCH:
    a->exp.start_epoch = cli_integer(v, 0, 100000000000LL, &ok);
    if (!ok)
      diag_addf("--start-epoch %s: expected Unix seconds, an integer in [0, 1e11]", v);
    a->exp.has_start_epoch = ok;
    return ok ? 0 : FS_EUSAGE;
  case OPT_RANDOM:
    a->random_count = (long)cli_integer(v, 1, 1000, &ok);
    if (!ok)
      diag_addf("--random %s: expected a count of scenarios in [1, 1000]", v);
    return ok ? 0 : FS_EUSAGE;
  case OPT_RANDOM_SEED:
    a->random_seed = v;
    return 0;
  case OPT_RANDOM_OUT:
    a->out_dir = v;
    return 0;
  case OPT_KINDS:
    a->list_kinds = 1;
    a->kinds = v;
    return 0;
  case OPT_EXCLUDE_KINDS:
    a->exclude_kinds = v;
    return 0;
  case OPT_OVERLAP: {
    char *end = NULL;
    errno = 0;
    a->overlap = strtod(v, &end);
    if (!*v || *end || errno || !(a->overlap >= 0 && a->overlap <= 1)) {
      diag_addf("--overlap %s: expected a probability in [0, 1]", v);
      return FS_EUSAGE;
    }
    return 0;
  }
  }
  return FS_EUSAGE;
}

/* Checks between options and required ones, after the whole line is read;
 * settles what --kinds means (a selection with --random, else a listing). */
static int cli_check(cli_args *a) {
  switch (a->command) {
  case CLI_RUN:
    if (a->no_llm && a->nbackends > 0) {
      diag_addf("run: --no-llm and --backend exclude each other");
      return FS_EUSAGE;
    }
    if (a->no_llm && a->pace > 0) {
      diag_addf("run: --pace and --no-llm exclude each other (--no-llm makes no LLM calls to "
                "pace; pace them later with fleetsim escalate --pace)");
      return FS_EUSAGE;
    }
    if (a->resume && a->force) {
      diag_addf("run: --resume and --force exclude each other (--force starts the run again)");
      return FS_EUSAGE;
    }
    if (a->closed_loop && (a->no_llm || a->resume || a->pace > 0 || a->nbackends > 1)) {
      diag_addf("run: --closed-loop needs the answers of one backend as they come: it excludes "
                "--no-llm, --resume, --pace and a second --backend");
      return FS_EUSAGE;
    }
    return 0;
  case CLI_SCORE:
    if (!a->run_dir) {
      diag_addf("score: --run DIR is required (e.g. fleetsim score --run fleetsim-run)");
      return FS_EUSAGE;
    }
    return 0;
  case CLI_ESCALATE:
    if (!a->run_dir || a->nbackends == 0) {
      diag_addf("escalate: --run DIR and --backend SPEC are required (e.g. fleetsim escalate "
                "--run fleetsim-run --backend rules)");
      return FS_EUSAGE;
    }
    return 0;
  case CLI_EXPORT:
    if (!a->run_dir || !a->exp.format || !a->exp.out) {
      diag_addf("export: --run DIR, --format openmetrics and --out FILE are required (e.g. "
                "fleetsim export --run fleetsim-run --format openmetrics --out fleet.om)");
      return FS_EUSAGE;
    }
    return 0;
  case CLI_SCENARIOS:
    if (a->random_count > 0)
      a->list_kinds = 0; /* --kinds LIST selects what --random draws */
    else if (a->exclude_kinds)
      a->list_kinds = 1;
    if (a->random_count == 0 && !a->list_kinds) {
      diag_addf("scenarios: --random N (or --kinds) is required (e.g. fleetsim scenarios "
                "--random 6 --seed 7)");
      return FS_EUSAGE;
    }
    return 0;
  default:
    return 0;
  }
}

int cli_parse(int argc, char **argv, cli_args *a) {
  memset(a, 0, sizeof *a);
  a->out_dir = "fleetsim-run";
  a->exp.from_h = a->exp.to_h = NAN;
  a->overlap = 0.25;
  if (argc < 2) {
    diag_addf("no command given (try 'fleetsim --help')");
    return FS_EUSAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
    a->command = CLI_VERSION;
    return 0;
  }
  int known = 0;
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    a->command = CLI_HELP;
    known = 1;
  }
  for (int k = 0; !known && k < CLI_NCOMMANDS; k++)
    if (strcmp(cmd, cli_commands[k].name) == 0) {
      a->command = cli_commands[k].cmd;
      known = 1;
    }
  if (!known) {
    diag_addf("unknown command '%s' (commands: run, validate, escalate, score, export, "
              "scenarios, help; try 'fleetsim --help')",
              cmd);
    return FS_EUSAGE;
  }
  if (a->command != CLI_RUN && a->command != CLI_VALIDATE)
    a->out_dir = NULL;
  for (int i = 2; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      a->command = CLI_HELP;
      return 0;
    }
    const cli_option *o = cli_find(arg, a->command);
    if (!o) {
      diag_addf("%s: unknown option '%s' (try 'fleetsim --help')", cmd, arg);
      return FS_EUSAGE;
    }
    const char *v = NULL;
    /* --kinds takes an optional list: alone, or before another option, none */
    int bare = o->id == OPT_KINDS && strchr(arg, '=') == NULL &&
               (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0);
    if (o->arg && !bare && !(v = cli_value(argc, argv, &i, o->name)))
      return FS_EUSAGE;
    int rc = cli_apply(a, o, v);
    if (rc)
      return rc;
  }
  return cli_check(a);
}

/* ---- config and scenarios --------------------------------------------------- */

int cli_load_scenarios(const cli_args *a, const fs_config *cfg, char **text,
                       const char **source, char **notices) {
  static const char none_text[] = "{\"scenarios\": []}";
  *text = NULL;
  *notices = NULL;
  int none = a->scenarios_path && strcmp(a->scenarios_path, "none") == 0;
  *source = none ? "--scenarios none"
                 : a->scenarios_path ? a->scenarios_path : "built-in scenarios/default.json";
  int rc = 0;
  if (par_prints()) {
    if (none) {
      if (!(*text = strdup(none_text)))
        rc = FS_ENOMEM;
    } else if (a->scenarios_path) {
      rc = text_read_file(a->scenarios_path, text, "--scenarios");
      if (rc == FS_EIO || rc == FS_ECONFIG) /* the user's input, as for --config: exit 2 */
        rc = FS_ESCENARIO;
    } else {
      rc = scn_fit_run(scn_default_text(), cfg->hours, text, notices);
    }
  }
  rc = par_agree(rc);
  if (rc == 0)
    rc = par_bcast_text(text);
  return rc;
}

int cli_load_config(const cli_args *a, fs_config *cfg) {
  cfg_defaults(cfg);
  int rc = 0;
  if (a->config_path) {
    char *text = NULL;
    if (par_prints())
      rc = text_read_file(a->config_path, &text, "--config");
    rc = par_agree(rc);
    if (rc == 0)
      rc = par_bcast_text(&text);
    if (rc == 0)
      rc = cfg_apply_json(cfg, text, a->config_path);
    free(text);
  }
  for (int i = 0; i < a->nsets; i++) {
    char key[64];
    const char *eq = strchr(a->sets[i], '=');
    size_t n = (size_t)(eq - a->sets[i]);
    if (n == 0 || n >= sizeof key) {
      diag_addf("--set %s: bad key", a->sets[i]);
      rc = FS_ECONFIG;
      continue;
    }
    memcpy(key, a->sets[i], n);
    key[n] = '\0';
    if (cfg_set(cfg, key, eq + 1, "command line"))
      rc = FS_ECONFIG;
  }
  if (cfg_validate(cfg))
    rc = FS_ECONFIG;
  return par_agree(rc ? FS_ECONFIG : 0);
}

/* ---- help ------------------------------------------------------------------------ */

enum { CLI_WIDTH = 79 };

/* Writes text from column col, breaking between words before CLI_WIDTH;
 * continuation lines start with `indent` blanks. A '\1' is a blank that
 * never breaks ("--seed\1N"). Ends the line. */
static void cli_wrap(FILE *out, const char *text, int col, int indent) {
  const char *p = text;
  int first = 1;
  while (*p) {
    while (*p == ' ')
      p++;
    size_t n = strcspn(p, " ");
    if (n == 0)
      break;
    if (!first && col + 1 + (int)n > CLI_WIDTH) {
      fprintf(out, "\n%*s", indent, "");
      col = indent;
      first = 1;
    }
    if (!first) {
      fputc(' ', out);
      col++;
    }
    for (size_t k = 0; k < n; k++)
      fputc(p[k] == '\1' ? ' ' : p[k], out);
    col += (int)n;
    first = 0;
    p += n;
  }
  fputc('\n', out);
}

/* "mpirun -np N fleetsim run [--config F] ... [--quiet]" of one command:
 * required options first, then the others, each in table order. */
static void cli_synopsis(const cli_command_info *c, char *buf, size_t cap) {
  size_t n = (size_t)snprintf(buf, cap, "%sfleetsim %s", c->launch, c->name);
  for (int pass = 0; pass < 2; pass++)
    for (int k = 0; k < CLI_NOPTIONS && n < cap; k++) {
      const cli_option *o = &cli_options[k];
      int req = (o->flags & CLI_REQUIRED) != 0;
      if (!(o->commands & CLI_BIT(c->cmd)) || req != (pass == 0))
        continue;
      n += (size_t)snprintf(buf + n, cap - n, " %s%s%s%s%s%s", req ? "" : "[", o->name,
                            o->arg ? "\1" : "", o->arg ? o->arg : "", req ? "" : "]",
                            (o->flags & CLI_REPEAT) ? "..." : "");
    }
}

static void cli_print_synopses(FILE *out, int indent) {
  char buf[1024];
  for (int c = 0; c < CLI_NCOMMANDS; c++) {
    cli_synopsis(&cli_commands[c], buf, sizeof buf);
    fprintf(out, "%*s", indent, "");
    cli_wrap(out, buf, indent, indent + 6);
  }
  fprintf(out, "%*sfleetsim --version\n", indent, "");
}

void cli_print_help(FILE *out) {
  cli_wrap(out, cli_intro, 0, 0);
  fprintf(out, "\nUsage:\n");
  cli_print_synopses(out, 2);
  fprintf(out, "\nCommands:\n");
  for (int c = 0; c < CLI_NCOMMANDS; c++) {
    const cli_command_info *ci = &cli_commands[c];
    fprintf(out, "\n%s\n  ", ci->name);
    cli_wrap(out, ci->summary, 2, 2);
    for (int k = 0; k < CLI_NOPTIONS; k++) {
      const cli_option *o = &cli_options[k];
      if (!(o->commands & CLI_BIT(ci->cmd)))
        continue;
      char left[64];
      snprintf(left, sizeof left, "%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
      if (strlen(left) > 17)
        fprintf(out, "  %s\n%20s", left, "");
      else
        fprintf(out, "  %-18s", left);
      cli_wrap(out, o->help, 20, 20);
    }
    fprintf(out, "  Example: %s\n", ci->example); /* unwrapped: it is copied as it is */
  }
  fprintf(out, "\n");
  cli_wrap(out, cli_exit_text, 0, 0);
  fprintf(out, "\nSettings (--config F, --set KEY=VALUE; the defaults are the benchmark's fleet):\n");
  cfg_print_table(out);
}

/* text for a Markdown table cell or paragraph: | < > * escaped. */
static void cli_md_text(FILE *out, const char *text) {
  for (const char *p = text; *p; p++) {
    if (strchr("|<>*", *p))
      fputc('\\', out);
    fputc(*p, out);
  }
}

void cli_print_markdown(FILE *out) {
  fprintf(out, "<!-- Generated by `fleetsim help --markdown` from the command, option and "
               "settings tables\n     in src/app/cli.c and src/model/config.c: do not edit. "
               "tests/e2e_cli_doc.sh fails when this\n     file differs from that output; "
               "regenerate it with\n     build/fleetsim help --markdown > docs/cli.md -->\n");
  fprintf(out, "# Command line reference\n\n");
  cli_md_text(out, cli_intro);
  fprintf(out, " `fleetsim --help` prints the same text.\n\n```\n");
  cli_print_synopses(out, 0);
  fprintf(out, "```\n\n");
  cli_md_text(out, cli_exit_text);
  fprintf(out, "\n");
  for (int c = 0; c < CLI_NCOMMANDS; c++) {
    const cli_command_info *ci = &cli_commands[c];
    fprintf(out, "\n## %s\n\n", ci->name);
    cli_md_text(out, ci->summary);
    fprintf(out, "\n\n| option | meaning |\n|---|---|\n");
    for (int k = 0; k < CLI_NOPTIONS; k++) {
      const cli_option *o = &cli_options[k];
      if (!(o->commands & CLI_BIT(ci->cmd)))
        continue;
      fprintf(out, "| `%s%s%s` | ", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
      if (o->flags & CLI_REQUIRED)
        fprintf(out, "required; ");
      if (o->flags & CLI_REPEAT)
        fprintf(out, "repeatable; ");
      cli_md_text(out, o->help);
      fprintf(out, " |\n");
    }
    fprintf(out, "\nExample:\n\n```\n%s\n```\n", ci->example);
  }
  fprintf(out, "\n## Settings\n\nDefaults are applied first, then the `--config` JSON file, "
               "then `--seed`, `--hours` and `--set KEY=VALUE` in command-line order. The "
               "defaults reproduce the benchmark's 1,000-node x 8 H100 fleet for 24 h (docs/design.md). The final "
               "configuration is stored in the archive's `config` attribute.\n\n");
  cfg_print_markdown(out);
}

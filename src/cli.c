/* Argument parsing and config assembly for the fleetsim subcommands (see
 * cli.h). Files are read once, on the printing rank, and broadcast so that
 * every rank validates identical text and reaches the same verdict. */
#include "src/cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/par.h"
#include "src/diag.h"
#include "src/errors.h"
#include "scenarios/scenario.h"
#include "src/textfile.h"

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

static int cli_is(const char *arg, const char *opt) {
  size_t n = strlen(opt);
  return strncmp(arg, opt, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

static int cli_add_set(cli_args *a, const char *kv) {
  if (a->nsets >= CLI_MAX_SETS) {
    diag_addf("too many settings on the command line (at most %d)", CLI_MAX_SETS);
    return FS_EUSAGE;
  }
  a->sets[a->nsets++] = kv;
  return 0;
}

/* One option of `fleetsim export` at argv[*i]. Returns 0, FS_EUSAGE (message
 * in diag), or 1 when arg is not an export option. */
static int cli_export_option(int argc, char **argv, int *i, cli_args *a) {
  static const char *const opts[] = {"--format", "--out",  "--nodes",      "--metrics",
                                     "--from",   "--to",   "--start-epoch"};
  int which = -1;
  for (int k = 0; k < (int)(sizeof opts / sizeof opts[0]); k++)
    if (cli_is(argv[*i], opts[k]))
      which = k;
  if (which < 0)
    return 1;
  const char *v = cli_value(argc, argv, i, opts[which]);
  if (!v)
    return FS_EUSAGE;
  char *end = NULL;
  errno = 0;
  switch (which) {
  case 0:
    if (strcmp(v, "openmetrics") != 0) {
      diag_addf("--format %s: unknown format (supported: openmetrics)", v);
      return FS_EUSAGE;
    }
    a->exp.format = v;
    return 0;
  case 1:
    if (v[0] == '\0') {
      diag_addf("--out: the output file must not be empty");
      return FS_EUSAGE;
    }
    a->exp.out = v;
    return 0;
  case 2:
    a->exp.nodes = v;
    return 0;
  case 3:
    a->exp.metrics = v;
    return 0;
  case 4:
  case 5: {
    double h;
    if (!cfg_parse_decimal(v, &h) || h < 0) {
      diag_addf("%s %s: expected simulated hours, a number >= 0", opts[which], v);
      return FS_EUSAGE;
    }
    *(which == 4 ? &a->exp.from_h : &a->exp.to_h) = h;
    return 0;
  }
  default: {
    long long s = strtoll(v, &end, 10);
    if (*v == '\0' || *end != '\0' || errno || s < 0 || s > 100000000000LL) {
      diag_addf("--start-epoch %s: expected Unix seconds, an integer in [0, 1e11]", v);
      return FS_EUSAGE;
    }
    a->exp.has_start_epoch = 1;
    a->exp.start_epoch = s;
    return 0;
  }
  }
}

int cli_parse(int argc, char **argv, cli_args *a) {
  memset(a, 0, sizeof *a);
  a->out_dir = "fleetsim-run";
  a->exp.from_h = a->exp.to_h = NAN;
  if (argc < 2) {
    diag_addf("no command given (try 'fleetsim --help')");
    return FS_EUSAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
    a->command = CLI_HELP;
    return 0;
  }
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
    a->command = CLI_VERSION;
    return 0;
  }
  if (strcmp(cmd, "run") == 0)
    a->command = CLI_RUN;
  else if (strcmp(cmd, "validate") == 0)
    a->command = CLI_VALIDATE;
  else if (strcmp(cmd, "scenarios") == 0)
    a->command = CLI_SCENARIOS;
  else if (strcmp(cmd, "escalate") == 0)
    a->command = CLI_ESCALATE;
  else if (strcmp(cmd, "score") == 0)
    a->command = CLI_SCORE;
  else if (strcmp(cmd, "export") == 0)
    a->command = CLI_EXPORT;
  else {
    diag_addf("unknown command '%s' (commands: run, escalate, score, export, validate, scenarios; "
              "try "
              "'fleetsim --help')",
              cmd);
    return FS_EUSAGE;
  }
  if (a->command == CLI_SCENARIOS || a->command == CLI_ESCALATE || a->command == CLI_EXPORT)
    a->out_dir = NULL;
  int esc = a->command == CLI_ESCALATE, score = a->command == CLI_SCORE;
  int exp = a->command == CLI_EXPORT, erc;
  static char flag_sets[2][96];
  int rc = 0;
  for (int i = 2; i < argc && rc == 0; i++) {
    const char *arg = argv[i], *v;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      a->command = CLI_HELP;
      return 0;
    } else if (exp && (erc = cli_export_option(argc, argv, &i, a)) != 1) {
      if (erc)
        return erc;
    } else if (!esc && !score && !exp && cli_is(arg, "--config")) {
      if (!(v = cli_value(argc, argv, &i, "--config")))
        return FS_EUSAGE;
      a->config_path = v;
    } else if (!esc && !score && !exp && a->command != CLI_SCENARIOS &&
               cli_is(arg, "--scenarios")) {
      if (!(v = cli_value(argc, argv, &i, "--scenarios")))
        return FS_EUSAGE;
      a->scenarios_path = v;
    } else if (a->command == CLI_SCENARIOS && cli_is(arg, "--random")) {
      if (!(v = cli_value(argc, argv, &i, "--random")))
        return FS_EUSAGE;
      char *end = NULL;
      errno = 0;
      a->random_count = strtol(v, &end, 10);
      if (*v == '\0' || *end != '\0' || errno || a->random_count < 1 || a->random_count > 1000) {
        diag_addf("--random %s: expected a count of scenarios in [1, 1000]", v);
        return FS_EUSAGE;
      }
    } else if (a->command == CLI_SCENARIOS && cli_is(arg, "--seed")) {
      if (!(v = cli_value(argc, argv, &i, "--seed")))
        return FS_EUSAGE;
      a->random_seed = v;
    } else if (a->command == CLI_SCENARIOS && cli_is(arg, "--out")) {
      if (!(v = cli_value(argc, argv, &i, "--out")))
        return FS_EUSAGE;
      a->out_dir = v;
    } else if (!esc && !score && !exp && cli_is(arg, "--set")) {
      if (!(v = cli_value(argc, argv, &i, "--set")))
        return FS_EUSAGE;
      if (!strchr(v, '=')) {
        diag_addf("--set %s: expected KEY=VALUE, e.g. --set nodes=200", v);
        return FS_EUSAGE;
      }
      rc = cli_add_set(a, v);
    } else if (a->command == CLI_RUN && (cli_is(arg, "--seed") || cli_is(arg, "--hours"))) {
      int which = cli_is(arg, "--seed") ? 0 : 1;
      const char *opt = which == 0 ? "--seed" : "--hours";
      if (!(v = cli_value(argc, argv, &i, opt)))
        return FS_EUSAGE;
      snprintf(flag_sets[which], sizeof flag_sets[which], "%s=%s",
               which == 0 ? "seed" : "hours", v);
      rc = cli_add_set(a, flag_sets[which]);
    } else if (a->command == CLI_RUN && cli_is(arg, "--out")) {
      if (!(v = cli_value(argc, argv, &i, "--out")))
        return FS_EUSAGE;
      if (v[0] == '\0') {
        diag_addf("--out: the output directory must not be empty");
        return FS_EUSAGE;
      }
      a->out_dir = v;
    } else if ((a->command == CLI_RUN || esc || score || exp) && strcmp(arg, "--quiet") == 0) {
      a->quiet = 1;
    } else if ((a->command == CLI_RUN || esc) && cli_is(arg, "--backend")) {
      if (!(v = cli_value(argc, argv, &i, "--backend")))
        return FS_EUSAGE;
      if (a->nbackends >= CLI_MAX_BACKENDS) {
        diag_addf("too many --backend options (at most %d)", CLI_MAX_BACKENDS);
        return FS_EUSAGE;
      }
      a->backends[a->nbackends++] = v;
    } else if ((esc || score || exp) && cli_is(arg, "--run")) {
      if (!(v = cli_value(argc, argv, &i, "--run")))
        return FS_EUSAGE;
      if (v[0] == '\0') {
        diag_addf("--run: the run directory must not be empty");
        return FS_EUSAGE;
      }
      a->run_dir = v;
    } else if (esc && cli_is(arg, "--concurrency")) {
      if (!(v = cli_value(argc, argv, &i, "--concurrency")))
        return FS_EUSAGE;
      char *end = NULL;
      errno = 0;
      long c = strtol(v, &end, 10);
      if (*v == '\0' || *end != '\0' || errno || c < 1 || c > 256) {
        diag_addf("--concurrency %s: expected an integer in [1, 256]", v);
        return FS_EUSAGE;
      }
      a->concurrency = (int)c;
    } else if (a->command == CLI_RUN && strcmp(arg, "--no-llm") == 0) {
      a->no_llm = 1;
    } else if (a->command == CLI_RUN && strcmp(arg, "--resume") == 0) {
      a->resume = 1;
    } else if (a->command == CLI_RUN && strcmp(arg, "--force") == 0) {
      a->force = 1;
    } else {
      diag_addf("%s: unknown option '%s' (try 'fleetsim --help')", cmd, arg);
      return FS_EUSAGE;
    }
  }
  if (rc == 0 && a->command == CLI_RUN && a->no_llm && a->nbackends > 0) {
    diag_addf("run: --no-llm and --backend exclude each other");
    rc = FS_EUSAGE;
  }
  if (rc == 0 && a->command == CLI_RUN && a->resume && a->force) {
    diag_addf("run: --resume and --force exclude each other (--force starts the run again)");
    rc = FS_EUSAGE;
  }
  if (rc == 0 && score && !a->run_dir) {
    diag_addf("score: --run DIR is required (e.g. fleetsim score --run fleetsim-run)");
    rc = FS_EUSAGE;
  }
  if (rc == 0 && esc && (!a->run_dir || a->nbackends == 0)) {
    diag_addf("escalate: --run DIR and --backend SPEC are required (e.g. fleetsim escalate "
              "--run fleetsim-run --backend rules)");
    rc = FS_EUSAGE;
  }
  if (rc == 0 && exp && (!a->run_dir || !a->exp.format || !a->exp.out)) {
    diag_addf("export: --run DIR, --format openmetrics and --out FILE are required (e.g. "
              "fleetsim export --run fleetsim-run --format openmetrics --out fleet.om)");
    rc = FS_EUSAGE;
  }
  if (rc == 0 && a->command == CLI_SCENARIOS && a->random_count == 0) {
    diag_addf("scenarios: --random N is required (e.g. fleetsim scenarios --random 6 --seed 7)");
    rc = FS_EUSAGE;
  }
  return rc;
}

int cli_load_scenarios(const cli_args *a, char **text, const char **source) {
  *text = NULL;
  *source = a->scenarios_path ? a->scenarios_path : "built-in scenarios/default.json";
  int rc = 0;
  if (par_prints()) {
    if (a->scenarios_path) {
      rc = text_read_file(a->scenarios_path, text, "--scenarios");
      if (rc == FS_EIO || rc == FS_ECONFIG) /* the user's input, as for --config: exit 2 */
        rc = FS_ESCENARIO;
    } else if (!(*text = strdup(scn_default_text())))
      rc = FS_ENOMEM;
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

void cli_print_help(FILE *out) {
  fprintf(out,
          "fleetsim - distributed simulator of a GPU fleet and of the AIOps pipeline that\n"
          "watches it (MPI + parallel HDF5).\n"
          "\n"
          "Usage:\n"
          "  mpirun -np N fleetsim run [options]   simulate the fleet, write DIR/fleet.h5,\n"
          "                                        escalate its events through the backends\n"
          "  fleetsim score --run DIR [--quiet]      score every backend of a finished run\n"
          "                                        against the checklists: DIR/results/\n"
          "                                        calls.jsonl, summary.json, summary.md\n"
          "  fleetsim escalate --run DIR --backend SPEC [--concurrency N] [--quiet]\n"
          "                                        send a finished run's LLM calls\n"
          "                                        (DIR/llm/contexts.jsonl) through another\n"
          "                                        backend; resumes, skipping calls already\n"
          "                                        in DIR/llm/<name>.jsonl\n"
          "  fleetsim export --run DIR --format openmetrics --out FILE [--nodes LIST]\n"
          "                  [--metrics LIST] [--from H] [--to H] [--start-epoch S] [--quiet]\n"
          "                                        write a finished run's telemetry as\n"
          "                                        OpenMetrics text for promtool tsdb\n"
          "                                        create-blocks-from openmetrics\n"
          "  fleetsim validate [options]           check config and scenarios, write nothing\n"
          "  fleetsim scenarios --random N [--seed K] [--out FILE] [--config F] [--set K=V]\n"
          "                                        write a random valid scenario file for\n"
          "                                        the configured fleet (stdout by default)\n"
          "  fleetsim --help | --version\n"
          "\n"
          "Options (run, validate):\n"
          "  --config F       JSON object of settings (keys below) applied over the defaults\n"
          "  --set KEY=VALUE  one setting, applied after --config (repeatable)\n"
          "  --scenarios F    scenario file (default: the built-in scenarios/default.json,\n"
          "                   the seed's S1-S6); {\"scenarios\": []} runs fault-free\n"
          "Options (run):\n"
          "  --out DIR        output directory (default: fleetsim-run); created if missing\n"
          "  --seed N         same as --set seed=N\n"
          "  --hours H        same as --set hours=H\n"
          "  --backend SPEC   LLM backend for L2-L4 (repeatable; default: rules). SPEC is\n"
          "                   KIND[:key=value,...], KIND rules | openai | anthropic | replay,\n"
          "                   keys name, base_url, model, api_key_env, timeout_s, retries,\n"
          "                   concurrency, price_in, price_out, gpu_hour_usd, max_tokens,\n"
          "                   json_schema, temperature, path (replay), e.g.\n"
          "                   openai:base_url=http://127.0.0.1:8000/v1,model=M,concurrency=8\n"
          "                   API keys come only from the variable named by api_key_env.\n"
          "                   Transcripts: DIR/llm/<name>.jsonl, one line per call\n"
          "  --no-llm         write DIR/llm/contexts.jsonl but make no LLM calls\n"
          "  --resume         continue the interrupted run in --out DIR from its last\n"
          "                   checkpoint (DIR/checkpoint/, written after every window);\n"
          "                   same config, scenarios and build, any rank count\n"
          "  --force          start afresh in a DIR that holds another run: remove\n"
          "                   fleetsim's files of it (only those), and run even when the\n"
          "                   size estimate says it does not fit on disk or in memory\n"
          "  --quiet          no progress on stderr\n"
          "Options (escalate):\n"
          "  --run DIR        a finished run (DIR/fleet.h5 complete, DIR/llm/contexts.jsonl)\n"
          "  --backend SPEC   as for run (repeatable: backends run one after another)\n"
          "  --concurrency N  requests in flight, overriding the spec's concurrency\n"
          "  --quiet          no progress on stderr (the summary still goes to stdout)\n"
          "Options (export; one process, mpirun not needed):\n"
          "  --run DIR        a finished run (DIR/fleet.h5 complete)\n"
          "  --format F       output format; openmetrics is the only one\n"
          "  --out FILE       written as FILE.partial, renamed to FILE once complete\n"
          "  --nodes LIST     node indices and ranges, e.g. 0-7,40 (default: all); cluster\n"
          "                   metrics have no node and are always written\n"
          "  --metrics LIST   comma list of archive metric names, e.g.\n"
          "                   gpu_temp_celsius,ttft_ms,gpu_ecc_sbe_total (default: all)\n"
          "  --from H, --to H simulated hours [H, H) to write (default: the whole run)\n"
          "  --start-epoch S  Unix time of t = 0 (default: start_hour:00 UTC of the latest\n"
          "                   day on which the whole run ends before the archive's\n"
          "                   created_utc)\n"
          "  --quiet          no progress line on stderr (the summary still goes to stdout)\n"
          "\n"
          "Ranks own whole racks: N may be 1 .. racks. Progress goes to stderr on rank 0.\n"
          "Exit status: 0 success, 1 run-time failure, 2 bad input (config or command line).\n"
          "\n"
          "Settings (defaults reproduce the seed's 1,000-node x 8 H100 fleet, 24 h):\n");
  cfg_print_table(out);
}

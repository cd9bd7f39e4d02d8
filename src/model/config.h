/* The run configuration: one declarative table of every setting (name, type,
 * bounds, default, help) that parsing, validation, --help and the echo into
 * the archive all read. Filled from defaults, then a JSON file, then flags. */
#ifndef FLEETSIM_CONFIG_H
#define FLEETSIM_CONFIG_H
#include <stdint.h>
#include <stdio.h>

enum { CFG_MAX_JOBS = 64, CFG_JOB_ID_LEN = 33 /* PATH_ID_MAX + 1 */, CFG_JOB_MODEL_LEN = 64 };

/* archive_compression: the filters of the archive's telemetry datasets
 * (io/compression.c). Every choice but none shuffles the bytes first. */
typedef enum { CFG_COMPRESSION_NONE, CFG_COMPRESSION_LZ4, CFG_COMPRESSION_DEFLATE } cfg_compression;

/* One distributed training job. */
typedef struct {
  char id[CFG_JOB_ID_LEN];       /* "train-000": [A-Za-z0-9_-]{1,32} (path_is_id) */
  char model[CFG_JOB_MODEL_LEN]; /* "llama-70b-pretrain": printable ASCII */
  int nodes;                     /* nodes in the job */
  double step_time_s;            /* fault-free step time, seconds */
} cfg_job;

/* L1 detection, aggregation and escalation (pipeline/detect, the L3/L4
 * schedule): the detector's tuning, read by the pipeline from here. The
 * defaults are the benchmark's tuning (docs/design.md, "L1 detector"). */
typedef struct {
  double z_node;           /* peer |z| of a node metric */
  double z_gpu;            /* peer |z| of a GPU metric */
  double z_own;            /* own-history deviation that confirms */
  double z_trend;          /* class-median change (rate of change) */
  double ewma_alpha;       /* own-history EWMA weight per block */
  double trend_alpha;      /* EWMA weight of a class median's typical change */
  double sigma_rel_floor;  /* peer sigma never below this share of the median */
  double trend_rel_floor;  /* trend sigma never below this share of the median */
  int warmup_blocks;       /* blocks before anything can fire */
  int debounce_node_steps; /* same node/GPU alert suppressed this many steps */
  int debounce_group_steps; /* same job/rack/cluster alert suppressed */
  int max_events_per_step; /* the most severe events kept per step */
  int rack_min_nodes;      /* flagged nodes of a rack that make a rack event */
  int job_min_nodes;       /* flagged nodes of a job that make a job event */
  int escalate_groups;     /* 1: job, rack and cluster events go to L3 */
  double escalate_signal_scale; /* multiplies the high-signal metrics' z thresholds */
  double escalate_any_z;   /* any event with |z| above it goes to L3; 0: rule off */
  int l4_every_steps;      /* detection steps between L4 shift summaries */
  int l4_incidents;        /* escalated-event one-liners in an L4 context */
  int l4_events;           /* other events' one-liners in an L4 context */
  int l3_neighbours;       /* rack neighbours and sightings in an L3 context */
} cfg_detect;

/* What operators' actions do (src/model/mitigation.c, closed loop): the
 * numbers behind each action's effect and cost (docs/closed-loop.md). */
typedef struct {
  double restart_min;        /* a job restarted without a node relaunches this long */
  double rma_hours;          /* an RMA'd node is out for repair this long */
  double power_cap_share;    /* power_cap_rack: GPU limit as a share of the board TDP */
  double cooling_c;          /* raise_cooling: inlet air this much colder (and no colder) */
  double kv_capacity_scale;  /* raise_kv_capacity: KV pool multiplier */
  double kv_throughput_cost; /* raise_kv_capacity: share of serving capacity it costs */
  double rebalance_factor;   /* rebalance_experts: routing collapse divided by it */
  double rebalance_min;      /* rebalance_experts: minutes until the experts are re-placed */
  double hold_hours;         /* power cap, cooling, migration, KV and context settings last this long */
} cfg_actions;

typedef struct {
  uint64_t seed;             /* keys every random stream */
  double hours;              /* simulated duration, hours */
  double start_hour;         /* hour of day at t = 0 (0 = midnight) */
  int scrape_interval_s;     /* seconds between scrapes */
  int nodes;                 /* compute nodes (8 GPUs each) */
  int racks;                 /* racks; nodes must divide evenly */
  int racks_per_row;         /* racks sharing one CRAH unit */
  int moe_nodes;             /* MoE inference tenant */
  int dense_nodes;           /* dense inference tenant */
  int training_nodes;        /* training tenant (jobs + idle pool) */
  int gpu_lots;              /* silicon lots GPUs are drawn from */
  int window_scrapes;        /* scrapes buffered per archive write */
  int checkpoint_every_min;  /* training checkpoint period, minutes */
  int archive;               /* 1: write fleet.h5, 0: no HDF5 output at all */
  int restart_every_windows; /* windows between --resume checkpoints, 0 = none */
  int archive_compression;   /* cfg_compression of the telemetry datasets */
  cfg_detect det;            /* detector, aggregation and escalation tuning */
  /* background operations (src/model/background.h): what a healthy fleet
   * does anyway; background_ops 0 turns all of them off */
  int background_ops;          /* 0 off, 1 on */
  double bg_xid_scale;         /* multiplier of the XID rates per GPU-day */
  double bg_gpu_resets_per_day;  /* driver resets per GPU-day */
  double bg_reboots_per_day;   /* node reboots per node-day */
  double bg_gaps_per_day;      /* scrape gaps per node-day */
  double bg_drains_per_day;    /* maintenance drains per idle-pool node-day */
  double bg_noise_spread;      /* sd of log per-node noise scale */
  cfg_actions act;             /* operators' actions (closed loop) */
  int njobs;
  cfg_job jobs[CFG_MAX_JOBS];
} fs_config;

/* Fills cfg with the seed's defaults (1,000 nodes, 25 racks, 5 jobs, 24 h). */
void cfg_defaults(fs_config *cfg);

/* Applies a JSON object (the text of a --config file) on top of cfg. source
 * names the file in messages. Every problem is added to diag; returns 0 or
 * FS_ECONFIG. Keys are those of the table plus "jobs" (an array of
 * {"id","model","nodes","step_time_s"}, replacing the default jobs). */
int cfg_apply_json(fs_config *cfg, const char *text, const char *source);

/* The name of an archive_compression choice ("none", "lz4", "deflate"). */
const char *cfg_compression_name(int compression);

/* Sets one key from text (a --seed/--hours/--set flag). Returns 0 or
 * FS_ECONFIG with the problem in diag. Example: cfg_set(c, "nodes", "200", "--set"). */
int cfg_set(fs_config *cfg, const char *key, const char *value, const char *source);

/* Sets *out to text as a finite number written in decimal ([+-]digits[.digits]
 * [e[+-]digits], nothing around it: no hex, inf, nan or blanks, which strtod
 * also takes) and returns 1; returns 0 for anything else. */
int cfg_parse_decimal(const char *text, double *out);

/* Cross-field checks (tenants sum to nodes, racks divide nodes, jobs fit the
 * training tenant, ...). Adds every problem to diag; returns 0 or FS_ECONFIG. */
int cfg_validate(const fs_config *cfg);

/* Number of scrapes in the run: floor(hours * 3600 / scrape_interval_s). */
int64_t cfg_scrapes(const fs_config *cfg);

/* The whole configuration as a compact JSON object; caller frees. NULL on
 * allocation failure. Feeding it to cfg_apply_json reproduces cfg. */
char *cfg_to_json(const fs_config *cfg);

/* Prints every setting with type, bounds, default and help (for --help). */
void cfg_print_table(FILE *out);

/* The same listing as a Markdown table (for docs/cli.md). */
void cfg_print_markdown(FILE *out);

#endif

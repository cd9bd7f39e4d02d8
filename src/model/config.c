/* The settings table and everything that reads it: defaults, JSON and flag
 * parsing, bounds and cross-field validation, the JSON echo and the help
 * listing. It knows nothing of MPI, HDF5 or the model that uses the values. */
#include "src/model/config.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/paths.h"

/* CFG_T_CHOICE: one of the names in `choices`, stored as its index (an int). */
typedef enum { CFG_T_INT, CFG_T_U64, CFG_T_DOUBLE, CFG_T_CHOICE } cfg_type;

typedef struct {
  const char *name;
  cfg_type type;
  double min, max; /* inclusive bounds (a choice: its indices) */
  double def;
  size_t offset;
  const char *help;
  const char *const *choices; /* CFG_T_CHOICE: the names, NULL-terminated; else NULL */
} cfg_entry;

static const char *const cfg_compressions[] = {[CFG_COMPRESSION_NONE] = "none",
                                               [CFG_COMPRESSION_LZ4] = "lz4",
                                               [CFG_COMPRESSION_DEFLATE] = "deflate",
                                               NULL};

static const char *const cfg_onoff[] = {"off", "on", NULL};

#define CFG_FIELD(f) offsetof(fs_config, f)

static const cfg_entry cfg_table[] = {
    {"seed", CFG_T_U64, 0, 9007199254740991.0, 42, CFG_FIELD(seed),
     "seed of every random stream (same seed, same archive)", NULL},
    {"hours", CFG_T_DOUBLE, 0.01, 8760, 24, CFG_FIELD(hours), "simulated duration in hours", NULL},
    {"start_hour", CFG_T_DOUBLE, 0, 23.999, 0, CFG_FIELD(start_hour),
     "hour of day at the start of the run (0 = midnight)", NULL},
    {"scrape_interval_s", CFG_T_INT, 1, 3600, 15, CFG_FIELD(scrape_interval_s),
     "seconds between telemetry scrapes", NULL},
    {"nodes", CFG_T_INT, 1, 1000000, 1000, CFG_FIELD(nodes),
     "compute nodes, 8 H100 SXM5 80 GB GPUs each", NULL},
    {"racks", CFG_T_INT, 1, 100000, 25, CFG_FIELD(racks), "racks; nodes are split evenly over them",
     NULL},
    {"racks_per_row", CFG_T_INT, 1, 100000, 5, CFG_FIELD(racks_per_row),
     "racks per row; each row shares one CRAH cooling unit", NULL},
    {"moe_nodes", CFG_T_INT, 0, 1000000, 300, CFG_FIELD(moe_nodes),
     "nodes of the MoE inference tenant", NULL},
    {"dense_nodes", CFG_T_INT, 0, 1000000, 350, CFG_FIELD(dense_nodes),
     "nodes of the dense inference tenant", NULL},
    {"training_nodes", CFG_T_INT, 0, 1000000, 350, CFG_FIELD(training_nodes),
     "nodes of the training tenant (jobs plus an idle pool)", NULL},
    {"gpu_lots", CFG_T_INT, 1, 1000000, 200, CFG_FIELD(gpu_lots), "silicon lots the GPUs come from",
     NULL},
    {"window_scrapes", CFG_T_INT, 20, 100000, 240, CFG_FIELD(window_scrapes),
     "scrapes buffered per archive write (bounds memory); a multiple of 20", NULL},
    {"checkpoint_every_min", CFG_T_INT, 1, 10080, 30, CFG_FIELD(checkpoint_every_min),
     "minutes between training checkpoints", NULL},
    {"archive", CFG_T_INT, 0, 1, 1, CFG_FIELD(archive),
     "1: write DIR/fleet.h5; 0: simulate, detect and escalate without it (benchmarks, sizing)",
     NULL},
    {"restart_every_windows", CFG_T_INT, 0, 1000000, 6, CFG_FIELD(restart_every_windows),
     "archive windows between restart checkpoints for --resume (DIR/checkpoint/); 0: none. "
     "The cadence is simulated time: 6 windows of 240 scrapes = 6 simulated hours, a few "
     "seconds of wall on the default fleet, all a crash loses; each checkpoint forces the "
     "archive to disk (H5Fflush), so one every window slows the run",
     NULL},
    {"archive_compression", CFG_T_CHOICE, 0, 2, CFG_COMPRESSION_LZ4,
     CFG_FIELD(archive_compression),
     "filters of the archive's telemetry: lz4 (byte shuffle + LZ4, about 2.5 x smaller than "
     "none and faster to write; needs the HDF5 LZ4 filter plugin, Debian package "
     "hdf5-filter-plugin), deflate (shuffle + deflate level 1: smaller, several times slower) "
     "or none (where the plugin is missing)",
     cfg_compressions},
    /* L1 detector (pipeline/detect/detect.c) */
    {"detect_z_node", CFG_T_DOUBLE, 0.5, 100, 4.5, CFG_FIELD(det.z_node),
     "L1: absolute peer z a node metric must exceed (against its workload class)", NULL},
    {"detect_z_gpu", CFG_T_DOUBLE, 0.5, 100, 5.5, CFG_FIELD(det.z_gpu),
     "L1: absolute peer z a GPU metric must exceed (8 tests per node, so higher)", NULL},
    {"detect_z_own", CFG_T_DOUBLE, 0, 100, 3, CFG_FIELD(det.z_own),
     "L1: deviation from the node's own EWMA (in the larger of its own and the peers' sigma) "
     "that must confirm a peer test, in the same direction",
     NULL},
    {"detect_z_trend", CFG_T_DOUBLE, 0.5, 100, 5, CFG_FIELD(det.z_trend),
     "L1: absolute z of a class median's change per block (rate of change) that makes a class "
     "trend",
     NULL},
    {"detect_ewma_alpha", CFG_T_DOUBLE, 0.001, 1, 0.2, CFG_FIELD(det.ewma_alpha),
     "L1: weight of each block in the own-history EWMA mean and variance", NULL},
    {"detect_trend_alpha", CFG_T_DOUBLE, 0.001, 1, 0.2, CFG_FIELD(det.trend_alpha),
     "L1: weight of each block in a class median's typical change", NULL},
    {"detect_sigma_rel_floor", CFG_T_DOUBLE, 0, 1, 0.02, CFG_FIELD(det.sigma_rel_floor),
     "L1: a gauge's peer sigma is at least this share of its class median (and its unit floor)",
     NULL},
    {"detect_trend_rel_floor", CFG_T_DOUBLE, 0, 1, 0.05, CFG_FIELD(det.trend_rel_floor),
     "L1: a class trend's sigma is at least this share of the previous median", NULL},
    {"detect_warmup_blocks", CFG_T_INT, 1, 1000, 3, CFG_FIELD(det.warmup_blocks),
     "L1: detection blocks (5 min each) learnt before any test or trend can fire", NULL},
    {"detect_debounce_node_steps", CFG_T_INT, 0, 100000, 1, CFG_FIELD(det.debounce_node_steps),
     "L1: steps within which the same node or GPU alert (entity and metric) is not raised again",
     NULL},
    {"detect_debounce_group_steps", CFG_T_INT, 0, 100000, 4, CFG_FIELD(det.debounce_group_steps),
     "L1: steps within which the same job, rack or cluster alert is not raised again", NULL},
    {"detect_max_events_per_step", CFG_T_INT, 1, 1000, 5, CFG_FIELD(det.max_events_per_step),
     "L1: events kept per detection step, the most severe first (each is one L2 call)", NULL},
    {"detect_rack_min_nodes", CFG_T_INT, 1, 100000, 5, CFG_FIELD(det.rack_min_nodes),
     "L1: nodes of one rack flagged on a common metric that make one rack event", NULL},
    {"detect_job_min_nodes", CFG_T_INT, 1, 100000, 2, CFG_FIELD(det.job_min_nodes),
     "L1: nodes of one job flagged on a common metric that make one job event", NULL},
    /* escalation (pipeline/detect/aggregate.c) and the LLM schedule */
    {"escalate_groups", CFG_T_INT, 0, 1, 1, CFG_FIELD(det.escalate_groups),
     "1: every job, rack and cluster event goes to L3; 0: only by the signal rules", NULL},
    {"escalate_signal_scale", CFG_T_DOUBLE, 0.01, 100, 1, CFG_FIELD(det.escalate_signal_scale),
     "multiplies the absolute z an event's high-signal metric (NVLink replays, IB errors, ECC, KV "
     "cache hit ratio, expert entropy) needs to go to L3",
     NULL},
    {"escalate_any_z", CFG_T_DOUBLE, 0, 1000, 0, CFG_FIELD(det.escalate_any_z),
     "an event of any scope and metric whose absolute z exceeds this goes to L3; 0: rule off",
     NULL},
    {"l4_every_steps", CFG_T_INT, 1, 100000, 48, CFG_FIELD(det.l4_every_steps),
     "detection steps (5 min) between L4 shift summaries; one more ends the run", NULL},
    {"context_l4_incidents", CFG_T_INT, 0, 100000, 25, CFG_FIELD(det.l4_incidents),
     "escalated events listed in an L4 context (escalated_incidents: the window's first ones)",
     NULL},
    {"context_l4_events", CFG_T_INT, 0, 100000, 0, CFG_FIELD(det.l4_events),
     "events not escalated listed in an L4 context (other_events: the window's first ones); 0: "
     "no such list",
     NULL},
    {"context_l3_neighbours", CFG_T_INT, 0, 1000, 10, CFG_FIELD(det.l3_neighbours),
     "flagged rack neighbours and same-signal sightings listed in an L3 context (each)", NULL},
    {"background_ops", CFG_T_CHOICE, 0, 1, 1, CFG_FIELD(background_ops),
     "background operations of a healthy fleet (XIDs at public rates, driver resets, reboots "
     "with counter resets, scrape gaps as NaN, maintenance drains, per-node noise levels): "
     "on, or off for the fault-free model alone",
     cfg_onoff},
    {"bg_xid_scale", CFG_T_DOUBLE, 0, 1000, 1, CFG_FIELD(bg_xid_scale),
     "multiplier of the background XID rates per GPU-day (src/model/background.c cites them); "
     "0: none",
     NULL},
    {"bg_gpu_resets_per_day", CFG_T_DOUBLE, 0, 100, 0.002, CFG_FIELD(bg_gpu_resets_per_day),
     "benign GPU driver resets per GPU-day: 1-3 scrapes without samples, then the volatile "
     "counters restart from 0",
     NULL},
    {"bg_reboots_per_day", CFG_T_DOUBLE, 0, 100, 0.01, CFG_FIELD(bg_reboots_per_day),
     "node reboots per node-day: 20 scrapes without samples, then every counter restarts "
     "from 0 (remapped rows persist)",
     NULL},
    {"bg_gaps_per_day", CFG_T_DOUBLE, 0, 1000, 2, CFG_FIELD(bg_gaps_per_day),
     "scrape gaps per node-day: 1-3 scrapes whose gauges are NaN (counters and codes repeat "
     "their last value)",
     NULL},
    {"bg_drains_per_day", CFG_T_DOUBLE, 0, 100, 0.05, CFG_FIELD(bg_drains_per_day),
     "maintenance drains per idle-pool node-day: 1-6 h out of the spare capacity", NULL},
    {"bg_noise_spread", CFG_T_DOUBLE, 0, 1, 0.15, CFG_FIELD(bg_noise_spread),
     "spread (sd of the log) of each node's own noise level", NULL},
    /* operators' actions in a closed-loop run (src/model/mitigation.c) */
    {"action_restart_min", CFG_T_DOUBLE, 0, 1440, 10, CFG_FIELD(act.restart_min),
     "closed loop: minutes a training job restarted without a node (restart_job_without_node, "
     "or a job node drained or sent to RMA) spends relaunching and reading its checkpoint back",
     NULL},
    {"action_rma_hours", CFG_T_DOUBLE, 0.01, 8760, 4, CFG_FIELD(act.rma_hours),
     "closed loop: hours an rma_gpu node is out for repair before it returns with the GPU "
     "replaced",
     NULL},
    {"action_power_cap_share", CFG_T_DOUBLE, 0.3, 1, 0.8, CFG_FIELD(act.power_cap_share),
     "closed loop: power_cap_rack's GPU power limit as a share of the 700 W board TDP (a lower "
     "limit already in force stays)",
     NULL},
    {"action_cooling_c", CFG_T_DOUBLE, 0, 15, 4, CFG_FIELD(act.cooling_c),
     "closed loop: degrees C colder inlet air raise_cooling gives a rack (never more than this "
     "below nominal)",
     NULL},
    {"action_kv_capacity_scale", CFG_T_DOUBLE, 1, 16, 2, CFG_FIELD(act.kv_capacity_scale),
     "closed loop: raise_kv_capacity multiplies the KV-cache pool by this (the working set's "
     "excess over the pool is divided by it)",
     NULL},
    {"action_kv_throughput_cost", CFG_T_DOUBLE, 0, 0.9, 0.1, CFG_FIELD(act.kv_throughput_cost),
     "closed loop: share of a node's serving capacity raise_kv_capacity costs (fewer concurrent "
     "sequences: the same traffic loads it 1 / (1 - cost) times more, and it serves at most "
     "1 - cost of its full load)",
     NULL},
    {"action_rebalance_factor", CFG_T_DOUBLE, 1, 1000, 10, CFG_FIELD(act.rebalance_factor),
     "closed loop: rebalance_experts divides the MoE routing collapse by this", NULL},
    {"action_rebalance_min", CFG_T_DOUBLE, 0, 1440, 2, CFG_FIELD(act.rebalance_min),
     "closed loop: minutes rebalance_experts takes to re-place the experts before it acts",
     NULL},
    {"action_hold_hours", CFG_T_DOUBLE, 0.01, 8760, 2, CFG_FIELD(act.hold_hours),
     "closed loop: hours a power_cap_rack, raise_cooling, migrate_tenant, raise_kv_capacity or "
     "cap_context_length stays in force (the operator's usual hold; issuing it again while in "
     "force extends it)",
     NULL},
};
enum { CFG_NENTRIES = sizeof cfg_table / sizeof cfg_table[0] };

static const cfg_job cfg_default_jobs[] = {
    {"train-000", "llama-70b-pretrain", 64, 2.56},
    {"train-001", "mistral-22b-finetune", 32, 3.01},
    {"train-002", "internal-moe-140b-pretrain", 32, 3.25},
    {"train-003", "llama-70b-pretrain", 64, 2.38},
    {"train-004", "mistral-22b-finetune", 128, 2.70},
};

static void cfg_store(fs_config *cfg, const cfg_entry *e, double v) {
  char *p = (char *)cfg + e->offset;
  switch (e->type) {
  case CFG_T_INT:
  case CFG_T_CHOICE:
    *(int *)p = (int)v;
    break;
  case CFG_T_U64:
    *(uint64_t *)p = (uint64_t)v;
    break;
  case CFG_T_DOUBLE:
    *(double *)p = v;
    break;
  }
}

static double cfg_load(const fs_config *cfg, const cfg_entry *e) {
  const char *p = (const char *)cfg + e->offset;
  switch (e->type) {
  case CFG_T_INT:
  case CFG_T_CHOICE:
    return *(const int *)p;
  case CFG_T_U64:
    return (double)*(const uint64_t *)p;
  case CFG_T_DOUBLE:
    return *(const double *)p;
  }
  return 0;
}

static const cfg_entry *cfg_find(const char *name) {
  for (int i = 0; i < CFG_NENTRIES; i++)
    if (strcmp(cfg_table[i].name, name) == 0)
      return &cfg_table[i];
  return NULL;
}

void cfg_defaults(fs_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  for (int i = 0; i < CFG_NENTRIES; i++)
    cfg_store(cfg, &cfg_table[i], cfg_table[i].def);
  cfg->njobs = (int)(sizeof cfg_default_jobs / sizeof cfg_default_jobs[0]);
  memcpy(cfg->jobs, cfg_default_jobs, sizeof cfg_default_jobs);
}

/* Checks integrality and bounds of v for e; stores it or records why not. */
static int cfg_check_store(fs_config *cfg, const cfg_entry *e, double v,
                           const char *shown, const char *source) {
  if (e->type != CFG_T_DOUBLE && floor(v) != v) {
    diag_addf("%s: key '%s': value %s is not an integer", source, e->name, shown);
    return FS_ECONFIG;
  }
  if (!(v >= e->min && v <= e->max)) {
    diag_addf("%s: key '%s': value %s is out of range [%.17g, %.17g]", source,
              e->name, shown, e->min, e->max);
    return FS_ECONFIG;
  }
  cfg_store(cfg, e, v);
  return 0;
}

int cfg_parse_decimal(const char *text, double *out) {
  const char *p = text;
  p += *p == '+' || *p == '-';
  size_t digits = strspn(p, "0123456789");
  p += digits;
  if (*p == '.') {
    size_t frac = strspn(p + 1, "0123456789");
    digits += frac;
    p += 1 + frac;
  }
  if (digits == 0)
    return 0;
  if (*p == 'e' || *p == 'E') {
    const char *q = p + 1;
    q += *q == '+' || *q == '-';
    size_t exp = strspn(q, "0123456789");
    if (exp == 0)
      return 0;
    p = q + exp;
  }
  if (*p != '\0')
    return 0;
  errno = 0;
  double v = strtod(text, NULL);
  if (errno != 0 || !isfinite(v))
    return 0;
  *out = v;
  return 1;
}

const char *cfg_compression_name(int compression) {
  return compression >= 0 && compression <= CFG_COMPRESSION_DEFLATE ? cfg_compressions[compression]
                                                                    : "?";
}

/* "none, lz4 or deflate": the choices of e, for messages and --help. */
static void cfg_choice_list(const cfg_entry *e, const char *last_sep, char *out, size_t cap) {
  size_t n = 0;
  out[0] = '\0';
  for (int i = 0; e->choices[i] && n < cap; i++)
    n += (size_t)snprintf(out + n, cap - n, "%s%s",
                          i == 0              ? ""
                          : e->choices[i + 1] ? ", "
                                              : last_sep,
                          e->choices[i]);
}

/* Stores the choice named value, or records that it is none of them. */
static int cfg_set_choice(fs_config *cfg, const cfg_entry *e, const char *value,
                          const char *source) {
  for (int i = 0; e->choices[i]; i++)
    if (strcmp(e->choices[i], value) == 0) {
      cfg_store(cfg, e, i);
      return 0;
    }
  char valid[128];
  cfg_choice_list(e, " or ", valid, sizeof valid);
  diag_addf("%s: key '%s': value '%.80s' is not %s", source, e->name, value, valid);
  return FS_ECONFIG;
}

int cfg_set(fs_config *cfg, const char *key, const char *value, const char *source) {
  const cfg_entry *e = cfg_find(key);
  if (!e) {
    diag_addf("%s: unknown key '%s' (see 'fleetsim --help' for the settings)", source, key);
    return FS_ECONFIG;
  }
  if (e->type == CFG_T_CHOICE)
    return cfg_set_choice(cfg, e, value, source);
  double v;
  if (!cfg_parse_decimal(value, &v)) {
    diag_addf("%s: key '%s': value '%s' is not a number", source, key, value);
    return FS_ECONFIG;
  }
  return cfg_check_store(cfg, e, v, value, source);
}

/* 1 when text[0..n) is printable ASCII (no control characters, no NUL). */
static int cfg_printable(const char *text, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (text[i] < 0x20 || text[i] > 0x7e)
      return 0;
  return 1;
}

static int cfg_apply_jobs(fs_config *cfg, json_t *arr, const char *source) {
  if (!json_is_array(arr)) {
    diag_addf("%s: key 'jobs': expected an array of job objects", source);
    return FS_ECONFIG;
  }
  if (json_array_size(arr) > CFG_MAX_JOBS) {
    diag_addf("%s: key 'jobs': %zu jobs, at most %d are supported", source,
              json_array_size(arr), CFG_MAX_JOBS);
    return FS_ECONFIG;
  }
  int rc = 0;
  size_t i;
  json_t *job;
  cfg->njobs = 0;
  json_array_foreach(arr, i, job) {
    cfg_job *j = &cfg->jobs[cfg->njobs++];
    memset(j, 0, sizeof *j);
    snprintf(j->id, sizeof j->id, "train-%03d", (int)(i % 1000));
    if (!json_is_object(job)) {
      diag_addf("%s: jobs[%zu]: expected an object", source, i);
      rc = FS_ECONFIG;
      continue;
    }
    const char *k;
    json_t *v;
    int seen_model = 0, seen_nodes = 0, seen_step = 0;
    json_object_foreach(job, k, v) {
      char *shown = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_ENSURE_ASCII);
      const char *sv = shown ? shown : "(unprintable)";
      if (strcmp(k, "id") == 0 || strcmp(k, "model") == 0) {
        int is_id = strcmp(k, "id") == 0;
        char *dst = is_id ? j->id : j->model;
        size_t cap = is_id ? sizeof j->id : sizeof j->model;
        seen_model |= !is_id;
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) >= cap) {
          diag_addf("%s: jobs[%zu]: key '%s': value %.80s is not a string of 1..%zu characters",
                    source, i, k, sv, cap - 1);
          rc = FS_ECONFIG;
        } else if (is_id && !path_is_id(json_string_value(v))) {
          /* job ids name the job in file names, regexes and terminals */
          diag_addf("%s: jobs[%zu]: key 'id': value %.80s is not a valid id (%s)", source, i,
                    sv, PATH_ID_RULE);
          rc = FS_ECONFIG;
        } else if (!is_id && !cfg_printable(json_string_value(v), json_string_length(v))) {
          diag_addf("%s: jobs[%zu]: key 'model': value %.80s has characters other than "
                    "printable ASCII",
                    source, i, sv);
          rc = FS_ECONFIG;
        } else {
          snprintf(dst, cap, "%s", json_string_value(v));
        }
      } else if (strcmp(k, "nodes") == 0) {
        seen_nodes = 1;
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > 1000000) {
          diag_addf("%s: jobs[%zu]: key 'nodes': value %s is not an integer in [1, 1000000]",
                    source, i, sv);
          rc = FS_ECONFIG;
        } else {
          j->nodes = (int)json_integer_value(v);
        }
      } else if (strcmp(k, "step_time_s") == 0) {
        seen_step = 1;
        if (!json_is_number(v) || !(json_number_value(v) > 0) ||
            json_number_value(v) > 3600) {
          diag_addf("%s: jobs[%zu]: key 'step_time_s': value %s is not a number in (0, 3600]",
                    source, i, sv);
          rc = FS_ECONFIG;
        } else {
          j->step_time_s = json_number_value(v);
        }
      } else {
        diag_addf("%s: jobs[%zu]: unknown key '%s' (expected id, model, nodes, step_time_s)",
                  source, i, k);
        rc = FS_ECONFIG;
      }
      free(shown);
    }
    if (!seen_model || !seen_nodes || !seen_step) {
      diag_addf("%s: jobs[%zu]: missing key '%s' ('model', 'nodes' and 'step_time_s' are "
                "required)",
                source, i, !seen_model ? "model" : (!seen_nodes ? "nodes" : "step_time_s"));
      rc = FS_ECONFIG;
    }
  }
  return rc;
}

int cfg_apply_json(fs_config *cfg, const char *text, const char *source) {
  json_error_t jerr;
  json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
  if (!root) {
    diag_addf("%s: line %d, column %d: malformed JSON: %s", source, jerr.line,
              jerr.column, jerr.text);
    return FS_ECONFIG;
  }
  int rc = 0;
  if (!json_is_object(root)) {
    diag_addf("%s: expected a JSON object of settings at the top level", source);
    json_decref(root);
    return FS_ECONFIG;
  }
  const char *key;
  json_t *val;
  json_object_foreach(root, key, val) {
    if (strcmp(key, "jobs") == 0) {
      if (cfg_apply_jobs(cfg, val, source))
        rc = FS_ECONFIG;
      continue;
    }
    const cfg_entry *e = cfg_find(key);
    if (!e) {
      diag_addf("%s: unknown key '%s' (see 'fleetsim --help' for the settings)", source, key);
      rc = FS_ECONFIG;
      continue;
    }
    if (e->type == CFG_T_CHOICE) {
      if (json_is_string(val) && strlen(json_string_value(val)) == json_string_length(val)) {
        if (cfg_set_choice(cfg, e, json_string_value(val), source))
          rc = FS_ECONFIG;
      } else {
        char *shown = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);
        char valid[128];
        cfg_choice_list(e, " or ", valid, sizeof valid);
        diag_addf("%s: key '%s': expected a string (%s), got %.80s", source, key, valid,
                  shown ? shown : "(unprintable)");
        free(shown);
        rc = FS_ECONFIG;
      }
      continue;
    }
    if (!json_is_number(val) || (e->type != CFG_T_DOUBLE && !json_is_integer(val))) {
      char *shown = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);
      diag_addf("%s: key '%s': expected %s, got %s", source, key,
                e->type == CFG_T_DOUBLE ? "a number" : "an integer",
                shown ? shown : "(unprintable)");
      free(shown);
      rc = FS_ECONFIG;
      continue;
    }
    char shown[64];
    if (json_is_integer(val))
      snprintf(shown, sizeof shown, "%" JSON_INTEGER_FORMAT, json_integer_value(val));
    else
      snprintf(shown, sizeof shown, "%.17g", json_real_value(val));
    if (cfg_check_store(cfg, e, json_number_value(val), shown, source))
      rc = FS_ECONFIG;
  }
  json_decref(root);
  return rc;
}

int64_t cfg_scrapes(const fs_config *cfg) {
  return (int64_t)floor(cfg->hours * 3600.0 / cfg->scrape_interval_s + 1e-9);
}

int cfg_validate(const fs_config *cfg) {
  int before = diag_count();
  if (cfg->racks > cfg->nodes)
    diag_addf("config: key 'racks': %d racks for %d nodes; every rack needs a node",
              cfg->racks, cfg->nodes);
  else if (cfg->nodes % cfg->racks != 0)
    diag_addf("config: key 'nodes': %d nodes do not split evenly over %d racks",
              cfg->nodes, cfg->racks);
  long tenants = (long)cfg->moe_nodes + cfg->dense_nodes + cfg->training_nodes;
  if (tenants != cfg->nodes)
    diag_addf("config: tenants: moe_nodes %d + dense_nodes %d + training_nodes %d = %ld, "
              "but nodes is %d",
              cfg->moe_nodes, cfg->dense_nodes, cfg->training_nodes, tenants, cfg->nodes);
  long job_nodes = 0;
  for (int i = 0; i < cfg->njobs; i++) {
    job_nodes += cfg->jobs[i].nodes;
    for (int k = 0; k < i; k++)
      if (strcmp(cfg->jobs[i].id, cfg->jobs[k].id) == 0)
        diag_addf("config: jobs[%d]: key 'id': '%s' is used twice", i, cfg->jobs[i].id);
  }
  if (job_nodes > cfg->training_nodes)
    diag_addf("config: jobs: the %d jobs need %ld nodes, but training_nodes is %d",
              cfg->njobs, job_nodes, cfg->training_nodes);
  if (cfg->window_scrapes % 20 != 0)
    diag_addf("config: key 'window_scrapes': %d is not a multiple of the 20-scrape detection "
              "block",
              cfg->window_scrapes);
  /* L1 detects per block of 20 scrapes: a shorter run would detect nothing
   * and have no span for a shift summary */
  if (cfg_scrapes(cfg) < 20)
    diag_addf("config: key 'hours': %g h gives %lld scrapes of %d s, but a run needs at least "
              "one 20-scrape detection block: hours >= %.4g",
              cfg->hours, (long long)cfg_scrapes(cfg), cfg->scrape_interval_s,
              ceil(20.0 * cfg->scrape_interval_s / 3600.0 * 1e4) / 1e4);
  return diag_count() > before ? FS_ECONFIG : 0;
}

char *cfg_to_json(const fs_config *cfg) {
  json_t *root = json_object();
  json_t *jobs = json_array();
  if (!root || !jobs)
    goto err;
  for (int i = 0; i < CFG_NENTRIES; i++) {
    const cfg_entry *e = &cfg_table[i];
    double v = cfg_load(cfg, e);
    json_t *jv = e->type == CFG_T_CHOICE   ? json_string(e->choices[(int)v])
                 : e->type == CFG_T_DOUBLE ? json_real(v)
                                           : json_integer((json_int_t)v);
    if (!jv || json_object_set_new(root, e->name, jv))
      goto err;
  }
  for (int i = 0; i < cfg->njobs; i++) {
    const cfg_job *j = &cfg->jobs[i];
    json_t *o = json_pack("{s:s,s:s,s:i,s:f}", "id", j->id, "model", j->model,
                          "nodes", j->nodes, "step_time_s", j->step_time_s);
    if (!o || json_array_append_new(jobs, o))
      goto err;
  }
  if (json_object_set_new(root, "jobs", jobs))
    goto err_root;
  char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(root);
  return s;
err:
  json_decref(jobs);
err_root:
  json_decref(root);
  return NULL;
}

void cfg_print_table(FILE *out) {
  for (int i = 0; i < CFG_NENTRIES; i++) {
    const cfg_entry *e = &cfg_table[i];
    if (e->type == CFG_T_CHOICE) {
      char valid[128];
      cfg_choice_list(e, ", ", valid, sizeof valid);
      fprintf(out, "  %-22s %-7s default %-6s {%s}\n      %s\n", e->name, "choice",
              e->choices[(int)e->def], valid, e->help);
      continue;
    }
    const char *t = e->type == CFG_T_DOUBLE ? "number" : "integer";
    fprintf(out, "  %-22s %-7s default %-6.15g [%.15g, %.15g]\n      %s\n", e->name, t,
            e->def, e->min, e->max, e->help);
  }
  fprintf(out, "  %-22s %-7s default: the benchmark's five jobs (train-000..train-004)\n"
               "      array of {\"id\",\"model\",\"nodes\",\"step_time_s\"}; JSON file only\n",
          "jobs", "array");
}

void cfg_print_markdown(FILE *out) {
  fprintf(out, "| key | type | default | range | meaning |\n|---|---|---|---|---|\n");
  for (int i = 0; i < CFG_NENTRIES; i++) {
    const cfg_entry *e = &cfg_table[i];
    if (e->type == CFG_T_CHOICE) {
      char valid[128];
      cfg_choice_list(e, ", ", valid, sizeof valid);
      fprintf(out, "| `%s` | choice | %s | %s | %s |\n", e->name, e->choices[(int)e->def], valid,
              e->help);
      continue;
    }
    fprintf(out, "| `%s` | %s | %.15g | [%.15g, %.15g] | %s |\n", e->name,
            e->type == CFG_T_DOUBLE ? "number" : "integer", e->def, e->min, e->max, e->help);
  }
  fprintf(out, "| `jobs` | array | the benchmark's five jobs (train-000..train-004) | | array of "
               "`{\"id\",\"model\",\"nodes\",\"step_time_s\"}`; JSON file only |\n");
}

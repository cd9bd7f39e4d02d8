/* Failure scenarios: the scenario file (docs/design.md section 5) parsed and
 * validated into resolved scenarios (targets chosen, magnitudes filled in).
 * This is ground truth: only the scorer (pipeline/score) and the application
 * (src/app) may include it; the injectors are in scenarios/inject.h. */
#ifndef FLEETSIM_SCENARIO_H
#define FLEETSIM_SCENARIO_H
#include <stdint.h>

#include "src/model/fleet.h"

/* X(ENUM, "kind") */
#define SCN_KINDS(X)                                 \
  X(SK_THERMAL_CASCADE, "thermal_cascade")           \
  X(SK_ROUTING_COLLAPSE, "expert_routing_collapse")  \
  X(SK_HBM_DEGRADATION, "hbm_degradation")           \
  X(SK_FABRIC_MICROBURST, "fabric_microburst")       \
  X(SK_KV_EVICTION_STORM, "kv_cache_eviction_storm") \
  X(SK_TRAINING_STRAGGLER, "training_straggler")

#define SCN_KIND_ENUM(e, s) e,
typedef enum { SCN_KINDS(SCN_KIND_ENUM) SK_COUNT } scn_kind;
#undef SCN_KIND_ENUM

enum { SCN_ID_LEN = 33 /* PATH_ID_MAX + 1 */, SCN_MAX_RACKS = 16, SCN_MAX_PARAMS = 12 };

/* One resolved scenario. */
typedef struct {
  char id[SCN_ID_LEN];          /* [A-Za-z0-9_-]{1,32} (path_is_id) */
  scn_kind kind;
  double start_h, duration_min;
  int64_t t_start, t_end;       /* scrapes [t_start, t_end) */
  int racks[SCN_MAX_RACKS];     /* thermal_cascade, fabric_microburst */
  int nracks;
  int job, job_node;            /* training_straggler: job index, index in job */
  int lot;                      /* hbm_degradation: silicon lot */
  uint8_t gpu_mask;             /* expert_routing_collapse: hot GPUs */
  /* magnitudes by name, with the values actually used */
  int nparams;
  const char *param_name[SCN_MAX_PARAMS];
  double param[SCN_MAX_PARAMS];
  /* ground truth */
  int32_t *nodes;    /* root-cause nodes, ascending */
  int nnodes;
  int32_t *impacted; /* every node that feels it, ascending */
  int nimpacted;
  int32_t *gpus;     /* node*8+gpu where GPU-scoped, ascending */
  int ngpus;
  float *node_weight; /* [nnodes] per-node magnitude factor (e.g. inlet rise) */
} scn_def;

typedef struct {
  int n;
  scn_def *s;
} scn_set;

/* Name of a kind ("thermal_cascade"). */
const char *scn_kind_name(scn_kind k);

/* Parses and validates scenario-file text against fleet f and the run length.
 * source names the file in messages. Every problem is added to diag, naming
 * the file, the scenario id and the key; returns 0, FS_ESCENARIO or FS_ENOMEM.
 * Missing targets are chosen deterministically from the config's seed. */
int scn_parse(scn_set **out, const char *text, const char *source, const fleet *f);

/* Frees a set; accepts NULL and clears the pointer. */
void scn_destroy(scn_set **set);

/* The built-in default scenario file (scenarios/default.json, embedded). */
const char *scn_default_text(void);

/* For the built-in default file only: *out gets scenario-file text without
 * the scenarios that do not start inside a run of `hours` (start_h >= hours),
 * the input unchanged when all do; *notices gets one line for each left out,
 * "fleetsim: S2 at 14:00 is outside a 1 h run: left out\n", or NULL.
 * Entries it cannot read are kept for scn_parse to report. Both malloc'd.
 * Returns 0, FS_ESCENARIO (not a scenario file) or FS_ENOMEM. */
int scn_fit_run(const char *text, double hours, char **out, char **notices);

/* Value of a named magnitude of s (as used), or NAN if it has none. */
double scn_param(const scn_def *s, const char *name);

/* Position of the first element >= x in v[0..n), which is ascending (as
 * a scenario's nodes, impacted and gpus are); n when there is none. */
int scn_lower_bound(const int32_t *v, int n, int32_t x);

/* Parameters of one scenario as a JSON object text (caller frees), for the
 * ground truth in the archive. NULL on allocation failure. */
char *scn_params_json(const scn_def *s);

/* Writes a random but valid scenario file with n scenarios for fleet f (its
 * config's hours and topology) to text (caller frees); seed picks
 * everything. Returns 0 or FS_ENOMEM. */
int scn_random(char **text, int n, uint64_t seed, const fleet *f);

#endif

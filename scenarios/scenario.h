/* Failure scenarios: the scenario file (docs/design.md section 5) parsed and
 * validated into resolved scenarios (targets chosen, magnitudes filled in).
 * This is ground truth: only the scorer (pipeline/score) and the application
 * (src/app) may include it; the injectors are in scenarios/inject.h. */
#ifndef FLEETSIM_SCENARIO_H
#define FLEETSIM_SCENARIO_H
#include <stdint.h>

#include "src/model/fleet.h"

/* The fault kinds, numbered in the order of scenarios/kinds/kinds.def
 * (SK_thermal_cascade, ...); each is one ops table (scenarios/kinds/kind.h). */
#define SCN_KIND(name) SK_##name,
typedef enum {
#include "scenarios/kinds/kinds.def"
  SK_COUNT
} scn_kind;
#undef SCN_KIND

enum { SCN_ID_LEN = 33 /* PATH_ID_MAX + 1 */, SCN_MAX_RACKS = 16, SCN_MAX_PARAMS = 12 };

/* One resolved scenario. */
typedef struct {
  char id[SCN_ID_LEN];          /* [A-Za-z0-9_-]{1,32} (path_is_id) */
  scn_kind kind;
  double start_h, duration_min;
  int64_t t_start, t_end;       /* scrapes [t_start, t_end) */
  /* targets, where the kind has them (see scenarios/kinds/kind.h) */
  int racks[SCN_MAX_RACKS];     /* a "racks" target */
  int nracks;
  int job, job_node;            /* a "job" target: job index (-1: none), index in the job */
  int lot;                      /* silicon lot (hbm_degradation) */
  uint8_t gpu_mask;             /* a "hot_gpus" target: bit per GPU */
  /* magnitudes as used, indexed like the kind's table (scenarios/kinds/kind.h) */
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

/* Name of a kind ("thermal_cascade"; "unknown" out of range). */
const char *scn_kind_name(scn_kind k);

/* The kind named name, or SK_COUNT when there is none. */
scn_kind scn_kind_by_name(const char *name);

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

/* Position of the first element >= x in v[0..n), which is ascending (as
 * a scenario's nodes, impacted and gpus are); n when there is none. */
int scn_lower_bound(const int32_t *v, int n, int32_t x);

/* Parameters of one scenario as a JSON object text (caller frees), for the
 * ground truth in the archive. NULL on allocation failure. */
char *scn_params_json(const scn_def *s);

/* Every kind's scenario-file keys as Markdown (caller frees): one table per
 * kind with sel[k] set (NULL: every kind), its targets, then its magnitudes
 * with default, bounds, units and what they set, from the kinds' own
 * tables. NULL on allocation failure. */
char *scn_kinds_markdown(const unsigned char *sel);

/* Writes a random but valid scenario file with n scenarios for fleet f (its
 * config's hours and topology) to text (caller frees); seed picks
 * everything. Kinds are drawn from those with kinds[k] set (NULL: every
 * kind) that the fleet can host, each once (in a rotation the seed picks)
 * before kinds repeat; with probability overlap (0..1) a scenario co-occurs
 * with the one before it (same time window, same racks where both kinds
 * take racks). With overlap 0 and the same kinds it draws what the
 * generator drew before these options existed. Returns 0, FS_EINVAL (no kind left to draw: the reason in
 * diag) or FS_ENOMEM. */
int scn_random(char **text, int n, uint64_t seed, const fleet *f, const unsigned char *kinds,
               double overlap);

/* Fills sel[SK_COUNT] from a comma list of kind names: include (NULL or
 * "": every kind) less exclude (NULL or "": none). An unknown name or an
 * empty selection is reported to diag naming the option (include_opt,
 * exclude_opt), the name and the valid kinds; returns 0 or FS_EUSAGE. */
int scn_kinds_select(const char *include, const char *exclude, const char *include_opt,
                     const char *exclude_opt, unsigned char sel[]);

#endif

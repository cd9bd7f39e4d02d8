/* What a fault kind is: one ops table per kind (scenarios/kinds/<kind>.c),
 * read by the kind-agnostic parser, resolver, injector and random generator
 * of scenarios/. A kind declares its magnitudes (typed, with bounds, units
 * and help), its target keys, its named random streams and the functions that
 * resolve targets, set tel_drivers causes and draw a random scenario. Only
 * scenarios/ includes this header; the registry is scenarios/kinds/kinds.def. */
#ifndef FLEETSIM_KIND_H
#define FLEETSIM_KIND_H
#include <jansson.h>
#include <stdint.h>

#include "scenarios/scenario.h"
#include "src/core/rng.h"
#include "src/model/fleet.h"
#include "src/model/telemetry.h"

/* Streams the generic code owns; a kind's own streams must differ from these
 * and from every other kind's (tests/unit_scenario_kinds.c checks), inside
 * [RNG_STREAM_SCENARIO, RNG_STREAM_DETECTION). */
enum {
  SCN_STREAM_TARGETS = RNG_STREAM_SCENARIO,     /* targets, keyed by scenario index */
  SCN_STREAM_RANDOM = RNG_STREAM_SCENARIO + 20, /* scn_random, keyed by draw index */
  SCN_STREAM_END = RNG_STREAM_DETECTION,        /* first stream past the range */
};

/* One numeric magnitude of a kind: a scenario-file key whose value the parser
 * checks against [min, max] (whole numbers only when integer) and stores in
 * scn_def.param[i], i its index in the kind's table; the table's default
 * when the file leaves it out. */
typedef struct {
  const char *name; /* scenario-file key, e.g. "ramp_min" */
  double def, min, max;
  int integer;       /* 1: whole numbers only */
  const char *units; /* "min", "C", "" for a plain ratio or count */
  const char *help;  /* one line: what it sets */
} scn_magnitude;

/* Target keys other than magnitudes, parsed by the generic code into the
 * ground-truth fields of scn_def. */
typedef enum {
  SCN_TARGET_RACKS,    /* "racks": [r, ...] -> racks, nracks */
  SCN_TARGET_HOT_GPUS, /* "hot_gpus": [g, ...] (GPU indexes 0..7) -> gpu_mask */
  SCN_TARGET_JOB,      /* "job": "train-001" -> job (index of the config's job) */
} scn_target_type;

typedef struct {
  const char *key;
  scn_target_type type;
  const char *help; /* one line: what it picks, and the default */
} scn_target;

/* A named random stream of a kind: rng_key(seed, stream, entity). */
typedef struct {
  const char *name;
  uint32_t stream;
} scn_stream;

/* A growable list of node or GPU ids; scn_list_finish sorts it and drops
 * duplicates. */
typedef struct {
  int32_t *v;
  int n, cap;
} scn_list;

/* Where one active scenario stands at scrape t. */
typedef struct {
  const fleet *f;
  int64_t t;          /* the scrape */
  double elapsed_min; /* since the scenario started */
  double progress;    /* (t - t_start) / (t_end - t_start), in [0, 1) */
} scn_now;

typedef struct {
  const scn_magnitude *magnitudes; /* [nmagnitudes], at most SCN_MAX_PARAMS */
  int nmagnitudes;
  const scn_target *targets; /* [ntargets] */
  int ntargets;
  const scn_stream *streams; /* [nstreams] the kind's own streams */
  int nstreams;
  /* NULL when fleet f can host the kind, else why not, completing
   * "kind 'K' ...", e.g. "needs MoE nodes, and the fleet has none". */
  const char *(*missing)(const fleet *f);
  /* Chooses the targets the file left out (deterministic from key, the
   * scenario's SCN_STREAM_TARGETS key), checks them against the fleet and
   * adds the root-cause nodes (and GPUs, node*8+gpu, where GPU-scoped).
   * Problems go to diag as "SOURCE: scenario 'ID': key 'K': ..." and return
   * FS_ESCENARIO; else 0 or FS_ENOMEM. */
  int (*resolve)(scn_def *s, const fleet *f, const char *source, uint64_t key, scn_list *nodes,
                 scn_list *gpus);
  /* 1: every node of a job that has a root-cause node is impacted too. */
  int impacts_job_peers;
  /* The per-node magnitude factor of root-cause node `node` (scn_def's
   * node_weight); NULL: 1 for every node. */
  double (*node_weight)(const scn_def *s, uint64_t key, int node);
  /* Sets the causes of s on s->nodes[k0..k1), all local: node n's drivers
   * are d[n - node0]. Called once per active scenario and scrape: no
   * allocation, no I/O, no string lookup. NULL: the kind sets no node's
   * causes (only drive_jobs). */
  void (*inject)(const scn_def *s, const scn_now *now, int k0, int k1, int node0, tel_drivers *d);
  /* Optional (NULL: none): sets the job-level causes of s, jd[j] for job j
   * of the fleet (tel_job_drivers). Called once per active scenario and
   * scrape on every rank, whatever nodes are local: a pure function of the
   * scenario and the scrape. */
  void (*drive_jobs)(const scn_def *s, const scn_now *now, tel_job_drivers *jd);
  /* `fleetsim scenarios --random`: durations drawn in [lo, hi] minutes, and
   * the kind's targets and magnitudes added to o (drawn from key with
   * counters >= 10; some may be left to the simulator). 0, or nonzero when a
   * JSON call failed. */
  double random_min_lo, random_min_hi;
  int (*random)(json_t *o, uint64_t key, const fleet *f);
} scn_kind_ops;

/* Each kind's table, scn_kind_<name>, defined in scenarios/kinds/<name>.c. */
#define SCN_KIND(name) extern const scn_kind_ops scn_kind_##name;
#include "scenarios/kinds/kinds.def"
#undef SCN_KIND

/* The ops of kind k (0 <= k < SK_COUNT; scenarios/registry.c). */
const scn_kind_ops *scn_kind_ops_of(scn_kind k);

/* Appends x; 0 or FS_ENOMEM. */
int scn_list_add(scn_list *l, int32_t x);

/* Sorts l ascending and removes duplicates. */
void scn_list_finish(scn_list *l);

/* Sets s->racks to two adjacent racks (in one row when the row has two; one
 * rack when the fleet has one) chosen with counters 1 and 2 of key. */
void scn_pick_racks(scn_def *s, const fleet *f, uint64_t key);

/* Adds the nodes of tenant kept with probability fraction (counter = node
 * id of key; at least the tenant's first node). 0 or FS_ENOMEM. */
int scn_pick_tenant_nodes(const fleet *f, int tenant, double fraction, uint64_t key, scn_list *out);

/* The smoothstep onset of a ramp: 0 at the start, 1 from ramp_min minutes
 * on (1 at once when ramp_min <= 0). */
float scn_ramp(double elapsed_min, double ramp_min);

/* One failing GPU, on a job node (magnitude s->param[job_node] and the
 * "job" target, scn_pick_job_node) or, when s->param[inference_node] >= 0,
 * on that inference node (s->job then -1): adds the node and the GPU
 * (s->param[gpu], scn_pick_gpu) and sets s->gpu_mask. 0, FS_ESCENARIO
 * (problem in diag) or FS_ENOMEM. */
int scn_pick_node_gpu(scn_def *s, const fleet *f, const char *source, uint64_t key, int job_node,
                      int inference_node, int gpu, scn_list *nodes, scn_list *gpus);

/* For --random, the place of a scn_pick_node_gpu kind: one time in three
 * (always when the fleet has no job) "inference_node", else "job" (counters
 * 10 to 12 of key). 0, or nonzero when a JSON call failed. */
int scn_random_node_target(json_t *o, uint64_t key, const fleet *f);

/* Resolves a "job" target and magnitude s->param[job_node] (-1: from the
 * seed) into s->job, s->job_node and the node, which it returns; the job
 * when the file gives none is train-001, else one from key. A job_node out
 * of range goes to diag and returns -1. The fleet must have a job. */
int scn_pick_job_node(scn_def *s, const fleet *f, const char *source, uint64_t key, int job_node);

/* As scn_pick_job_node, but the job when the file gives none is drawn with
 * counter ctr of key (any job, train-001 not preferred), and the node with
 * counter ctr + 1. */
int scn_pick_seeded_job_node(scn_def *s, const fleet *f, const char *source, uint64_t key,
                             int job_node, uint64_t ctr);

/* GPU index s->param[gpu] of a kind (-1: 0..7 from counter 9 of key,
 * stored back). */
int scn_pick_gpu(scn_def *s, uint64_t key, int gpu);

/* A job that lost a rank `crash_min` minutes into its scenario: it hangs in
 * its collectives for hang_min (until a watchdog or the launcher notices),
 * then relaunches and reads back its last checkpoint for restart_min, and
 * loses the steps since that checkpoint. Adds the seconds of each phase
 * inside scrape `now` to jd; returns 1 from the scrape the restart is over
 * on, else 0. */
int scn_job_restart(const scn_now *now, double crash_min, double hang_min, double restart_min,
                    tel_job_drivers *jd);

/* 1 when the job's restart (scn_job_restart) starts inside scrape now:
 * the failed GPU is reset then. */
int scn_job_restart_starts(const scn_now *now, double crash_min, double hang_min);

/* Key of stream st of the kind for one entity (a node, a rack ...). */
uint64_t scn_stream_key(const fleet *f, const scn_stream *st, uint64_t entity);

/* A uniform draw in [lo, hi) from counter ctr of key (the random generator's). */
double scn_random_between(uint64_t key, uint64_t ctr, double lo, double hi);

#endif

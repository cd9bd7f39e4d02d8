/* training_straggler: one node of a training job keeps replaying NVLink
 * transfers (CRC errors, made worse by a warmer baseboard). The injector
 * sets the replays and the board temperature rise on that node; the
 * telemetry model makes the whole job wait for it at every all-reduce. */

#include "scenarios/kinds/kind.h"
#include "src/core/diag.h"
#include "src/core/errors.h"

enum { TS_JOB_NODE, TS_REPLAYS_MIN, TS_REPLAYS_MAX, TS_BOARD_DELTA_C, TS_COUNT };

static const scn_magnitude ts_magnitudes[TS_COUNT] = {
    [TS_JOB_NODE] = {"job_node", -1, -1, 1000000, 1, "",
                     "the straggler's position in the job; -1: chosen from the seed"},
    [TS_REPLAYS_MIN] = {"replays_min", 80, 4, 100000, 0, "replays/scrape",
                        "extra NVLink replays per scrape, lower bound (uniform draw)"},
    [TS_REPLAYS_MAX] = {"replays_max", 200, 4, 100000, 0, "replays/scrape",
                        "extra NVLink replays per scrape, upper bound"},
    [TS_BOARD_DELTA_C] = {"board_delta_c", 3, 0, 20, 0, "C",
                          "rise of every GPU's junction temperature on the node"},
};

static const scn_target ts_targets[] = {
    {"job", SCN_TARGET_JOB,
     "the training job the straggler slows (default: train-001, else from the seed)"}};

enum { TS_STREAM_REPLAYS };
static const scn_stream ts_streams[] = {
    [TS_STREAM_REPLAYS] = {"replays", RNG_STREAM_SCENARIO + 7}, /* per node, counter: scrape */
};

static const char *ts_missing(const fleet *f) {
  return f->njobs == 0 ? "needs a training job, and the config has none" : NULL;
}

static int ts_resolve(scn_def *s, const fleet *f, const char *source, uint64_t key, scn_list *nodes,
                      scn_list *gpus) {
  const int node = scn_pick_job_node(s, f, source, key, TS_JOB_NODE);
  if (node < 0)
    return FS_ESCENARIO;
  if (s->param[TS_REPLAYS_MAX] < s->param[TS_REPLAYS_MIN]) {
    diag_addf("%s: scenario '%s': key 'replays_max': %g is below replays_min %g", source, s->id,
              s->param[TS_REPLAYS_MAX], s->param[TS_REPLAYS_MIN]);
    return FS_ESCENARIO;
  }
  int rc = scn_list_add(nodes, node);
  for (int g = 0; g < FLEET_GPUS && rc == 0; g++)
    rc = scn_list_add(gpus, node * FLEET_GPUS + g);
  return rc;
}

static void ts_inject(const scn_def *s, const scn_now *now, int k0, int k1, int node0,
                      tel_drivers *d) {
  const double lo = s->param[TS_REPLAYS_MIN], hi = s->param[TS_REPLAYS_MAX];
  for (int k = k0; k < k1; k++) {
    const int n = s->nodes[k];
    tel_drivers *x = &d[n - node0];
    uint64_t nkey = scn_stream_key(now->f, &ts_streams[TS_STREAM_REPLAYS], (uint64_t)n);
    double u = rng_uniform(rng_bits(nkey, (uint64_t)now->t));
    x->nvlink_replays += (float)(lo + (hi - lo) * u);
    x->nvlink_gpu_mask = 0xff;
    x->board_delta_c += (float)s->param[TS_BOARD_DELTA_C];
  }
}

static int ts_random(json_t *o, uint64_t key, const fleet *f) {
  int bad = 0;
  if (rng_bits(key, 10) % 2 == 0) {
    int j = (int)(rng_bits(key, 15) % (uint64_t)f->njobs);
    int size = f->cfg->jobs[j].nodes;
    bad |= json_object_set_new(o, "job", json_string(f->cfg->jobs[j].id));
    bad |= json_object_set_new(o, "job_node",
                               json_integer((json_int_t)(rng_bits(key, 16) % (uint64_t)size)));
  }
  return bad;
}

const scn_kind_ops scn_kind_training_straggler = {
    .magnitudes = ts_magnitudes,
    .nmagnitudes = TS_COUNT,
    .targets = ts_targets,
    .ntargets = 1,
    .streams = ts_streams,
    .nstreams = 1,
    .missing = ts_missing,
    .resolve = ts_resolve,
    .impacts_job_peers = 1,
    .inject = ts_inject,
    .random_min_lo = 60,
    .random_min_hi = 150,
    .random = ts_random,
};

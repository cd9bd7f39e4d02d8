/* thermal_cascade: a row's air handler (CRAH) stops cooling two adjacent
 * racks; recirculated hot air reaches their top slots first, so the inlet
 * air of those nodes rises (smoothstep onset, then a slow creep). The
 * telemetry model turns the inlet rise into junction temperature, throttling
 * and slower steps. Causes only: nothing here writes a metric. */
#include "scenarios/kinds/kind.h"
#include "src/core/diag.h"
#include "src/core/errors.h"

enum { TC_NODES_PER_RACK, TC_INLET_RISE_C, TC_INLET_SPREAD_C, TC_RAMP_MIN, TC_CREEP, TC_COUNT };

static const scn_magnitude tc_magnitudes[TC_COUNT] = {
    [TC_NODES_PER_RACK] = {"nodes_per_rack", 10, 1, 100000, 1, "nodes",
                           "top slots of each rack that the hot air reaches"},
    [TC_INLET_RISE_C] = {"inlet_rise_c", 10, 0.5, 40, 0, "C",
                         "inlet air rise at full onset, the nodes' mean"},
    [TC_INLET_SPREAD_C] = {"inlet_spread_c", 2, 0, 20, 0, "C",
                           "each node's rise is inlet_rise_c plus or minus up to this"},
    [TC_RAMP_MIN] = {"ramp_min", 8, 0, 600, 0, "min", "onset time (smoothstep)"},
    [TC_CREEP] = {"creep_c_per_min", 0.1, 0, 5, 0, "C/min",
                  "further inlet rise per minute after the onset"},
};

static const scn_target tc_targets[] = {
    {"racks", SCN_TARGET_RACKS,
     "racks whose air handler fails (default: two adjacent, from the seed)"}};

static int tc_resolve(scn_def *s, const fleet *f, const char *source, uint64_t key, scn_list *nodes,
                      scn_list *gpus) {
  (void)gpus;
  if (s->nracks == 0)
    scn_pick_racks(s, f, key);
  int per_rack = (int)s->param[TC_NODES_PER_RACK];
  if (per_rack > f->nodes_per_rack) {
    diag_addf("%s: scenario '%s': key 'nodes_per_rack': %d is more than the %d nodes of a rack",
              source, s->id, per_rack, f->nodes_per_rack);
    return FS_ESCENARIO;
  }
  /* the top slots of each rack, where recirculated hot air arrives first */
  int rc = 0;
  for (int k = 0; k < s->nracks && rc == 0; k++)
    for (int slot = f->nodes_per_rack - per_rack; slot < f->nodes_per_rack && rc == 0; slot++)
      rc = scn_list_add(nodes, s->racks[k] * f->nodes_per_rack + slot);
  return rc;
}

/* Each node's inlet rise: the mean plus a spread drawn per node. */
static double tc_node_weight(const scn_def *s, uint64_t key, int node) {
  double u = rng_uniform(rng_bits(key, 1000 + (uint64_t)node));
  return s->param[TC_INLET_RISE_C] + s->param[TC_INLET_SPREAD_C] * (2.0 * u - 1.0);
}

static void tc_inject(const scn_def *s, const scn_now *now, int k0, int k1, int node0,
                      tel_drivers *d) {
  const double ramp = s->param[TC_RAMP_MIN];
  const float onset = scn_ramp(now->elapsed_min, ramp);
  for (int k = k0; k < k1; k++) {
    float rise = s->node_weight[k] * onset;
    if (now->elapsed_min > ramp) /* hot-aisle recirculation keeps creeping up */
      rise += (float)(s->param[TC_CREEP] * (now->elapsed_min - ramp));
    d[s->nodes[k] - node0].inlet_delta_c += rise;
  }
}

static int tc_random(json_t *o, uint64_t key, const fleet *f) {
  int bad = 0;
  if (rng_bits(key, 10) % 2 == 0 && f->racks >= 2) {
    int r = (int)(rng_bits(key, 11) % (uint64_t)(f->racks - 1));
    bad |= json_object_set_new(o, "racks", json_pack("[i,i]", r, r + 1));
  }
  bad |= json_object_set_new(o, "inlet_rise_c", json_real(scn_random_between(key, 12, 8, 12)));
  return bad;
}

const scn_kind_ops scn_kind_thermal_cascade = {
    .magnitudes = tc_magnitudes,
    .nmagnitudes = TC_COUNT,
    .targets = tc_targets,
    .ntargets = 1,
    .resolve = tc_resolve,
    .impacts_job_peers = 1,
    .node_weight = tc_node_weight,
    .inject = tc_inject,
    .random_min_lo = 20,
    .random_min_hi = 45,
    .random = tc_random,
};

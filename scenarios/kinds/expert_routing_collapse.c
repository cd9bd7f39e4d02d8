/* expert_routing_collapse: a shift in the request mix makes the MoE router
 * send most tokens to the experts on two GPUs of each MoE node. The injector
 * sets the router's collapse (smoothstep onset), the entropy it falls to,
 * the hot GPUs' share of tokens and which GPUs they are; the telemetry model
 * derives utilisation, power, all-to-all traffic and throughput. */
#include "scenarios/kinds/kind.h"
#include "src/core/diag.h"
#include "src/core/errors.h"

enum { RC_HOT_SHARE, RC_ENTROPY_TO, RC_NODE_FRACTION, RC_RAMP_MIN, RC_COUNT };

static const scn_magnitude rc_magnitudes[RC_COUNT] = {
    [RC_HOT_SHARE] = {"hot_share", 0.6, 0.01, 0.99, 0, "",
                      "share of tokens on the hot GPUs at full collapse"},
    [RC_ENTROPY_TO] = {"entropy_to", 0.8, 0, 1.99, 0, "nats",
                       "expert selection entropy at full collapse (normal 2.0)"},
    [RC_NODE_FRACTION] = {"node_fraction", 1.0, 0.01, 1.0, 0, "",
                          "share of the MoE nodes affected"},
    [RC_RAMP_MIN] = {"ramp_min", 3, 0, 600, 0, "min", "onset time (smoothstep)"},
};

static const scn_target rc_targets[] = {
    {"hot_gpus", SCN_TARGET_HOT_GPUS,
     "GPUs of each node that get the hot experts (default: two, from the seed)"}};

static const char *rc_missing(const fleet *f) {
  return f->cfg->moe_nodes == 0 ? "needs MoE nodes, and the fleet has none" : NULL;
}

static int rc_resolve(scn_def *s, const fleet *f, const char *source, uint64_t key, scn_list *nodes,
                      scn_list *gpus) {
  if (s->gpu_mask == 0) {
    int a = (int)(rng_bits(key, 5) % FLEET_GPUS);
    int b = (a + 1 + (int)(rng_bits(key, 6) % (FLEET_GPUS - 1))) % FLEET_GPUS;
    s->gpu_mask = (uint8_t)((1u << a) | (1u << b));
  }
  int nhot = __builtin_popcount(s->gpu_mask);
  if (s->param[RC_HOT_SHARE] <= nhot / (double)FLEET_GPUS) {
    diag_addf("%s: scenario '%s': key 'hot_share': %g is not above the uniform share %g of %d "
              "hot GPUs",
              source, s->id, s->param[RC_HOT_SHARE], nhot / (double)FLEET_GPUS, nhot);
    return FS_ESCENARIO;
  }
  int rc = scn_pick_tenant_nodes(f, TENANT_MOE, s->param[RC_NODE_FRACTION], key, nodes);
  for (int i = 0; i < nodes->n && rc == 0; i++)
    for (int g = 0; g < FLEET_GPUS && rc == 0; g++)
      if ((s->gpu_mask >> g) & 1)
        rc = scn_list_add(gpus, nodes->v[i] * FLEET_GPUS + g);
  return rc;
}

static void rc_inject(const scn_def *s, const scn_now *now, int k0, int k1, int node0,
                      tel_drivers *d) {
  const float c = scn_ramp(now->elapsed_min, s->param[RC_RAMP_MIN]);
  for (int k = k0; k < k1; k++) {
    tel_drivers *x = &d[s->nodes[k] - node0];
    if (c > x->routing_collapse) {
      x->routing_collapse = c;
      x->entropy_to_nats = (float)s->param[RC_ENTROPY_TO];
      x->hot_share = (float)s->param[RC_HOT_SHARE];
      x->hot_gpu_mask = s->gpu_mask;
    }
  }
}

static int rc_random(json_t *o, uint64_t key, const fleet *f) {
  (void)f;
  return json_object_set_new(o, "entropy_to", json_real(scn_random_between(key, 12, 0.6, 1.0)));
}

const scn_kind_ops scn_kind_expert_routing_collapse = {
    .magnitudes = rc_magnitudes,
    .nmagnitudes = RC_COUNT,
    .targets = rc_targets,
    .ntargets = 1,
    .missing = rc_missing,
    .resolve = rc_resolve,
    .inject = rc_inject,
    .random_min_lo = 30,
    .random_min_hi = 60,
    .random = rc_random,
};

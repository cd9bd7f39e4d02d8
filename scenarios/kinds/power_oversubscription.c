/* power_oversubscription: a noisy neighbour on shared racks. One inference
 * tenant's traffic bursts (its nodes on the racks run near saturation), the
 * racks' power goes over their budget, which the operator oversubscribed on
 * the bet that tenants do not peak together, and the racks' power manager
 * caps every GPU there. The cap bites the GPUs that draw the most, so the
 * neighbours suffer: training GPUs lose clock, their steps (and the whole
 * job's, at the all-reduce) slow down, and the other tenant's latency grows.
 * The injector sets the causes (the burst on the offender's nodes, the
 * enforced power limit on every node of the racks once the burst has pushed
 * them past the budget); the telemetry model does the rest.
 *
 * Defaults from public figures: data centres oversubscribe rack power
 * because peaks rarely coincide and rely on capping when they do (Fan,
 * Weber and Barroso, "Power provisioning for a warehouse-sized computer",
 * ISCA 2007; Meta's Dynamo, ISCA 2016); the H100 SXM5 is rated 700 W with a
 * settable lower limit (NVIDIA H100 datasheet), and 600 W is a typical
 * capped operating point. */
#include "scenarios/kinds/kind.h"
#include "src/core/diag.h"
#include "src/core/errors.h"

enum { PO_TENANT, PO_BURST, PO_POWER_LIMIT_W, PO_RAMP_MIN, PO_CAP_AT, PO_COUNT };

static const scn_magnitude po_magnitudes[PO_COUNT] = {
    [PO_TENANT] = {"tenant", 1, 0, 1, 1, "",
                   "the bursting tenant: 0 MoE inference, 1 dense inference"},
    [PO_BURST] = {"burst", 0.8, 0.1, 1, 0, "",
                  "its traffic pushed this share of the way to saturation"},
    [PO_POWER_LIMIT_W] = {"gpu_power_limit_w", 580, 200, 699, 0, "W",
                          "GPU power limit the racks' power manager enforces (TDP 700 W)"},
    [PO_RAMP_MIN] = {"ramp_min", 6, 0, 600, 0, "min", "onset of the burst (smoothstep)"},
    [PO_CAP_AT] = {"cap_at", 0.5, 0, 1, 0, "",
                   "share of the burst's onset at which the racks pass their budget"},
};

static const scn_target po_targets[] = {
    {"racks", SCN_TARGET_RACKS, "the shared racks (default: two adjacent, from the seed)"}};

enum { PO_STREAM_BURST };
static const scn_stream po_streams[] = {
    [PO_STREAM_BURST] = {"burst", RNG_STREAM_SCENARIO + 41}, /* per node: its share of the burst */
};

static const char *po_missing(const fleet *f) {
  return f->cfg->moe_nodes + f->cfg->dense_nodes == 0
             ? "needs inference nodes, and the fleet has none"
             : NULL;
}

static int po_resolve(scn_def *s, const fleet *f, const char *source, uint64_t key,
                      scn_list *nodes, scn_list *gpus) {
  (void)gpus;
  if (s->nracks == 0)
    scn_pick_racks(s, f, key);
  int tenant = (int)s->param[PO_TENANT], has = 0;
  for (int k = 0; k < s->nracks; k++)
    for (int slot = 0; slot < f->nodes_per_rack; slot++)
      has |= f->node_tenant[s->racks[k] * f->nodes_per_rack + slot] == tenant;
  if (!has) {
    diag_addf("%s: scenario '%s': key 'tenant': the racks hold no %s node", source, s->id,
              fleet_tenant_name(tenant));
    return FS_ESCENARIO;
  }
  int rc = 0;
  for (int k = 0; k < s->nracks && rc == 0; k++)
    for (int slot = 0; slot < f->nodes_per_rack && rc == 0; slot++)
      rc = scn_list_add(nodes, s->racks[k] * f->nodes_per_rack + slot);
  return rc;
}

static void po_inject(const scn_def *s, const scn_now *now, int k0, int k1, int node0,
                      tel_drivers *d) {
  const float onset = scn_ramp(now->elapsed_min, s->param[PO_RAMP_MIN]);
  const int capped = onset >= s->param[PO_CAP_AT];
  const float limit = (float)s->param[PO_POWER_LIMIT_W];
  const int tenant = (int)s->param[PO_TENANT];
  for (int k = k0; k < k1; k++) {
    const int n = s->nodes[k];
    tel_drivers *x = &d[n - node0];
    if (now->f->node_tenant[n] == tenant) {
      uint64_t key = scn_stream_key(now->f, &po_streams[PO_STREAM_BURST], (uint64_t)n);
      double pace = 0.85 + 0.3 * rng_uniform(rng_bits(key, 0)); /* 0.85 .. 1.15, per node */
      float b = (float)(s->param[PO_BURST] * pace) * onset;
      x->load_burst = b > 1.0f ? 1.0f : (b > x->load_burst ? b : x->load_burst);
    }
    if (capped && (x->gpu_power_limit_w <= 0 || limit < x->gpu_power_limit_w))
      x->gpu_power_limit_w = limit;
  }
}

static int po_random(json_t *o, uint64_t key, const fleet *f) {
  int bad = 0;
  if (f->cfg->moe_nodes > 0 && (f->cfg->dense_nodes == 0 || rng_bits(key, 10) % 2 == 0))
    bad |= json_object_set_new(o, "tenant", json_integer(0));
  else
    bad |= json_object_set_new(o, "tenant", json_integer(1));
  bad |= json_object_set_new(o, "burst", json_real(scn_random_between(key, 12, 0.6, 0.95)));
  bad |= json_object_set_new(o, "gpu_power_limit_w",
                             json_real(scn_random_between(key, 13, 540, 620)));
  return bad;
}

const scn_kind_ops scn_kind_power_oversubscription = {
    .magnitudes = po_magnitudes,
    .nmagnitudes = PO_COUNT,
    .targets = po_targets,
    .ntargets = 1,
    .streams = po_streams,
    .nstreams = 1,
    .missing = po_missing,
    .resolve = po_resolve,
    .impacts_job_peers = 1,
    .inject = po_inject,
    .random_min_lo = 30,
    .random_min_hi = 90,
    .random = po_random,
};

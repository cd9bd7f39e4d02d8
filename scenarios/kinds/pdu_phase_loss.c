/* pdu_phase_loss: one phase of a rack's power feed is lost (a breaker trips
 * or a PDU input fails). The node PSUs on that phase drop out, the rest of
 * each node's load moves onto the other two phases, and with a third of its
 * feed gone the rack's power manager lowers every GPU's power limit. The
 * injector sets the causes (the lost phase share and the enforced limit);
 * the telemetry model turns them into the PDU imbalance, clocks held down by
 * the power cap, power violation time and slower work.
 *
 * Defaults from public figures: an H100 SXM5 board is rated 700 W and its
 * power limit can be set lower (NVIDIA H100 datasheet; `nvidia-smi -pl`,
 * DCGM power-capping policies); a DGX H100 takes six 3.3 kW PSUs spread over
 * the feed's phases (DGX H100 user guide). With one of three phases gone the
 * rack keeps two thirds of its feed; capping the GPUs, which draw about 85 %
 * of a node's power, to 560 W (80 % of TDP) keeps the rack under that. */
#include "scenarios/kinds/kind.h"
#include "src/core/diag.h"
#include "src/core/errors.h"

enum { PL_POWER_LIMIT_W, PL_PHASE_SHARE, PL_CAP_DELAY_MIN, PL_COUNT };

static const scn_magnitude pl_magnitudes[PL_COUNT] = {
    [PL_POWER_LIMIT_W] = {"gpu_power_limit_w", 560, 200, 699, 0, "W",
                          "GPU power limit the rack's power manager enforces (TDP 700 W)"},
    [PL_PHASE_SHARE] = {"phase_share", 1.0, 0.1, 1.0, 0, "",
                        "share of the lost phase's load gone from it (1: the whole phase)"},
    [PL_CAP_DELAY_MIN] = {"cap_delay_min", 0.5, 0, 30, 0, "min",
                          "time from the phase loss until the power cap is enforced"},
};

static const scn_target pl_targets[] = {
    {"racks", SCN_TARGET_RACKS, "racks that lose a phase (default: one, from the seed)"}};

static int pl_resolve(scn_def *s, const fleet *f, const char *source, uint64_t key,
                      scn_list *nodes, scn_list *gpus) {
  (void)source;
  (void)gpus;
  if (s->nracks == 0) {
    s->racks[0] = (int)(rng_bits(key, 1) % (uint64_t)f->racks);
    s->nracks = 1;
  }
  int rc = 0;
  for (int k = 0; k < s->nracks && rc == 0; k++)
    for (int slot = 0; slot < f->nodes_per_rack && rc == 0; slot++)
      rc = scn_list_add(nodes, s->racks[k] * f->nodes_per_rack + slot);
  return rc;
}

static void pl_inject(const scn_def *s, const scn_now *now, int k0, int k1, int node0,
                      tel_drivers *d) {
  const int capped = now->elapsed_min >= s->param[PL_CAP_DELAY_MIN];
  const float limit = (float)s->param[PL_POWER_LIMIT_W];
  for (int k = k0; k < k1; k++) {
    tel_drivers *x = &d[s->nodes[k] - node0];
    x->phase_loss += (float)s->param[PL_PHASE_SHARE];
    if (capped && (x->gpu_power_limit_w <= 0 || limit < x->gpu_power_limit_w))
      x->gpu_power_limit_w = limit;
  }
}

static int pl_random(json_t *o, uint64_t key, const fleet *f) {
  int bad = 0;
  if (rng_bits(key, 10) % 2 == 0)
    bad |= json_object_set_new(o, "racks",
                               json_pack("[i]", (int)(rng_bits(key, 11) % (uint64_t)f->racks)));
  bad |= json_object_set_new(o, "gpu_power_limit_w",
                             json_real(scn_random_between(key, 12, 520, 600)));
  return bad;
}

const scn_kind_ops scn_kind_pdu_phase_loss = {
    .magnitudes = pl_magnitudes,
    .nmagnitudes = PL_COUNT,
    .targets = pl_targets,
    .ntargets = 1,
    .resolve = pl_resolve,
    .impacts_job_peers = 1,
    .inject = pl_inject,
    .random_min_lo = 30,
    .random_min_hi = 120,
    .random = pl_random,
};

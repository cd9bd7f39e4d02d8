/* fabric_microburst: MoE all-to-all bursts overflow the buffers of the leaf
 * switches of two racks. Bursts come and go within seconds, so each scrape
 * sees a random share of them, the same for every node behind one leaf; the
 * telemetry model turns the congestion into receive errors, retransmits,
 * tail latency and all-reduce jitter. */
#include "scenarios/kinds/kind.h"

enum { FM_CONGESTION, FM_COUNT };

static const scn_magnitude fm_magnitudes[FM_COUNT] = {
    [FM_CONGESTION] = {"congestion", 0.8, 0.05, 1, 0, "",
                       "peak buffer overflow intensity of the leaf (0..1)"},
};

static const scn_target fm_targets[] = {
    {"racks", SCN_TARGET_RACKS,
     "racks whose leaf switches overflow (default: two adjacent, from the seed)"}};

enum { FM_STREAM_BURSTS };
static const scn_stream fm_streams[] = {
    [FM_STREAM_BURSTS] = {"bursts", RNG_STREAM_SCENARIO + 10}, /* per rack, counter: scrape */
};

static int fm_resolve(scn_def *s, const fleet *f, const char *source, uint64_t key, scn_list *nodes,
                      scn_list *gpus) {
  (void)source;
  (void)gpus;
  if (s->nracks == 0)
    scn_pick_racks(s, f, key);
  int rc = 0;
  for (int k = 0; k < s->nracks && rc == 0; k++)
    for (int slot = 0; slot < f->nodes_per_rack && rc == 0; slot++)
      rc = scn_list_add(nodes, s->racks[k] * f->nodes_per_rack + slot);
  return rc;
}

static void fm_inject(const scn_def *s, const scn_now *now, int k0, int k1, int node0,
                      tel_drivers *d) {
  for (int k = k0; k < k1; k++) {
    const int n = s->nodes[k];
    uint64_t rkey =
        scn_stream_key(now->f, &fm_streams[FM_STREAM_BURSTS], (uint64_t)now->f->node_rack[n]);
    float level = (float)(s->param[FM_CONGESTION] *
                          (0.55 + 0.45 * rng_uniform(rng_bits(rkey, (uint64_t)now->t))));
    if (level > d[n - node0].fabric_congestion)
      d[n - node0].fabric_congestion = level;
  }
}

static int fm_random(json_t *o, uint64_t key, const fleet *f) {
  int bad = 0;
  if (rng_bits(key, 10) % 2 == 0 && f->racks >= 2) {
    int r = (int)(rng_bits(key, 11) % (uint64_t)(f->racks - 1));
    bad |= json_object_set_new(o, "racks", json_pack("[i,i]", r, r + 1));
  }
  bad |= json_object_set_new(o, "congestion", json_real(scn_random_between(key, 12, 0.6, 1.0)));
  return bad;
}

const scn_kind_ops scn_kind_fabric_microburst = {
    .magnitudes = fm_magnitudes,
    .nmagnitudes = FM_COUNT,
    .targets = fm_targets,
    .ntargets = 1,
    .streams = fm_streams,
    .nstreams = 1,
    .resolve = fm_resolve,
    .impacts_job_peers = 1,
    .inject = fm_inject,
    .random_min_lo = 20,
    .random_min_hi = 45,
    .random = fm_random,
};

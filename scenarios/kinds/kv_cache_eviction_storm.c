/* kv_cache_eviction_storm: requests to the dense inference tier shift to
 * much longer prompts. The injector scales the prompt length (smoothstep
 * onset) so that the model's KV cache hit ratio falls to hit_ratio_to; TTFT
 * rises through recomputed prefill, ITL does not move. */
#include "scenarios/kinds/kind.h"

enum { KV_HIT_RATIO_TO, KV_NODE_FRACTION, KV_RAMP_MIN, KV_COUNT };

static const scn_magnitude kv_magnitudes[KV_COUNT] = {
    [KV_HIT_RATIO_TO] = {"hit_ratio_to", 0.45, 0.05, 0.93, 0, "",
                         "KV cache hit ratio at full onset (normal 0.94)"},
    [KV_NODE_FRACTION] = {"node_fraction", 1.0, 0.01, 1.0, 0, "",
                          "share of the dense inference nodes affected"},
    [KV_RAMP_MIN] = {"ramp_min", 5, 0, 600, 0, "min", "onset time (smoothstep)"},
};

static const char *kv_missing(const fleet *f) {
  return f->cfg->dense_nodes == 0 ? "needs dense inference nodes, and the fleet has none" : NULL;
}

static int kv_resolve(scn_def *s, const fleet *f, const char *source, uint64_t key, scn_list *nodes,
                      scn_list *gpus) {
  (void)source;
  (void)gpus;
  return scn_pick_tenant_nodes(f, TENANT_DENSE, s->param[KV_NODE_FRACTION], key, nodes);
}

static void kv_inject(const scn_def *s, const scn_now *now, int k0, int k1, int node0,
                      tel_drivers *d) {
  /* inverse of the model's hit = 0.94 / (1 + 0.363 (ctx - 1)) */
  const double ctx_to = 1.0 + (0.94 / s->param[KV_HIT_RATIO_TO] - 1.0) / 0.363;
  const float ctx =
      1.0f + (float)(ctx_to - 1.0) * scn_ramp(now->elapsed_min, s->param[KV_RAMP_MIN]);
  for (int k = k0; k < k1; k++)
    if (ctx > d[s->nodes[k] - node0].context_scale)
      d[s->nodes[k] - node0].context_scale = ctx;
}

static int kv_random(json_t *o, uint64_t key, const fleet *f) {
  (void)f;
  return json_object_set_new(o, "hit_ratio_to", json_real(scn_random_between(key, 12, 0.4, 0.55)));
}

const scn_kind_ops scn_kind_kv_cache_eviction_storm = {
    .magnitudes = kv_magnitudes,
    .nmagnitudes = KV_COUNT,
    .missing = kv_missing,
    .resolve = kv_resolve,
    .inject = kv_inject,
    .random_min_lo = 40,
    .random_min_hi = 90,
    .random = kv_random,
};

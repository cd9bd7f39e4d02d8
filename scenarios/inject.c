/* Fault injectors: for each scenario active at a scrape, set the physical
 * causes (tel_drivers) on the nodes it touches. Symptoms are the telemetry
 * model's business; nothing here writes a metric. */
#include <math.h>

#include "scenarios/inject.h"
#include "src/core/rng.h"

int scn_lower_bound(const int32_t *v, int n, int32_t x) {
  int lo = 0, hi = n;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (v[mid] < x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static inline float inject_ramp(double elapsed_min, double ramp_min) {
  if (ramp_min <= 0 || elapsed_min >= ramp_min)
    return 1.0f;
  double x = elapsed_min / ramp_min;
  return (float)(x * x * (3.0 - 2.0 * x)); /* smoothstep: physical onsets are not kinks */
}

/* Applies s to the local nodes it touches; returns how many. */
static int inject_one(const scn_def *s, const fleet *f, int64_t t, int node0, int nnodes,
                      tel_drivers *d) {
  const double dt = f->cfg->scrape_interval_s;
  const double elapsed_min = (double)(t - s->t_start) * dt / 60.0;
  const double progress = (double)(t - s->t_start) / (double)(s->t_end - s->t_start);
  int lo = scn_lower_bound(s->nodes, s->nnodes, node0), k = lo;
  for (; k < s->nnodes && s->nodes[k] < node0 + nnodes; k++) {
    const int n = s->nodes[k];
    tel_drivers *x = &d[n - node0];
    const uint64_t nkey = rng_key(f->cfg->seed, RNG_STREAM_SCENARIO + 2 + s->kind, (uint64_t)n);
    switch (s->kind) {
    case SK_THERMAL_CASCADE: {
      float rise = s->node_weight[k] * inject_ramp(elapsed_min, scn_param(s, "ramp_min"));
      double ramp = scn_param(s, "ramp_min");
      if (elapsed_min > ramp) /* hot-aisle recirculation keeps creeping up */
        rise += (float)(scn_param(s, "creep_c_per_min") * (elapsed_min - ramp));
      x->inlet_delta_c += rise;
      break;
    }
    case SK_ROUTING_COLLAPSE: {
      float c = inject_ramp(elapsed_min, scn_param(s, "ramp_min"));
      if (c > x->routing_collapse) {
        x->routing_collapse = c;
        x->entropy_to_nats = (float)scn_param(s, "entropy_to");
        x->hot_share = (float)scn_param(s, "hot_share");
        x->hot_gpu_mask = s->gpu_mask;
      }
      break;
    }
    case SK_HBM_DEGRADATION: {
      double r0 = scn_param(s, "sbe_start_per_interval"), r1 = scn_param(s, "sbe_end_per_interval");
      double rate = r0 * exp(log(r1 / r0) * progress); /* exponential growth over the window */
      int g0 = scn_lower_bound(s->gpus, s->ngpus, n * FLEET_GPUS);
      for (int g = g0; g < s->ngpus && s->gpus[g] < (n + 1) * FLEET_GPUS; g++) {
        /* each GPU of the lot degrades at its own pace, within +-30% */
        double pace = 0.7 + 0.6 * rng_uniform(rng_bits(nkey, (uint64_t)s->gpus[g]));
        x->sbe_per_interval[s->gpus[g] % FLEET_GPUS] += (float)(rate * pace);
      }
      break;
    }
    case SK_FABRIC_MICROBURST: {
      /* bursts come and go within seconds: each scrape sees a share of them,
       * the same for every node behind one leaf switch */
      int rack = f->node_rack[n];
      uint64_t rkey = rng_key(f->cfg->seed, RNG_STREAM_SCENARIO + 10, (uint64_t)rack);
      float level = (float)(scn_param(s, "congestion") *
                            (0.55 + 0.45 * rng_uniform(rng_bits(rkey, (uint64_t)t))));
      if (level > x->fabric_congestion)
        x->fabric_congestion = level;
      break;
    }
    case SK_KV_EVICTION_STORM: {
      double hit_to = scn_param(s, "hit_ratio_to");
      /* inverse of the model's hit = 0.94 / (1 + 0.363 (ctx - 1)) */
      double ctx_to = 1.0 + (0.94 / hit_to - 1.0) / 0.363;
      float ctx = 1.0f + (float)(ctx_to - 1.0) * inject_ramp(elapsed_min, scn_param(s, "ramp_min"));
      if (ctx > x->context_scale)
        x->context_scale = ctx;
      break;
    }
    case SK_TRAINING_STRAGGLER: {
      double lo_r = scn_param(s, "replays_min"), hi_r = scn_param(s, "replays_max");
      double u = rng_uniform(rng_bits(nkey, (uint64_t)t));
      x->nvlink_replays += (float)(lo_r + (hi_r - lo_r) * u);
      x->nvlink_gpu_mask = 0xff;
      x->board_delta_c += (float)scn_param(s, "board_delta_c");
      break;
    }
    case SK_COUNT:
      break;
    }
  }
  return k - lo;
}

int scn_drive(const scn_set *set, const fleet *f, int64_t t, int node0, int nnodes,
              tel_drivers *drivers) {
  int applied = 0;
  for (int i = 0; set && i < set->n; i++) {
    const scn_def *s = &set->s[i];
    if (t >= s->t_start && t < s->t_end)
      applied += inject_one(s, f, t, node0, nnodes, drivers);
  }
  return applied;
}

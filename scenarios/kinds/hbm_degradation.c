/* hbm_degradation: the HBM of GPUs from one silicon lot wears out; their
 * single-bit ECC (SBE) rate grows exponentially over the window, each GPU at
 * its own pace. No uncorrectable errors and no performance impact: the
 * telemetry model only counts the errors. */
#include <math.h>

#include "scenarios/kinds/kind.h"
#include "src/core/diag.h"
#include "src/core/errors.h"

enum { HBM_GPUS, HBM_TRAINING_GPUS, HBM_LOT, HBM_SBE_START, HBM_SBE_END, HBM_COUNT };

static const scn_magnitude hbm_magnitudes[HBM_COUNT] = {
    [HBM_GPUS] = {"gpus", 12, 1, 256, 1, "GPUs", "GPUs of the lot that degrade"},
    [HBM_TRAINING_GPUS] = {"training_gpus", 8, 0, 256, 1, "GPUs",
                           "how many of them sit in training nodes (the rest in inference)"},
    [HBM_LOT] = {"lot", -1, -1, 1000000, 1, "", "the silicon lot; -1: chosen from the seed"},
    [HBM_SBE_START] = {"sbe_start_per_interval", 0.05, 0.0001, 1000, 0, "errors/scrape",
                       "SBE rate per GPU at the start"},
    [HBM_SBE_END] = {"sbe_end_per_interval", 20, 0.0001, 100000, 0, "errors/scrape",
                     "SBE rate per GPU at the end (exponential growth in between)"},
};

enum { HBM_STREAM_PACE };
static const scn_stream hbm_streams[] = {
    [HBM_STREAM_PACE] = {"pace", RNG_STREAM_SCENARIO + 4}, /* per node: each GPU's pace */
};

/* Picks the lot's GPUs, the training ones on training nodes: the lot given,
 * else the first lot from a seeded start that has enough of both. */
static int hbm_pick_lot_gpus(scn_def *s, const fleet *f, const char *source, uint64_t key,
                             scn_list *gpus) {
  int want = (int)s->param[HBM_GPUS], want_train = (int)s->param[HBM_TRAINING_GPUS];
  int want_inf = want - want_train;
  int lots = f->cfg->gpu_lots;
  int lot = (int)s->param[HBM_LOT];
  int tries = lot >= 0 ? 1 : lots;
  uint64_t start = rng_bits(key, 3) % (uint64_t)lots;
  for (int k = 0; k < tries; k++) {
    int cand = lot >= 0 ? lot : (int)((start + (uint64_t)k) % (uint64_t)lots);
    int have_train = 0, have_inf = 0;
    gpus->n = 0;
    /* walk the lot's GPUs in a seed-shuffled order: offset start, stride 1 */
    long total = (long)f->nodes * FLEET_GPUS;
    long off = (long)(rng_bits(key, 4 + (uint64_t)cand) % (uint64_t)total);
    for (long i = 0; i < total && (have_train < want_train || have_inf < want_inf); i++) {
      long g = (off + i) % total;
      if (f->gpu_lot[g] != cand)
        continue;
      int training = f->node_tenant[g / FLEET_GPUS] == TENANT_TRAINING;
      if (training && have_train < want_train) {
        have_train++;
      } else if (!training && have_inf < want_inf) {
        have_inf++;
      } else {
        continue;
      }
      if (scn_list_add(gpus, (int32_t)g))
        return FS_ENOMEM;
    }
    if (have_train == want_train && have_inf == want_inf) {
      s->param[HBM_LOT] = cand;
      s->lot = cand;
      return 0;
    }
  }
  if (lot >= 0)
    diag_addf("%s: scenario '%s': key 'lot': lot %d has fewer than %d training and %d "
              "inference GPUs",
              source, s->id, lot, want_train, want_inf);
  else
    diag_addf("%s: scenario '%s': key 'gpus': no silicon lot has %d training and %d "
              "inference GPUs",
              source, s->id, want_train, want_inf);
  return FS_ESCENARIO;
}

static int hbm_resolve(scn_def *s, const fleet *f, const char *source, uint64_t key,
                       scn_list *nodes, scn_list *gpus) {
  if (s->param[HBM_TRAINING_GPUS] > s->param[HBM_GPUS]) {
    diag_addf("%s: scenario '%s': key 'training_gpus': %g is more than gpus %g", source, s->id,
              s->param[HBM_TRAINING_GPUS], s->param[HBM_GPUS]);
    return FS_ESCENARIO;
  }
  if (s->param[HBM_LOT] >= f->cfg->gpu_lots) {
    diag_addf("%s: scenario '%s': key 'lot': %g is out of range [0, %d)", source, s->id,
              s->param[HBM_LOT], f->cfg->gpu_lots);
    return FS_ESCENARIO;
  }
  int rc = hbm_pick_lot_gpus(s, f, source, key, gpus);
  scn_list_finish(gpus);
  for (int i = 0; i < gpus->n && rc == 0; i++)
    rc = scn_list_add(nodes, gpus->v[i] / FLEET_GPUS);
  return rc;
}

static void hbm_inject(const scn_def *s, const scn_now *now, int k0, int k1, int node0,
                       tel_drivers *d) {
  const double r0 = s->param[HBM_SBE_START], r1 = s->param[HBM_SBE_END];
  const double rate = r0 * exp(log(r1 / r0) * now->progress); /* exponential growth */
  for (int k = k0; k < k1; k++) {
    const int n = s->nodes[k];
    const uint64_t nkey = scn_stream_key(now->f, &hbm_streams[HBM_STREAM_PACE], (uint64_t)n);
    int g0 = scn_lower_bound(s->gpus, s->ngpus, n * FLEET_GPUS);
    for (int g = g0; g < s->ngpus && s->gpus[g] < (n + 1) * FLEET_GPUS; g++) {
      /* each GPU of the lot degrades at its own pace, within +-30% */
      double pace = 0.7 + 0.6 * rng_uniform(rng_bits(nkey, (uint64_t)s->gpus[g]));
      d[n - node0].sbe_per_interval[s->gpus[g] % FLEET_GPUS] += (float)(rate * pace);
    }
  }
}

static int hbm_random(json_t *o, uint64_t key, const fleet *f) {
  int gpus = 6 + (int)(rng_bits(key, 13) % 10);
  int train = gpus / 2 + (int)(rng_bits(key, 14) % (uint64_t)(gpus / 2 + 1));
  if (f->cfg->training_nodes == 0)
    train = 0;
  if (f->cfg->moe_nodes + f->cfg->dense_nodes == 0)
    train = gpus;
  int bad = json_object_set_new(o, "gpus", json_integer(gpus));
  bad |= json_object_set_new(o, "training_gpus", json_integer(train));
  return bad;
}

const scn_kind_ops scn_kind_hbm_degradation = {
    .magnitudes = hbm_magnitudes,
    .nmagnitudes = HBM_COUNT,
    .streams = hbm_streams,
    .nstreams = 1,
    .resolve = hbm_resolve,
    .inject = hbm_inject,
    .random_min_lo = 180,
    .random_min_hi = 420,
    .random = hbm_random,
};

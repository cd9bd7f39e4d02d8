/* nic_flap: the InfiniBand port of one training node flaps (a marginal
 * cable or transceiver): it goes down and up again and again. Every
 * transition drops the packets in flight (RDMA retransmits) and brings
 * symbol errors while the link retrains (port receive errors). The first
 * outage outlasts NCCL's transport retries: the job's communicator fails,
 * it hangs until the watchdog aborts it and relaunches from its last
 * checkpoint; later, shorter outages stall its all-reduces (NCCL latency
 * and step time spikes). Defaults: NCCL retries an InfiniBand transfer
 * NCCL_IB_RETRY_CNT = 7 times with a timeout of 4.096 us x 2^NCCL_IB_TIMEOUT
 * (18: about 1.07 s), so an outage beyond about 7.5 s breaks the
 * communicator (NCCL documentation, environment variables); network
 * switches and cables caused 8.4 % of Llama 3's unexpected interruptions
 * (Meta, "The Llama 3 Herd of Models", 2024, table 5). Flap rate and
 * outage lengths are assumptions. */
#include <math.h>

#include "scenarios/kinds/kind.h"
#include "src/core/errors.h"

enum { NF_JOB_NODE, NF_FLAPS_PER_HOUR, NF_DOWN_S, NF_FIRST_DOWN_S, NF_HANG_MIN, NF_RESTART_MIN,
       NF_COUNT };

static const scn_magnitude nf_magnitudes[NF_COUNT] = {
    [NF_JOB_NODE] = {"job_node", -1, -1, 1000000, 1, "",
                     "the node's position in the job; -1: chosen from the seed"},
    [NF_FLAPS_PER_HOUR] = {"flaps_per_hour", 30, 1, 3600, 0, "1/h",
                           "down/up cycles of the port per hour (Poisson)"},
    [NF_DOWN_S] = {"down_s", 4, 0.1, 60, 0, "s", "length of each outage after the first"},
    [NF_FIRST_DOWN_S] = {"first_down_s", 30, 0.1, 600, 0, "s",
                         "length of the first outage, at the start"},
    [NF_HANG_MIN] = {"hang_min", 2, 0, 60, 0, "min",
                     "the job hangs this long after the first outage before it is aborted"},
    [NF_RESTART_MIN] = {"restart_min", 8, 0, 120, 0, "min", "relaunch and checkpoint read-back"},
};

static const scn_target nf_targets[] = {
    {"job", SCN_TARGET_JOB, "the training job of the node (default: train-001)"}};

enum { NF_STREAM_FLAPS };
static const scn_stream nf_streams[] = {
    [NF_STREAM_FLAPS] = {"flaps", RNG_STREAM_SCENARIO + 50}, /* per node, counter: scrape */
};

static const char *nf_missing(const fleet *f) {
  return f->njobs == 0 ? "needs a training job, and the config has none" : NULL;
}

static int nf_resolve(scn_def *s, const fleet *f, const char *source, uint64_t key, scn_list *nodes,
                      scn_list *gpus) {
  (void)gpus;
  int node = scn_pick_job_node(s, f, source, key, NF_JOB_NODE);
  return node < 0 ? FS_ESCENARIO : scn_list_add(nodes, node);
}

static void nf_inject(const scn_def *s, const scn_now *now, int k0, int k1, int node0,
                      tel_drivers *d) {
  const double dt = now->f->cfg->scrape_interval_s;
  const double lambda = s->param[NF_FLAPS_PER_HOUR] * dt / 3600.0;
  for (int k = k0; k < k1; k++) {
    const int n = s->nodes[k];
    tel_drivers *x = &d[n - node0];
    double flaps, down;
    if (now->t == s->t_start) { /* the first, long outage */
      flaps = 1;
      down = s->param[NF_FIRST_DOWN_S];
    } else {
      uint64_t nkey = scn_stream_key(now->f, &nf_streams[NF_STREAM_FLAPS], (uint64_t)n);
      double u = rng_uniform(rng_bits(nkey, (uint64_t)now->t));
      /* Poisson count by inverse CDF (lambda is well below 1 per scrape) */
      double p = exp(-lambda), cdf = p;
      flaps = 0;
      while (u > cdf && flaps < 20) {
        flaps += 1;
        p *= lambda / flaps;
        cdf += p;
      }
      down = flaps * s->param[NF_DOWN_S];
    }
    x->nic_flaps += (float)flaps;
    x->nic_down_share = (float)fmin(1.0, x->nic_down_share + down / dt);
  }
}

static void nf_drive_jobs(const scn_def *s, const scn_now *now, tel_job_drivers *jd) {
  /* the job fails when the first outage ends the communicator */
  const double crash_min = s->param[NF_FIRST_DOWN_S] / 60.0;
  scn_job_restart(now, crash_min, s->param[NF_HANG_MIN], s->param[NF_RESTART_MIN], &jd[s->job]);
}

static int nf_random(json_t *o, uint64_t key, const fleet *f) {
  int j = (int)(rng_bits(key, 12) % (uint64_t)f->njobs);
  int bad = json_object_set_new(o, "job", json_string(f->cfg->jobs[j].id));
  bad |= json_object_set_new(o, "flaps_per_hour", json_real(scn_random_between(key, 13, 12, 60)));
  return bad;
}

const scn_kind_ops scn_kind_nic_flap = {
    .magnitudes = nf_magnitudes,
    .nmagnitudes = NF_COUNT,
    .targets = nf_targets,
    .ntargets = 1,
    .streams = nf_streams,
    .nstreams = 1,
    .missing = nf_missing,
    .resolve = nf_resolve,
    .impacts_job_peers = 1,
    .inject = nf_inject,
    .drive_jobs = nf_drive_jobs,
    .random_min_lo = 40,
    .random_min_hi = 120,
    .random = nf_random,
};

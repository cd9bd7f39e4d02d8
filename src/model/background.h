/* Background operations of a healthy fleet (see background.c): XIDs at
 * published background rates with their physical consequences, benign GPU
 * driver resets, node reboots that restart every counter, scrape gaps
 * (missing samples: NaN gauges), maintenance drains of idle-pool nodes and
 * each node's own noise level. Every draw is counter-based in the streams
 * from RNG_STREAM_BACKGROUND on, so a node's operations are the same at
 * any rank count. Part of the telemetry model: no MPI, no I/O. */
#ifndef FLEETSIM_BACKGROUND_H
#define FLEETSIM_BACKGROUND_H
#include <stdint.h>

#include "src/core/rng.h"
#include "src/model/config.h"

/* The stream of each GPU's per-scrape draw (entity: the GPU's global
 * index, counter: the scrape); background.c's node streams are below it. */
enum { BG_STREAM_GPU = RNG_STREAM_BACKGROUND + 8 };

/* What a node does at one scrape besides its workload. */
enum {
  BG_NODE_OK = 0,
  BG_NODE_GAP = 1,    /* the scrape of this node failed: gauges NaN */
  BG_NODE_REBOOT = 2, /* the node reboots: no samples, every counter restarts from 0 */
};

/* Rates of the run turned into per-scrape or per-slot probabilities. */
typedef struct {
  int on;                    /* background_ops */
  uint64_t seed;
  int gap_slot;              /* scrapes per gap slot (at most one gap each) */
  int reboot_slot, reboot_len; /* scrapes per reboot slot, scrapes a reboot lasts */
  int drain_slot;            /* scrapes per drain slot (6 h) */
  double p_gap, p_reboot, p_drain; /* probability of one in a slot */
  uint64_t gpu_thr;          /* a GPU draw's bits >> 11 below this: a GPU event */
  double gpu_cum[16];        /* cumulative shares of the GPU event kinds (bg_xid_table) */
  int ngpu_kinds;
} bg_plan;

/* Fills p from cfg (scrape interval dt_s). */
void bg_plan_init(bg_plan *p, const fs_config *cfg);

/* BG_NODE_* of global node n at scrape t (pure function of seed, n, t). */
int bg_node_status(const bg_plan *p, int n, int64_t t);

/* 1 when idle-pool node n is drained for maintenance at scrape t. */
int bg_node_drained(const bg_plan *p, int n, int64_t t);

/* Node n's own noise level (multiplies its noise channels): lognormal with
 * sd bg_noise_spread of its log, 1 when background operations are off. */
float bg_noise_scale(const fs_config *cfg, int n);

/* One GPU event drawn for a GPU at a scrape (bits: a second draw of the
 * GPU's background stream): an XID code (0 for a plain driver reset) and
 * its consequences. */
typedef struct {
  uint32_t xid;
  uint32_t sbe, dbe, remap_corr, remap_uncorr, nvlink_recovery, nvlink_replays;
  uint32_t down_scrapes; /* scrapes without samples, then a reset (0: none) */
} bg_gpu_event;

void bg_gpu_event_draw(const bg_plan *p, uint64_t bits, int dt_s, bg_gpu_event *ev);

#endif

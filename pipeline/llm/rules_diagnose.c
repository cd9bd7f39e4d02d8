/* The rules backend's diagnoses (see rules_diagnose.h): recognising a fault
 * family from a context's evidence, and the L3 root-cause answer. Every
 * number an answer states is a context value printed at a fixed precision;
 * every entity is a name the context gives. */
#include "pipeline/llm/rules_diagnose.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/strbuf.h"

/* ---- recognising the family ------------------------------------------------ */

/* Strongest |z| of the event's signals that speak for family f. */
static double rd_family_signal(const json_t *ev, rr_family f) {
  double best = 0;
  json_t *co = json_object_get(ev, "cooccurring");
  for (size_t i = 0; i <= json_array_size(co); i++) {
    json_t *s = i == 0 ? json_object_get(ev, "trigger") : json_array_get(co, i - 1);
    double z = rr_num(s, "z");
    if (s && rr_family_of_metric(rr_str(s, "metric")) == f && isfinite(z) && fabs(z) > best)
      best = fabs(z);
  }
  return best;
}

/* The spread of SM utilisation over the event node's GPUs (points). */
static double rd_util_spread(const json_t *ctx) {
  json_t *gpus = json_object_get(ctx, "gpus");
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < json_array_size(gpus); i++) {
    double u = rr_num(json_array_get(gpus, i), "sm_util_pct");
    if (isfinite(u)) {
      lo = fmin(lo, u);
      hi = fmax(hi, u);
    }
  }
  return hi > lo ? hi - lo : 0.0;
}

/* The event node's highest NVLink replays per 5 min over its GPUs. */
static double rd_node_replays(const json_t *ctx) {
  json_t *gpus = json_object_get(ctx, "gpus");
  double hi = -INFINITY;
  for (size_t i = 0; i < json_array_size(gpus); i++)
    hi = fmax(hi, rr_num(json_array_get(gpus, i), "nvlink_replays_per_5min"));
  return hi;
}

/* A series' largest rise (up = 1) or fall (up = 0) from its first value. */
static double rd_series_move(const json_t *ctx, const char *metric, int up) {
  rr_series s;
  rr_series_get(ctx, metric, 0, &s);
  int k = rr_series_extreme(&s, up);
  return k < 0 ? 0.0 : up ? s.v[k] - s.v[0] : s.v[0] - s.v[k];
}

rr_family rules_family(const json_t *ctx) {
  const json_t *ev = json_object_get(ctx, "event");
  /* the event is about its trigger: a metric that speaks for one family */
  const json_t *trig = json_object_get(ev, "trigger");
  rr_family own = rr_family_of_metric(rr_str(trig, "metric"));
  if (own != RR_NONE && fabs(rr_num(trig, "z")) > 3)
    return own;
  const json_t *job = json_object_get(json_object_get(ctx, "tenant_context"), "job");
  const json_t *peer = json_object_get(ctx, "gpu_peer_median");
  double peer_replays = rr_num(peer, "nvlink_replays_per_5min");
  double hour_replays = rr_num(json_object_get(job, "most_nvlink_replays_in_series"),
                               "nvlink_replays_per_5min");
  int job_event = strcmp(rr_str(ev, "scope"), "job") == 0;
  if (rd_family_signal(ev, RR_STRAGGLER) > 5 ||
      (isfinite(peer_replays) && peer_replays > 0 &&
       ((job_event && hour_replays > 4 * peer_replays) ||
        rd_node_replays(ctx) > 4 * peer_replays)))
    return RR_STRAGGLER;
  double ent = rd_series_move(ctx, "expert_selection_entropy_nats", 0);
  if (rd_family_signal(ev, RR_ROUTING) > 3 || ent > 0.4 ||
      (strcmp(rr_str(ev, "tenant"), "moe-inference") == 0 && rd_util_spread(ctx) > 30))
    return RR_ROUTING;
  if (rd_family_signal(ev, RR_KV) > 3 || rd_series_move(ctx, "kv_cache_hit_ratio", 0) > 0.1)
    return RR_KV;
  if (rd_family_signal(ev, RR_HBM) > 3)
    return RR_HBM;
  const json_t *cmp = json_object_get(json_object_get(ctx, "rack"), "rack_vs_fleet");
  const json_t *ib = json_object_get(cmp, "ib_port_rcv_errors_total");
  double ib_v, ib_peer;
  rr_node_metric(ctx, "ib_port_rcv_errors_total", &ib_v, &ib_peer);
  if (rd_family_signal(ev, RR_FABRIC) > 3 ||
      (rr_num(ib, "rack_mean") > 1 && rr_num(ib, "rack_mean") > 3 * rr_num(ib, "fleet_mean")) ||
      (ib_v > 5 && ib_v > 3 * ib_peer))
    return RR_FABRIC;
  const json_t *inlet = json_object_get(cmp, "inlet_temp_celsius");
  double in_v, in_peer;
  rr_node_metric(ctx, "inlet_temp_celsius", &in_v, &in_peer);
  rr_series inlet_peer;
  rr_series_get(ctx, "inlet_temp_celsius", 1, &inlet_peer);
  double inlet_rise = rd_series_move(ctx, "inlet_temp_celsius", 1);
  if (rd_family_signal(ev, RR_THERMAL) > 3 || in_v - in_peer > 3 || inlet_rise > 3 ||
      rr_num(inlet, "rack_mean") - rr_num(inlet, "fleet_mean") > 2)
    return RR_THERMAL;
  return RR_NONE;
}

/* ---- building the L3 answer -------------------------------------------------- */

typedef struct {
  const json_t *ctx, *ev, *job, *rack;
  const char *node, *rack_name, *tenant, *job_name;
  strbuf root, cross, scope;
  json_t *chain, *actions, *tenants;
  const char *priority;
  double confidence;
} rd_answer;

static void rd_push(json_t *arr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rd_push(json_t *arr, const char *fmt, ...) {
  char buf[640];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  json_array_append_new(arr, json_string(buf));
}

static void rd_tenant(rd_answer *a, const char *t) {
  for (size_t i = 0; i < json_array_size(a->tenants); i++)
    if (strcmp(json_string_value(json_array_get(a->tenants, i)), t) == 0)
      return;
  if (t[0])
    json_array_append_new(a->tenants, json_string(t));
}

/* Adds the tenants of every node of the rack's table. */
static void rd_rack_tenants(rd_answer *a) {
  const json_t *t = json_object_get(a->rack, "node_table");
  int col = rr_table_col(t, "tenant");
  for (size_t r = 0; r < json_array_size(json_object_get(t, "rows")); r++)
    rd_tenant(a, rr_cell_str(t, r, col));
  if (!json_array_size(a->tenants))
    rd_tenant(a, a->tenant);
}

/* Largest value of column col over the rows of table whose tenant is (or,
 * with negate, is not) tenant; NAN when none. */
static double rd_table_max(const json_t *table, const char *col, const char *tenant, int negate) {
  int c = rr_table_col(table, col), tc = rr_table_col(table, "tenant");
  double best = NAN;
  for (size_t r = 0; r < json_array_size(json_object_get(table, "rows")); r++) {
    int match = strcmp(rr_cell_str(table, r, tc), tenant) == 0;
    double v = rr_cell_num(table, r, c);
    if (match != negate && isfinite(v) && !(v <= best))
      best = v;
  }
  return best;
}

static int rd_straggler(rd_answer *a) {
  const json_t *rep = json_object_get(a->job, "most_nvlink_replays_in_series");
  if (!json_is_string(json_object_get(rep, "node")))
    rep = json_object_get(a->job, "most_nvlink_replays");
  const char *s = rr_str(rep, "node");
  if (!s[0])
    s = a->node;
  double replays = rr_num(rep, "nvlink_replays_per_5min");
  double minutes = rr_num(rep, "minutes_from_event");
  double peer = rr_num(json_object_get(a->ctx, "gpu_peer_median"), "nvlink_replays_per_5min");
  double base = rr_num(a->job, "baseline_step_ms");
  json_t *steps = json_object_get(a->job, "step_time_ms_series");
  double worst = NAN, now = NAN;
  for (size_t i = 0; i < json_array_size(steps); i++) {
    json_t *v = json_array_get(steps, i);
    if (json_is_number(v)) {
      now = json_number_value(v);
      worst = isfinite(worst) ? fmax(worst, now) : now;
    }
  }
  sb_addf(&a->root, "Training straggler: NVLink replay errors on %s", s);
  if (isfinite(replays)) {
    sb_addf(&a->root, " (%.0f per detection block", replays);
    if (isfinite(minutes))
      sb_addf(&a->root, " at %.0f min from the event", minutes);
    if (isfinite(peer))
      sb_addf(&a->root, ", against a peer median of %.0f", peer);
    sb_addf(&a->root, ")");
  }
  sb_addf(&a->root, " slow its all-reduce, so every node of %s waits at the sync barrier",
          a->job_name);
  if (isfinite(worst) && isfinite(base))
    sb_addf(&a->root, ": the job's step time reached %.0f ms against a %.0f ms baseline", worst,
            base);
  sb_addf(&a->root, ".");
  if (isfinite(now) && isfinite(base) && isfinite(worst) && now < 1.03 * base && worst > 1.1 * base)
    sb_addf(&a->root, " It has recovered to %.0f ms since.", now);
  rd_push(a->chain, "NVLink replay (CRC) errors on %s", s);
  const json_t *t = json_object_get(a->job, "node_table");
  int nc = rr_table_col(t, "node"), tc = rr_table_col(t, "gpu_temp_mean_c");
  double temp = NAN, lo = INFINITY, hi = -INFINITY;
  for (size_t r = 0; r < json_array_size(json_object_get(t, "rows")); r++) {
    double v = rr_cell_num(t, r, tc);
    if (strcmp(rr_cell_str(t, r, nc), s) == 0)
      temp = v;
    else if (isfinite(v)) {
      lo = fmin(lo, v);
      hi = fmax(hi, v);
    }
  }
  if (isfinite(temp) && isfinite(lo))
    rd_push(a->chain,
            "thermal conditions on the baseboard: %s's GPUs average %.1f C while the job's other "
            "nodes run at %.1f-%.1f C",
            s, temp, lo, hi);
  const json_t *wait = json_object_get(a->job, "least_allreduce_wait");
  if (json_is_string(json_object_get(wait, "node")) && isfinite(rr_num(wait, "allreduce_wait_ms")))
    rd_push(a->chain, "its all-reduce contribution arrives late: the least all-reduce wait is on "
                      "%s (%.1f ms), every other node waits",
            rr_str(wait, "node"), rr_num(wait, "allreduce_wait_ms"));
  if (isfinite(worst) && isfinite(base))
    rd_push(a->chain, "step time of %s rises to %.0f ms against a %.0f ms baseline", a->job_name,
            worst, base);
  rd_push(a->chain, "job throughput drops and its completion slips");
  rd_push(a->actions, "Checkpoint %s now, before draining anything", a->job_name);
  rd_push(a->actions, "Then drain (cordon) %s and restart %s from the checkpoint without it", s,
          a->job_name);
  rd_push(a->actions, "Run NVLink diagnostics on %s and open an RMA if the replay errors persist",
          s);
  rd_push(a->actions, "Expect the completion of %s to slip by the time lost while degraded",
          a->job_name);
  rd_tenant(a, "training");
  sb_addf(&a->cross, "Job-level: every other node of %s is healthy and only waits at the "
                     "barrier; no inference impact.",
          a->job_name);
  sb_addf(&a->scope, "%s (%lld nodes); root cause on %s", a->job_name,
          (long long)json_integer_value(json_object_get(a->job, "nodes")), s);
  a->priority = "P1";
  a->confidence = 0.85;
  return 1;
}

/* The two GPUs of the event node with the highest SM utilisation, when they
 * stand out (15 points and 30% over the rest); 0 when they do not. */
static int rd_hot_gpus(const json_t *ctx, const json_t *hot[2], double *lo, double *hi) {
  json_t *gpus = json_object_get(ctx, "gpus");
  size_t n = json_array_size(gpus);
  hot[0] = hot[1] = NULL;
  for (size_t i = 0; i < n; i++) {
    json_t *g = json_array_get(gpus, i);
    double u = rr_num(g, "sm_util_pct");
    if (!isfinite(u))
      continue;
    if (!hot[0] || u > rr_num(hot[0], "sm_util_pct")) {
      hot[1] = hot[0];
      hot[0] = g;
    } else if (!hot[1] || u > rr_num(hot[1], "sm_util_pct")) {
      hot[1] = g;
    }
  }
  *lo = INFINITY;
  *hi = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    json_t *g = json_array_get(gpus, i);
    double u = rr_num(g, "sm_util_pct");
    if (g != hot[0] && g != hot[1] && isfinite(u)) {
      *lo = fmin(*lo, u);
      *hi = fmax(*hi, u);
    }
  }
  double second = hot[1] ? rr_num(hot[1], "sm_util_pct") : NAN;
  return isfinite(*hi) && second > *hi + 15 && second > 1.3 * *hi;
}

static int rd_routing(rd_answer *a) {
  rr_series ent, tok;
  rr_series_get(a->ctx, "expert_selection_entropy_nats", 0, &ent);
  rr_series_get(a->ctx, "tokens_per_second", 0, &tok);
  int emin = rr_series_extreme(&ent, 0), tmin = rr_series_extreme(&tok, 0);
  const json_t *hot[2];
  double lo, hi;
  int skew = rd_hot_gpus(a->ctx, hot, &lo, &hi);
  sb_addf(&a->root, "MoE expert routing collapse");
  if (emin > 0)
    sb_addf(&a->root, ": expert selection entropy on %s fell from %.2f to %.2f nats", a->node,
            ent.v[0], ent.v[emin]);
  if (skew)
    sb_addf(&a->root,
            "; the router sends most tokens to the experts on %s and %s (SM utilisation %.1f%% "
            "and %.1f%%, the node's other GPUs %.1f-%.1f%%)",
            rr_str(hot[0], "gpu"), rr_str(hot[1], "gpu"), rr_num(hot[0], "sm_util_pct"),
            rr_num(hot[1], "sm_util_pct"), lo, hi);
  if (tmin > 0 && tok.v[tmin] < tok.v[0])
    sb_addf(&a->root, "; aggregate throughput dropped from %.0f to %.0f tokens per second",
            tok.v[0], tok.v[tmin]);
  sb_addf(&a->root, ".");
  rd_push(a->chain, "a shift in the request mix changes the token distribution over experts");
  rd_push(a->chain, "the router concentrates tokens on a few experts (entropy drop)");
  if (skew) {
    rd_push(a->chain, "the GPUs of the hot experts (%s, %s) saturate while the others wait in the "
                      "all-to-all",
            rr_str(hot[0], "gpu"), rr_str(hot[1], "gpu"));
    rd_push(a->chain,
            "each GPU individually stays within its limits (%.1f C and %.0f W on %s): the "
            "imbalance is in the distribution of load, not in any one GPU",
            rr_num(hot[0], "temp_c"), rr_num(hot[0], "power_w"), rr_str(hot[0], "gpu"));
  } else {
    rd_push(a->chain, "each GPU individually stays within its limits: the imbalance is in the "
                      "distribution of load across experts");
  }
  if (tmin > 0 && tok.v[tmin] < tok.v[0])
    rd_push(a->chain, "aggregate throughput drops: %.0f -> %.0f tokens per second on %s",
            tok.v[0], tok.v[tmin], a->node);
  rd_push(a->chain, "TTFT and ITL rise and the moe-inference SLA budget burns faster");
  rd_push(a->actions, "Rebalance expert routing: raise the router's capacity factor or "
                      "load-balancing loss, or replicate the hot experts on more GPUs");
  rd_push(a->actions, "Find the request source behind the shift in the token mix and rate-limit "
                      "or reroute it");
  rd_push(a->actions, "Watch the moe-inference SLA budget until the entropy recovers");
  rd_tenant(a, "moe-inference");
  sb_addf(&a->cross, "MoE inference tenant-wide, with SLA impact on moe-inference; no training "
                     "impact.");
  if (skew)
    sb_addf(&a->scope, "moe-inference tenant; hot experts on %s and %s", rr_str(hot[0], "gpu"),
            rr_str(hot[1], "gpu"));
  else
    sb_addf(&a->scope, "moe-inference tenant");
  a->priority = "P1";
  a->confidence = 0.8;
  return 1;
}

static int rd_kv(rd_answer *a) {
  rr_series hit, ttft, itl, prompt;
  rr_series_get(a->ctx, "kv_cache_hit_ratio", 0, &hit);
  rr_series_get(a->ctx, "ttft_ms", 0, &ttft);
  rr_series_get(a->ctx, "itl_ms", 0, &itl);
  rr_series_get(a->ctx, "prompt_tokens_mean", 0, &prompt);
  int hmin = rr_series_extreme(&hit, 0), tmax = rr_series_extreme(&ttft, 1);
  int pmax = rr_series_extreme(&prompt, 1), inow = rr_series_now(&itl);
  int itl_flat = inow > 0 && fabs(itl.v[inow] - itl.v[0]) < 0.15 * itl.v[0];
  sb_addf(&a->root, "KV cache eviction storm on dense inference");
  if (pmax > 0)
    sb_addf(&a->root, ": prompt length on %s went from %.0f to %.0f tokens", a->node, prompt.v[0],
            prompt.v[pmax]);
  if (hmin > 0)
    sb_addf(&a->root, "; its KV cache hit ratio fell from %.2f to %.2f", hit.v[0], hit.v[hmin]);
  if (tmax > 0)
    sb_addf(&a->root, "; TTFT rose from %.0f to %.0f ms", ttft.v[0], ttft.v[tmax]);
  if (itl_flat)
    sb_addf(&a->root, " while ITL stayed flat (%.1f -> %.1f ms)", itl.v[0], itl.v[inow]);
  sb_addf(&a->root, ". The cache is undersized for the longer contexts%s.",
          itl_flat ? "; not a compute bottleneck" : "");
  rd_push(a->chain, "requests shift to longer prompts (longer context length)");
  rd_push(a->chain, "the KV working set outgrows the cache: evictions, cache hit ratio drops");
  rd_push(a->chain, "prefill is recomputed: TTFT rises%s",
          itl_flat ? "; ITL stays flat because decode is unaffected" : "");
  rd_push(a->chain, "the dense-inference SLA budget burns faster (TTFT SLO)");
  rd_push(a->actions, "Resize the KV cache: give it more GPU memory, or offload to CPU memory / "
                      "prefix-cache tiering");
  rd_push(a->actions, "Route long-context requests to replicas with larger KV capacity");
  if (itl_flat)
    rd_push(a->actions, "Do not add GPUs for compute: ITL shows no compute saturation");
  rd_push(a->actions, "Watch the dense-inference SLA budget");
  rd_tenant(a, "dense-inference");
  sb_addf(&a->cross, "Dense inference tenant-wide, with SLA impact through TTFT; no training or "
                     "MoE impact.");
  sb_addf(&a->scope, "dense-inference tenant");
  a->priority = "P1";
  a->confidence = 0.8;
  return 1;
}

static int rd_hbm(rd_answer *a) {
  const json_t *trig = json_object_get(a->ev, "trigger");
  const char *gpu = rr_str(trig, "gpu");
  const json_t *mine = NULL, *gpus = json_object_get(a->ctx, "gpus");
  for (size_t i = 0; i < json_array_size(gpus); i++)
    if (gpu[0] && strcmp(rr_str(json_array_get(gpus, i), "gpu"), gpu) == 0)
      mine = json_array_get(gpus, i);
  json_t *lotv = json_object_get(mine, "silicon_lot");
  long long lot = json_is_integer(lotv) ? (long long)json_integer_value(lotv) : -1;
  char key[96];
  snprintf(key, sizeof key, "%s/%s", rr_str(trig, "metric"), strrchr(gpu, '/') ? strrchr(gpu, '/') + 1 : "");
  rr_series sbe;
  rr_series_get(a->ctx, key, 0, &sbe);
  const json_t *peer = json_object_get(a->ctx, "gpu_peer_median");
  const char *who = gpu[0] ? gpu : a->node;
  sb_addf(&a->root, "HBM degradation on %s: its single-bit ECC (SBE) errors are trending up", who);
  if (sbe.n > 1)
    sb_addf(&a->root, " (%.0f -> %.0f per detection block over the hour)", sbe.v[0], sbe.v[sbe.n - 1]);
  if (mine && isfinite(rr_num(mine, "dbe_per_5min")))
    sb_addf(&a->root, " with no uncorrectable errors yet (DBE count %.0f)",
            rr_num(mine, "dbe_per_5min"));
  if (mine && isfinite(rr_num(peer, "sm_util_pct")))
    sb_addf(&a->root, " and no performance impact yet (SM utilisation %.1f%% against a peer "
                      "median of %.1f%%)",
            rr_num(mine, "sm_util_pct"), rr_num(peer, "sm_util_pct"));
  sb_addf(&a->root, ".");
  rd_tenant(a, a->tenant);
  strbuf others = {0};
  const json_t *same = json_object_get(json_object_get(a->ctx, "same_signal_elsewhere"), "nodes");
  for (size_t i = 0; lot >= 0 && i < json_array_size(same); i++) {
    const json_t *x = json_array_get(same, i);
    json_t *l = json_object_get(x, "silicon_lot");
    if (!json_is_integer(l) || json_integer_value(l) != lot)
      continue;
    sb_addf(&others, "%s%s (%s)", others.len ? ", " : "", rr_str(x, "gpu"), rr_str(x, "tenant"));
    rd_tenant(a, rr_str(x, "tenant"));
  }
  char *o = sb_take(&others);
  if (lot >= 0) {
    sb_addf(&a->root, " Its HBM is from silicon lot %lld", lot);
    if (o && o[0])
      sb_addf(&a->root, ", and other GPUs of lot %lld show the same signal: %s", lot, o);
    sb_addf(&a->root, ".");
    rd_push(a->chain, "HBM cells of silicon lot %lld degrade", lot);
  }
  rd_push(a->chain, "correctable single-bit errors rise on %s", who);
  rd_push(a->chain, "no performance impact yet: utilisation and temperature match the peers");
  rd_push(a->chain, "an uncorrectable (double-bit) error would crash the workload on that GPU");
  rd_push(a->actions, "Preemptively drain %s before an uncorrectable error (drain before failure)",
          a->node);
  if (lot >= 0) {
    rd_push(a->actions, "For training jobs on lot %lld GPUs: checkpoint, then migrate them to spare "
                        "nodes",
            lot);
    rd_push(a->actions, "Audit every GPU of silicon lot %lld for rising SBE counts", lot);
  } else {
    rd_push(a->actions, "For training jobs on %s: checkpoint, then migrate to a spare node", a->node);
  }
  rd_push(a->actions, "Open an RMA for %s", who);
  if (json_array_size(a->tenants) > 1)
    sb_addf(&a->cross, "Cross-tenant through the silicon lot: its GPUs sit in training and "
                       "inference nodes alike; no performance impact yet.");
  else
    sb_addf(&a->cross, "No other tenant shows the signal yet; no performance impact yet.");
  if (lot >= 0)
    sb_addf(&a->scope, "%s (silicon lot %lld)%s%s", who, lot, o && o[0] ? "; also " : "",
            o && o[0] ? o : "");
  else
    sb_addf(&a->scope, "%s", who);
  free(o);
  a->priority = "P2";
  a->confidence = 0.8;
  return 1;
}

static int rd_fabric(rd_answer *a) {
  const json_t *cmp = json_object_get(a->rack, "rack_vs_fleet");
  const json_t *ib = json_object_get(cmp, "ib_port_rcv_errors_total");
  const json_t *rx = json_object_get(cmp, "rdma_retransmits_total");
  const json_t *table = json_object_get(a->rack, "node_table");
  sb_addf(&a->root, "InfiniBand fabric microbursts behind the leaf switch of %s", a->rack_name);
  if (isfinite(rr_num(ib, "rack_mean")))
    sb_addf(&a->root, ": IB port receive errors average %.1f per node in %s against %.3f "
                      "fleet-wide",
            rr_num(ib, "rack_mean"), a->rack_name, rr_num(ib, "fleet_mean"));
  if (isfinite(rr_num(rx, "rack_mean")))
    sb_addf(&a->root, ", RDMA retransmits %.1f against %.3f", rr_num(rx, "rack_mean"),
            rr_num(rx, "fleet_mean"));
  sb_addf(&a->root, ". MoE expert-parallel all-to-all bursts overflow the switch buffers.");
  double ttft = rd_table_max(table, "ttft_ms", "training", 1);
  double wait = rd_table_max(table, "allreduce_wait_ms", "training", 0);
  rd_push(a->chain, "MoE all-to-all traffic bursts into the leaf switch of %s", a->rack_name);
  rd_push(a->chain, "its buffers overflow: receive errors and RDMA retransmits on the nodes behind "
                    "it");
  if (isfinite(ttft))
    rd_push(a->chain, "inference: tail latency (TTFT up to %.1f ms in %s)", ttft, a->rack_name);
  if (isfinite(wait))
    rd_push(a->chain, "training: all-reduce jitter (wait up to %.1f ms in %s)", wait, a->rack_name);
  rd_push(a->actions, "Isolate MoE all-to-all traffic in its own QoS class / virtual lane on the "
                      "leaf switch of %s",
          a->rack_name);
  rd_push(a->actions, "Enable or tune ECN congestion control and adaptive routing on that leaf");
  rd_push(a->actions, "Rate-limit MoE expert-parallel bursts until the buffers stop overflowing");
  rd_push(a->actions, "Check the leaf switch's port discard and buffer counters");
  rd_rack_tenants(a);
  sb_addf(&a->cross, "Cross-tenant, one root cause with different mechanisms: inference sees tail "
                     "latency while training sees all-reduce jitter.");
  sb_addf(&a->scope, "leaf switch of %s (every node of the rack)", a->rack_name);
  a->priority = "P2";
  a->confidence = 0.75;
  return 1;
}

static int rd_thermal(rd_answer *a) {
  const json_t *cmp = json_object_get(a->rack, "rack_vs_fleet");
  const json_t *inlet = json_object_get(cmp, "inlet_temp_celsius");
  const json_t *table = json_object_get(a->rack, "node_table");
  json_t *rowv = json_object_get(a->rack, "row");
  rr_series in, step;
  rr_series_get(a->ctx, "inlet_temp_celsius", 0, &in);
  rr_series_get(a->ctx, "step_time_ms", 0, &step);
  int imax = rr_series_extreme(&in, 1), smax = rr_series_extreme(&step, 1);
  sb_addf(&a->root, "Cooling failure: ");
  if (json_is_integer(rowv))
    sb_addf(&a->root, "the CRAH of row %lld is not cooling %s", (long long)json_integer_value(rowv),
            a->rack_name);
  else
    sb_addf(&a->root, "the cooling of %s is failing", a->rack_name);
  if (isfinite(rr_num(inlet, "rack_mean")))
    sb_addf(&a->root, ": inlet air averages %.1f C in %s against %.1f C fleet-wide",
            rr_num(inlet, "rack_mean"), a->rack_name, rr_num(inlet, "fleet_mean"));
  if (imax >= 0)
    sb_addf(&a->root, " (%s peaked at %.1f C)", a->node, in.v[imax]);
  sb_addf(&a->root, "; GPU junction temperatures follow and clocks throttle.");
  double t_train = rd_table_max(table, "gpu_temp_mean_c", "training", 0);
  double t_inf = rd_table_max(table, "gpu_temp_mean_c", "training", 1);
  double s_train = rd_table_max(table, "throttled_share_max", "training", 0);
  double s_inf = rd_table_max(table, "throttled_share_max", "training", 1);
  if (isfinite(t_train) && isfinite(t_inf))
    sb_addf(&a->cross,
            "Training nodes in %s run hottest (GPUs up to %.1f C, throttled share %.2f) and are "
            "hit first; inference nodes (GPUs up to %.1f C, throttled share %.2f) have more "
            "headroom and degrade later.",
            a->rack_name, t_train, s_train, t_inf, s_inf);
  else
    sb_addf(&a->cross, "Training GPUs run hottest and throttle first; inference has more "
                       "headroom and degrades later.");
  rd_push(a->chain, "the CRAH cooling of the row fails");
  if (imax > 0)
    rd_push(a->chain, "inlet temperature on %s rises (%s: %.1f -> %.1f C)", a->rack_name, a->node,
            in.v[0], in.v[imax]);
  if (smax > 0 && step.v[smax] > step.v[0])
    rd_push(a->chain, "the inlet rise pushes GPU junction temperatures up until clocks throttle and "
                      "the training step time slows (%.0f -> %.0f ms)",
            step.v[0], step.v[smax]);
  else
    rd_push(a->chain, "the inlet rise pushes GPU junction temperatures up until clocks throttle");
  rd_push(a->chain, "training GPUs are hit first; inference latency follows later");
  if (json_is_integer(rowv))
    rd_push(a->actions, "Dispatch facilities to the CRAH of row %lld; raise the airflow of the "
                        "neighbouring CRAHs",
            (long long)json_integer_value(rowv));
  else
    rd_push(a->actions, "Dispatch facilities to the cooling of %s", a->rack_name);
  rd_push(a->actions, "Checkpoint the training jobs on %s before any drain", a->rack_name);
  rd_push(a->actions, "Then migrate or drain the hottest training nodes of %s to cooler racks",
          a->rack_name);
  rd_push(a->actions, "Shift inference traffic away from %s if junction temperatures keep rising",
          a->rack_name);
  rd_rack_tenants(a);
  sb_addf(&a->scope, "%s (multi-node, rack-level)", a->rack_name);
  a->priority = "P1";
  a->confidence = 0.8;
  return 1;
}

static void rd_generic(rd_answer *a) {
  const json_t *trig = json_object_get(a->ev, "trigger");
  sb_addf(&a->root, "No known failure signature: the deviation on %s is isolated (no "
                    "corroborating signal) and looks like normal variation of the workload.",
          a->node);
  rd_push(a->chain, "%s on %s: z=%.1f, %.4g against a baseline of %.4g", rr_str(trig, "metric"),
          a->node, rr_num(trig, "z"), rr_num(trig, "value"), rr_num(trig, "baseline"));
  rd_push(a->actions, "Keep watching %s; escalate if the deviation persists over the next "
                      "detection steps",
          a->node);
  rd_tenant(a, a->tenant);
  sb_addf(&a->cross, "None observed.");
  sb_addf(&a->scope, "%s", a->node);
  a->priority = "P4";
  a->confidence = 0.5;
}

char *rules_l3(const json_t *ctx) {
  rd_answer a = {.ctx = ctx};
  a.ev = json_object_get(ctx, "event");
  a.rack = json_object_get(ctx, "rack");
  a.job = json_object_get(json_object_get(ctx, "tenant_context"), "job");
  a.node = rr_str(a.ev, "node")[0] ? rr_str(a.ev, "node") : "the node";
  a.rack_name = rr_str(a.ev, "rack")[0] ? rr_str(a.ev, "rack") : "the rack";
  a.tenant = rr_str(a.ev, "tenant");
  a.job_name = json_is_object(a.job) ? rr_str(a.job, "id") : "";
  a.chain = json_array();
  a.actions = json_array();
  a.tenants = json_array();
  switch (rules_family(ctx)) {
  case RR_STRAGGLER:
    if (json_is_object(a.job) && a.job_name[0] && rd_straggler(&a))
      break;
    rd_generic(&a);
    break;
  case RR_ROUTING:
    rd_routing(&a);
    break;
  case RR_KV:
    rd_kv(&a);
    break;
  case RR_HBM:
    rd_hbm(&a);
    break;
  case RR_FABRIC:
    rd_fabric(&a);
    break;
  case RR_THERMAL:
    rd_thermal(&a);
    break;
  case RR_NONE:
    rd_generic(&a);
    break;
  }
  char *root = sb_take(&a.root), *cross = sb_take(&a.cross), *scope = sb_take(&a.scope);
  json_t *o = root && cross && scope ? json_object() : NULL;
  if (o) {
    json_object_set_new(o, "root_cause", json_string(root));
    json_object_set_new(o, "confidence", json_real(a.confidence));
    json_object_set_new(o, "affected_scope", json_string(scope));
    json_object_set(o, "tenant_types", a.tenants);
    json_object_set_new(o, "cross_tenant_impact", json_string(cross));
    json_object_set(o, "causal_chain", a.chain);
    json_object_set(o, "recommended_actions", a.actions);
    json_object_set_new(o, "priority", json_string(a.priority));
  }
  json_decref(a.tenants);
  json_decref(a.chain);
  json_decref(a.actions);
  free(root);
  free(cross);
  free(scope);
  char *s = o ? json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(3)) : NULL;
  json_decref(o);
  return s;
}

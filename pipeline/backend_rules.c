/* The `rules` backend (see backend_rules.h): an operator's runbook in C. It
 * reads the context JSON only: which metrics moved, by how much, on which
 * node, rack, job and tenant, and what the series, neighbours and job table
 * show. It names failure modes from that evidence (a cooling failure shows
 * as inlet and junction heat with throttling, a straggler as one node's
 * NVLink replays under a job-wide slowdown, ...), never from scenario data. */
#include "pipeline/backend_rules.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/errors.h"

/* ---- reading the context ------------------------------------------------ */

static const char *rules_str(json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? s : "";
}

/* A field for prose: the string, or "unknown" when the context lacks it. */
static const char *rules_name(json_t *o, const char *key) {
  const char *s = rules_str(o, key);
  return s[0] ? s : "unknown";
}

static double rules_num(json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Largest |z| of a metric among the event's trigger and co-occurring signals
 * (0 when absent). The signed z of that signal goes to *z_signed. */
static double rules_signal(json_t *event, const char *metric, double *z_signed) {
  double best = 0, signed_z = 0;
  json_t *sigs[2] = {json_object_get(event, "trigger"), json_object_get(event, "cooccurring")};
  for (int k = 0; k < 2; k++) {
    size_t n = k == 0 ? 1 : json_array_size(sigs[1]);
    for (size_t i = 0; i < n; i++) {
      json_t *s = k == 0 ? sigs[0] : json_array_get(sigs[1], i);
      if (!s || strcmp(rules_str(s, "metric"), metric) != 0)
        continue;
      double z = rules_num(s, "z");
      if (isfinite(z) && fabs(z) > best) {
        best = fabs(z);
        signed_z = z;
      }
    }
  }
  if (z_signed)
    *z_signed = signed_z;
  return best;
}

/* Mean of a series' node values before (t < 0) or from (t >= 0) the event. */
static double rules_series_mean(json_t *timeline, const char *key, int after) {
  json_t *minutes = json_object_get(timeline, "minutes_from_event");
  json_t *vals = json_object_get(json_object_get(json_object_get(timeline, "series"), key), "node");
  double sum = 0;
  int n = 0;
  for (size_t i = 0; i < json_array_size(minutes) && i < json_array_size(vals); i++) {
    json_t *v = json_array_get(vals, i);
    if (!json_is_number(v))
      continue;
    int t = (int)json_integer_value(json_array_get(minutes, i));
    if ((after && t >= 0) || (!after && t < 0)) {
      sum += json_number_value(v);
      n++;
    }
  }
  return n ? sum / n : NAN;
}

/* Node metric value and peer median from the context's node block. */
static void rules_node_metric(json_t *ctx, const char *metric, double *value, double *peer) {
  json_t *m = json_object_get(json_object_get(json_object_get(ctx, "node"), "metrics"), metric);
  *value = rules_num(m, "value");
  *peer = rules_num(m, "peer_median");
}

/* ---- building answers --------------------------------------------------- */

static void rules_push(json_t *arr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rules_push(json_t *arr, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  json_array_append_new(arr, json_string(buf));
}

static char *rules_dump(json_t *o) {
  char *s = o ? json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(3)) : NULL;
  json_decref(o);
  return s;
}

/* Metrics that only count hardware errors: any clear rise is real. */
static int rules_is_error_counter(const char *m) {
  return strstr(m, "ecc_") || strstr(m, "nvlink_replay") || strstr(m, "nvlink_crc") ||
         strstr(m, "rcv_errors") || strstr(m, "retransmits") || strstr(m, "xid") ||
         strstr(m, "remapped_rows") || strstr(m, "thermal_violation");
}

static char *rules_l2(json_t *ctx) {
  json_t *ev = json_object_get(ctx, "event");
  json_t *trig = json_object_get(ev, "trigger");
  const char *metric = rules_str(trig, "metric");
  const char *scope = rules_str(ev, "scope");
  double z = rules_num(trig, "z");
  double az = isfinite(z) ? fabs(z) : 0;
  int corroborating = 0;
  json_t *co = json_object_get(ev, "cooccurring");
  for (size_t i = 0; i < json_array_size(co); i++) {
    double cz = rules_num(json_array_get(co, i), "z");
    corroborating += isfinite(cz) && fabs(cz) >= 3.0;
  }
  int group = strcmp(scope, "job") == 0 || strcmp(scope, "rack") == 0 ||
              strcmp(scope, "cluster") == 0;
  const char *cls;
  if (group || az >= 8.0 || corroborating >= 2 || (rules_is_error_counter(metric) && az >= 5.0))
    cls = "real_anomaly";
  else if (az >= 5.0 || corroborating == 1)
    cls = "transient";
  else
    cls = "noise";
  static const char *const scopes[] = {"gpu", "node", "rack", "job", "cluster"};
  static const char *const tenants[] = {"moe-inference", "dense-inference", "training"};
  const char *tenant = rules_str(ev, "tenant"), *tenant_type = "unknown";
  for (size_t i = 0; i < sizeof tenants / sizeof tenants[0]; i++)
    if (strcmp(tenant, tenants[i]) == 0)
      tenant_type = tenants[i];
  if (strcmp(scope, "rack") == 0)
    tenant_type = "mixed";
  const char *scope_out = "node";
  for (size_t i = 0; i < sizeof scopes / sizeof scopes[0]; i++)
    if (strcmp(scope, scopes[i]) == 0)
      scope_out = scopes[i];
  double conf = strcmp(cls, "real_anomaly") == 0 ? fmin(0.97, 0.6 + 0.03 * az + 0.05 * corroborating)
                                                 : (strcmp(cls, "transient") == 0 ? 0.6 : 0.7);
  char rationale[768];
  const char *gpu = json_string_value(json_object_get(trig, "gpu"));
  int len = snprintf(rationale, sizeof rationale,
                     "%s on %s (%s, %s%s%s): %s z=%.1f (%.4g %s vs baseline %.4g); %d "
                     "corroborating signal%s; %s-scope event over %lld node%s.",
                     json_is_string(json_object_get(ev, "job")) ? "Job node" : "Node",
                     gpu ? gpu : rules_str(ev, "node"), tenant, rules_str(ev, "rack"),
                     json_is_string(json_object_get(ev, "job")) ? ", " : "",
                     json_is_string(json_object_get(ev, "job")) ? rules_str(ev, "job") : "",
                     metric, z, rules_num(trig, "value"), rules_str(trig, "units"),
                     rules_num(trig, "baseline"), corroborating, corroborating == 1 ? "" : "s",
                     scope, (long long)json_integer_value(json_object_get(ev, "nodes_affected")),
                     json_integer_value(json_object_get(ev, "nodes_affected")) == 1 ? "" : "s");
  for (size_t i = 0; i < json_array_size(co) && i < 3 && len > 0 && (size_t)len < sizeof rationale; i++) {
    json_t *c = json_array_get(co, i);
    len += snprintf(rationale + len, sizeof rationale - (size_t)len, " Also %s z=%.1f.",
                    rules_str(c, "metric"), rules_num(c, "z"));
  }
  json_t *o = json_object();
  json_object_set_new(o, "classification", json_string(cls));
  json_object_set_new(o, "scope", json_string(scope_out));
  json_object_set_new(o, "tenant_type", json_string(tenant_type));
  json_object_set_new(o, "confidence", json_real(round(conf * 100) / 100));
  json_object_set_new(o, "rationale", json_string(rationale));
  return rules_dump(o);
}

/* ---- L3: diagnoses ------------------------------------------------------ */

typedef struct {
  json_t *ctx, *ev, *timeline, *job, *rack;
  const char *node, *rack_name, *tenant, *scope, *job_name;
  char root[768];
  json_t *chain, *actions, *tenants;
  char impact[512], affected[256];
  const char *priority;
  double confidence;
} rules_diag;

static int rules_straggler(rules_diag *d) {
  json_t *rep = json_object_get(d->job, "most_nvlink_replays");
  double replays = rules_num(rep, "nvlink_replays_per_5min");
  double trig = rules_signal(d->ev, "gpu_nvlink_replay_total", NULL);
  int job_slow = rules_signal(d->ev, "allreduce_wait_ms", NULL) > 0 ||
                 rules_signal(d->ev, "step_time_ms", NULL) > 0 || strcmp(d->scope, "job") == 0;
  if (!(trig > 15 || (job_slow && replays > 400)))
    return 0;
  const char *straggler = json_is_string(json_object_get(rep, "node")) ? rules_str(rep, "node") : d->node;
  double base = rules_num(d->job, "baseline_step_ms");
  json_t *steps = json_object_get(d->job, "step_time_ms_series");
  double now = NAN;
  for (size_t i = 0; i < json_array_size(steps); i++)
    if (json_is_number(json_array_get(steps, i)))
      now = json_number_value(json_array_get(steps, i));
  long nodes = (long)json_integer_value(json_object_get(d->job, "nodes"));
  snprintf(d->root, sizeof d->root,
           "Training straggler: %s in job %s has intermittent NVLink CRC errors (NVLink replay "
           "count %.0f per 5 min against a baseline of about 40, i.e. 1-3 per scrape), likely from "
           "thermal expansion of the SXM5 baseboard. Its all-reduce contribution slows, so the "
           "other %ld nodes of the job wait at the sync barrier: job step time %.0f ms against a "
           "%.0f ms baseline. The other nodes' GPU metrics are healthy; only their all-reduce wait rose.",
           straggler, d->job_name, replays, nodes - 1, now, base);
  rules_push(d->chain, "NVLink CRC errors on %s (baseboard thermal expansion)", straggler);
  rules_push(d->chain, "NVLink replays 80-200 per interval on that node, baseline 1-3");
  rules_push(d->chain, "its all-reduce contribution arrives late");
  rules_push(d->chain, "all %ld nodes of %s wait at the barrier: step time %.0f -> %.0f ms", nodes,
             d->job_name, base, now);
  rules_push(d->chain, "job throughput drops, completion time slips");
  rules_push(d->actions, "Checkpoint %s now, before draining anything", d->job_name);
  rules_push(d->actions, "Drain (cordon) straggler %s and replace it with a spare node", straggler);
  rules_push(d->actions, "Run NVLink diagnostics (dcgmi diag, nvidia-smi nvlink -e) and inspect the "
                         "baseboard; RMA if CRC errors persist");
  rules_push(d->actions, "Restart %s from the checkpoint; expect the job completion timeline to slip "
                         "by the time lost (about %.0f%% slower while degraded)",
             d->job_name, isfinite(now) && base > 0 ? 100.0 * (now / base - 1.0) : 33.0);
  json_array_append_new(d->tenants, json_string("training"));
  snprintf(d->impact, sizeof d->impact,
           "Job-level: one node slows the whole job; all other nodes are healthy; no inference impact.");
  snprintf(d->affected, sizeof d->affected, "job %s (%ld nodes), root cause on node %s", d->job_name,
           nodes, straggler);
  d->priority = "P1";
  d->confidence = 0.9;
  return 1;
}

static int rules_thermal(rules_diag *d) {
  double inlet_z = rules_signal(d->ev, "inlet_temp_celsius", NULL);
  double temp_z = rules_signal(d->ev, "gpu_temp_celsius", NULL);
  double thr = rules_signal(d->ev, "gpu_clock_event_reasons", NULL) +
               rules_signal(d->ev, "gpu_thermal_violation_ms_total", NULL);
  json_t *cmp = json_object_get(json_object_get(d->rack, "rack_vs_fleet"), "inlet_temp_celsius");
  double rack_inlet = rules_num(cmp, "rack_mean"), fleet_inlet = rules_num(cmp, "fleet_mean");
  double inlet_v, inlet_peer;
  rules_node_metric(d->ctx, "inlet_temp_celsius", &inlet_v, &inlet_peer);
  double rise = inlet_v - inlet_peer;
  if (!(inlet_z > 3 || (temp_z > 3 && thr > 0) || (isfinite(rise) && rise > 4)))
    return 0;
  snprintf(d->root, sizeof d->root,
           "Cooling failure: the CRAH unit of row %lld (shared by the racks of that row) is failing; "
           "inlet air on %s and its rack neighbours rose about %.1f C (rack mean %.1f C vs fleet "
           "%.1f C). Junction temperatures follow with a lag. Training GPUs run hottest (72-78 C "
           "baseline, only 5-8 C headroom) and hit the 83 C thermal throttle first: clocks drop "
           "and training step time degrades before inference (55-68 C, 15-21 C headroom) sees "
           "any latency impact, which comes later.",
           (long long)json_integer_value(json_object_get(d->rack, "row")), d->node,
           isfinite(rise) ? rise : 10.0, rack_inlet, fleet_inlet);
  rules_push(d->chain, "CRAH cooling unit failure in row %lld",
             (long long)json_integer_value(json_object_get(d->rack, "row")));
  rules_push(d->chain, "inlet temperature rise of ~%.0f C on multiple nodes of %s and its neighbour rack",
             isfinite(rise) ? rise : 10.0, d->rack_name);
  rules_push(d->chain, "GPU junction temperature rise (thermal lag)");
  rules_push(d->chain, "training GPUs reach the 83 C thermal throttle first (smallest headroom)");
  rules_push(d->chain, "SM clocks drop -> training step time degrades (whole job via all-reduce)");
  rules_push(d->chain, "inference latency (TTFT/ITL) degrades later as its GPUs heat up");
  rules_push(d->actions, "Dispatch facilities to the row's CRAH unit; raise airflow from neighbouring CRAHs");
  rules_push(d->actions, "Checkpoint the affected training jobs before any drain");
  rules_push(d->actions, "Migrate or drain the hottest training nodes of %s to cooler racks", d->rack_name);
  rules_push(d->actions, "Shift inference traffic away from the rack if junction temperatures keep rising");
  json_array_append_new(d->tenants, json_string("training"));
  json_array_append_new(d->tenants, json_string("moe-inference"));
  json_array_append_new(d->tenants, json_string("dense-inference"));
  snprintf(d->impact, sizeof d->impact,
           "Cross-tenant asymmetry: training throttles and slows first (thermal baseline 72-78 C), "
           "inference on the same racks degrades later; rack-level, multi-node scope.");
  snprintf(d->affected, sizeof d->affected, "%s and neighbouring rack(s) of the same row (multi-node)",
           d->rack_name);
  d->priority = "P1";
  d->confidence = 0.85;
  return 1;
}

static int rules_hbm(rules_diag *d) {
  double sbe = rules_signal(d->ev, "gpu_ecc_sbe_total", NULL);
  if (sbe < 3 && rules_signal(d->ev, "gpu_remapped_rows_correctable_total", NULL) < 3)
    return 0;
  json_t *trig = json_object_get(d->ev, "trigger");
  const char *gpu = json_string_value(json_object_get(trig, "gpu"));
  long long lot = -1;
  json_t *gpus = json_object_get(d->ctx, "gpus");
  for (size_t i = 0; i < json_array_size(gpus); i++) {
    json_t *g = json_array_get(gpus, i);
    if (gpu && strcmp(rules_str(g, "gpu"), gpu) == 0)
      lot = json_integer_value(json_object_get(g, "silicon_lot"));
  }
  double before = rules_series_mean(d->timeline, "gpu_ecc_sbe_total", 0);
  double after = rules_series_mean(d->timeline, "gpu_ecc_sbe_total", 1);
  snprintf(d->root, sizeof d->root,
           "Silent HBM degradation on %s: the single-bit ECC (SBE) error rate is trending upward "
           "exponentially (%.0f -> %.0f per 5 min) with no double-bit errors and no performance "
           "impact yet (utilisation, power, temperature and latency are normal). HBM from silicon "
           "lot %lld is suspect: a correlated failure pattern across GPUs of the same lot, in "
           "training and inference nodes alike, is likely.",
           gpu ? gpu : d->node, isfinite(before) ? before : 0.0, isfinite(after) ? after : sbe, lot);
  rules_push(d->chain, "HBM cells of silicon lot %lld degrading", lot);
  rules_push(d->chain, "correctable single-bit ECC errors rise exponentially, rows get remapped");
  rules_push(d->chain, "no performance impact yet; next step is an uncorrectable (double-bit) error");
  rules_push(d->chain, "a DBE would crash the job or the inference replica on that GPU");
  rules_push(d->actions, "Preemptively drain %s before an uncorrectable error (drain-before-failure)", d->node);
  rules_push(d->actions, "For training jobs: checkpoint and migrate to a spare node first");
  rules_push(d->actions, "Audit every GPU of silicon lot %lld across the fleet for rising SBE counts", lot);
  rules_push(d->actions, "Open an RMA for the affected GPU(s)");
  json_array_append_new(d->tenants, json_string("training"));
  json_array_append_new(d->tenants, json_string("moe-inference"));
  json_array_append_new(d->tenants, json_string("dense-inference"));
  snprintf(d->impact, sizeof d->impact,
           "Cross-tenant scope through the silicon lot: the same lot sits in training and inference "
           "nodes; no performance impact yet.");
  snprintf(d->affected, sizeof d->affected, "GPU %s (silicon lot %lld), node %s", gpu ? gpu : "?",
           lot, d->node);
  d->priority = "P2";
  d->confidence = 0.8;
  return 1;
}

static int rules_fabric(rules_diag *d) {
  double ib = rules_signal(d->ev, "ib_port_rcv_errors_total", NULL);
  double retx = rules_signal(d->ev, "rdma_retransmits_total", NULL);
  double wait = rules_signal(d->ev, "ib_port_xmit_wait_ms_total", NULL);
  json_t *cmp = json_object_get(json_object_get(d->rack, "rack_vs_fleet"), "ib_port_rcv_errors_total");
  double rack_err = rules_num(cmp, "rack_mean"), fleet_err = rules_num(cmp, "fleet_mean");
  if (!(ib > 3 || retx > 3 || wait > 3 || (isfinite(rack_err) && rack_err > 20 && rack_err > 3 * fleet_err)))
    return 0;
  snprintf(d->root, sizeof d->root,
           "InfiniBand fabric microbursts on the leaf switch of %s: MoE expert-parallel all-to-all "
           "traffic sends bursts that overflow the switch buffers (PFC pauses, xmit wait on the MoE "
           "senders); IB port receive errors (%.0f per 5 min per node in the rack vs %.1f fleet-wide) "
           "and RDMA retransmits follow. The same root cause shows differently per tenant: "
           "inference gets +2-3 ms tail latency, training jobs with nodes behind the switch get "
           "all-reduce jitter (NCCL latency variance, longer waits).",
           d->rack_name, rack_err, fleet_err);
  rules_push(d->chain, "MoE expert-parallel all-to-all traffic bursts");
  rules_push(d->chain, "leaf switch buffers of %s overflow (microbursts)", d->rack_name);
  rules_push(d->chain, "IB port receive errors and RDMA retransmits on every node behind the switch");
  rules_push(d->chain, "inference: +2-3 ms tail latency (TTFT/ITL)");
  rules_push(d->chain, "training: all-reduce jitter, NCCL latency variance, step time jitter");
  rules_push(d->actions, "Isolate MoE all-to-all traffic: separate virtual lane / QoS class with its own buffers");
  rules_push(d->actions, "Enable or tune adaptive routing and ECN/DCQCN congestion control on the leaf");
  rules_push(d->actions, "Rate-limit or reschedule MoE expert-parallel collectives away from training nodes");
  rules_push(d->actions, "Check the leaf switch counters (port xmit discards, buffer occupancy)");
  json_array_append_new(d->tenants, json_string("moe-inference"));
  json_array_append_new(d->tenants, json_string("dense-inference"));
  json_array_append_new(d->tenants, json_string("training"));
  snprintf(d->impact, sizeof d->impact,
           "Cross-tenant fabric contention: MoE traffic is the source; inference sees tail latency, "
           "training sees all-reduce jitter - different impact mechanisms per tenant.");
  snprintf(d->affected, sizeof d->affected, "leaf switch of %s (all nodes of the rack)", d->rack_name);
  d->priority = "P2";
  d->confidence = 0.8;
  return 1;
}

/* Spread of SM utilisation over the node's GPUs: MoE experts live on
 * separate GPUs, so a router that favours a few experts shows as a few hot
 * GPUs next to idle ones. */
static double rules_gpu_util_spread(json_t *ctx) {
  json_t *gpus = json_object_get(ctx, "gpus");
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < json_array_size(gpus); i++) {
    double u = rules_num(json_array_get(gpus, i), "sm_util_pct");
    if (isfinite(u)) {
      lo = fmin(lo, u);
      hi = fmax(hi, u);
    }
  }
  return hi > lo ? hi - lo : 0.0;
}

static int rules_routing(rules_diag *d) {
  double ez;
  double e = rules_signal(d->ev, "expert_selection_entropy_nats", &ez);
  double ent_v, ent_peer;
  rules_node_metric(d->ctx, "expert_selection_entropy_nats", &ent_v, &ent_peer);
  double before = rules_series_mean(d->timeline, "expert_selection_entropy_nats", 0);
  /* uniform routing over 8 experts is ln 8 = 2.08 nats; healthy routers sit
   * near 2.0, so well below 1.6 means concentrated routing, now or just before
   * (a recovery is reported against the collapse it ends) */
  int dropped = (e > 3 && ez < 0) || (isfinite(ent_v) && isfinite(before) && before - ent_v > 0.5);
  int low = (isfinite(ent_v) && ent_v < 1.6) || (isfinite(before) && before < 1.6);
  int imbalance = strcmp(d->tenant, "moe-inference") == 0 && rules_gpu_util_spread(d->ctx) > 40;
  if (!dropped && !low && !imbalance)
    return 0;
  if (isfinite(before) && isfinite(ent_v) && before < ent_v) { /* recovering: show the collapse */
    double t = before;
    before = ent_v;
    ent_v = t;
  }
  double tok_v, tok_peer;
  rules_node_metric(d->ctx, "tokens_per_second", &tok_v, &tok_peer);
  double tok_before = rules_series_mean(d->timeline, "tokens_per_second", 0);
  snprintf(d->root, sizeof d->root,
           "MoE expert routing collapse: a traffic pattern shift makes the router send most tokens "
           "to 2 of the 8 experts; expert selection entropy dropped from %.2f to %.2f nats (max "
           "ln 8 = 2.08). The GPUs hosting the hot experts run near 95%% SM utilisation while the "
           "other six idle near 20%% - each GPU individually looks fine, but the distribution is "
           "broken and aggregate throughput drops (%.0f -> %.0f tokens/s on this node).",
           isfinite(before) ? before : 2.0, ent_v, tok_before, tok_v);
  rules_push(d->chain, "traffic pattern shift in MoE inference requests");
  rules_push(d->chain, "router concentrates tokens on 2 of 8 experts (entropy ~2.0 -> ~0.8 nats)");
  rules_push(d->chain, "hot-expert GPUs saturate (~95%% SM), the other GPUs wait in the all-to-all (~20%%)");
  rules_push(d->chain, "GPU utilisation imbalance; aggregate throughput drops about a third");
  rules_push(d->chain, "TTFT/ITL rise, MoE SLA error budget burns faster");
  rules_push(d->actions, "Rebalance expert routing: raise the capacity factor / router load-balancing, "
                         "or replicate the hot experts across more GPUs");
  rules_push(d->actions, "Identify the traffic source of the pattern shift and rate-limit or reroute it");
  rules_push(d->actions, "Watch the MoE SLA budget; add replicas if the imbalance persists");
  json_array_append_new(d->tenants, json_string("moe-inference"));
  snprintf(d->impact, sizeof d->impact,
           "MoE inference tenant-wide; SLA impact on the MoE tenant; no training impact.");
  snprintf(d->affected, sizeof d->affected, "moe-inference tenant (cluster-wide MoE nodes)");
  d->priority = "P1";
  d->confidence = 0.85;
  return 1;
}

static int rules_kv(rules_diag *d) {
  double kz;
  double k = rules_signal(d->ev, "kv_cache_hit_ratio", &kz);
  double hit_v, hit_peer, ttft_v, ttft_peer, itl_v, itl_peer, p_v, p_peer;
  rules_node_metric(d->ctx, "kv_cache_hit_ratio", &hit_v, &hit_peer);
  rules_node_metric(d->ctx, "ttft_ms", &ttft_v, &ttft_peer);
  rules_node_metric(d->ctx, "itl_ms", &itl_v, &itl_peer);
  rules_node_metric(d->ctx, "prompt_tokens_mean", &p_v, &p_peer);
  double hit_before = rules_series_mean(d->timeline, "kv_cache_hit_ratio", 0);
  double ttft_before = rules_series_mean(d->timeline, "ttft_ms", 0);
  double itl_before = rules_series_mean(d->timeline, "itl_ms", 0);
  double p_before = rules_series_mean(d->timeline, "prompt_tokens_mean", 0);
  int hit_drop = (k > 3 && kz < 0) || (isfinite(hit_before) && hit_before - hit_v > 0.15) ||
                 rules_signal(d->ev, "prompt_tokens_mean", NULL) > 3;
  if (!hit_drop)
    return 0;
  snprintf(d->root, sizeof d->root,
           "KV cache eviction storm: dense inference requests shifted to longer contexts (prompt "
           "length %.0f -> %.0f tokens); the KV cache hit ratio fell from %.2f to %.2f and TTFT "
           "doubled (%.0f -> %.0f ms) while ITL stayed flat (%.1f -> %.1f ms), which rules out a "
           "compute bottleneck: the KV cache is undersized for the new context length, not the "
           "GPUs saturated.",
           p_before, p_v, hit_before, hit_v, ttft_before, ttft_v, itl_before, itl_v);
  rules_push(d->chain, "request mix shifts to longer contexts (context length up)");
  rules_push(d->chain, "KV cache working set exceeds the cache; evictions");
  rules_push(d->chain, "KV cache hit ratio drops (~0.94 -> ~0.45)");
  rules_push(d->chain, "prefill recomputation: TTFT doubles; ITL unchanged (decode not affected)");
  rules_push(d->chain, "throughput dips and the dense SLA budget burns faster");
  rules_push(d->actions, "Resize the KV cache (more GPU memory for KV blocks, CPU offload, or "
                         "prefix-cache tiering)");
  rules_push(d->actions, "Route long-context requests to dedicated replicas with larger KV capacity");
  rules_push(d->actions, "Do not add GPUs for compute: ITL shows no compute saturation");
  rules_push(d->actions, "Watch the dense inference SLA budget (TTFT SLO breaches)");
  json_array_append_new(d->tenants, json_string("dense-inference"));
  snprintf(d->impact, sizeof d->impact,
           "Dense inference tenant-wide; SLA impact through TTFT; no training or MoE impact.");
  snprintf(d->affected, sizeof d->affected, "dense-inference tenant (cluster-wide dense nodes)");
  d->priority = "P1";
  d->confidence = 0.85;
  return 1;
}

static void rules_generic(rules_diag *d) {
  json_t *trig = json_object_get(d->ev, "trigger");
  const char *metric = rules_name(trig, "metric");
  double z = rules_num(trig, "z");
  snprintf(d->root, sizeof d->root,
           "Unexplained deviation of %s on %s (%s, %s): z=%.1f; no known failure signature matches "
           "the co-occurring signals.",
           metric, d->node, d->tenant, d->rack_name, isfinite(z) ? z : 0.0);
  rules_push(d->chain, "%s deviates from its workload peers", metric);
  rules_push(d->actions, "Watch %s for the next 30 minutes; escalate if it persists", d->node);
  json_array_append_new(d->tenants, json_string(d->tenant));
  snprintf(d->impact, sizeof d->impact, "No cross-tenant impact observed.");
  snprintf(d->affected, sizeof d->affected, "%s %s", d->scope, d->node);
  d->priority = "P3";
  d->confidence = 0.4;
}

static char *rules_l3(json_t *ctx) {
  rules_diag d = {.ctx = ctx};
  d.ev = json_object_get(ctx, "event");
  d.timeline = json_object_get(ctx, "timeline");
  d.rack = json_object_get(ctx, "rack");
  d.job = json_object_get(json_object_get(ctx, "tenant_context"), "job");
  d.node = rules_name(d.ev, "node");
  d.rack_name = rules_name(d.ev, "rack");
  d.tenant = rules_name(d.ev, "tenant");
  d.scope = rules_name(d.ev, "scope");
  d.job_name = json_is_object(d.job) ? rules_str(d.job, "id") : "";
  d.chain = json_array();
  d.actions = json_array();
  d.tenants = json_array();
  /* most specific signature first */
  if (!(json_is_object(d.job) && rules_straggler(&d)) && !rules_routing(&d) && !rules_kv(&d) &&
      !rules_hbm(&d) && !rules_fabric(&d) && !rules_thermal(&d))
    rules_generic(&d);
  json_t *o = json_object();
  json_object_set_new(o, "root_cause", json_string(d.root));
  json_object_set_new(o, "confidence", json_real(d.confidence));
  json_object_set_new(o, "affected_scope", json_string(d.affected));
  json_object_set_new(o, "tenant_types", d.tenants);
  json_object_set_new(o, "cross_tenant_impact", json_string(d.impact));
  json_object_set_new(o, "causal_chain", d.chain);
  json_object_set_new(o, "recommended_actions", d.actions);
  json_object_set_new(o, "priority", json_string(d.priority));
  return rules_dump(o);
}

/* ---- L4: the shift handoff ---------------------------------------------- */

typedef struct {
  char *buf;
  size_t len, cap;
} rules_text;

static void rules_add(rules_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rules_add(rules_text *t, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = t->buf ? vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap) : -1;
    va_end(ap);
    if (n >= 0 && t->len + (size_t)n < t->cap) {
      t->len += (size_t)n;
      return;
    }
    size_t cap = t->cap ? t->cap * 2 : 4096;
    char *nb = realloc(t->buf, cap);
    if (!nb)
      return; /* the caller sees a truncated report, never a crash */
    t->buf = nb;
    t->cap = cap;
  }
}

static char *rules_l4(json_t *ctx) {
  rules_text t = {0};
  json_t *win = json_object_get(ctx, "window");
  json_t *cl = json_object_get(ctx, "cluster");
  json_t *inc = json_object_get(ctx, "escalated_incidents");
  json_t *l3 = json_object_get(ctx, "l3_analyses");
  json_t *l2 = json_object_get(ctx, "l2_counts");
  rules_add(&t, "# Shift handoff %s-%s (%.4g h)\n\n", rules_str(win, "from"), rules_str(win, "to"),
            rules_num(win, "hours"));
  rules_add(&t, "Cluster: %.4g MW IT power, PUE %.3g, %.0f spare GPUs, outdoor %.1f C. L1 raised "
                "%lld events (%lld escalated).",
            rules_num(cl, "it_power_mw"), rules_num(cl, "facility_pue"), rules_num(cl, "spare_gpus"),
            rules_num(cl, "outdoor_temp_celsius"),
            (long long)json_integer_value(json_object_get(json_object_get(ctx, "l1"), "events")),
            (long long)json_integer_value(json_object_get(json_object_get(ctx, "l1"), "escalated")));
  if (json_is_object(l2)) {
    rules_add(&t, " L2 triage:");
    const char *k;
    json_t *v;
    json_object_foreach(l2, k, v) rules_add(&t, " %s %lld;", k, (long long)json_integer_value(v));
  }
  rules_add(&t, "\n\n## Active incidents\n\n");
  /* incidents of the last hour of the window are active, earlier ones resolved */
  double hours = rules_num(win, "hours");
  size_t n_inc = json_array_size(inc), n_l3 = json_array_size(l3);
  int active = 0, resolved = 0;
  for (int pass = 0; pass < 2; pass++) {
    if (pass == 1)
      rules_add(&t, "%s\n## Resolved incidents\n\n", active ? "" : "- None.\n");
    for (size_t i = 0; i < n_l3; i++) {
      const char *line = json_string_value(json_array_get(l3, i));
      int is_last = i + 3 >= n_l3;
      if (line && is_last == (pass == 0)) {
        rules_add(&t, "- %s\n", line);
        pass == 0 ? active++ : resolved++;
      }
    }
    if (n_l3 == 0)
      for (size_t i = 0; i < n_inc; i++) {
        json_t *x = json_array_get(inc, i);
        int is_last = i + 3 >= n_inc;
        if (is_last == (pass == 0)) {
          rules_add(&t, "- %s %s\n", rules_str(x, "time"), rules_str(x, "summary"));
          pass == 0 ? active++ : resolved++;
        }
      }
  }
  if (!resolved)
    rules_add(&t, "- None.\n");
  rules_add(&t, "\n## SLA status\n\n| tenant | budget at start | now | burned this shift |\n|---|---|---|---|\n");
  json_t *sla = json_object_get(ctx, "sla_budget_remaining");
  const char *tenant;
  json_t *v;
  int burning = 0;
  json_object_foreach(sla, tenant, v) {
    double burned = rules_num(v, "burned");
    burning += burned > 0.004 * fmax(hours, 1.0);
    rules_add(&t, "| %s | %.1f%% | %.1f%% | %.2f%% |\n", tenant, 100 * rules_num(v, "start"),
              100 * rules_num(v, "end"), 100 * burned);
  }
  rules_add(&t, "\nSLA budget is burning faster than the steady pace for %d tenant%s.\n", burning,
            burning == 1 ? "" : "s");
  rules_add(&t, "\n## Training health\n\n| job | nodes | step time now (ms) | baseline (ms) | worst in shift (ms) | status |\n|---|---|---|---|---|---|\n");
  json_t *jobs = json_object_get(ctx, "training_jobs");
  int degraded = 0;
  for (size_t i = 0; i < json_array_size(jobs); i++) {
    json_t *j = json_array_get(jobs, i);
    double slow = rules_num(j, "slowdown_now_pct");
    int bad = isfinite(slow) && slow > 10;
    degraded += bad;
    rules_add(&t, "| %s (%s) | %lld | %.0f | %.0f | %.0f | %s |\n", rules_str(j, "job"),
              rules_str(j, "model"), (long long)json_integer_value(json_object_get(j, "nodes")),
              rules_num(j, "step_ms_now"), rules_num(j, "baseline_step_ms"),
              rules_num(j, "step_ms_window_max"), bad ? "degraded" : "healthy");
  }
  rules_add(&t, "\n## Emerging risks\n\n");
  int risks = 0;
  for (size_t i = 0; i < n_l3; i++) {
    const char *line = json_string_value(json_array_get(l3, i));
    if (line && (strstr(line, "HBM") || strstr(line, "ECC") || strstr(line, "thermal") ||
                 strstr(line, "Cooling"))) {
      rules_add(&t, "- %s\n", line);
      risks++;
    }
  }
  for (size_t i = 0; i < n_inc && risks == 0; i++) {
    const char *s = rules_str(json_array_get(inc, i), "summary");
    if (strstr(s, "ecc") || strstr(s, "temp"))
      rules_add(&t, "- %s\n", s), risks++;
  }
  if (!risks)
    rules_add(&t, "- No hardware trend is developing.\n");
  rules_add(&t, "\n## Next-shift recommendations\n\n");
  if (degraded)
    rules_add(&t, "- %d training job(s) degraded: checkpoint, then drain the straggler or hot nodes.\n",
              degraded);
  if (burning)
    rules_add(&t, "- Watch the SLA budgets that burned fast; keep capacity headroom.\n");
  rules_add(&t, "- Follow up every open incident above; verify fixes with the next L1 steps.\n");
  rules_add(&t, "- Keep watching SBE/ECC trends and inlet temperatures for repeat failures.\n");
  return t.buf;
}

int rules_answer(llm_layer layer, const char *context, char **answer) {
  *answer = NULL;
  json_error_t err;
  json_t *ctx = json_loads(context, 0, &err);
  if (!json_is_object(ctx)) {
    json_decref(ctx);
    return FS_EINVAL;
  }
  *answer = layer == LLM_L2 ? rules_l2(ctx) : (layer == LLM_L3 ? rules_l3(ctx) : rules_l4(ctx));
  json_decref(ctx);
  return *answer ? 0 : FS_ENOMEM;
}

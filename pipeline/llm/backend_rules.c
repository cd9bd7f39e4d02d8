/* The `rules` backend (see backend_rules.h): a rule-based reference tuned to
 * the known fault kinds, not an LLM. It reads the context JSON only (which
 * metrics moved, by how much, on which node, rack, job and tenant, and what
 * the series, neighbours and job table show) and answers from that evidence:
 * L2 triage here, L3 root cause and L4 shift report in rules_diagnose.c and
 * rules_report.c. Every number and entity it states comes from the context. */
#include "pipeline/llm/backend_rules.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/llm/rules_diagnose.h"
#include "src/core/errors.h"
#include "src/core/strbuf.h"

/* Metrics that only count hardware errors: any clear rise is real. */
static int rules_is_error_counter(const char *m) {
  return strstr(m, "ecc_") || strstr(m, "nvlink_replay") || strstr(m, "nvlink_crc") ||
         strstr(m, "rcv_errors") || strstr(m, "retransmits") || strstr(m, "xid") ||
         strstr(m, "remapped_rows") || strstr(m, "thermal_violation");
}

/* The scope and tenant a fault of family f has, given the event's. */
static void rules_extent(rr_family f, const char *scope, const char *tenant, const char **scope_out,
                         const char **tenant_out) {
  switch (f) {
  case RR_THERMAL: /* a rack's air supply, whatever runs in it */
  case RR_FABRIC:  /* a leaf switch: every node behind it */
    *scope_out = "rack";
    *tenant_out = "mixed";
    return;
  case RR_ROUTING: /* the MoE router serves the whole tenant */
    *scope_out = "cluster";
    *tenant_out = "moe-inference";
    return;
  case RR_KV:
    *scope_out = "cluster";
    *tenant_out = "dense-inference";
    return;
  case RR_HBM:
    *scope_out = "gpu";
    *tenant_out = tenant;
    return;
  case RR_STRAGGLER:
    *scope_out = strcmp(scope, "job") == 0 ? "job" : "node";
    *tenant_out = "training";
    return;
  case RR_NONE:
    break;
  }
  static const char *const scopes[] = {"gpu", "node", "rack", "job", "cluster"};
  *scope_out = "node";
  for (size_t i = 0; i < sizeof scopes / sizeof scopes[0]; i++)
    if (strcmp(scope, scopes[i]) == 0)
      *scope_out = scopes[i];
  *tenant_out = strcmp(tenant, "moe-inference") == 0 || strcmp(tenant, "dense-inference") == 0 ||
                        strcmp(tenant, "training") == 0
                    ? tenant
                    : "unknown";
}

/* The node-level evidence that made family f stand out, as a clause. */
static void rules_evidence(strbuf *r, const json_t *ctx, rr_family f) {
  static const char *const node_metric[] = {
      [RR_THERMAL] = "inlet_temp_celsius", [RR_KV] = "kv_cache_hit_ratio",
      [RR_FABRIC] = "ib_port_rcv_errors_total", [RR_ROUTING] = "expert_selection_entropy_nats"};
  const json_t *gpus = json_object_get(ctx, "gpus"), *peer = json_object_get(ctx, "gpu_peer_median");
  if (f == RR_HBM) {
    sb_addf(r, "; a hardware error counter: correctable memory errors are never noise");
    return;
  }
  if (f == RR_STRAGGLER || f == RR_ROUTING) {
    const char *key = f == RR_STRAGGLER ? "nvlink_replays_per_5min" : "sm_util_pct";
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < json_array_size(gpus); i++) {
      double v = rr_num(json_array_get(gpus, i), key);
      if (isfinite(v)) {
        lo = fmin(lo, v);
        hi = fmax(hi, v);
      }
    }
    if (f == RR_STRAGGLER && isfinite(hi))
      sb_addf(r, "; corroborated by NVLink replays up to %.0f per detection block on the node's GPUs against "
                 "a peer median of %.0f",
              hi, rr_num(peer, key));
    else if (isfinite(hi))
      sb_addf(r, "; corroborated by the node's GPU utilisation spread from %.1f%% to %.1f%%", lo,
              hi);
    return;
  }
  double v, p;
  rr_node_metric(ctx, node_metric[f], &v, &p);
  if (isfinite(v) && isfinite(p))
    sb_addf(r, "; corroborated by the node's %s at %.4g against a peer median of %.4g",
            node_metric[f], v, p);
}

static char *rules_l2(const json_t *ctx) {
  const json_t *ev = json_object_get(ctx, "event"), *trig = json_object_get(ev, "trigger");
  const char *metric = rr_str(trig, "metric"), *scope = rr_str(ev, "scope");
  double z = rr_num(trig, "z"), az = isfinite(z) ? fabs(z) : 0;
  rr_family fam = rules_family(ctx);
  /* co-occurring signals of the same family corroborate the trigger */
  const json_t *co = json_object_get(ev, "cooccurring");
  int corroborating = 0;
  for (size_t i = 0; i < json_array_size(co); i++) {
    const json_t *c = json_array_get(co, i);
    double cz = rr_num(c, "z");
    corroborating += isfinite(cz) && fabs(cz) >= 3.0 &&
                     (fam == RR_NONE || rr_family_of_metric(rr_str(c, "metric")) == fam);
  }
  long long nodes = (long long)json_integer_value(json_object_get(ev, "nodes_affected"));
  int group = strcmp(scope, "job") == 0 || strcmp(scope, "rack") == 0 ||
              strcmp(scope, "cluster") == 0;
  const char *cls;
  if (fam != RR_NONE || group || az >= 8.0 || corroborating >= 2 ||
      (rules_is_error_counter(metric) && az >= 5.0))
    cls = "real_anomaly";
  else if (az >= 5.0 || corroborating == 1)
    cls = "transient";
  else
    cls = "noise";
  const char *scope_out, *tenant_out;
  rules_extent(fam, scope, rr_str(ev, "tenant"), &scope_out, &tenant_out);
  strbuf r = {0};
  const char *where = rr_str(trig, "gpu")[0] ? rr_str(trig, "gpu") : rr_str(ev, "node");
  sb_addf(&r, "%s: %s z=%.1f on %s (%.4g %s against a baseline of %.4g)",
          fam != RR_NONE ? rr_family_label(fam) : "No known failure signature", metric, z, where,
          rr_num(trig, "value"), rr_str(trig, "units"), rr_num(trig, "baseline"));
  if (strcmp(cls, "real_anomaly") == 0) {
    for (size_t i = 0, n = 0; i < json_array_size(co) && n < 3; i++) {
      const json_t *c = json_array_get(co, i);
      if (fam != RR_NONE && rr_family_of_metric(rr_str(c, "metric")) != fam)
        continue;
      sb_addf(&r, "%s %s z=%.1f", n++ ? "," : "; corroborated by", rr_str(c, "metric"),
              rr_num(c, "z"));
    }
    if (group)
      sb_addf(&r, "; a %s-wide event over %lld nodes", scope, nodes);
    if (az >= 8.0)
      sb_addf(&r, "; far above its peers");
    if (fam != RR_NONE && !group && corroborating == 0)
      rules_evidence(&r, ctx, fam);
  } else if (strcmp(cls, "transient") == 0) {
    sb_addf(&r, "; a single corroborating signal and no known failure pattern: likely a "
                "short-lived transient");
  } else {
    sb_addf(&r, "; isolated: no corroborating signal, within the normal variation of its peers");
  }
  sb_addf(&r, ".");
  char *rationale = sb_take(&r);
  double conf = strcmp(cls, "real_anomaly") == 0 ? fmin(0.95, 0.6 + 0.02 * az + 0.05 * corroborating)
                                                 : (strcmp(cls, "transient") == 0 ? 0.6 : 0.7);
  json_t *o = rationale ? json_pack("{s:s,s:s,s:s,s:f,s:s}", "classification", cls, "scope",
                                    scope_out, "tenant_type", tenant_out, "confidence",
                                    round(conf * 100) / 100, "rationale", rationale)
                        : NULL;
  free(rationale);
  char *s = o ? json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(3)) : NULL;
  json_decref(o);
  return s;
}

int rules_answer(llm_layer layer, const char *context, char **answer) {
  *answer = NULL;
  json_error_t err;
  json_t *ctx = json_loads(context, 0, &err);
  if (!json_is_object(ctx)) {
    json_decref(ctx);
    return FS_EINVAL;
  }
  *answer = layer == LLM_L2 ? rules_l2(ctx) : layer == LLM_L3 ? rules_l3(ctx) : rules_l4(ctx);
  json_decref(ctx);
  return *answer ? 0 : FS_ENOMEM;
}

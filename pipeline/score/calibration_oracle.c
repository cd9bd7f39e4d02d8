/* The paraphrasing oracle (see calibration_oracle.h): the ground truth of
 * each call, written out in the oracle's own words. Reads ground truth. */
#include "pipeline/score/calibration_oracle.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/llm/llm_schema.h"
#include "pipeline/llm/shift_facts.h"
#include "src/core/errors.h"
#include "src/core/strbuf.h"

/* How the oracle names each fault, in words of its own. */
static const char *const orc_phrase[SK_COUNT] = {
    [SK_thermal_cascade] = "Air handler outage",
    [SK_expert_routing_collapse] = "Router gating collapse on the MoE tier",
    [SK_hbm_degradation] = "Corrected ECC errors climbing (HBM wear)",
    [SK_fabric_microburst] = "Switch congestion on the InfiniBand leaf",
    [SK_kv_cache_eviction_storm] = "Prefix cache thrashing on the dense tier",
    [SK_training_straggler] = "NVLink straggler",
};

static double orc_num(const json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *orc_tenants_all[] = {"moe-inference", "dense-inference", "training"};

/* Bit per tenant of the root-cause nodes of s. */
static unsigned orc_truth_tenants(const scn_def *s, const fleet *f) {
  unsigned bits = 0;
  for (int i = 0; i < s->nnodes; i++)
    bits |= 1u << f->node_tenant[s->nodes[i]];
  return bits;
}

static json_t *orc_tenant_array(unsigned bits) {
  json_t *a = json_array();
  for (int t = 0; a && t < TENANT_COUNT; t++)
    if ((bits >> t) & 1u)
      json_array_append_new(a, json_string(orc_tenants_all[t]));
  return a;
}

/* The place that localizes s for an event: its rack (the event's when it is
 * one of the fault's), its straggler node, or its faulty GPU on the event's
 * node (else the first). */
static void orc_place(const scn_def *s, const fleet *f, const tmap_event *e, char *out, size_t cap) {
  switch (s->kind) {
  case SK_thermal_cascade:
  case SK_fabric_microburst: {
    int rack = f->node_rack[s->nodes[0]];
    for (int i = 0; i < s->nnodes; i++)
      if (f->node_rack[s->nodes[i]] == e->rack)
        rack = e->rack;
    snprintf(out, cap, "rack-%02d", rack);
    return;
  }
  case SK_training_straggler:
    snprintf(out, cap, "node-%04d", s->nodes[0]);
    return;
  case SK_hbm_degradation: {
    int g = s->ngpus ? s->gpus[0] : 0;
    for (int i = 0; i < s->ngpus; i++)
      if (s->gpus[i] / FLEET_GPUS == e->node)
        g = s->gpus[i];
    snprintf(out, cap, "node-%04d/gpu%d", g / FLEET_GPUS, g % FLEET_GPUS);
    return;
  }
  default:
    snprintf(out, cap, "%s", s->kind == SK_expert_routing_collapse ? "the MoE tier" : "the dense tier");
  }
}

/* "GPUs 2 and 5" for the hot GPU mask. */
static void orc_hot(const scn_def *s, char *out, size_t cap) {
  int idx[FLEET_GPUS], n = 0;
  for (int g = 0; g < FLEET_GPUS; g++)
    if ((s->gpu_mask >> g) & 1)
      idx[n++] = g;
  if (n >= 2)
    snprintf(out, cap, "GPUs %d and %d", idx[0], idx[1]);
  else
    snprintf(out, cap, "GPU %d", n ? idx[0] : 0);
}

static char *orc_dump(json_t *o) {
  char *s = o ? json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
  json_decref(o);
  return s;
}

/* ---- L2 ------------------------------------------------------------------- */

static char *orc_l2(const tmap_truth *t, const scn_def *s, const tmap_event *e) {
  static const char *const why[SK_COUNT] = {
      [SK_thermal_cascade] = "Air handler trouble: intake air is well above the usual level for "
                             "this rack and several nodes show it.",
      [SK_expert_routing_collapse] = "Router gating skew: expert usage is concentrated and routing "
                              "entropy sits well below normal across many nodes.",
      [SK_hbm_degradation] = "Corrected ECC errors on this GPU keep rising: a hardware memory "
                             "fault, not noise.",
      [SK_fabric_microburst] = "Switch congestion: InfiniBand receive errors and retransmissions "
                               "are climbing on several nodes behind the same leaf.",
      [SK_kv_cache_eviction_storm] = "Prefix cache thrashing: the cache hit rate is well below normal "
                               "while prompts grow longer.",
      [SK_training_straggler] = "A straggler with NVLink CRC errors holds the job back; the other "
                                "nodes are normal and just wait.",
  };
  if (!s)
    return orc_dump(json_pack("{s:s,s:s,s:s,s:f,s:s}", "classification", "noise", "scope",
                              e->scope >= 0 ? ev_scope_name((ev_scope)e->scope) : "node",
                              "tenant_type",
                              e->tenant >= 0 ? orc_tenants_all[e->tenant] : "unknown",
                              "confidence", 0.7,
                              "rationale", "An isolated blip within the normal range of its peers; "
                                           "nothing corroborates it."));
  const chk_kind_info *ki = chk_kind(t->knowledge, (int)s->kind);
  const char *scope = "node";
  for (int k = EV_SCOPE_COUNT - 1; k >= 0; k--) /* the widest scope the fault has */
    if ((ki->l2_scopes >> k) & 1u)
      scope = ev_scope_name((ev_scope)k);
  if (e->scope >= 0 && (ki->l2_scopes >> e->scope) & 1u)
    scope = ev_scope_name((ev_scope)e->scope);
  unsigned truth = orc_truth_tenants(s, t->f);
  int localized = (ki->l2_scopes & ((1u << EV_SCOPE_GPU) | (1u << EV_SCOPE_NODE))) != 0;
  const char *tenant = "mixed";
  if (localized && e->node >= 0)
    tenant = orc_tenants_all[t->f->node_tenant[e->node]];
  else if (!(truth & (truth - 1)))
    for (int k = 0; k < TENANT_COUNT; k++)
      if (truth == 1u << k)
        tenant = orc_tenants_all[k];
  return orc_dump(json_pack("{s:s,s:s,s:s,s:f,s:s}", "classification", "real_anomaly", "scope",
                            scope, "tenant_type", tenant, "confidence", 0.9, "rationale",
                            why[s->kind]));
}

/* ---- L3 ------------------------------------------------------------------- */

static char *orc_l3(const tmap_truth *t, const scn_def *s, const tmap_event *e) {
  if (!s)
    return orc_dump(json_pack("{s:s,s:f,s:s,s:[],s:s,s:[s],s:[s],s:s}", "root_cause",
                              "A benign fluctuation: nothing is broken here, it is statistical "
                              "noise.",
                              "confidence", 0.7, "affected_scope", "nothing", "tenant_types",
                              "cross_tenant_impact", "Nobody is affected.", "causal_chain",
                              "ordinary load variation moved one metric briefly",
                              "recommended_actions", "Take no action beyond normal monitoring",
                              "priority", "P4"));
  const fleet *f = t->f;
  char place[48], hot[32], job[48] = "";
  orc_place(s, f, e, place, sizeof place);
  orc_hot(s, hot, sizeof hot);
  if (s->kind == SK_training_straggler && s->job >= 0)
    snprintf(job, sizeof job, "%s", f->cfg->jobs[s->job].id);
  strbuf root = {0}, cross = {0}, scope = {0};
  json_t *chain = NULL, *acts = NULL; /* the kind's causal chain and actions */
  switch (s->kind) {
  case SK_thermal_cascade:
    sb_addf(&root, "Air handler outage: the unit feeding %s has stopped delivering cold air, so "
                   "intake air there climbs and the GPUs overheat.", place);
    sb_addf(&cross, "The training servers, which already run closest to their thermal limit, "
                    "lose clock speed ahead of the serving nodes; serving latency only suffers "
                    "later, once their extra headroom is used up.");
    sb_addf(&scope, "%s, many nodes at once", place);
    chain = json_pack("[s,s,s,s]", "the air handler of the row stops",
                      "intake (inlet) air warms by several degrees",
                      "warmer inlet air drives junction temperatures up until "
                      "the clocks throttle and training steps take longer",
                      "serving latency follows later");
    acts = json_pack("[s,s,s]",
                     "Save a checkpoint of every training job on the "
                     "rack first",
                     "After that, migrate the hottest training workloads to "
                     "cooler racks",
                     "Ask facilities to repair the air handler");
    break;
  case SK_expert_routing_collapse:
    sb_addf(&root,
            "The MoE router's gating has collapsed onto a few experts: routing entropy is "
            "far below normal, %s take most tokens and the load across GPUs is badly "
            "skewed.",
            hot);
    sb_addf(&cross, "No single GPU is out of bounds; the problem is the spread across them. The "
                    "moe-inference SLA budget burns faster.");
    sb_addf(&scope, "every MoE node, %s in particular", hot);
    chain = json_pack("[s,s,s,s]",
                      "a change in the incoming request mix shifts "
                      "which experts the tokens need",
                      "routing entropy drops",
                      "the favoured GPUs saturate while the rest sit mostly idle",
                      "tokens per second fall across the tier");
    acts = json_pack("[s,s]",
                     "Retune the router: raise the capacity factor and "
                     "the load-balancing loss so tokens spread out again",
                     "Add replicas of the favoured experts");
    break;
  case SK_hbm_degradation:
    sb_addf(&root,
            "Memory wear on %s: its corrected ECC error count keeps climbing; the part "
            "comes from manufacturing lot %d, like the other flagged GPUs.",
            place, s->lot);
    sb_addf(&cross, "Workloads see nothing yet: throughput and latency are unaffected. The lot "
                    "spans training and inference hosts.");
    sb_addf(&scope, "%s and the other GPUs of lot %d", place, s->lot);
    chain = json_pack("[s,s,s]", "HBM cells of one production lot wear out",
                      "corrected ECC errors climb hour after hour",
                      "an uncorrectable error would end the workload");
    acts = json_pack("[s,s,s]",
                     "Proactively cordon and drain the host before "
                     "it throws an uncorrectable error",
                     "For training, take a checkpoint and then migrate to a "
                     "spare host",
                     "File a warranty return (RMA) with the vendor");
    break;
  case SK_fabric_microburst:
    sb_addf(&root,
            "Top-of-rack switch congestion on %s: bursts of MoE all-to-all traffic "
            "overflow the switch buffers and the InfiniBand ports report receive errors.",
            place);
    sb_addf(&cross, "Both kinds of tenant suffer, in different ways: serving sees longer tail "
                    "latency, while training sees jittery all-reduce times.");
    sb_addf(&scope, "%s behind one leaf", place);
    chain = json_pack("[s,s,s]", "MoE all-to-all bursts hit the leaf",
                      "buffers overflow, packets are retransmitted",
                      "serving tail latency and training all-reduce jitter");
    acts = json_pack("[s,s]",
                     "Put the MoE all-to-all flows in a separate "
                     "traffic class with its own buffers (QoS)",
                     "Turn on ECN-based congestion control on the leaf");
    break;
  case SK_kv_cache_eviction_storm:
    sb_addf(&root, "Prefix cache thrashing on the dense tier: requests now carry much longer "
                   "prompts, the cache hit rate collapsed and time-to-first-token roughly "
                   "doubled.");
    sb_addf(&cross, "Inter-token latency stays steady, so this is not a compute bottleneck; the "
                    "dense-inference SLO budget takes the hit.");
    sb_addf(&scope, "all dense serving nodes");
    chain = json_pack("[s,s,s]", "much longer prompts arrive",
                      "the cache cannot hold them and keeps evicting",
                      "prefill is redone, so the first token comes late");
    acts = json_pack("[s,s]",
                     "Give the KV cache more memory (a larger share of "
                     "GPU memory, or offload to host memory)",
                     "Send long-prompt traffic to replicas with bigger caches");
    break;
  case SK_training_straggler:
    sb_addf(&root,
            "One slow node in %s: %s keeps retrying NVLink transfers (CRC errors), "
            "probably because its baseboard heats up, and the whole job waits for it at "
            "every all-reduce.",
            job, place);
    sb_addf(&cross, "Only this job is hurt; the iteration time of the job climbs, and every "
                    "remaining node of the job looks healthy and just waits on the barrier.");
    sb_addf(&scope, "%s, caused by %s", job, place);
    chain = json_pack("[s,s,s]", "baseboard heat makes NVLink retry transfers",
                      "the node's all-reduce share arrives late", "the whole job waits each step");
    acts = json_pack("[s,s,s]", "Write a checkpoint of the job",
                     "Next, cordon the slow node and take it out of the job",
                     "Restart the job without it; its completion date slips by the hours lost");
    break;
  case SK_COUNT:
    break;
  }
  char *r = sb_take(&root), *c = sb_take(&cross), *sc = sb_take(&scope);
  json_t *o = NULL;
  if (r && c && sc && chain && acts) /* json_pack takes chain and acts (o) */
    o = json_pack("{s:s,s:f,s:s,s:o,s:s,s:o,s:o,s:s}", "root_cause", r, "confidence", 0.9,
                  "affected_scope", sc, "tenant_types", orc_tenant_array(orc_truth_tenants(s, f)),
                  "cross_tenant_impact", c, "causal_chain", chain, "recommended_actions", acts,
                  "priority", "P1");
  else {
    json_decref(chain);
    json_decref(acts);
  }
  free(r);
  free(c);
  free(sc);
  return orc_dump(o);
}

/* ---- L4 ------------------------------------------------------------------- */

static void orc_incident(strbuf *b, const scn_def *s, const fleet *f, const char *verb) {
  tmap_event none = {0, -1, -1, -1, -1, -1, NULL};
  char place[48];
  orc_place(s, f, &none, place, sizeof place);
  sb_addf(b, "- %s%s on %s", verb, orc_phrase[s->kind], place);
  if (s->kind == SK_training_straggler && s->job >= 0)
    sb_addf(b, " (%s)", f->cfg->jobs[s->job].id);
  sb_addf(b, "\n");
}

static char *orc_l4(const tmap_truth *t, const json_t *ctx, const llm_call *c,
                    const double *detected_s) {
  int nscn = t->scenarios ? t->scenarios->n : 0;
  int *idx = calloc((size_t)nscn + 1, sizeof *idx);
  tmap_state *st = calloc((size_t)nscn + 1, sizeof *st);
  if (!idx || !st) {
    free(idx);
    free(st);
    return NULL;
  }
  double hours = orc_num(json_object_get(ctx, "window"), "hours");
  int n = tmap_window(t, hours > 0 ? c->t_s - hours * 3600.0 : -INFINITY, c->t_s, detected_s, idx,
                      st);
  strbuf b = {0};
  sb_addf(&b, "# Handoff\n\n## Active incidents\n\n");
  int any = 0;
  for (int i = 0; i < n; i++)
    if (st[i] & TMAP_ACTIVE) {
      orc_incident(&b, &t->scenarios->s[idx[i]], t->f, "");
      any = 1;
    }
  sb_addf(&b, "%s\n## Resolved incidents\n\n", any ? "" : "- Nothing open.\n");
  any = 0;
  for (int i = 0; i < n; i++)
    if (st[i] == TMAP_RESOLVED) {
      orc_incident(&b, &t->scenarios->s[idx[i]], t->f, "Cleared: ");
      any = 1;
    }
  sb_addf(&b, "%s\n## SLA status\n\n", any ? "" : "- Nothing cleared.\n");
  const json_t *sla = json_object_get(ctx, "sla_budget_remaining");
  const char *tenant;
  json_t *v;
  json_object_foreach((json_t *)sla, tenant, v)
      sb_addf(&b, "- %s: %.2f%% of the error budget left; %s\n", tenant, 100 * orc_num(v, "end"),
              sf_sla_fast(ctx, tenant) ? "spending it fast this shift" : "on track");
  sb_addf(&b, "\n## Training health\n\n");
  const json_t *jobs = json_object_get(ctx, "training_jobs");
  for (size_t i = 0; i < json_array_size(jobs); i++) {
    const json_t *j = json_array_get(jobs, i);
    int bad = sf_job_degraded(j);
    sb_addf(&b, "- %s: %s\n", json_string_value(json_object_get(j, "job")) ? json_string_value(json_object_get(j, "job")) : "?",
            bad ? "was slowed down this shift" : "nominal");
  }
  sb_addf(&b, "\n## Emerging risks\n\n");
  any = 0;
  for (int i = 0; i < n; i++) {
    const scn_def *s = &t->scenarios->s[idx[i]];
    if ((st[i] & TMAP_ACTIVE) && chk_kind(t->knowledge, (int)s->kind)->slow_burn) {
      orc_incident(&b, s, t->f, "Watch: ");
      any = 1;
    }
  }
  sb_addf(&b, "%s\n## Next-shift recommendations\n\n", any ? "" : "- Nothing developing.\n");
  for (int i = 0; i < n; i++)
    if (st[i] & TMAP_ACTIVE)
      orc_incident(&b, &t->scenarios->s[idx[i]], t->f, "Chase down: ");
  sb_addf(&b, "- Keep an eye on the pager.\n");
  free(idx);
  free(st);
  return sb_take(&b);
}

int cal_oracle_answer(const tmap_truth *t, const llm_call *calls, int n, int i,
                      const double *detected_s, char **answer) {
  *answer = NULL;
  if (i < 0 || i >= n)
    return FS_EINVAL;
  const llm_call *c = &calls[i];
  json_t *ctx = json_loads(c->context, 0, NULL);
  if (!json_is_object(ctx)) {
    json_decref(ctx);
    return FS_EINVAL;
  }
  if (c->layer == LLM_L4) {
    *answer = orc_l4(t, ctx, c, detected_s);
  } else {
    char metric[EV_METRIC_LEN];
    tmap_event e = tmap_of_context(ctx, c->t_s, t->f, metric);
    int k = tmap_best(t, &e);
    const scn_def *s = k >= 0 ? &t->scenarios->s[k] : NULL;
    *answer = c->layer == LLM_L2 ? orc_l2(t, s, &e) : orc_l3(t, s, &e);
  }
  json_decref(ctx);
  return *answer ? 0 : FS_ENOMEM;
}

/* The action vocabulary (see actions.h): the table of names, targets and
 * one-line descriptions, and target names parsed against the fleet. */
#include "src/model/actions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/errors.h"

typedef struct {
  const char *name;
  act_target_kind target;
  const char *about;
} act_entry;

static const act_entry act_table[ACT_COUNT] = {
    [ACT_NO_OP] = {"no_op", ACT_TARGET_NONE, "do nothing; keep watching"},
    [ACT_DRAIN_NODE] = {"drain_node", ACT_TARGET_NODE,
                        "take the node out of service for the rest of the run: its inference "
                        "load moves to its tenant's other nodes, its training job restarts "
                        "without it from the last checkpoint"},
    [ACT_CORDON_NODE] = {"cordon_node", ACT_TARGET_NODE,
                         "place no new work on the node; running work stays (the simulated "
                         "fleet places no new work, so it changes nothing there)"},
    [ACT_CHECKPOINT_JOB] = {"checkpoint_job", ACT_TARGET_JOB,
                            "the job writes a checkpoint now (one write's stall): a later "
                            "restart loses only the steps since"},
    [ACT_RESTART_JOB_WITHOUT_NODE] = {"restart_job_without_node", ACT_TARGET_NODE,
                                      "restart the node's training job from its last "
                                      "checkpoint without the node (the steps since are lost, "
                                      "the relaunch takes minutes)"},
    [ACT_REBALANCE_EXPERTS] = {"rebalance_experts", ACT_TARGET_SCOPE,
                               "re-balance MoE expert routing on the target's MoE nodes"},
    [ACT_RAISE_KV_CAPACITY] = {"raise_kv_capacity", ACT_TARGET_SCOPE,
                               "raise the KV-cache pool of the target's inference nodes "
                               "(fewer concurrent sequences)"},
    [ACT_CAP_CONTEXT_LENGTH] = {"cap_context_length", ACT_TARGET_SCOPE,
                                "cap prompt length at the usual size on the target's "
                                "inference nodes (longer prompts are truncated)"},
    [ACT_POWER_CAP_RACK] = {"power_cap_rack", ACT_TARGET_RACK,
                            "lower the GPU power limit of every node in the rack (cooler, "
                            "slower)"},
    [ACT_RAISE_COOLING] = {"raise_cooling", ACT_TARGET_RACK,
                           "have the rack's CRAH supply colder air (more facility power)"},
    [ACT_MIGRATE_TENANT] = {"migrate_tenant", ACT_TARGET_RACK,
                            "move the inference replicas on the rack to their tenants' other "
                            "racks (training stays)"},
    [ACT_RMA_GPU] = {"rma_gpu", ACT_TARGET_GPU,
                     "reseat or replace the GPU: the node goes out for repair for hours, "
                     "then returns with that GPU's faults gone"},
};

static const char *act_forms[ACT_TARGET_COUNT] = {
    [ACT_TARGET_NONE] = "no target",
    [ACT_TARGET_NODE] = "node-NNNN",
    [ACT_TARGET_GPU] = "node-NNNN/gpuK (or node-NNNN: the node's misbehaving GPU)",
    [ACT_TARGET_JOB] = "a training job id (train-NNN)",
    [ACT_TARGET_RACK] = "rack-NN",
    [ACT_TARGET_SCOPE] = "node-NNNN, rack-NN or a tenant (moe-inference, dense-inference)",
};

const char *act_name(act_kind k) { return k >= 0 && k < ACT_COUNT ? act_table[k].name : NULL; }

const char *act_about(act_kind k) { return k >= 0 && k < ACT_COUNT ? act_table[k].about : NULL; }

act_target_kind act_target_of(act_kind k) {
  return k >= 0 && k < ACT_COUNT ? act_table[k].target : ACT_TARGET_NONE;
}

const char *act_target_form(act_target_kind t) {
  return t >= 0 && t < ACT_TARGET_COUNT ? act_forms[t] : NULL;
}

act_kind act_by_name(const char *name) {
  for (int k = 0; name && k < ACT_COUNT; k++)
    if (strcmp(name, act_table[k].name) == 0)
      return (act_kind)k;
  return ACT_COUNT;
}

/* Reads "<prefix><digits>" with at least `digits` digits into *v; the rest
 * of the string goes to *rest. 1 when it matches. */
static int act_number(const char *s, const char *prefix, int digits, long *v, const char **rest) {
  size_t n = strlen(prefix);
  if (strncmp(s, prefix, n) != 0)
    return 0;
  const char *p = s + n, *q = p;
  while (*q >= '0' && *q <= '9')
    q++;
  if (q - p < digits || q - p > 9)
    return 0;
  *v = strtol(p, NULL, 10);
  *rest = q;
  return 1;
}

/* Parses a node ("node-0150") or, where gpu_ok, a GPU ("node-0150/gpu3")
 * into a; 1 on success. */
static int act_node_gpu(const fleet *f, const char *t, int gpu_ok, act_action *a) {
  long node, gpu;
  const char *rest;
  if (!act_number(t, "node-", 4, &node, &rest) || node >= f->nodes)
    return 0;
  a->node = (int32_t)node;
  a->rack = f->node_rack[node];
  if (*rest == '\0')
    return 1;
  if (!gpu_ok || !act_number(rest, "/gpu", 1, &gpu, &rest) || *rest || gpu >= FLEET_GPUS)
    return 0;
  a->gpu = (int32_t)gpu;
  return 1;
}

static int act_rack(const fleet *f, const char *t, act_action *a) {
  long rack;
  const char *rest;
  if (!act_number(t, "rack-", 2, &rack, &rest) || *rest || rack >= f->racks)
    return 0;
  a->rack = (int32_t)rack;
  return 1;
}

static int act_tenant(const char *t, act_action *a) {
  for (int k = 0; k < TENANT_COUNT; k++)
    if (strcmp(t, fleet_tenant_name(k)) == 0) {
      a->tenant = k;
      return 1;
    }
  return 0;
}

static int act_job(const fleet *f, const char *t, act_action *a) {
  for (int j = 0; j < f->njobs; j++)
    if (strcmp(t, f->cfg->jobs[j].id) == 0) {
      a->job = j;
      return 1;
    }
  return 0;
}

int act_parse(const fleet *f, const char *name, const char *target, act_action *out, char *why,
              size_t len) {
  *out = (act_action){.kind = ACT_COUNT, .node = -1, .gpu = -1, .rack = -1, .job = -1,
                      .tenant = -1};
  act_kind k = act_by_name(name);
  if (k == ACT_COUNT) {
    snprintf(why, len, "unknown action '%.64s' (one of no_op, drain_node, cordon_node, "
                       "checkpoint_job, restart_job_without_node, rebalance_experts, "
                       "raise_kv_capacity, cap_context_length, power_cap_rack, raise_cooling, "
                       "migrate_tenant, rma_gpu)",
             name ? name : "");
    return FS_EINVAL;
  }
  out->kind = k;
  const char *t = target ? target : "";
  act_target_kind tk = act_table[k].target;
  int ok;
  switch (tk) {
  case ACT_TARGET_NONE: ok = *t == '\0'; break;
  case ACT_TARGET_NODE: ok = act_node_gpu(f, t, 0, out); break;
  case ACT_TARGET_GPU: ok = act_node_gpu(f, t, 1, out); break;
  case ACT_TARGET_JOB: ok = act_job(f, t, out); break;
  case ACT_TARGET_RACK: ok = act_rack(f, t, out); break;
  default: ok = act_node_gpu(f, t, 0, out) || act_rack(f, t, out) || act_tenant(t, out); break;
  }
  if (ok && k == ACT_RESTART_JOB_WITHOUT_NODE && (out->job = f->node_job[out->node]) < 0) {
    snprintf(why, len, "%s: target '%.64s' runs no training job", act_table[k].name, t);
    return FS_EINVAL;
  }
  if (!ok) {
    snprintf(why, len, "%s: target '%.64s' is not %s of this fleet (%d nodes, %d racks, %d jobs)",
             act_table[k].name, t, act_forms[tk], f->nodes, f->racks, f->njobs);
    return FS_EINVAL;
  }
  return 0;
}

void act_target_name(const fleet *f, const act_action *a, char *buf, size_t len) {
  switch (act_target_of(a->kind)) {
  case ACT_TARGET_NONE: snprintf(buf, len, "%s", ""); break;
  case ACT_TARGET_JOB: snprintf(buf, len, "%s", f->cfg->jobs[a->job].id); break;
  case ACT_TARGET_RACK: snprintf(buf, len, "rack-%02d", a->rack); break;
  case ACT_TARGET_GPU:
    if (a->gpu >= 0) {
      snprintf(buf, len, "node-%04d/gpu%d", a->node, a->gpu);
      break;
    }
    /* fall through */
  case ACT_TARGET_NODE: snprintf(buf, len, "node-%04d", a->node); break;
  default:
    if (a->node >= 0)
      snprintf(buf, len, "node-%04d", a->node);
    else if (a->rack >= 0)
      snprintf(buf, len, "rack-%02d", a->rack);
    else
      snprintf(buf, len, "%s", fleet_tenant_name(a->tenant));
    break;
  }
}

/* The operator's action vocabulary: what an L3 or L4 answer may ask the
 * fleet to do (`actions` in the answer schema), each with the kind of entity
 * it targets, and the parsing of an action name and target name against the
 * fleet ("drain_node" + "node-0150"). What each action does to the fleet is
 * mitigation.h's; which actions a context offers is the contexts'. Pure
 * data and names: no MPI, no I/O. */
#ifndef FLEETSIM_ACTIONS_H
#define FLEETSIM_ACTIONS_H
#include <stddef.h>
#include <stdint.h>

#include "src/model/fleet.h"

/* The actions, in table order (docs/closed-loop.md has the table). */
typedef enum {
  ACT_NO_OP,                    /* nothing */
  ACT_DRAIN_NODE,               /* the node leaves service for the rest of the run */
  ACT_CORDON_NODE,              /* no new work on the node; running work stays */
  ACT_CHECKPOINT_JOB,           /* the job writes a checkpoint now */
  ACT_RESTART_JOB_WITHOUT_NODE, /* the node's job restarts from its last checkpoint without it */
  ACT_REBALANCE_EXPERTS,        /* MoE expert routing re-balanced on the target's MoE nodes */
  ACT_RAISE_KV_CAPACITY,        /* KV-cache pool raised on the target's inference nodes */
  ACT_CAP_CONTEXT_LENGTH,       /* prompt length capped on the target's inference nodes */
  ACT_POWER_CAP_RACK,           /* GPU power limit lowered on every node of the rack */
  ACT_RAISE_COOLING,            /* the rack's CRAH supplies colder air */
  ACT_MIGRATE_TENANT,           /* inference replicas on the rack move to other racks */
  ACT_RMA_GPU,                  /* the node goes out for repair; back with the GPU replaced */
  ACT_COUNT
} act_kind;

/* What an action's target names. */
typedef enum {
  ACT_TARGET_NONE,  /* no target (no_op) */
  ACT_TARGET_NODE,  /* "node-0150" */
  ACT_TARGET_GPU,   /* "node-0150/gpu3", or "node-0150" for the node's GPU that misbehaves */
  ACT_TARGET_JOB,   /* "train-001" */
  ACT_TARGET_RACK,  /* "rack-05" */
  ACT_TARGET_SCOPE, /* a node, a rack or a tenant ("moe-inference") */
  ACT_TARGET_COUNT
} act_target_kind;

/* One action on one entity: the fields its target kind uses are set, the
 * others are -1. A node or GPU target also sets `rack` (the node's rack);
 * a GPU target of a whole node has gpu -1; restart_job_without_node also
 * sets `job` (the node's job). A scope target is the node when node >= 0,
 * else the rack when rack >= 0, else the tenant. */
typedef struct {
  act_kind kind;
  int32_t node;
  int32_t gpu;
  int32_t rack;
  int32_t job;
  int32_t tenant; /* fleet_tenant */
} act_action;

/* "drain_node", ... (NULL out of range). */
const char *act_name(act_kind k);

/* One line saying what the action does, for contexts and docs. */
const char *act_about(act_kind k);

/* The kind of entity the action targets. */
act_target_kind act_target_of(act_kind k);

/* How a target of that kind is written, e.g. "node-NNNN/gpuK or node-NNNN". */
const char *act_target_form(act_target_kind t);

/* The action named name, or ACT_COUNT when there is none. */
act_kind act_by_name(const char *name);

/* Parses action `name` on target `target` (NULL or "" for no_op) against
 * fleet f into *out. On failure writes one line saying why into why[len]
 * (naming the action, the target and what was expected, e.g. "drain_node:
 * target 'node-9999' is not a node of this fleet (node-0000..node-0999)")
 * and returns FS_EINVAL; 0 on success. */
int act_parse(const fleet *f, const char *name, const char *target, act_action *out, char *why,
              size_t len);

/* Writes the target's name (as act_parse reads it; "" for no_op) into
 * buf[len]. */
void act_target_name(const fleet *f, const act_action *a, char *buf, size_t len);

#endif

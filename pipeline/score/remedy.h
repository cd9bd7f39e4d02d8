/* The remedies of each fault kind (ground truth for the closed loop): the
 * "remedy" key of scenarios/kinds/<kind>.json,
 *   {"oracle": [{"action": A, "target": T}, ...], "also": [...]}
 * with A an action of src/model/actions.h (not no_op) and T one of node,
 * gpu, job, rack, tenant that the action can target (node-targeted
 * actions: node; rma_gpu: gpu or node; checkpoint_job: job; rack actions:
 * rack; scope actions: node, rack or tenant). "oracle" is what the oracle
 * policy applies, in order, on a scenario's ground-truth entities (empty
 * where no action of the vocabulary helps); "also" lists other actions that
 * mitigate the kind too (counted by time to mitigation). Scorer side only:
 * no detector or backend ever reads it. */
#ifndef FLEETSIM_REMEDY_H
#define FLEETSIM_REMEDY_H
#include <jansson.h>

#include "scenarios/scenario.h"
#include "src/model/actions.h"
#include "src/model/fleet.h"

/* What a remedy step acts on, expanded against a scenario's ground truth
 * (rem_oracle_actions). */
typedef enum {
  REM_NODE,   /* each root-cause node (scn_def.nodes) */
  REM_GPU,    /* each listed GPU (scn_def.gpus; the root-cause nodes where it lists none) */
  REM_JOB,    /* scn_def.job (the root-cause nodes' jobs where it is -1) */
  REM_RACK,   /* each of scn_def.racks (the root-cause nodes' racks where it has none) */
  REM_TENANT, /* each tenant of the root-cause nodes */
  REM_TARGET_COUNT
} rem_target;

enum { REM_MAX_STEPS = 8 };

typedef struct {
  act_kind action;
  rem_target target;
} rem_step;

/* One kind's remedy. */
typedef struct {
  rem_step oracle[REM_MAX_STEPS];
  int noracle;
  rem_step also[REM_MAX_STEPS];
  int nalso;
} rem_kind;

/* "node", "gpu", "job", "rack", "tenant" (NULL out of range). */
const char *rem_target_name(rem_target t);

/* Validates the "remedy" value r of a kind's file (where names it in
 * messages, e.g. "scenarios/kinds/x.json: kind 'x'") into *out. Every
 * problem goes to diag naming where, the list, the step and the value, e.g.
 * "...: remedy.oracle[1]: action 'power_cap_rack' cannot target 'node'
 * (it targets: rack)". Returns the number of problems (0: *out filled). */
int rem_parse(rem_kind *out, json_t *r, const char *where);

/* The built-in remedy of kind k, parsed once from the compiled-in
 * scenarios/kinds/<kind>.json; NULL when k is out of range or a kind's
 * remedy is missing or invalid (the problems in diag; a build's bug that
 * tests/unit_remedy.c catches). */
const rem_kind *rem_of_kind(scn_kind k);

/* 1 when kind k has any remedy (oracle or also), else 0. */
int rem_kind_has_remedy(scn_kind k);

/* The oracle's actions for scenario s of fleet f: the kind's oracle steps
 * in order, each expanded over s's ground-truth entities (see rem_target),
 * leaving out a restart_job_without_node on a node that runs no job and a
 * job step where the scenario names no job. *out (malloc'd, caller frees;
 * NULL when *n is 0) gets *n actions. 0, FS_EINVAL (the kind's remedy is
 * invalid: diag) or FS_ENOMEM. */
int rem_oracle_actions(const scn_def *s, const fleet *f, act_action **out, int *n);

/* 1 when action a is one of the oracle or also actions of s's kind and its
 * target covers s's ground truth: a rack of s (rack actions), a root-cause
 * node (node actions), a listed GPU or a node of one (rma_gpu; a root-cause
 * node where s lists no GPU), s's job (checkpoint_job), or a scope holding
 * a root-cause node (a root-cause node, its rack or its tenant). Else 0. */
int rem_mitigates(const scn_def *s, const fleet *f, const act_action *a);

#endif

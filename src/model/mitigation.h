/* What operators' actions do to the fleet (closed loop, `run
 * --closed-loop`): the actions applied so far (actions.h) and their
 * physical effects, laid over the fault injectors' drivers each scrape
 * (a drained node idles and its tenant's other nodes take its load, a
 * restarted job relaunches without a node and rolls back to its last
 * checkpoint, a power cap slows and cools a rack, an RMA removes a node for
 * hours and returns it repaired, ...). The state is global: every rank
 * holds the same list, applied in the same order, so the effects are a
 * pure function of (actions, scrape) on any rank count. No MPI, no I/O. */
#ifndef FLEETSIM_MITIGATION_H
#define FLEETSIM_MITIGATION_H
#include <stdint.h>

#include "src/model/actions.h"
#include "src/model/fleet.h"
#include "src/model/telemetry.h"

typedef struct mit_state mit_state;

/* Creates an empty state for fleet f (borrowed; its config's action_*
 * settings give repair time, relaunch time, power-cap share, cooling
 * boost and KV-cache factor). 0 or FS_ENOMEM. */
int mit_init(mit_state **out, const fleet *f);

/* Frees the state; accepts NULL and clears the pointer. */
void mit_destroy(mit_state **m);

/* Records action a, in effect from global scrape t on (t never decreases
 * from one call to the next). A no_op is recorded and changes nothing.
 * 0, FS_ENOMEM, or FS_EINVAL (nothing recorded) when t is negative or
 * earlier than the last action's, or a's kind or target fields are outside
 * the fleet (act_parse's actions never are). */
int mit_apply(mit_state *m, const act_action *a, int64_t t);

/* Number of actions recorded. */
int mit_count(const mit_state *m);

/* Lays the effects of every action in effect at scrape t over the drivers
 * the fault injectors set: d[i] for local node node0 + i (i < nnodes), and
 * jd[j] for every job of the fleet. Returns 1 when it changed any of them
 * (the caller resets them before the next scrape), 0 when nothing applies. */
int mit_drive(const mit_state *m, int64_t t, int node0, int nnodes, tel_drivers *d,
              tel_job_drivers *jd);

/* 1 when node n is out of service at scrape t because of an action
 * (drained, out for repair, its inference replicas migrated, left out of
 * its restarted job), else 0. */
int mit_node_out(const mit_state *m, int n, int64_t t);

/* Seconds of job j's training thrown away by restarts that actions start
 * at scrape t: the time since the job's last checkpoint (its periodic ones,
 * tel_job_checkpoint's schedule, or a checkpoint_job action), 0 when no
 * restart starts then. */
double mit_job_rollback_s(const mit_state *m, int j, int64_t t);

#endif

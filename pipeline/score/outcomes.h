/* Outcome scoring of a closed-loop run: every twin's record
 * (DIR/closed_loop/<policy>.json, outcomes_record.h) judged by what its
 * policy did to the fleet against the fault-free and no-action twins:
 * training goodput, tokens served, SLA error budget left, GPU-hours lost,
 * collateral, action cost, time to mitigation per scenario (remedy.h),
 * scenarios mitigated and the share of the oracle's gain recovered.
 * docs/scoring.md, "Outcome scoring", defines each figure. Writes
 * DIR/results/outcomes.json and DIR/results/outcomes.md. */
#ifndef FLEETSIM_OUTCOMES_H
#define FLEETSIM_OUTCOMES_H

#include "pipeline/score/outcomes_record.h"
#include "scenarios/scenario.h"
#include "src/model/fleet.h"

/* One policy's figures. NAN where a figure does not apply (n/a). */
typedef struct {
  const oc_record *r;
  double goodput_pct;              /* training steps kept / fault-free steps */
  double tokens_pct[TENANT_COUNT]; /* inference tenants: tokens / fault-free tokens */
  double gpu_h_lost;               /* vs fault-free */
  double collateral_gpu_h;         /* out of service on nodes no scenario impacts */
  double action_gpu_h;             /* out of service + steps rolled back by actions */
  double *ttm_s;                   /* [scenarios] s; -1 never; NAN no remedy / fault-free */
  int mitigated, mitigable;        /* scenarios with a time to mitigation / with a remedy */
  double oracle_share_pct;         /* share of the oracle's gain recovered */
} oc_metrics;

/* Figures of records r[n] (r[0] fault-free, r[1] no-action; an oracle
 * among the others, or none) for fleet f and scenarios truth (NULL: none)
 * into m[n] (each m[i].ttm_s malloc'd; oc_metrics_free). 0 or FS_ENOMEM. */
int oc_compute(const oc_record *r, int n, const fleet *f, const scn_set *truth, oc_metrics *m);

/* Frees m[n]'s ttm_s arrays; accepts NULL. */
void oc_metrics_free(oc_metrics *m, int n);

/* Reads DIR/closed_loop/<p>.json for each p of policies[npolicies] (NULL:
 * every DIR/closed_loop/<name>.json) and always fault-free and no-action,
 * scores them against fleet f and the run's scenarios truth (NULL: none),
 * and replaces DIR/results/outcomes.json and DIR/results/outcomes.md (the
 * policies in the order fault-free, no-action, oracle, backends, nulls,
 * otherwise as given; command, e.g. "fleetsim run --closed-loop ...", is
 * quoted at the top of the Markdown, NULL: left out). A missing fault-free
 * or no-action record, a record that is not valid JSON or lacks a field:
 * one message in diag naming the file (and the field), FS_EINVAL. Else 0,
 * FS_EIO (path in diag) or FS_ENOMEM. Called by rank 0 only. */
int outcomes_write(const char *run_dir, const fleet *f, const scn_set *truth,
                   const char *const *policies, int npolicies, const char *command);

#endif

/* The injectors: they turn the scenarios active at a scrape into tel_drivers.
 * Injectors set causes only; the telemetry model derives every symptom from
 * them. */
#ifndef FLEETSIM_INJECT_H
#define FLEETSIM_INJECT_H
#include <stdint.h>

#include "scenarios/scenario.h"
#include "src/model/fleet.h"
#include "src/model/telemetry.h"

/* Applies every scenario active at scrape t to the drivers of local nodes
 * [node0, node0 + nnodes) (drivers[i] is node node0 + i). Drivers must have
 * been reset for this scrape. Pure function of (set, t, node). Returns the
 * number of (scenario, node) pairs it applied: 0 means the drivers were left
 * as they were (the caller need not reset them for the next scrape). */
int scn_drive(const scn_set *set, const fleet *f, int64_t t, int node0, int nnodes,
               tel_drivers *drivers);

/* Applies every scenario active at scrape t to the job drivers jd[njobs]
 * (reset for this scrape), the same on every rank. Returns the number of
 * scenarios that can have changed them (0: left as they were). */
int scn_drive_jobs(const scn_set *set, const fleet *f, int64_t t, tel_job_drivers *jd);

#endif

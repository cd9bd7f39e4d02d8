/* L1 aggregation at the root, once per detection step: folds candidates
 * into job events (a job-wide trend, or 2+ nodes of a job flagged on the
 * same metric), cluster
 * events (a tenant-wide trend), rack events (5+ flagged nodes of a rack) and
 * node/GPU events; debounces (node 5 min; job, rack, cluster 20 min); keeps
 * the 5 most severe; sets the detector-driven escalation flag. The numbers
 * are the defaults of the settings in fs_config.det (the detect_* and
 * escalate_* keys of the config table). */
#ifndef FLEETSIM_AGGREGATE_H
#define FLEETSIM_AGGREGATE_H
#include <stdint.h>

#include "pipeline/detect/detect.h"
#include "src/model/events.h"

typedef struct agg_state agg_state;

/* 0 or FS_ENOMEM. f is borrowed. */
int agg_init(agg_state **out, const fleet *f);
void agg_destroy(agg_state **a);

/* Turns one step's candidates (every rank's, in node order) and class trends
 * into events appended to the list. t_s is the end of the block. 0 or FS_ENOMEM. */
int agg_step(agg_state *a, int32_t step, double t_s, const det_candidate *cands, int ncands,
             const det_trend *trends, int ntrends);

/* The events so far (valid until the next agg_step). */
const ev_event *agg_events(const agg_state *a, int *n);

/* Checkpoint (resume): the events so far and the debounce state, to or from
 * a checkpoint stream. Load returns 0, FS_EIO or FS_ENOMEM. */
typedef struct ckpt_file ckpt_file;
void agg_save(const agg_state *a, ckpt_file *f);
int agg_load(agg_state *a, ckpt_file *f);

#endif

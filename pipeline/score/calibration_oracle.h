/* The positive control of the scorer's calibration: an oracle that knows
 * the ground truth and answers every call correctly in wording of its own
 * (neither the checklists' phrasing nor the rules backend's): other
 * synonyms, other sentence shapes, lists written out ("GPUs 2 and 5"), and
 * negations where they belong ("not a compute limit"). A scorer that keeps
 * it high credits a right answer in other words. Scorer side only: it reads
 * ground truth and is never a backend of a run. Its answers carry no
 * `actions` (absent: no action): the kinds' remedies belong to the outcome
 * scoring, not to its words. */
#ifndef FLEETSIM_CALIBRATION_ORACLE_H
#define FLEETSIM_CALIBRATION_ORACLE_H
#include "pipeline/detect/contexts_file.h"
#include "pipeline/score/truth_map.h"

/* The oracle's answer to calls[i] (calls[0..n) all of the run's, for the
 * first detections L4 needs), malloc'd into *answer. 0, FS_EINVAL or
 * FS_ENOMEM. */
int cal_oracle_answer(const tmap_truth *t, const llm_call *calls, int n, int i,
                      const double *detected_s, char **answer);

#endif

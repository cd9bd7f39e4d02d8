/* results/calibration.md and calibration.json: the strict and regex scores of
 * the null operators (calibration.h), the rules reference (the run's
 * DIR/llm/rules.jsonl when it has one) and the paraphrasing oracle
 * (calibration_oracle.h), each against its target:
 *   null operators  at most 45% at L2 and 25% at L3 and L4 (strict, macro)
 *   rules, oracle   at least 80% at every layer (strict, macro)
 * Macro: the mean over the scenarios (and the calls about none) of their
 * mean score, so a long scenario does not outweigh the rest; the per-call
 * mean is shown beside it. A layer without calls is not judged. Scorer side
 * only (the oracle reads ground truth). */
#ifndef FLEETSIM_CALIBRATION_REPORT_H
#define FLEETSIM_CALIBRATION_REPORT_H
#include "pipeline/score/scorer.h"
#include "src/core/runid.h"

/* Writes DIR/calibration/<operator>.jsonl (headed by run, the run of the
 * judge's calls) for the null operators and the oracle, scores them (and
 * rules, when given) with the judge, and replaces DIR/results/calibration.md
 * and calibration.json. *all_met (if not NULL) gets 1 when every judged
 * figure meets its target. 0, FS_EIO (path in diag), FS_EINVAL or
 * FS_ENOMEM. */
int calrep_write(const char *dir, const runid *run, const scr_judge *judge,
                 const scr_backend *rules, int *all_met);

#endif

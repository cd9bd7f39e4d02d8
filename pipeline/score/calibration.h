/* The scorer's calibration suite: null operators, answers written without
 * knowing anything a good operator would find, generated from a run's
 * contexts as `replay` transcripts (DIR/calibration/<name>.jsonl, replayable
 * with `fleetsim escalate --backend replay:path=...`). A trustworthy score
 * keeps them low; `fleetsim score` scores them beside `rules` and a
 * paraphrasing oracle (calibration_oracle.h) in results/calibration.md.
 * Null operators read only the context, as a backend would (`pasted` also
 * asks the rules backend once per layer; `salad` and `echo-salad` every
 * registered kind's oracle words and actions, the same for every call);
 * they never read ground truth. */
#ifndef FLEETSIM_CALIBRATION_H
#define FLEETSIM_CALIBRATION_H
#include "pipeline/detect/contexts_file.h"
#include "pipeline/score/checklist.h"
#include "src/core/runid.h"

/* The null operators, in table order. */
typedef enum {
  CAL_CONSTANT,     /* one fixed, plausible answer for every call */
  CAL_ECHO,         /* the context copied back: scope, tenant, trigger, detector's escalation */
  CAL_DENIAL,       /* "noise": not thermal, no ECC, no NVLink errors, do not drain */
  CAL_SALAD,        /* every fault family's keywords and every action, in every field */
  CAL_HEDGE,        /* "undetermined; checkpoint, drain, vendor ticket, watch SLA"; generic handoff */
  CAL_PASTED,       /* the rules answer to the first call of the layer, pasted into every call */
  CAL_ECHO_SALAD,   /* the echo with every keyword added */
  CAL_COUNT
} cal_operator;

/* "constant", "echo", ... (file stem and table row). */
const char *cal_name(cal_operator op);

/* One line saying what the operator answers. */
const char *cal_about(cal_operator op);

/* The answer of op to calls[i] (in the layer's format), malloc'd into
 * *answer. calls[0..n) are all the run's calls (pasted reads the first of
 * the layer); kn the kinds' knowledge (the salads' words). 0, FS_EINVAL (a
 * context that is not a JSON object) or FS_ENOMEM. */
int cal_answer(cal_operator op, const chk_set *kn, const llm_call *calls, int n, int i,
               char **answer);

/* Writes DIR/calibration/<name>.jsonl for every operator: run's header
 * line (runid.h), then one transcript line per call (the escalation
 * engine's format, status ok, latency 0). The folder is created if missing
 * (never through a link); files are replaced through a temp file. 0,
 * FS_EIO (path in diag), FS_EINVAL or FS_ENOMEM. */
int cal_write_transcripts(const char *dir, const runid *run, const chk_set *kn,
                          const llm_call *calls, int n);

/* Writes one transcript file path as above with answers[i] to calls[i]
 * (backend label name). Shared with the oracle. 0, FS_EIO or FS_ENOMEM. */
int cal_write_transcript(const char *path, const char *name, const runid *run,
                         const llm_call *calls, int n, char *const *answers);

#endif

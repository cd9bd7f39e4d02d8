/* Strict reading of an operator's answer text, for the scorer: where a
 * regular expression meets a positive (not negated, not ruled-out) mention,
 * which entities (node-NNNN, node-NNNN/gpuK, rack-NN, job ids, GPU indices)
 * an answer names, and the sections of an L4 shift report. Answers are
 * untrusted text; nothing here reads ground truth.
 *
 * Negation. A match at [a, b) of text s is negated when, inside its clause,
 *  - one of the eight words before a is a negation cue: no, not, never, none,
 *    nor, neither, without, unlikely, cannot, nothing, any word ending in
 *    "n't", "rule(s|d) out", "ruling out", "exclude(s|d)", "excluding",
 *    "instead of", "rather than", "absence of", "lack of", "free of"
 *    ("no later than", "no more than", "no less than", "not only", "not just"
 *    are not cues); or
 *  - one of the six words after b starts a denial: "unlikely", "ruled out",
 *    "excluded", "absent", "is/are/was/were not", "isn't" ..., "not the
 *    cause" ..., "not observed/present/seen/detected/elevated/involved".
 * A clause ends at . ; : ! ? or a line break (a '.' between digits does not
 * count) and before the words but, however, whereas, while, although,
 * though, yet, then, instead (not "instead of"), so.
 * A cue inside the match negates it only when it sits in a gap of the
 * pattern and the match needs the words it governs: "no performance impact"
 * is positive for the pattern "no performance impact", "training is not hit
 * first" is negative for "training.{0,200}first", and in "ITL is not
 * elevated, it stays flat" the pattern "itl.{0,120}flat" is positive (a
 * cue's reach ends at a comma). */
#ifndef FLEETSIM_ANSWER_TEXT_H
#define FLEETSIM_ANSWER_TEXT_H
#include <regex.h>
#include <stddef.h>

/* 1 when the match [a, b) of s is negated (rules above), else 0. */
int atx_negated(const char *s, size_t a, size_t b);

/* 1 when re (compiled without REG_NOSUB) has a match in s that is not
 * negated; *at (if not NULL) gets the offset of the first such match.
 * Overlapping later matches are tried after a negated one. NULL s: 0. */
int atx_positive(const regex_t *re, const char *s, size_t *at);

/* atx_positive for matches that start at offset from or later. */
int atx_positive_from(const regex_t *re, const char *s, size_t from, size_t *at);

/* 1 when any of re[0..n) has a positive match in s (*at: the earliest). */
int atx_any_positive(const regex_t *re, int n, const char *s, size_t *at);

/* Entities named positively in a text. Counts saturate at the array sizes;
 * values are the numbers in the names (node-0042 -> 42). */
enum { ATX_MAX_ENTITIES = 64 };
typedef struct {
  int node[ATX_MAX_ENTITIES], nnode;  /* node-N (also the node of node-N/gpuK) */
  int gpu[ATX_MAX_ENTITIES], ngpu;    /* node-N/gpuK as N * 8 + K */
  int rack[ATX_MAX_ENTITIES], nrack;  /* rack-N */
  int gpu_index[8], ngpu_index;       /* K of "gpuK", "GPU K", "GPUs K and L", node-N/gpuK */
  int job[ATX_MAX_ENTITIES], njob;    /* index into job_ids */
} atx_entities;

/* Adds the entities named positively in s to *e (zero it first). job_ids
 * [njobs] are the configured job ids, matched as whole words. Duplicates are
 * kept once. */
void atx_collect_entities(const char *s, const char *const *job_ids, int njobs, atx_entities *e);

/* The sections of an L4 report, by llm_l4_headings index. A heading is a
 * line whose words (leading '#', '*', list markers and numbering dropped)
 * are exactly one of the six headings; a section runs to the next heading.
 * Offsets into the text; start = len = 0 where a heading is missing. */
typedef struct {
  size_t start[6], len[6];
  int present[6];
} atx_sections;

/* Splits report into sections. */
void atx_split_sections(const char *report, atx_sections *out);

/* A number of the text quoted near a target: 1 when s holds a decimal
 * number x with |x - want| <= tol, else 0. Digits inside words (gpu3,
 * node-0042, P1) do not count. */
int atx_has_number(const char *s, size_t len, double want, double tol);

/* A copy of s (malloc'd; NULL when out of memory) with every telemetry
 * metric name (src/model/metrics.h: Prometheus name or DCGM field, any case,
 * as a whole token of letters, digits and '_') blanked to spaces: naming the
 * signal that fired ("rdma_bytes_per_second z=-5") claims no fault. */
char *atx_blank_metric_names(const char *s);

#endif

/* The judge's insides (see scr_judge in scorer.h), shared by the file that
 * builds it (judge.c) and the file that scores with it (scorer.c). Not a
 * public interface. */
#ifndef FLEETSIM_JUDGE_INTERNAL_H
#define FLEETSIM_JUDGE_INTERNAL_H
#include <jansson.h>

#include "pipeline/score/family_memo.h"
#include "pipeline/score/scorer.h"
#include "pipeline/score/truth_map.h"

/* Compiled lists of one scenario: L2 per tenant of the event node (the last
 * for an unknown tenant: {tenant} absent), L3, L4. */
typedef struct {
  chk_list *l2[TENANT_COUNT + 1], *l3, *l4;
} scr_lists;

/* What every call of every backend is scored against (see scr_judge_new):
 * the compiled lists, the truth map, each scenario's first detection (an L2
 * call about it) and each call's parsed context. */
struct scr_judge {
  const scr_truth *t;
  tmap_truth tm;
  const llm_call *calls;
  int ncalls;
  json_t **ctx;       /* [ncalls] parsed contexts, NULL where none or unparsable */
  fam_memo *memo;     /* families named by the answers' texts, across backends */
  scr_lists *lists;
  chk_list *none2, *none3, *shift;
  double *detected_s; /* [nscn] first L2 call about scenario k, INFINITY if none */
};

#endif

/* Shared between the strict score's parts (strict_score.c: the answer, L2
 * and L3; strict_l4.c: the L4 report checks): the state of one scoring and
 * the ground-truth helpers both read. Not a public interface. */
#ifndef FLEETSIM_STRICT_INTERNAL_H
#define FLEETSIM_STRICT_INTERNAL_H
#include <jansson.h>
#include <regex.h>

#include "pipeline/llm/llm_schema.h"
#include "pipeline/score/family_memo.h"
#include "pipeline/score/strict_score.h"

enum { CHK_RATIONALE_FIELD = 3 /* chk_l2_fields[3] */ };

/* L4 section indices (llm_l4_headings order). */
enum { SEC_ACTIVE, SEC_RESOLVED, SEC_SLA, SEC_TRAINING, SEC_RISKS, SEC_NEXT };

/* One scoring: the call's truth and the answer as read. */
typedef struct {
  const sct_call *c;
  const chk_set *kn;
  const fleet *f;
  int layer;
  json_t *answer;                  /* parsed L2/L3 answer */
  char *section[LLM_L4_NHEADINGS]; /* L4 section texts (NULL when missing) */
  const char **jobs;               /* [njobs] job ids */
  int njobs;
  fam_memo *memo;                  /* the call's, or one for this scoring */
} sct_ctx;

/* The kinds whose family text names, a bit per kind (through the
 * scoring's family memo). */
unsigned sct_named(const sct_ctx *x, const char *text);

/* The kinds other than k (-1: any) and not compatible with it whose family
 * text names: a bit per kind. */
unsigned sct_foreign_families(const sct_ctx *x, int k, const char *text);

/* 1 when one line of text names kind k's family and no incompatible one. */
int sct_line_names_family(const sct_ctx *x, int k, const char *text);

/* Ground truth of scenario s: the tenants of its root-cause nodes (a bit per
 * tenant), and whether a node, rack, job or node's GPU is among its roots. */
unsigned sct_truth_tenants(const scn_def *s, const fleet *f);
int sct_is_root(const scn_def *s, int node);
int sct_is_root_rack(const scn_def *s, const fleet *f, int rack);
int sct_is_root_job(const scn_def *s, const fleet *f, int job);
int sct_node_has_gpu(const scn_def *s, int node);

/* The scenario list `list` of the call is about (L4: NULL for the shift
 * list, else the incident's, with its state in *state). */
const scn_def *sct_list_scenario(const sct_ctx *x, int list, tmap_state *state);

/* The word lists the L4 checks read (degraded, healthy, burning fast,
 * steady), compiled into w; returns how many compiled (SCT_NWORDS on
 * success; the caller frees that many). */
enum { SCT_NWORDS = 4 };
int sct_l4_words(regex_t w[SCT_NWORDS]);

/* The strict result of L4 item it of list (0: the shift list): 1, 0, or -1
 * when it does not apply to the call. */
int sct_l4_item(const sct_ctx *x, const chk_item *it, int list, const regex_t *words);

#endif

/* The reasoning of the `rules` backend (a rule-based reference tuned to the
 * known fault kinds, not an LLM): which fault family a context's evidence
 * points to, the L3 root-cause answer and the L4 shift report. Every number
 * and entity an answer states is read from the context it answers; nothing
 * here knows scenario ids, kinds or files. */
#ifndef FLEETSIM_RULES_DIAGNOSE_H
#define FLEETSIM_RULES_DIAGNOSE_H
#include <jansson.h>

#include "pipeline/llm/rules_read.h"

/* The family the evidence of an L2 or L3 context points to, most specific
 * first (straggler, routing, KV, HBM, fabric, thermal), or RR_NONE. */
rr_family rules_family(const json_t *ctx);

/* The L3 root-cause answer (JSON text of llm_schema.h), malloc'd; NULL on
 * allocation failure. */
char *rules_l3(const json_t *ctx);

/* The L4 shift handoff report (markdown with the six headings), malloc'd;
 * NULL on allocation failure. */
char *rules_l4(const json_t *ctx);

#endif

/* The reasoning of the `rules` backend (a rule-based reference, not an LLM)
 * beyond L2 triage: the L3 root-cause answer and the L4 shift report, from
 * its catalogue of failure patterns (pipeline/llm/rules_catalogue.h) and the
 * context. Every number and entity an answer states is read from the
 * context it answers; nothing here knows scenario ids, kinds or files. */
#ifndef FLEETSIM_RULES_DIAGNOSE_H
#define FLEETSIM_RULES_DIAGNOSE_H
#include <jansson.h>

#include "pipeline/llm/rules_catalogue.h"

/* The L3 root-cause answer (JSON text of llm_schema.h), malloc'd; NULL on
 * allocation failure. */
char *rules_l3(const rc_catalogue *c, const json_t *ctx);

/* The L4 shift handoff report (markdown with the six headings), malloc'd;
 * NULL on allocation failure. */
char *rules_l4(const rc_catalogue *c, const json_t *ctx);

#endif

/* The system prompts of the LLM layers (seed "Layer 2/3/4") and the user
 * message that carries a call's context. Texts only, kept apart so they are
 * easy to review; the answer contracts themselves live in llm_schema.h. */
#ifndef FLEETSIM_PROMPTS_H
#define FLEETSIM_PROMPTS_H
#include <stddef.h>

#include "pipeline/detect/contexts_file.h"

/* The system prompt of a layer, malloc'd (caller frees), or NULL for another
 * layer or no memory. L2 names the triage fields (classification, scope,
 * tenant_type, confidence, rationale) with their vocabularies and quotes
 * llm_schema_text; L3 likewise for the root-cause fields and `actions`,
 * with one line per action of src/model/actions.h (name, target form, what
 * it does); L4 asks for the markdown handoff with the headings of
 * llm_l4_headings and an optional closing ```json {"actions": [...]} block,
 * with the same action lines. */
char *prompt_system(llm_layer layer);

/* The user message, malloc'd: "Context (JSON):\n" + context. NULL when out
 * of memory. */
char *prompt_user(const char *context);

/* The re-ask message, malloc'd: user followed by a paragraph saying the
 * previous answer was rejected and why. NULL when out of memory. */
char *prompt_reask(const char *user, const char *why);

#endif

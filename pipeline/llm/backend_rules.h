/* The embedded `rules` backend, a rule-based reference tuned to the known
 * fault families (not an LLM): deterministic, evidence-driven reasoning over
 * the same context JSON an LLM receives (pipeline/detect/context.c plus the
 * engine's per-backend additions), with its own catalogue of failure
 * patterns (pipeline/llm/rules_catalogue.h) as its knowledge. It never sees
 * scenario ids, kinds or files; it reads metric names, values, z-scores,
 * series and topology from the context, as an operator would. Answers every
 * layer in microseconds. */
#ifndef FLEETSIM_BACKEND_RULES_H
#define FLEETSIM_BACKEND_RULES_H
#include "pipeline/detect/contexts_file.h"

/* Answers one call: `context` is the JSON object text the prompt carries.
 * *answer receives a malloc'd answer in the layer's format (L2/L3: the JSON
 * object of pipeline/llm/llm_schema.h; L4: the markdown handoff report).
 * Returns 0, FS_EINVAL (context not a JSON object) or FS_ENOMEM. */
int rules_answer(llm_layer layer, const char *context, char **answer);

/* 0 when the built-in catalogue compiles; FS_EINVAL (the reason in diag)
 * when it does not, so a run stops before its first call instead of failing
 * every one. */
int rules_ready(void);

#endif

/* The answer contracts of the LLM layers (seed "Layer 2/3/4"): the L2 triage
 * and L3 root-cause JSON schemas (one field table serves the OpenAI
 * response_format schema, the prompt and the validator) and the L4 report's
 * section headings. Answers are untrusted text: they are length-limited,
 * parsed as data and never used as a format string. No I/O.
 *
 * Vocabularies (exact, lower case unless shown; the validator accepts any
 * case and hands back the canonical spelling):
 *   L2 classification  real_anomaly | noise | transient
 *   L2 scope           gpu | node | rack | job | cluster
 *   L2 tenant_type     moe-inference | dense-inference | training | mixed | unknown
 *   L3 priority        P1 | P2 | P3 | P4   (P1 = act now: service or job impact under
 *                      way; P2 = act this shift; P3 = plan a fix; P4 = watch only)
 *   confidence         a number in [0, 1] (L2 and L3)
 * L3 root_cause, affected_scope, cross_tenant_impact are free strings;
 * tenant_types, causal_chain, recommended_actions are arrays of strings.
 * Every field is required but `actions`; extra fields are tolerated.
 *
 * Actions (the closed loop; vocabulary src/model/actions.h): an L3 answer
 * may carry "actions": [{"action": "<name>", "target": "<entity>"}, ...],
 * at most LLM_ACTIONS_MAX entries, most urgent first; an L4 report may
 * carry the same array as the `actions` member of its first JSON object
 * (the prompt asks for a fenced ```json block {"actions": [...]} at the end
 * of the report). Absent means no action, so older transcripts stay valid;
 * present, it is validated with the rest of the answer: each entry an
 * object with a known action name (any case; canonical spelling handed
 * back) and a target of the action's form: "" or absent for no_op,
 * node-NNNN, node-NNNN/gpuK (or node-NNNN), rack-NN, a job id
 * [A-Za-z0-9_-]{1,32}, or for a scope a node, a rack or a tenant name.
 * Whether the entity exists in a fleet is llm_actions.h's check. The JSON
 * schema sent to servers lists `actions` as required too (OpenAI strict mode
 * requires every property): a model says [] for none. */
#ifndef FLEETSIM_LLM_SCHEMA_H
#define FLEETSIM_LLM_SCHEMA_H
#include <jansson.h>
#include <stddef.h>

enum { LLM_LAYER_L2 = 2, LLM_LAYER_L3 = 3, LLM_LAYER_L4 = 4 };

enum {
  LLM_ANSWER_MAX_BYTES = 65536, /* longest accepted answer, any layer */
  LLM_L4_NHEADINGS = 6,
  LLM_ACTIONS_MAX = 16,    /* most entries of an answer's `actions` */
  LLM_ACTION_JOB_MAX = 32, /* longest job id an action may target */
};

/* The sections every L4 report must have (the prompt asks for exactly these):
 * "Active incidents", "Resolved incidents", "SLA status", "Training health",
 * "Emerging risks", "Next-shift recommendations". */
extern const char *const llm_l4_headings[LLM_L4_NHEADINGS];

/* The schema's name for OpenAI's json_schema.name: "fleetsim_l2_triage" or
 * "fleetsim_l3_root_cause"; NULL for any other layer. */
const char *llm_schema_name(int layer);

/* The JSON schema of the L2 or L3 answer as a new jansson object (caller
 * json_decref()s it): {"type":"object","properties":{...},"required":[every
 * field],"additionalProperties":false}, properties in the seed's order, with
 * enums and descriptions; valid for OpenAI strict mode, so it leaves number
 * ranges out (the validator checks them). NULL for another layer or no memory. */
json_t *llm_schema_json(int layer);

/* The same schema as compact JSON text, malloc'd (caller frees), e.g. to quote
 * it in a prompt. NULL for another layer or no memory. */
char *llm_schema_text(int layer);

/* Finds the JSON object in a model's raw answer: the first balanced top-level
 * {...} (braces inside JSON strings do not count) that parses as an object,
 * so ```json fences and prose around it are tolerated. Returns 0 and the
 * object's offset and length in text, or FS_EINVAL when there is none. */
int llm_extract_json_object(const char *text, size_t *start, size_t *len);

/* Parses and validates an L2 or L3 answer (raw model text, see
 * llm_extract_json_object). Returns the object (caller json_decref()s it)
 * with enum values rewritten to their canonical spelling, or NULL with a
 * short reason in why (if why is not NULL and whylen > 0), e.g.
 *   "not JSON: no JSON object in the answer"
 *   "missing field 'scope'"
 *   "classification 'maybe' not in real_anomaly|noise|transient"
 *   "confidence 1.5 not in [0, 1]"
 *   "field 'causal_chain' is not an array of strings"
 * Values quoted in why are cut short and stripped of control characters. */
json_t *llm_answer_parse(int layer, const char *text, char *why, size_t whylen);

/* 1 when target has the form of a target of action kind (an act_kind; see
 * the head comment), without asking whether it exists in a fleet. */
int llm_action_target_ok(int kind, const char *target);

/* The validated `actions` of a raw answer (a new array the caller
 * json_decref()s: empty when the answer has none, and always for L2), or
 * NULL with the reason in why when the answer does not validate (as
 * llm_validate_answer), e.g. "actions[1]: target 'node-12' of drain_node is
 * not node-NNNN". */
json_t *llm_answer_action_list(int layer, const char *text, char *why, size_t whylen);

/* The length of the prose of an L4 report: the offset of its actions block
 * (the first JSON object, when it has an `actions` member, with the ```json
 * fence line that opens it), or strlen(report) when it has none. What the
 * scorers read: they judge the text, not the actions. */
size_t llm_l4_prose_len(const char *report);

/* Validates a raw answer of layer 2, 3 or 4. L2/L3 as llm_answer_parse. L4
 * (markdown): non-empty, at most LLM_ANSWER_MAX_BYTES, valid UTF-8, and every
 * heading of llm_l4_headings present as words, ignoring case and punctuation
 * ("## 6. Next Shift Recommendations" matches), else e.g.
 * "missing section 'SLA status'"; and its actions, if any, valid. Returns 0
 * or FS_EINVAL with why filled. */
int llm_validate_answer(int layer, const char *text, char *why, size_t whylen);

#endif

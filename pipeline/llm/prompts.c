/* Prompt texts of the LLM layers (see prompts.h); the L3 and L4 ones list
 * the actions of src/model/actions.h from its table. Vocabularies must match
 * pipeline/llm/llm_schema.h, which validates the answers; nothing here is sent
 * anywhere by this file. */
#include "pipeline/llm/prompts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/llm/llm_schema.h"
#include "src/model/actions.h"

static const char prompt_l2[] =
    "You are the L2 triage analyst of a GPU fleet operations team (1,000 nodes x 8 H100 GPUs, "
    "tenants moe-inference, dense-inference and training). A statistical detector (L1) flagged "
    "the anomaly described in the context. Decide whether it is a real anomaly that needs "
    "attention, statistical noise, or a transient that will clear by itself. Reason only from "
    "the evidence in the context: metric values, z-scores, baselines, peer GPUs, node metrics.\n"
    "\n"
    "Answer with ONE JSON object and nothing else, with exactly these fields:\n"
    "  \"classification\": \"real_anomaly\" | \"noise\" | \"transient\"\n"
    "  \"scope\": \"gpu\" | \"node\" | \"rack\" | \"job\" | \"cluster\"\n"
    "  \"tenant_type\": \"moe-inference\" | \"dense-inference\" | \"training\" | \"mixed\" | "
    "\"unknown\"\n"
    "  \"confidence\": a number from 0 to 1\n"
    "  \"rationale\": one or two sentences citing the evidence (metric, value, z-score)\n";

static const char prompt_l3[] =
    "You are the L3 root-cause analyst of a GPU fleet operations team (1,000 nodes x 8 H100 "
    "GPUs in racks of 40, tenants moe-inference, dense-inference and training). An anomaly was "
    "escalated to you with its co-occurring anomalies, 30-minute series before and after, rack "
    "neighbour state, tenant and job context, and recent L2 triage decisions. Find the root "
    "cause: the component where the fault sits (name the node-NNNN, node-NNNN/gpuK, rack-NN or "
    "train-NNN), the causal chain from it to the symptoms, and who is affected.\n"
    "\n"
    "Answer with ONE JSON object and nothing else, with exactly these fields:\n"
    "  \"root_cause\": a short statement of the cause, naming the component\n"
    "  \"confidence\": a number from 0 to 1\n"
    "  \"affected_scope\": the nodes, GPUs, racks or jobs affected\n"
    "  \"tenant_types\": array of tenants affected (moe-inference, dense-inference, training)\n"
    "  \"cross_tenant_impact\": whether and how other tenants are affected\n"
    "  \"causal_chain\": array of steps from cause to observed symptoms\n"
    "  \"recommended_actions\": array of concrete operator actions\n"
    "  \"priority\": \"P1\" (act now: service or job impact under way) | \"P2\" (act this "
    "shift) | \"P3\" (plan a fix) | \"P4\" (watch only)\n"
    "  \"actions\": array of {\"action\": name, \"target\": entity} to apply to the fleet now, "
    "most urgent first (at most 16; [] for none), from this list:\n";

static const char prompt_l4[] =
    "You are the shift lead of a GPU fleet operations team (1,000 nodes x 8 H100 GPUs, tenants "
    "moe-inference, dense-inference and training). Write the shift handoff report for the "
    "window in the context: cluster status, the L2 decision counts, the L3 analyses, SLA budget "
    "per tenant and training job health. Be specific: name nodes, racks, jobs and times; give "
    "each incident its own bullet line (what failed and where), and each tenant's SLA budget "
    "and each degraded job a line with its figures and a verdict.\n"
    "\n"
    "Answer in markdown with exactly these section headings, in this order:\n";

static const char prompt_l4_actions[] =
    "\nTo act on the fleet now, end the report with one fenced ```json block holding "
    "{\"actions\": [{\"action\": name, \"target\": entity}, ...]} (at most 16, most urgent "
    "first; leave the block out for none), from this list:\n";

/* One line per action of src/model/actions.h: "  name <target form>: what it
 * does" (no target for no_op), malloc'd. */
static char *prompt_actions(void) {
  size_t n = 1;
  for (int k = 0; k < ACT_COUNT; k++)
    n += strlen(act_name((act_kind)k)) + strlen(act_about((act_kind)k)) +
         strlen(act_target_form(act_target_of((act_kind)k))) + 8;
  char *s = malloc(n), *p = s;
  for (int k = 0; s && k < ACT_COUNT; k++) {
    act_target_kind t = act_target_of((act_kind)k);
    p += sprintf(p, "  %s%s%s%s: %s\n", act_name((act_kind)k), t == ACT_TARGET_NONE ? "" : " <",
                 t == ACT_TARGET_NONE ? "" : act_target_form(t), t == ACT_TARGET_NONE ? "" : ">",
                 act_about((act_kind)k));
  }
  return s;
}

char *prompt_system(llm_layer layer) {
  const char *intro = layer == LLM_L2 ? prompt_l2 : layer == LLM_L3 ? prompt_l3 : prompt_l4;
  char *tail = NULL, *actions = NULL;
  if (layer == LLM_L2 || layer == LLM_L3) {
    char *schema = llm_schema_text((int)layer);
    if (!schema || (layer == LLM_L3 && !(actions = prompt_actions()))) {
      free(schema);
      return NULL;
    }
    static const char lead[] = "\nThe answer must validate against this JSON schema:\n";
    tail = malloc(sizeof lead + strlen(schema) + (actions ? strlen(actions) : 0) + 1);
    if (tail)
      sprintf(tail, "%s%s%s\n", actions ? actions : "", lead, schema);
    free(schema);
  } else if (layer == LLM_L4) {
    if (!(actions = prompt_actions()))
      return NULL;
    size_t n = 1 + sizeof prompt_l4_actions + strlen(actions);
    for (int i = 0; i < LLM_L4_NHEADINGS; i++)
      n += strlen(llm_l4_headings[i]) + 4;
    if ((tail = malloc(n))) {
      tail[0] = '\0';
      for (int i = 0; i < LLM_L4_NHEADINGS; i++)
        strcat(strcat(strcat(tail, "## "), llm_l4_headings[i]), "\n");
      strcat(strcat(tail, prompt_l4_actions), actions);
    }
  } else {
    return NULL;
  }
  free(actions);
  if (!tail)
    return NULL;
  char *s = malloc(strlen(intro) + strlen(tail) + 1);
  if (s)
    strcat(strcpy(s, intro), tail);
  free(tail);
  return s;
}

char *prompt_user(const char *context) {
  static const char head[] = "Context (JSON):\n";
  char *s = malloc(sizeof head + strlen(context));
  if (s)
    strcat(strcpy(s, head), context);
  return s;
}

char *prompt_reask(const char *user, const char *why) {
  static const char again[] =
      "\n\nYour previous answer was rejected: %s. Answer again, exactly in the required "
      "format.";
  size_t n = strlen(user) + sizeof again + strlen(why);
  char *s = malloc(n);
  if (s) {
    size_t u = strlen(user);
    memcpy(s, user, u);
    snprintf(s + u, n - u, again, why);
  }
  return s;
}

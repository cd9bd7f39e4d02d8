/* A fault kind's scorer knowledge (see kind_knowledge.h): parse, validate,
 * compile. Reads the checklists document only; no ground truth of a run. */
#include "pipeline/score/kind_knowledge.h"

#include <stdlib.h>
#include <string.h>

#include "src/model/events.h"
#include "pipeline/score/remedy.h"
#include "scenarios/scenario.h"
#include "src/core/diag.h"
#include "src/model/metrics.h"

static const char *const kk_keys[] = {"family", "compatible", "signature_metrics", "entity",
                                      "l2_scopes", "slow_burn", "about", "oracle", "remedy",
                                      NULL};
static const char *const kk_entities[] = {"rack", "node", "gpu", "hot_gpu", NULL};

int kk_is_key(const char *key) {
  for (int i = 0; kk_keys[i]; i++)
    if (strcmp(kk_keys[i], key) == 0)
      return 1;
  return 0;
}

static int kk_is_metric(const char *name) {
  for (int i = 0; i < GM_COUNT; i++)
    if (strcmp(metric_gpu[i].name, name) == 0)
      return 1;
  for (int i = 0; i < NM_COUNT; i++)
    if (strcmp(metric_node[i].name, name) == 0)
      return 1;
  for (int i = 0; i < CM_COUNT; i++)
    if (strcmp(metric_cluster[i].name, name) == 0)
      return 1;
  return 0;
}

static int kk_kind_index(const char *name) {
  for (int k = 0; k < SK_COUNT; k++)
    if (strcmp(scn_kind_name((scn_kind)k), name) == 0)
      return k;
  return -1;
}

/* A non-empty array of strings, or a problem in diag (1). */
static int kk_strings(json_t *v, const char *where, const char *key, int allow_empty) {
  size_t i;
  json_t *x;
  if (!json_is_array(v) || (!allow_empty && json_array_size(v) == 0)) {
    diag_addf("%s: \"%s\" must be a%s array of strings", where, key,
              allow_empty ? "n" : " non-empty");
    return 1;
  }
  json_array_foreach(v, i, x) if (!json_is_string(x) || !json_string_value(x)[0]) {
    diag_addf("%s: \"%s\" element %zu is not a non-empty string", where, key, i + 1);
    return 1;
  }
  return 0;
}

void kk_free(chk_kind_info *k) {
  if (!k)
    return;
  for (int i = 0; i < k->nfamily; i++)
    regfree(&k->family[i]);
  free(k->family);
  free(k->signature);
  free(k->oracle.causal_chain);
  free(k->oracle.recommended_actions);
  memset(k, 0, sizeof *k);
}

/* 1 (a problem in diag) unless every "{name}" of text is a placeholder the
 * oracle fills: place, hot, job, lot. */
static int kk_placeholders(const char *text, const char *where, const char *key) {
  static const char *const known[] = {"place", "hot", "job", "lot"};
  for (const char *p = strchr(text, '{'); p; p = strchr(p + 1, '{')) {
    const char *end = strchr(p, '}');
    int ok = 0;
    for (size_t i = 0; end && i < sizeof known / sizeof known[0]; i++)
      ok |= (size_t)(end - p - 1) == strlen(known[i]) &&
            strncmp(p + 1, known[i], strlen(known[i])) == 0;
    if (!ok) {
      diag_addf("%s: oracle.%s: '%.40s' is not a placeholder (place, hot, job, lot)", where, key,
                p);
      return 1;
    }
  }
  return 0;
}

/* A non-empty string of o at key (a problem in diag otherwise); placeholders checked. */
static const char *kk_oracle_text(json_t *o, const char *key, const char *where, int *bad) {
  const char *t = json_string_value(json_object_get(o, key));
  if (!t || !t[0]) {
    diag_addf("%s: oracle.%s must be a non-empty string", where, key);
    (*bad)++;
    return NULL;
  }
  *bad += kk_placeholders(t, where, key);
  return t;
}

/* The strings of the array o.key into a malloc'd list; -1 on allocation failure. */
static int kk_oracle_list(json_t *o, const char *key, const char *where, const char ***out,
                          int *n) {
  json_t *a = json_object_get(o, key), *v;
  if (kk_strings(a, where, key, 0))
    return 1;
  if (!(*out = calloc(json_array_size(a), sizeof **out)))
    return -1;
  int bad = 0;
  size_t i;
  json_array_foreach(a, i, v) {
    (*out)[(*n)++] = json_string_value(v);
    bad += kk_placeholders(json_string_value(v), where, key);
  }
  return bad;
}

/* The "oracle" object of a kind whose entity is e: its keys, strings and
 * placeholders. Returns the number of problems, -1 on allocation failure. */
static int kk_oracle(chk_oracle *out, json_t *o, chk_entity e, const char *where) {
  static const char *const keys[] = {"phrase", "why", "place", "root_cause",
                                     "cross_tenant_impact", "affected_scope", "causal_chain",
                                     "recommended_actions"};
  if (!json_is_object(o)) {
    diag_addf("%s: \"oracle\" must be an object (the calibration oracle's wording)", where);
    return 1;
  }
  int bad = 0;
  const char *key;
  json_t *v;
  json_object_foreach(o, key, v) {
    int known = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
      known |= strcmp(key, keys[i]) == 0;
    if (!known) {
      diag_addf("%s: oracle: unknown key '%s'", where, key);
      bad++;
    }
  }
  out->phrase = kk_oracle_text(o, "phrase", where, &bad);
  out->why = kk_oracle_text(o, "why", where, &bad);
  out->root_cause = kk_oracle_text(o, "root_cause", where, &bad);
  out->cross_tenant_impact = kk_oracle_text(o, "cross_tenant_impact", where, &bad);
  out->affected_scope = kk_oracle_text(o, "affected_scope", where, &bad);
  int where_known = e == CHK_ENTITY_RACK || e == CHK_ENTITY_NODE || e == CHK_ENTITY_GPU;
  if (!where_known)
    out->place = kk_oracle_text(o, "place", where, &bad);
  else if (json_object_get(o, "place")) {
    diag_addf("%s: oracle.place: the entity says where the fault is; leave it out", where);
    bad++;
  }
  int a = kk_oracle_list(o, "causal_chain", where, &out->causal_chain, &out->nchain);
  int b = a < 0 ? 0 : kk_oracle_list(o, "recommended_actions", where, &out->recommended_actions,
                                     &out->nactions);
  return a < 0 || b < 0 ? -1 : bad + a + b;
}

int kk_parse(chk_kind_info *out, json_t *o, const char *source, const char *kind) {
  memset(out, 0, sizeof *out);
  char where[160];
  snprintf(where, sizeof where, "%s: kind '%s'", source, kind);
  int bad = 0;
  const char *key;
  json_t *v;
  json_object_foreach(o, key, v) if (!kk_is_key(key) && strcmp(key, "L2") != 0 &&
                                     strcmp(key, "L3") != 0 && strcmp(key, "L4") != 0) {
    diag_addf("%s: unknown key '%s'", where, key);
    bad++;
  }
  json_t *fam = json_object_get(o, "family"), *comp = json_object_get(o, "compatible");
  json_t *sig = json_object_get(o, "signature_metrics"), *ent = json_object_get(o, "entity");
  json_t *scopes = json_object_get(o, "l2_scopes"), *slow = json_object_get(o, "slow_burn");
  bad += kk_strings(fam, where, "family", 0);
  bad += kk_strings(comp, where, "compatible", 1);
  bad += kk_strings(sig, where, "signature_metrics", 0);
  bad += kk_strings(scopes, where, "l2_scopes", 0);
  if (slow && !json_is_boolean(slow)) {
    diag_addf("%s: \"slow_burn\" must be true or false", where);
    bad++;
  }
  out->slow_burn = json_is_true(slow);
  rem_kind remedy; /* validated here; remedy.h reads the built-in ones */
  json_t *rem = json_object_get(o, "remedy");
  if (rem)
    bad += rem_parse(&remedy, rem, where);
  if (ent && !json_is_null(ent)) {
    const char *e = json_string_value(ent);
    int found = 0;
    for (int i = 0; e && kk_entities[i]; i++)
      if (strcmp(e, kk_entities[i]) == 0) {
        out->entity = (chk_entity)(i + 1);
        found = 1;
      }
    if (!found) {
      diag_addf("%s: \"entity\" must be rack, node, gpu, hot_gpu or null", where);
      bad++;
    }
  } else if (!ent) {
    diag_addf("%s: \"entity\" missing (rack, node, gpu, hot_gpu or null)", where);
    bad++;
  }
  if (bad)
    return bad;
  size_t i;
  json_array_foreach(comp, i, v) {
    int k = kk_kind_index(json_string_value(v));
    if (k < 0 || strcmp(json_string_value(v), kind) == 0) {
      diag_addf("%s: compatible: '%s' is not another scenario kind", where, json_string_value(v));
      bad++;
    } else {
      out->compatible |= 1u << k;
    }
  }
  json_array_foreach(sig, i, v) if (!kk_is_metric(json_string_value(v))) {
    diag_addf("%s: signature_metrics: '%s' is not a metric of the archive", where,
              json_string_value(v));
    bad++;
  }
  json_array_foreach(scopes, i, v) {
    int found = -1;
    for (int s = 0; s < EV_SCOPE_COUNT; s++)
      if (strcmp(json_string_value(v), ev_scope_name((ev_scope)s)) == 0)
        found = s;
    if (found < 0) {
      diag_addf("%s: l2_scopes: '%s' is not gpu, node, rack, job or cluster", where,
                json_string_value(v));
      bad++;
    } else {
      out->l2_scopes |= 1u << found;
    }
  }
  if (bad)
    return bad;
  int ob = kk_oracle(&out->oracle, json_object_get(o, "oracle"), out->entity, where);
  if (ob != 0) {
    kk_free(out);
    return ob;
  }
  size_t nf = json_array_size(fam), ns = json_array_size(sig);
  if (!(out->family = calloc(nf, sizeof *out->family)) ||
      !(out->signature = calloc(ns, sizeof *out->signature))) {
    kk_free(out);
    return -1;
  }
  json_array_foreach(sig, i, v) out->signature[out->nsignature++] = json_string_value(v);
  json_array_foreach(fam, i, v) {
    int e = regcomp(&out->family[out->nfamily], json_string_value(v), REG_EXTENDED | REG_ICASE);
    if (e != 0) {
      char msg[128];
      regerror(e, &out->family[out->nfamily], msg, sizeof msg);
      diag_addf("%s: family pattern %zu '%s': regcomp: %s", where, i + 1, json_string_value(v),
                msg);
      bad++;
      continue;
    }
    if (regexec(&out->family[out->nfamily], "", 0, NULL, 0) == 0) {
      diag_addf("%s: family pattern %zu '%s' matches empty text", where, i + 1,
                json_string_value(v));
      bad++;
    }
    out->nfamily++;
  }
  if (bad)
    kk_free(out);
  return bad;
}

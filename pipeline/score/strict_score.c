/* The strict score of one answer (see strict_score.h): field-scoped,
 * negation-aware, ordered and ground-truth checks, with the gates. Reads
 * ground truth for the scorer; answers are untrusted text. */
#include "pipeline/score/strict_score.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pipeline/score/answer_text.h"
#include "pipeline/score/family_memo.h"
#include "pipeline/llm/llm_schema.h"
#include "pipeline/score/strict_internal.h"
#include "src/core/errors.h"

int sct_names_family(const chk_set *knowledge, int k, const char *text) {
  const chk_kind_info *ki = chk_kind(knowledge, k);
  return ki && atx_any_positive(ki->family, ki->nfamily, text, NULL);
}

unsigned sct_named(const sct_ctx *x, const char *text) {
  return fam_named(x->memo, x->kn, text);
}

unsigned sct_foreign_families(const sct_ctx *x, int k, const char *text) {
  const chk_kind_info *ki = k >= 0 ? chk_kind(x->kn, k) : NULL;
  unsigned bits = sct_named(x, text);
  if (k >= 0 && k < SK_COUNT)
    bits &= ~(1u << k);
  return ki ? bits & ~ki->compatible : bits;
}

/* 1 when text names two fault families that are not compatible: neither
 * kind lists the other (one declaration makes the pair coherent, so a
 * rationale naming a fault and its consequence reads the same both ways). */
static int sct_incoherent(const sct_ctx *x, const char *text) {
  unsigned named = sct_named(x, text);
  for (int k = 0; k < SK_COUNT; k++)
    for (int o = k + 1; (named >> k) & 1u && o < SK_COUNT; o++)
      if ((named >> o) & 1u && !((chk_kind(x->kn, k)->compatible >> o) & 1u) &&
          !((chk_kind(x->kn, o)->compatible >> k) & 1u))
        return 1;
  return 0;
}

/* 1 when one line of text names kind k's family and no incompatible one. */
int sct_line_names_family(const sct_ctx *x, int k, const char *text) {
  for (const char *line = text; line && *line;) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    char *l = strndup(line, len);
    int ok = l && ((sct_named(x, l) >> k) & 1u) && !sct_foreign_families(x, k, l);
    free(l);
    if (ok)
      return 1;
    line = nl ? nl + 1 : NULL;
  }
  return 0;
}

/* ---- ground truth of a scenario ------------------------------------------ */

/* Tenants of the root-cause nodes of s: a bit per tenant. */
unsigned sct_truth_tenants(const scn_def *s, const fleet *f) {
  unsigned bits = 0;
  for (int i = 0; i < s->nnodes; i++)
    if (s->nodes[i] >= 0 && s->nodes[i] < f->nodes)
      bits |= 1u << f->node_tenant[s->nodes[i]];
  return bits;
}

int sct_is_root(const scn_def *s, int node) {
  for (int i = 0; i < s->nnodes; i++)
    if (s->nodes[i] == node)
      return 1;
  return 0;
}

int sct_is_root_rack(const scn_def *s, const fleet *f, int rack) {
  for (int i = 0; i < s->nnodes; i++)
    if (s->nodes[i] >= 0 && s->nodes[i] < f->nodes && f->node_rack[s->nodes[i]] == rack)
      return 1;
  return 0;
}

int sct_is_root_job(const scn_def *s, const fleet *f, int job) {
  for (int i = 0; i < s->nnodes; i++)
    if (s->nodes[i] >= 0 && s->nodes[i] < f->nodes && f->node_job[s->nodes[i]] == job)
      return 1;
  return 0;
}

static int sct_is_gpu(const scn_def *s, int gpu) {
  for (int i = 0; i < s->ngpus; i++)
    if (s->gpus[i] == gpu)
      return 1;
  return 0;
}

/* 1 when node hosts a faulty GPU of s. */
int sct_node_has_gpu(const scn_def *s, int node) {
  for (int g = 0; g < FLEET_GPUS; g++)
    if (sct_is_gpu(s, node * FLEET_GPUS + g))
      return 1;
  return 0;
}

/* The faulty GPUs of s this event is about: those on its node, else on its
 * job's or rack's nodes for job/rack events, else all (call place filter). */
static int sct_gpu_in_place(const scn_def *s, const fleet *f, const tmap_event *e, int gpu) {
  int node = gpu / FLEET_GPUS, any_node = 0, any_group = 0;
  if (node < 0 || node >= f->nodes || !sct_is_gpu(s, gpu))
    return 0;
  for (int i = 0; i < s->ngpus; i++) {
    int n = s->gpus[i] / FLEET_GPUS;
    if (n < 0 || n >= f->nodes)
      continue;
    any_node |= n == e->node;
    any_group |= (e->scope == EV_SCOPE_JOB && e->job >= 0 && f->node_job[n] == e->job) ||
                 (e->scope == EV_SCOPE_RACK && e->rack >= 0 && f->node_rack[n] == e->rack);
  }
  if (any_node)
    return node == e->node;
  if (any_group)
    return (e->scope == EV_SCOPE_JOB && f->node_job[node] == e->job) ||
           (e->scope == EV_SCOPE_RACK && f->node_rack[node] == e->rack);
  return 1;
}

/* ---- reading the answer ---------------------------------------------------- */

/* Appends the string values of the fields (CHK_F_* bits) of an L3 answer to
 * vals[*n] (array elements one by one). */
static void sct_values(json_t *answer, unsigned fields, const char **vals, int cap, int *n) {
  *n = 0;
  for (int k = 0; k < CHK_L3_NFIELDS; k++) {
    if (!((fields >> k) & 1u))
      continue;
    json_t *v = json_object_get(answer, chk_l3_fields[k]);
    size_t i;
    json_t *x;
    if (json_is_string(v) && *n < cap)
      vals[(*n)++] = json_string_value(v);
    else if (json_is_array(v))
      json_array_foreach(v, i, x) if (json_is_string(x) && *n < cap) vals[(*n)++] =
          json_string_value(x);
  }
}

enum { SCT_MAX_VALUES = 256 };

/* 1 when one of re[0..n) has a positive match in one of the values. */
static int sct_any_value(const regex_t *re, int n, const char *const *vals, int nv) {
  for (int i = 0; i < nv; i++)
    if (atx_any_positive(re, n, vals[i], NULL))
      return 1;
  return 0;
}

static void sct_entities(const sct_ctx *x, const char *const *vals, int nv, atx_entities *e) {
  memset(e, 0, sizeof *e);
  for (int i = 0; i < nv; i++)
    atx_collect_entities(vals[i], x->jobs, x->njobs, e);
}

/* ---- checks ------------------------------------------------------------------ */

/* entity: the kind's entity for this event, named with precision >= 1/2. */
static int sct_entity(const sct_ctx *x, const scn_def *s, const chk_kind_info *ki,
                      const atx_entities *e) {
  const fleet *f = x->f;
  const tmap_event *ev = &x->c->event;
  int hit = 0, truth = 0, named = 0;
  switch (ki->entity) {
  case CHK_ENTITY_RACK: {
    int event_rack_is_truth = ev->rack >= 0 && sct_is_root_rack(s, f, ev->rack);
    for (int i = 0; i < e->nrack; i++) {
      int t = sct_is_root_rack(s, f, e->rack[i]);
      truth += t;
      hit |= t && (!event_rack_is_truth || e->rack[i] == ev->rack);
    }
    named = e->nrack;
    break;
  }
  case CHK_ENTITY_NODE:
    for (int i = 0; i < e->nnode; i++) {
      int t = sct_is_root(s, e->node[i]);
      truth += t;
      hit |= t;
    }
    named = e->nnode;
    break;
  case CHK_ENTITY_GPU:
    for (int i = 0; i < e->ngpu; i++) {
      truth += sct_is_gpu(s, e->gpu[i]);
      hit |= sct_gpu_in_place(s, f, ev, e->gpu[i]);
    }
    named = e->ngpu;
    for (int i = 0; i < e->nnode; i++) { /* a node named without a GPU */
      int bare = 1;
      for (int k = 0; k < e->ngpu; k++)
        bare &= e->gpu[k] / FLEET_GPUS != e->node[i];
      if (!bare)
        continue;
      named++;
      int t = sct_node_has_gpu(s, e->node[i]);
      truth += t;
      for (int g = 0; t && g < FLEET_GPUS; g++)
        hit |= sct_gpu_in_place(s, f, ev, e->node[i] * FLEET_GPUS + g);
    }
    break;
  case CHK_ENTITY_HOT_GPU:
    for (int i = 0; i < e->ngpu_index; i++) {
      int t = (s->gpu_mask >> e->gpu_index[i]) & 1;
      truth += t;
      hit |= t;
    }
    named = e->ngpu_index;
    break;
  case CHK_ENTITY_NONE:
    return -1;
  }
  return hit && 2 * truth >= named;
}

static int sct_entity_job(const sct_ctx *x, const scn_def *s, const atx_entities *e) {
  int hit = 0;
  for (int i = 0; i < e->njob; i++)
    hit += sct_is_root_job(s, x->f, e->job[i]);
  return hit > 0 && 2 * hit >= e->njob;
}

/* lot: "lot" followed within 12 characters (no line break) by the number. */
static int sct_lot(const char *const *vals, int nv, int lot) {
  for (int v = 0; v < nv; v++) {
    const char *t = vals[v];
    for (size_t i = 0; t[i]; i++) {
      if (strncasecmp(t + i, "lot", 3) != 0 || (i > 0 && isalnum((unsigned char)t[i - 1])))
        continue;
      size_t j = i + 3, k = 0;
      while (t[j] && !isdigit((unsigned char)t[j]) && t[j] != '\n' && k < 12)
        j++, k++;
      if (!isdigit((unsigned char)t[j]))
        continue;
      long n = strtol(t + j, NULL, 10);
      size_t end = j;
      while (isdigit((unsigned char)t[end]))
        end++;
      if (n == lot && !atx_negated(t, i, end))
        return 1;
    }
  }
  return 0;
}

/* The tenants an L3 answer's tenant_types names: a bit per tenant. */
static unsigned sct_answer_tenants(json_t *answer) {
  json_t *arr = json_object_get(answer, "tenant_types"), *v;
  unsigned got = 0;
  size_t i;
  json_array_foreach(arr, i, v) for (int t = 0; t < TENANT_COUNT; t++) if (
      json_is_string(v) && strcasecmp(json_string_value(v), fleet_tenant_name(t)) == 0) got |=
      1u << t;
  return got;
}

/* order: a positive "first" before a positive "then" across the values (in
 * order), or a direct pattern in one value. */
static int sct_order(const chk_item *it, const char *const *vals, int nv) {
  if (sct_any_value(it->direct, it->ndirect, vals, nv))
    return 1;
  for (int i = 0; i < nv; i++) {
    size_t at;
    if (!atx_any_positive(it->first, it->nfirst, vals[i], &at))
      continue;
    for (int k = 0; k < it->nthen; k++)
      if (atx_positive_from(&it->then[k], vals[i], at + 1, NULL))
        return 1;
    for (int j = i + 1; j < nv; j++)
      if (atx_any_positive(it->then, it->nthen, vals[j], NULL))
        return 1;
    return 0; /* the earliest "first" decides */
  }
  return 0;
}

/* ---- one item ------------------------------------------------------------------ */

/* The scenario list i of an L4 call is about (-1 for the shift list). */
const scn_def *sct_list_scenario(const sct_ctx *x, int list, tmap_state *state) {
  const sct_call *c = x->c;
  if (x->layer == 4) {
    if (list == 0)
      return NULL;
    *state = c->states[list - 1];
    return &c->truth->scenarios->s[c->incidents[list - 1]];
  }
  return c->scenario >= 0 ? &c->truth->scenarios->s[c->scenario] : NULL;
}

/* 1 when node is the event's place (its node, or a node of its job or rack
 * for a job or rack event) or a root-cause node of s (or hosts a faulty GPU
 * of s). */
static int sct_node_here(const sct_ctx *x, const scn_def *s, int node) {
  const tmap_event *ev = &x->c->event;
  const fleet *f = x->f;
  if (node < 0 || node >= f->nodes)
    return 0;
  return node == ev->node ||
         (ev->scope == EV_SCOPE_JOB && ev->job >= 0 && f->node_job[node] == ev->job) ||
         (ev->scope == EV_SCOPE_RACK && ev->rack >= 0 && f->node_rack[node] == ev->rack) ||
         (s && (sct_is_root(s, node) || sct_node_has_gpu(s, node)));
}

/* 1 when an L2 rationale is about another place: it names nodes, GPUs,
 * racks or jobs, and fewer than half of them are the event's (its node, rack,
 * job) or the fault's (root-cause nodes, their racks and jobs). An answer
 * pasted from another event names that event's place; a right answer names
 * this one, or none. */
static int sct_elsewhere(const sct_ctx *x, const scn_def *s, const char *rationale) {
  atx_entities e;
  const char *vals[1] = {rationale};
  if (!rationale)
    return 0;
  sct_entities(x, vals, 1, &e);
  const tmap_event *ev = &x->c->event;
  const fleet *f = x->f;
  int on = ev->node >= 0 && ev->node < f->nodes; /* the event's rack and job */
  int ev_rack = ev->rack >= 0 ? ev->rack : on ? f->node_rack[ev->node] : -1;
  int ev_job = ev->job >= 0 ? ev->job : on ? f->node_job[ev->node] : -1;
  int named = e.nnode + e.nrack + e.njob, here = 0;
  for (int i = 0; i < e.nnode; i++) /* the node of node-N/gpuK is among them */
    here += sct_node_here(x, s, e.node[i]);
  for (int i = 0; i < e.nrack; i++)
    here += e.rack[i] == ev_rack || (s && sct_is_root_rack(s, f, e.rack[i]));
  for (int i = 0; i < e.njob; i++)
    here += e.job[i] == ev_job || (s && sct_is_root_job(s, f, e.job[i]));
  return named > 0 && 2 * here < named;
}

/* An L2 item. */
static int sct_l2_item(const sct_ctx *x, const chk_item *it, const scn_def *s) {
  const char *v = json_string_value(json_object_get(x->answer, chk_l2_fields[it->field]));
  const fleet *f = x->f;
  switch (it->check) {
  case CHK_SCOPE: {
    const chk_kind_info *ki = s ? chk_kind(x->kn, (int)s->kind) : NULL;
    int e = x->c->event.scope;
    if (!ki || (e >= 0 && (ki->l2_scopes >> e) & 1u))
      return -1; /* the event states the right scope: copying it is no triage */
    for (int k = 0; v && k < EV_SCOPE_COUNT; k++)
      if (strcmp(v, ev_scope_name((ev_scope)k)) == 0)
        return (ki->l2_scopes >> k) & 1u;
    return 0;
  }
  case CHK_TENANT: {
    if (!s)
      return -1;
    const chk_kind_info *ki = chk_kind(x->kn, (int)s->kind);
    unsigned truth = sct_truth_tenants(s, f);
    int multi = (truth & (truth - 1)) != 0;
    int localized = (ki->l2_scopes & ((1u << EV_SCOPE_GPU) | (1u << EV_SCOPE_NODE))) != 0;
    int node = x->c->event.node;
    int ten = node >= 0 && node < f->nodes ? f->node_tenant[node] : x->c->event.tenant;
    if (ten >= 0 && (localized ? (truth >> ten) & 1u : truth == 1u << ten))
      return -1; /* the event states the right tenant: copying it is no triage */
    if (!v)
      return 0;
    if (strcmp(v, "mixed") == 0)
      return multi;
    for (int t = 0; t < TENANT_COUNT; t++)
      if (strcmp(v, fleet_tenant_name(t)) == 0)
        return localized ? t == ten && ((truth >> t) & 1u) : truth == 1u << t;
    return 0;
  }
  case CHK_FAMILY:
    return s && ((sct_named(x, v) >> s->kind) & 1u) &&
           !sct_foreign_families(x, (int)s->kind, v) &&
           !(it->field == CHK_RATIONALE_FIELD && sct_elsewhere(x, s, v));
  default: /* a rationale naming incompatible families or another place earns nothing */
    return atx_any_positive(it->re, it->nre, v, NULL) &&
           !(it->field == CHK_RATIONALE_FIELD &&
             (sct_incoherent(x, v) || sct_elsewhere(x, s, v)));
  }
}

/* An L3 item. */
static int sct_l3_item(const sct_ctx *x, const chk_item *it, const scn_def *s) {
  const char *vals[SCT_MAX_VALUES];
  int nv;
  sct_values(x->answer, it->fields, vals, SCT_MAX_VALUES, &nv);
  if (it->nfirst > 0)
    return sct_order(it, vals, nv);
  atx_entities e;
  switch (it->check) {
  case CHK_ENTITY:
    if (!s)
      return -1;
    sct_entities(x, vals, nv, &e);
    return sct_entity(x, s, chk_kind(x->kn, (int)s->kind), &e);
  case CHK_ENTITY_JOB:
    if (!s)
      return -1;
    sct_entities(x, vals, nv, &e);
    return sct_entity_job(x, s, &e);
  case CHK_LOT:
    return s && s->lot >= 0 ? sct_lot(vals, nv, s->lot) : -1;
  case CHK_TENANTS:
    return s ? sct_answer_tenants(x->answer) == sct_truth_tenants(s, x->f) : -1;
  case CHK_CROSS_TENANT: {
    if (!s)
      return -1;
    unsigned truth = sct_truth_tenants(s, x->f), got = sct_answer_tenants(x->answer);
    return (truth & (truth - 1)) ? (got & ~truth) == 0 && (got & (got - 1)) != 0 : got == truth;
  }
  case CHK_NO_FAMILY: /* a metric's name is the signal, not a fault claimed */
    for (int i = 0; i < nv; i++) {
      char *plain = atx_blank_metric_names(vals[i]);
      unsigned named = plain ? sct_foreign_families(x, -1, plain) : 1u;
      free(plain);
      if (named)
        return 0;
    }
    return 1;
  case CHK_ABSENT:
    return !sct_any_value(it->re, it->nre, vals, nv);
  default:
    return sct_any_value(it->re, it->nre, vals, nv);
  }
}

/* ---- the answer ------------------------------------------------------------------ */

static void sct_ctx_free(sct_ctx *x) {
  json_decref(x->answer);
  for (int i = 0; i < LLM_L4_NHEADINGS; i++)
    free(x->section[i]);
  free(x->jobs);
}

/* Reads the answer into x; *why set when it cannot be scored. 0 or ENOMEM. */
static int sct_read(sct_ctx *x, const char *text, char *why, size_t whylen) {
  if (!text || !text[0]) {
    snprintf(why, whylen, "no answer");
    return 0;
  }
  if (x->layer != 4) {
    char w[120] = "";
    if (!(x->answer = llm_answer_parse(x->layer, text, w, sizeof w)))
      snprintf(why, whylen, "answer does not validate: %s", w);
    return 0;
  }
  atx_sections sec;
  char *prose = strndup(text, llm_l4_prose_len(text)); /* the actions block is not judged */
  if (!prose)
    return FS_ENOMEM;
  atx_split_sections(prose, &sec);
  for (int i = 0; i < LLM_L4_NHEADINGS; i++)
    if (sec.present[i] && !(x->section[i] = strndup(prose + sec.start[i], sec.len[i]))) {
      free(prose);
      return FS_ENOMEM;
    }
  free(prose);
  return 0;
}

/* The L3 family gate; 1 passes, else the reason in why. */
static int sct_family_gate(const sct_ctx *x, const scn_def *s, char *why, size_t whylen) {
  const char *root = json_string_value(json_object_get(x->answer, "root_cause"));
  int k = (int)s->kind;
  unsigned foreign = sct_foreign_families(x, k, root);
  if (foreign) {
    int o = 0;
    while (!((foreign >> o) & 1u))
      o++;
    snprintf(why, whylen, "root cause names another fault family (%s): every item forfeited",
             scn_kind_name((scn_kind)o));
    return 0;
  }
  if (!((sct_named(x, root) >> k) & 1u)) {
    snprintf(why, whylen, "root cause does not name the %s family: every item forfeited",
             scn_kind_name((scn_kind)k));
    return 0;
  }
  return 1;
}

int sct_score(chk_result *out, const chk_list *const *lists, const char *const *prefixes, int n,
              int layer, const char *text, const sct_call *c) {
  if (!out)
    return FS_EINVAL;
  memset(out, 0, sizeof *out);
  if (!c || !c->truth || n < 1 || !lists || layer < 2 || layer > 4 ||
      (layer == 4 && n != 1 + c->nincidents) || (layer != 4 && n != 1))
    return FS_EINVAL;
  int total = 0;
  for (int i = 0; i < n; i++) {
    if (!lists[i] || chk_list_count(lists[i]) < 0)
      return FS_EINVAL;
    total += chk_list_count(lists[i]);
  }
  sct_ctx x = {.c = c, .kn = c->truth->knowledge, .f = c->truth->f, .layer = layer,
               .memo = c->memo};
  fam_memo *own = NULL; /* without the call's memo, one for this scoring */
  regex_t words[SCT_NWORDS];
  int nwords = 0, rc = 0;
  if (!x.memo)
    x.memo = own = fam_memo_new(x.kn);
  if (!x.memo || !(out->items = calloc((size_t)total + 1, sizeof *out->items)) ||
      !(x.jobs = calloc((size_t)x.f->njobs + 1, sizeof *x.jobs))) {
    rc = FS_ENOMEM;
    goto done;
  }
  x.njobs = x.f->njobs;
  for (int j = 0; j < x.njobs; j++)
    x.jobs[j] = x.f->cfg->jobs[j].id;
  if (layer == 4 && (nwords = sct_l4_words(words)) < SCT_NWORDS) {
    rc = FS_ENOMEM;
    goto done;
  }
  char why[CHK_NOTE_LEN] = "";
  if ((rc = sct_read(&x, text, why, sizeof why)) != 0)
    goto done;
  const scn_def *s0 = layer != 4 && c->scenario >= 0 ? &c->truth->scenarios->s[c->scenario] : NULL;
  int gate_ok = !why[0] && !(layer == 3 && s0 && !sct_family_gate(&x, s0, why, sizeof why));
  for (int i = 0; i < n; i++)
    for (int k = 0; k < chk_list_count(lists[i]); k++) {
      const chk_item *it = chk_list_item(lists[i], k);
      tmap_state st;
      const scn_def *s = sct_list_scenario(&x, i, &st);
      int m = 0;
      if (gate_ok)
        m = layer == 2 ? sct_l2_item(&x, it, s) : layer == 3 ? sct_l3_item(&x, it, s)
                                                             : sct_l4_item(&x, it, i, words);
      if (m < 0)
        continue; /* not applicable to this call */
      chk_item_result *r = &out->items[out->nitems++];
      const char *pre = prefixes ? prefixes[i] : NULL;
      snprintf(r->item, CHK_ITEM_LEN, "%s%s%s", pre ? pre : "", pre ? "/" : "", it->id);
      r->matched = m;
      if (it->gate && !m && gate_ok) {
        snprintf(why, sizeof why, "gate '%s' not met: every item forfeited", it->id);
        gate_ok = 0;
      }
    }
  if (!gate_ok)
    for (int i = 0; i < out->nitems; i++)
      out->items[i].matched = 0;
  for (int i = 0; i < out->nitems; i++)
    out->nmatched += out->items[i].matched;
  out->score = out->nitems > 0 ? (double)out->nmatched / out->nitems : 0.0;
  snprintf(out->note, sizeof out->note, "%s", why);
done:
  for (int i = 0; i < nwords; i++)
    regfree(&words[i]);
  sct_ctx_free(&x);
  fam_memo_free(&own);
  if (rc)
    chk_result_free(out);
  return rc;
}

/* The scorer's knowledge of one fault kind, from its object in the
 * checklists document (scenarios/kinds/<kind>.json: family regexes,
 * compatible kinds, signature metrics, entity, L2 scopes, slow burn, the
 * oracle's wording; see checklist.h): validated and compiled into a
 * chk_kind_info. Used by checklist.c only. */
#ifndef FLEETSIM_KIND_KNOWLEDGE_H
#define FLEETSIM_KIND_KNOWLEDGE_H
#include <jansson.h>

#include "pipeline/score/checklist.h"

/* Validates the knowledge keys of kind object o (named kind in source) and
 * fills *out (its strings borrowed from o, which must outlive it). Every
 * problem goes to diag naming the source, kind, key and value, e.g.
 * "checklists.json: kind 'hbm_degradation' signature_metrics: 'gpu_ecc'
 * is not a metric of the archive". Returns the number of problems (0: *out
 * filled), or -1 on allocation failure. */
int kk_parse(chk_kind_info *out, json_t *o, const char *source, const char *kind);

/* Frees what kk_parse compiled and zeroes *k; accepts a zeroed one. */
void kk_free(chk_kind_info *k);

/* 1 when key is a knowledge key of a kind object (the others are L2, L3, L4). */
int kk_is_key(const char *key);

#endif

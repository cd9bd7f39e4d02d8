/* Which fault families a text names (a bit per kind: kind k's family
 * patterns match it positively, answer_text.h), remembered by the text's
 * content. The strict score asks this of the same text many times (every
 * item that reads a field, every check of foreign or incoherent families)
 * and the same answers recur across calls (the calibration's null
 * operators), so each distinct text is matched against the families once.
 * Scorer side only; no I/O. */
#ifndef FLEETSIM_FAMILY_MEMO_H
#define FLEETSIM_FAMILY_MEMO_H
#include "pipeline/score/checklist.h"

typedef struct fam_memo fam_memo;

/* A new, empty memo over the kinds' knowledge kn (borrowed: it must
 * outlive the memo). NULL on ENOMEM. */
fam_memo *fam_memo_new(const chk_set *kn);

/* Frees a memo; accepts NULL and clears the pointer. */
void fam_memo_free(fam_memo **m);

/* The kinds whose family text names, a bit per kind (1u << k): from the
 * memo when it holds text, else matched and remembered (the oldest entry
 * gives way). m NULL: matched, nothing remembered. */
unsigned fam_named(fam_memo *m, const chk_set *kn, const char *text);

#endif

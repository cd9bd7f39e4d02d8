/* The family memo (see family_memo.h): a small ring of texts with the
 * family bits matched for each, found by a hash of the content and checked
 * byte for byte. */
#include "pipeline/score/family_memo.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/score/answer_text.h"
#include "scenarios/scenario.h"

enum { FAM_MEMO_SLOTS = 64 };

typedef struct {
  char *text; /* owned copy; NULL: empty slot */
  size_t len;
  uint64_t hash;
  unsigned bits;
} fam_slot;

struct fam_memo {
  const chk_set *kn;
  fam_slot slot[FAM_MEMO_SLOTS];
  int next; /* the slot the next new text takes */
};

_Static_assert(SK_COUNT <= 32, "a family bit per kind must fit an unsigned");

/* FNV-1a over the bytes of s (len of them). */
static uint64_t fam_hash(const char *s, size_t len) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

/* The bits by matching every kind's family patterns. */
static unsigned fam_match(const chk_set *kn, const char *text) {
  unsigned bits = 0;
  for (int k = 0; k < SK_COUNT; k++) {
    const chk_kind_info *ki = chk_kind(kn, k);
    if (ki && atx_any_positive(ki->family, ki->nfamily, text, NULL))
      bits |= 1u << k;
  }
  return bits;
}

fam_memo *fam_memo_new(const chk_set *kn) {
  fam_memo *m = calloc(1, sizeof *m);
  if (m)
    m->kn = kn;
  return m;
}

void fam_memo_free(fam_memo **mp) {
  if (!mp || !*mp)
    return;
  for (int i = 0; i < FAM_MEMO_SLOTS; i++)
    free((*mp)->slot[i].text);
  free(*mp);
  *mp = NULL;
}

unsigned fam_named(fam_memo *m, const chk_set *kn, const char *text) {
  if (!text)
    return 0;
  if (!m || m->kn != kn)
    return fam_match(kn, text);
  size_t len = strlen(text);
  uint64_t h = fam_hash(text, len);
  for (int i = 0; i < FAM_MEMO_SLOTS; i++) {
    const fam_slot *s = &m->slot[i];
    if (s->text && s->hash == h && s->len == len && memcmp(s->text, text, len) == 0)
      return s->bits;
  }
  unsigned bits = fam_match(kn, text);
  char *copy = malloc(len + 1);
  if (copy) { /* without memory the answer is the same, only not kept */
    memcpy(copy, text, len + 1);
    fam_slot *s = &m->slot[m->next];
    free(s->text);
    *s = (fam_slot){copy, len, h, bits};
    m->next = (m->next + 1) % FAM_MEMO_SLOTS;
  }
  return bits;
}

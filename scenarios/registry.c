/* The registry of fault kinds: scenarios/kinds/kinds.def turned into the
 * tables of names and ops that the kind-agnostic scenario code loops over.
 * Nothing here knows one kind from another. */
#include <stdlib.h>
#include <string.h>

#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/strbuf.h"

#include "scenarios/kinds/kind.h"

#define SCN_KIND(name) &scn_kind_##name,
static const scn_kind_ops *const scn_registry[SK_COUNT] = {
#include "scenarios/kinds/kinds.def"
};
#undef SCN_KIND

#define SCN_KIND(name) #name,
static const char *const scn_kind_names[SK_COUNT] = {
#include "scenarios/kinds/kinds.def"
};
#undef SCN_KIND

const char *scn_kind_name(scn_kind k) {
  return k >= 0 && k < SK_COUNT ? scn_kind_names[k] : "unknown";
}

scn_kind scn_kind_by_name(const char *name) {
  for (int k = 0; name && k < SK_COUNT; k++)
    if (strcmp(name, scn_kind_names[k]) == 0)
      return (scn_kind)k;
  return SK_COUNT;
}

const scn_kind_ops *scn_kind_ops_of(scn_kind k) {
  return k >= 0 && k < SK_COUNT ? scn_registry[k] : NULL;
}

/* Marks (to = 1) or clears (to = 0) in sel the kinds of comma list v given
 * with option opt; an unknown name goes to diag with the valid kinds. */
static int scn_kinds_mark(const char *v, const char *opt, unsigned char to, unsigned char *sel) {
  int bad = 0;
  for (const char *p = v; p && *p;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    char name[64];
    scn_kind k = SK_COUNT;
    if (len > 0 && len < sizeof name) {
      memcpy(name, p, len);
      name[len] = '\0';
      k = scn_kind_by_name(name);
    }
    if (k == SK_COUNT) {
      strbuf b = {0};
      for (int j = 0; j < SK_COUNT; j++)
        sb_addf(&b, "%s%s", j ? ", " : "", scn_kind_names[j]);
      char *valid = sb_take(&b);
      diag_addf("%s %s: unknown kind '%.*s' (kinds: %s)", opt, v, (int)len, p,
                valid ? valid : "see fleetsim scenarios --kinds");
      free(valid);
      bad = 1;
    } else {
      sel[k] = to;
    }
    p = e ? e + 1 : NULL;
  }
  return bad;
}

int scn_kinds_select(const char *include, const char *exclude, const char *include_opt,
                     const char *exclude_opt, unsigned char sel[]) {
  int all = !include || !include[0];
  for (int k = 0; k < SK_COUNT; k++)
    sel[k] = (unsigned char)all;
  int bad = all ? 0 : scn_kinds_mark(include, include_opt, 1, sel);
  if (exclude && exclude[0])
    bad |= scn_kinds_mark(exclude, exclude_opt, 0, sel);
  if (bad)
    return FS_EUSAGE;
  int n = 0;
  for (int k = 0; k < SK_COUNT; k++)
    n += sel[k];
  if (n == 0) {
    diag_addf("%s %s %s %s: no kind is left to draw", include_opt, all ? "(all)" : include,
              exclude_opt, exclude ? exclude : "");
    return FS_EUSAGE;
  }
  return 0;
}

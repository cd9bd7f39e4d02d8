/* The registry of fault kinds: scenarios/kinds/kinds.def turned into the
 * tables of names and ops that the kind-agnostic scenario code loops over.
 * Nothing here knows one kind from another. */
#include <string.h>

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

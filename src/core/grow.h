/* Growing an array by doubling: the one helper every growing list of the
 * run uses (closed-loop queues, mitigation records, remedy expansions). */
#ifndef FLEETSIM_GROW_H
#define FLEETSIM_GROW_H
#include <stdlib.h>

#include "src/core/errors.h"

/* Makes *p (elements of `size` bytes, *cap of them allocated) hold at
 * least `need`: doubles the capacity from `first` (when 0) until it does.
 * 0, or FS_ENOMEM with *p and *cap unchanged. */
static inline int fs_grow(void **p, int *cap, int need, size_t size, int first) {
  if (need <= *cap)
    return 0;
  int nc = *cap ? *cap * 2 : first;
  while (nc < need)
    nc *= 2;
  void *np = realloc(*p, (size_t)nc * size);
  if (!np)
    return FS_ENOMEM;
  *p = np;
  *cap = nc;
  return 0;
}

#endif

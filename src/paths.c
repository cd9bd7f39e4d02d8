/* File-system path helpers (see paths.h). No I/O. */
#include "src/paths.h"

#include <stdio.h>
#include <string.h>

void path_parent(const char *path, char *out, size_t cap) {
  snprintf(out, cap, "%s", path);
  char *slash = strrchr(out, '/');
  if (!slash)
    snprintf(out, cap, ".");
  else if (slash == out)
    out[1] = '\0';
  else
    *slash = '\0';
}

/* File-system path helpers (see paths.h). Reads no file; path_free_bytes
 * asks the file system for its free space. */
#include "src/paths.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "src/diag.h"
#include "src/errors.h"

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

int path_free_bytes(const char *path, uint64_t *bytes) {
  struct statvfs sv;
  if (statvfs(path, &sv) != 0) {
    diag_addf("%s: cannot read the free space of its file system: %s", path, strerror(errno));
    return FS_EIO;
  }
  *bytes = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
  return 0;
}

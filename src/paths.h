/* File-system path helpers shared by the writers (archive, checkpoints,
 * export). */
#ifndef FLEETSIM_PATHS_H
#define FLEETSIM_PATHS_H
#include <stddef.h>
#include <stdint.h>

/* The directory that holds path, like dirname(1), into out (cap bytes):
 * "a/b/c" -> "a/b", "c" -> ".", "/c" -> "/". */
void path_parent(const char *path, char *out, size_t cap);

/* Free bytes available to an unprivileged writer on the filesystem holding path (statvfs f_bavail * f_frsize). 0 or FS_EIO (reason in diag). */
int path_free_bytes(const char *path, uint64_t *bytes);

#endif

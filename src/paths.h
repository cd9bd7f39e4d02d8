/* File-system path helpers shared by the writers (archive, checkpoints). */
#ifndef FLEETSIM_PATHS_H
#define FLEETSIM_PATHS_H
#include <stddef.h>

/* The directory that holds path, like dirname(1), into out (cap bytes):
 * "a/b/c" -> "a/b", "c" -> ".", "/c" -> "/". */
void path_parent(const char *path, char *out, size_t cap);

#endif

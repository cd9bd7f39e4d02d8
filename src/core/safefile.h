/* Opening fleetsim's own output files without trusting what is already in
 * the directory: new files are created with O_CREAT | O_EXCL | O_NOFOLLOW
 * (a file or a symbolic link at the name is an error, never followed or
 * truncated), existing ones are opened with O_NOFOLLOW, replaced files are
 * written under "<name>.tmp" and renamed over the name (which replaces a
 * link, never its target), and directories fleetsim makes are refused when
 * a link or a non-directory stands at their name. Messages name the path
 * and say when a link was refused. */
#ifndef FLEETSIM_SAFEFILE_H
#define FLEETSIM_SAFEFILE_H
#include <stdio.h>

/* Creates path, which must not exist (not even as a link), for writing
 * (mode "w" semantics) into *out. 0 or FS_EIO (path and reason in diag). */
int sf_create(const char *path, FILE **out);

/* Opens path for appending (read and write: the descriptor can pread the
 * file's start); create = 1 also creates it when missing. A link or a
 * non-regular file at path is refused. *created tells whether the file
 * was made now (may be NULL). 0 or FS_EIO (path and reason in diag). */
int sf_append(const char *path, int create, FILE **out, int *created);

/* Opens an existing regular file (no link) with open(2) flags (O_RDONLY,
 * O_RDWR ...; O_NOFOLLOW | O_CLOEXEC are added). Returns the descriptor,
 * or -1 with path and reason in diag. */
int sf_open_fd(const char *path, int flags);

/* A file being written to replace path atomically. */
typedef struct {
  FILE *fp;
  char path[4400];
  char tmp[4410];
} sf_replace;

/* Starts replacing path: "<path>.tmp" (a stale one of fleetsim's is
 * removed first) is created as with sf_create; write to r->fp. 0 or
 * FS_EIO. */
int sf_replace_open(sf_replace *r, const char *path);

/* Flushes and closes r->fp, then renames "<path>.tmp" over path. On any
 * failure (also one remembered by the stream) the temp file is removed.
 * 0 or FS_EIO (path and reason in diag). */
int sf_replace_commit(sf_replace *r);

/* Gives up: closes and removes the temp file. Accepts a closed r. */
void sf_replace_abort(sf_replace *r);

/* Ends a replacement whose writer returned rc: sf_replace_commit when rc
 * is 0 (a write error the stream remembers is reported there), else
 * sf_replace_abort and rc. */
int sf_replace_finish(sf_replace *r, int rc);

/* Makes directory path (one level) unless it exists as a directory.
 * Anything else at path is refused (FS_EIO, naming it and what), and so is
 * a symbolic link unless follow is 1 (the user's --out may be a link to a
 * directory; the folders fleetsim names inside it may not). what names the
 * directory in messages ("--out", "results directory"). */
int sf_mkdir(const char *path, const char *what, int follow);

/* The message text for an open(2) errno at a name fleetsim would create
 * or open: "it is a symbolic link (...)" for ELOOP, else strerror. */
const char *sf_reason(int err);

#endif

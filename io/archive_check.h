/* A read-only look at a finished archive for commands that do not simulate
 * (escalate, score, export): whether DIR/fleet.h5 is complete, and if not
 * what is wrong with it, and its provenance
 * texts (config, scenarios). Keeps <hdf5.h> in io/. */
#ifndef FLEETSIM_ARCHIVE_CHECK_H
#define FLEETSIM_ARCHIVE_CHECK_H
#include "src/core/runid.h"

/* What is at the path of an archive. */
typedef enum {
  H5A_COMPLETE,   /* an HDF5 file whose root attribute `complete` is 1 */
  H5A_MISSING,    /* no such file (or it cannot be looked up) */
  H5A_NOT_FILE,   /* something other than a regular file */
  H5A_UNREADABLE, /* a file HDF5 cannot open or read: damaged, truncated, not HDF5 */
  H5A_INCOMPLETE, /* readable, but `complete` is absent or not 1 (an unfinished run) */
} h5a_state;

/* The state of the archive at path. Serial, any rank, prints nothing
 * (HDF5's error stack is silenced for the call). */
h5a_state h5a_archive_state(const char *path);

/* 0 when the archive at path is complete; otherwise one message in diag,
 * "<who>: <path> is <what is wrong>: <what to do>" (the run directory
 * run_dir named in it), and FS_EUSAGE. */
int h5a_require_complete(const char *who, const char *path, const char *run_dir);

/* Reads the root string attribute `name` (e.g. "config", "scenarios") of
 * the archive at path into a malloc'd string. Serial. 0, or FS_EIO with a
 * message in diag naming the file and the attribute. */
int h5a_read_root_text(const char *path, const char *name, char **out);

/* The run of the archive at path (fleet.h5 or fleet.h5.partial): its root
 * attributes fingerprint, seed, version and git_commit, into *r (see
 * src/core/runid.h). Serial. 0, or FS_EIO with a message in diag naming the
 * file (an archive without a fingerprint was written by an older
 * fleetsim). */
int h5a_read_runid(const char *path, runid *r);

#endif

/* A read-only look at a finished archive for commands that do not simulate
 * (escalate, score): whether DIR/fleet.h5 is complete, and its provenance
 * texts (config, scenarios). Keeps <hdf5.h> in io/. */
#ifndef FLEETSIM_ARCHIVE_CHECK_H
#define FLEETSIM_ARCHIVE_CHECK_H

/* 1 when path is an HDF5 file whose root attribute `complete` is 1, 0 when it
 * is missing, not HDF5, unreadable or not complete. Serial, any rank, prints
 * nothing (HDF5's error stack is silenced for the call). */
int h5a_is_complete(const char *path);

/* Reads the root string attribute `name` (e.g. "config", "scenarios") of
 * the archive at path into a malloc'd string. Serial. 0, or FS_EIO with a
 * message in diag naming the file and the attribute. */
int h5a_read_root_text(const char *path, const char *name, char **out);

#endif

/* A read-only look at a finished archive for commands that do not simulate
 * (escalate, score): whether DIR/fleet.h5 is complete. Keeps <hdf5.h> in io/. */
#ifndef FLEETSIM_ARCHIVE_CHECK_H
#define FLEETSIM_ARCHIVE_CHECK_H

/* 1 when path is an HDF5 file whose root attribute `complete` is 1, 0 when it
 * is missing, not HDF5, unreadable or not complete. Serial, any rank, prints
 * nothing (HDF5's error stack is silenced for the call). */
int h5a_is_complete(const char *path);

#endif

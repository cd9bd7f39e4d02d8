/* Error codes for all of fleetsim: functions return 0 or one of these negative
 * codes; names and messages come from the single X-macro list below. */
#ifndef FLEETSIM_ERRORS_H
#define FLEETSIM_ERRORS_H

#define FS_ERROR_MAP(X)                                   \
  X(EINVAL, -1, "invalid argument")                       \
  X(ENOMEM, -2, "out of memory")                          \
  X(EIO, -3, "input/output error")                        \
  X(ECONFIG, -4, "invalid configuration")                 \
  X(ESCENARIO, -5, "invalid scenario file")               \
  X(EMPI, -6, "MPI error")                                \
  X(EHDF5, -7, "HDF5 error")                              \
  X(EUSAGE, -8, "bad command line")

enum fs_error {
  FS_OK = 0,
#define FS_ERROR_ENUM(name, code, msg) FS_##name = (code),
  FS_ERROR_MAP(FS_ERROR_ENUM)
#undef FS_ERROR_ENUM
};

/* Returns a static, human-readable message for a code from FS_ERROR_MAP
 * (or "unknown error"). Example: fs_strerror(FS_EIO) -> "input/output error". */
const char *fs_strerror(int code);

/* Process exit status for a code: 0 for FS_OK, 2 for usage/config/scenario
 * problems (the user's input), 1 for everything else. */
int fs_exit_status(int code);

#endif

/* File-system path helpers shared by the writers (archive, checkpoints,
 * export, run directory): parent directories, safe names, free space. */
#ifndef FLEETSIM_PATHS_H
#define FLEETSIM_PATHS_H
#include <stddef.h>
#include <stdint.h>

/* The directory that holds path, like dirname(1), into out (cap bytes):
 * "a/b/c" -> "a/b", "c" -> ".", "/c" -> "/". */
void path_parent(const char *path, char *out, size_t cap);

/* Free bytes available to an unprivileged writer on the filesystem holding
 * path (statvfs f_bavail * f_frsize). 0 or FS_EIO (reason in diag). */
int path_free_bytes(const char *path, uint64_t *bytes);

/* Reserves disk blocks for the first `bytes` of the existing file at path
 * without changing its size (fallocate FALLOC_FL_KEEP_SIZE), so that
 * writes below that offset cannot fail for lack of space. 0 reserved; 1
 * the file system cannot reserve (nothing done); FS_EIO (reason, e.g. "No
 * space left on device", in diag). */
int path_reserve(const char *path, uint64_t bytes);

/* Gives back the blocks path_reserve reserved beyond the end of the file at
 * path (a compressed archive ends well short of its reservation): truncates
 * it to its own size, which changes no byte of it. 0, or -1 (errno set) when
 * the file cannot be opened or truncated; nothing is added to diag, since
 * the file itself is fine either way. */
int path_release_reserve(const char *path);

/* Starts the kernel writing the dirty pages of the open file fd back to
 * disk now, without waiting for them (sync_file_range, SYNC_FILE_RANGE_WRITE;
 * fd may be open read-only): the disk works while the writer goes on
 * computing, and a later fsync finds less to wait for. A hint that changes
 * no byte: 0, or -1 (errno set) where the kernel refuses. */
int path_writeback(int fd);

/* fsyncs the directory that holds path, so that a rename or a new name in
 * it survives a crash. 0, or -1 (errno set). */
int path_sync_parent(const char *path);

enum {
  PATH_ID_MAX = 32,
  /* The longest path fleetsim takes as an argument (--out, --run, --config,
   * --scenarios, replay transcripts): every path it derives from one (e.g.
   * DIR/checkpoint/w12-r3.bin.tmp) then fits a PATH_BUF buffer. */
  PATH_ARG_MAX = 3800,
  PATH_BUF = 4096
};

/* path_fmt: printf-style formatting of a path into out (cap bytes). Returns
 * 0, or FS_EINVAL with "path too long: <start>..." in diag when it does not
 * fit (never a silently cut path). Example:
 *   char p[PATH_BUF]; rc = path_fmt(p, sizeof p, "%s/.lock", dir); */
int path_fmt(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* 0 when path is at most PATH_ARG_MAX bytes; else FS_EUSAGE with a message
 * naming `what` (the option, e.g. "--out") and the length. */
int path_check_arg(const char *what, const char *path);

/* 1 when s is an id fleetsim may put in a file name, an HDF5 path, a
 * regular expression or a terminal: 1..PATH_ID_MAX characters of
 * [A-Za-z0-9_-]; else 0. */
int path_is_id(const char *s);

/* 1 when s is a safe file stem (a backend name): one or more characters of
 * [A-Za-z0-9._-], not starting with '.'; else 0. */
int path_is_stem(const char *s);

/* The id rule in words, for messages. */
#define PATH_ID_RULE "1 to 32 characters of A-Z, a-z, 0-9, '_' and '-'"

#endif

/* Safe creation, appending and replacement of fleetsim's files (see
 * safefile.h). POSIX only; no MPI, no HDF5. */
#include "src/core/safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/paths.h"

const char *sf_reason(int err) {
  return err == ELOOP ? "it is a symbolic link (fleetsim does not write through links)"
                      : strerror(err);
}

int sf_create(const char *path, FILE **out) {
  *out = NULL;
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0) {
    int err = errno;
    struct stat st;
    if (err == EEXIST && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
      diag_addf("%s: cannot create: %s", path, sf_reason(ELOOP));
    else
      diag_addf("%s: cannot create: %s", path, strerror(err));
    return FS_EIO;
  }
  if (!(*out = fdopen(fd, "w"))) {
    diag_addf("%s: cannot open a stream: %s", path, strerror(errno));
    close(fd);
    unlink(path);
    return FS_EIO;
  }
  return 0;
}

int sf_open_fd(const char *path, int flags) {
  int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
    return fd;
  int err = fd < 0 ? errno : EINVAL;
  if (fd >= 0) {
    close(fd);
    diag_addf("%s: cannot open: not a regular file", path);
  } else {
    diag_addf("%s: cannot open: %s", path, sf_reason(err));
  }
  return -1;
}

int sf_append(const char *path, int create, FILE **out, int *created) {
  *out = NULL;
  if (created)
    *created = 0;
  int fd = -1;
  if (create) {
    fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd >= 0 && created)
      *created = 1;
    if (fd < 0 && errno != EEXIST) {
      diag_addf("%s: cannot create: %s", path, sf_reason(errno));
      return FS_EIO;
    }
  }
  if (fd < 0 && (fd = sf_open_fd(path, O_RDWR | O_APPEND)) < 0)
    return FS_EIO;
  if (!(*out = fdopen(fd, "a"))) {
    diag_addf("%s: cannot open a stream: %s", path, strerror(errno));
    close(fd);
    return FS_EIO;
  }
  return 0;
}

int sf_replace_open(sf_replace *r, const char *path) {
  r->fp = NULL;
  if (path_fmt(r->path, sizeof r->path, "%s", path) != 0 ||
      path_fmt(r->tmp, sizeof r->tmp, "%s.tmp", path) != 0)
    return FS_EINVAL;
  if (unlink(r->tmp) != 0 && errno != ENOENT) { /* a stale temp file of ours */
    diag_addf("%s: cannot remove: %s", r->tmp, strerror(errno));
    return FS_EIO;
  }
  return sf_create(r->tmp, &r->fp);
}

int sf_replace_commit(sf_replace *r) {
  int rc = 0;
  if (!r->fp)
    return FS_EIO;
  if (ferror(r->fp) || fflush(r->fp) != 0) {
    diag_addf("%s: cannot write: %s", r->tmp, strerror(errno));
    rc = FS_EIO;
  }
  if (fclose(r->fp) != 0 && rc == 0) {
    diag_addf("%s: cannot close: %s", r->tmp, strerror(errno));
    rc = FS_EIO;
  }
  r->fp = NULL;
  if (rc == 0 && rename(r->tmp, r->path) != 0) {
    diag_addf("%s: cannot rename to %s: %s", r->tmp, r->path, strerror(errno));
    rc = FS_EIO;
  }
  if (rc != 0)
    unlink(r->tmp);
  return rc;
}

void sf_replace_abort(sf_replace *r) {
  if (!r->fp)
    return;
  fclose(r->fp);
  r->fp = NULL;
  unlink(r->tmp);
}

int sf_replace_finish(sf_replace *r, int rc) {
  if (rc == 0)
    return sf_replace_commit(r);
  sf_replace_abort(r);
  return rc;
}

int sf_mkdir(const char *path, const char *what, int follow) {
  struct stat st;
  if ((follow ? stat(path, &st) : lstat(path, &st)) == 0) {
    if (S_ISDIR(st.st_mode))
      return 0;
    diag_addf("%s %s: exists and is %s", what, path,
              S_ISLNK(st.st_mode) ? "a symbolic link (fleetsim does not write through links)"
                                  : "not a directory");
    return FS_EIO;
  }
  if (mkdir(path, 0777) != 0) {
    diag_addf("%s %s: cannot create directory: %s", what, path, strerror(errno));
    return FS_EIO;
  }
  return 0;
}

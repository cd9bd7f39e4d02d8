/* File-system path helpers (see paths.h): names, checked formatting and
 * lengths, parents, free space, reservation. */
#define _GNU_SOURCE /* fallocate(2), sync_file_range(2) */
#include "src/core/paths.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "src/core/diag.h"
#include "src/core/errors.h"

int path_fmt(char *out, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(out, cap, fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n < cap)
    return 0;
  diag_addf("path too long (%d bytes, at most %zu): %.60s...", n, cap - 1, out);
  return FS_EINVAL;
}

int path_check_arg(const char *what, const char *path) {
  size_t n = strlen(path);
  if (n <= PATH_ARG_MAX)
    return 0;
  diag_addf("%s: the path is %zu bytes long; fleetsim takes paths of at most %d bytes "
            "(starts %.40s...)",
            what, n, PATH_ARG_MAX, path);
  return FS_EUSAGE;
}

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
  struct statvfs st;
  *bytes = 0;
  if (statvfs(path, &st) != 0) {
    diag_addf("%s: cannot read the free space of its file system: %s", path, strerror(errno));
    return FS_EIO;
  }
  *bytes = (uint64_t)st.f_bavail * (uint64_t)st.f_frsize;
  return 0;
}

int path_is_id(const char *s) {
  size_t n = 0;
  for (; s[n]; n++) {
    char c = s[n];
    if (n >= PATH_ID_MAX ||
        !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '-'))
      return 0;
  }
  return n > 0;
}

int path_is_stem(const char *s) {
  if (!s[0] || s[0] == '.')
    return 0;
  for (; *s; s++)
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
          *s == '.' || *s == '_' || *s == '-'))
      return 0;
  return 1;
}

int path_reserve(const char *path, uint64_t bytes) {
  int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    diag_addf("%s: cannot open to reserve space: %s", path, strerror(errno));
    return FS_EIO;
  }
  int rc = 0;
  if (bytes > 0 && fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)bytes) != 0) {
    if (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL) {
      rc = 1;
    } else {
      int gb = bytes >= 1000000000u;
      diag_addf("%s: cannot reserve %.3g %s for it: %s", path, (double)bytes / (gb ? 1e9 : 1e6),
                gb ? "GB" : "MB", strerror(errno));
      rc = FS_EIO;
    }
  }
  close(fd);
  return rc;
}

int path_release_reserve(const char *path) {
  int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  int rc = fd >= 0 && fstat(fd, &st) == 0 && ftruncate(fd, st.st_size) == 0 ? 0 : -1;
  if (fd >= 0)
    close(fd);
  return rc;
}

int path_writeback(int fd) { return sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE); }

int path_sync_parent(const char *path) {
  char dir[4096];
  path_parent(path, dir, sizeof dir);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  errno = err;
  return rc;
}

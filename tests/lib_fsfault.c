/* Test helper (LD_PRELOAD): write failures on demand, for the disk-full and
 * I/O-error tests (tests/reliability_disk_full.sh). Writes through write,
 * pwrite, writev and pwritev (what MPI-IO uses) to a file whose path
 * contains $FSFAULT_PATH succeed until $FSFAULT_AFTER bytes have gone to such
 * files in this process; every later one fails with $FSFAULT_ERRNO (EIO or
 * ENOSPC, default ENOSPC). Other files are untouched. Not for stdio, whose
 * writes glibc makes internally (the tests use a full tmpfs for those). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static long long fsfault_budget = -1; /* bytes left; -2: off */
static int fsfault_errno = ENOSPC;
static const char *fsfault_path;

static void fsfault_init(void) {
  if (fsfault_budget != -1)
    return;
  const char *after = getenv("FSFAULT_AFTER"), *e = getenv("FSFAULT_ERRNO");
  fsfault_path = getenv("FSFAULT_PATH");
  fsfault_budget = after && fsfault_path && fsfault_path[0] ? atoll(after) : -2;
  fsfault_errno = e && strcmp(e, "EIO") == 0 ? EIO : ENOSPC;
}

/* 0: let the write of n bytes to fd through; -1: fail it (errno set). */
static int fsfault_charge(int fd, size_t n) {
  fsfault_init();
  if (fsfault_budget < 0)
    return 0;
  char link[64], target[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t len = readlink(link, target, sizeof target - 1);
  if (len <= 0)
    return 0;
  target[len] = '\0';
  if (!strstr(target, fsfault_path))
    return 0;
  if ((long long)n > fsfault_budget) {
    fsfault_budget = 0;
    errno = fsfault_errno;
    return -1;
  }
  fsfault_budget -= (long long)n;
  return 0;
}

static size_t fsfault_iov(const struct iovec *v, int n) {
  size_t s = 0;
  for (int i = 0; i < n; i++)
    s += v[i].iov_len;
  return s;
}

typedef ssize_t (*fsfault_write_fn)(int, const void *, size_t);
typedef ssize_t (*fsfault_pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*fsfault_writev_fn)(int, const struct iovec *, int);
typedef ssize_t (*fsfault_pwritev_fn)(int, const struct iovec *, int, off_t);

/* The next definition of `name` (libc's), looked up once into *slot. */
static void *fsfault_next(void **slot, const char *name) {
  if (!*slot)
    *slot = dlsym(RTLD_NEXT, name);
  return *slot;
}

ssize_t write(int fd, const void *buf, size_t n) {
  static void *next;
  return fsfault_charge(fd, n) ? -1 : ((fsfault_write_fn)fsfault_next(&next, "write"))(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  static void *next;
  return fsfault_charge(fd, n)
             ? -1
             : ((fsfault_pwrite_fn)fsfault_next(&next, "pwrite"))(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) {
  static void *next;
  return fsfault_charge(fd, n)
             ? -1
             : ((fsfault_pwrite_fn)fsfault_next(&next, "pwrite64"))(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *v, int cnt) {
  static void *next;
  return fsfault_charge(fd, fsfault_iov(v, cnt))
             ? -1
             : ((fsfault_writev_fn)fsfault_next(&next, "writev"))(fd, v, cnt);
}

ssize_t pwritev(int fd, const struct iovec *v, int cnt, off_t off) {
  static void *next;
  return fsfault_charge(fd, fsfault_iov(v, cnt))
             ? -1
             : ((fsfault_pwritev_fn)fsfault_next(&next, "pwritev"))(fd, v, cnt, off);
}

ssize_t pwritev64(int fd, const struct iovec *v, int cnt, off_t off) {
  static void *next;
  return fsfault_charge(fd, fsfault_iov(v, cnt))
             ? -1
             : ((fsfault_pwritev_fn)fsfault_next(&next, "pwritev64"))(fd, v, cnt, off);
}

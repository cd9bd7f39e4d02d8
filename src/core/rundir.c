/* The run directory's lock and fleetsim's own files in it (see rundir.h).
 * Directories are opened with O_NOFOLLOW and entries removed relative to
 * them (unlinkat), so a link planted at a folder's name is never followed. */
#include "src/core/rundir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/runid.h"

int rundir_lock(const char *dir, int exclusive, const char *who, int *fd) {
  char path[4200];
  snprintf(path, sizeof path, "%s/.lock", dir);
  *fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (*fd < 0) {
    diag_addf("%s: %s: cannot open the run directory's lock: %s", who, path,
              errno == ELOOP ? "it is a symbolic link" : strerror(errno));
    return FS_EIO;
  }
  if (flock(*fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0) {
    if (exclusive) {
      char text[128];
      int n = snprintf(text, sizeof text, "pid %ld: fleetsim %s\n", (long)getpid(), who);
      if (ftruncate(*fd, 0) != 0 || pwrite(*fd, text, (size_t)n, 0) != n) {
        /* only the message for others suffers: the lock itself is held */
      }
    }
    return 0;
  }
  int err = errno;
  if (err == EWOULDBLOCK) {
    char holder[128] = "";
    ssize_t got = pread(*fd, holder, sizeof holder - 1, 0);
    holder[got > 0 ? got : 0] = '\0';
    holder[strcspn(holder, "\n")] = '\0';
    for (char *c = holder; *c; c++)
      if (*c < 0x20 || *c > 0x7e)
        *c = '?';
    diag_addf("%s: %s is in use by another fleetsim process (%s is locked%s%s): wait for it to "
              "finish, or use another directory",
              who, dir, path, holder[0] ? "; last taken by " : "", holder);
    close(*fd);
    *fd = -1;
    return FS_EUSAGE;
  }
  if (err == ENOLCK || err == ENOSYS || err == EOPNOTSUPP || err == EINVAL) {
    fprintf(stderr, "fleetsim: warning: %s: file locks are not supported here (%s): nothing "
                    "stops a second fleetsim from writing %s at the same time\n",
            path, strerror(err), dir);
    return 0;
  }
  diag_addf("%s: %s: cannot lock: %s", who, path, strerror(err));
  close(*fd);
  *fd = -1;
  return FS_EIO;
}

void rundir_unlock(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

/* ---- fleetsim's names ----------------------------------------------------- */

/* 1 when name[0..] starts with at least `min` decimal digits; *end is
 * set after them. */
static int rundir_digits(const char *name, int min, const char **end) {
  int n = 0;
  while (name[n] >= '0' && name[n] <= '9')
    n++;
  *end = name + n;
  return n >= min;
}

/* 1 when s ends here or with ".tmp". */
static int rundir_tail(const char *s, const char *want) {
  size_t n = strlen(want);
  return strncmp(s, want, n) == 0 && (s[n] == '\0' || strcmp(s + n, ".tmp") == 0);
}

/* A checkpoint file name: manifest.json or wNNNNNN-rNNNN.bin /
 * wNNNNNN-root.bin, each possibly with ".tmp". */
static int rundir_is_ckpt_name(const char *n) {
  const char *p;
  if (rundir_tail(n, "manifest.json"))
    return 1;
  if (n[0] != 'w' || !rundir_digits(n + 1, 6, &p) || *p != '-')
    return 0;
  p++;
  if (strncmp(p, "root", 4) == 0)
    return rundir_tail(p + 4, ".bin");
  return *p == 'r' && rundir_digits(p + 1, 4, &p) && rundir_tail(p, ".bin");
}

/* A judgment package name: <scenario>_L<2-4>_<k>.md, the scenario being
 * ids joined with '+' or "none". */
static int rundir_is_judgment_name(const char *n) {
  const char *u = strstr(n, "_L");
  const char *p;
  if (!u || u == n || strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-") <
                         (size_t)(u - n))
    return 0;
  while (strstr(u + 1, "_L")) /* the last "_L" (ids may hold "_L" too) */
    u = strstr(u + 1, "_L");
  return u[2] >= '2' && u[2] <= '4' && u[3] == '_' && rundir_digits(u + 4, 1, &p) &&
         rundir_tail(p, ".md");
}

static int rundir_is_results_name(const char *n) {
  return rundir_tail(n, "calls.jsonl") || rundir_tail(n, "summary.json") ||
         rundir_tail(n, "kinds.json") || rundir_tail(n, "kinds.md") ||
         rundir_tail(n, "summary.md") || rundir_tail(n, "detection.json") ||
         rundir_tail(n, "calibration.json") || rundir_tail(n, "calibration.md") ||
         rundir_tail(n, "outcomes.json") || rundir_tail(n, "outcomes.md");
}

/* An id of [A-Za-z0-9_-]{1,32} followed by `tail` (or tail + ".tmp"). */
static int rundir_is_id_then(const char *n, const char *tail) {
  size_t k = strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
  return k >= 1 && k <= 32 && rundir_tail(n + k, tail);
}

/* A closed-loop twin's outcome record: <policy>.json, the policy a twin's
 * name or a backend's ([A-Za-z0-9._-], not starting with '.'). */
static int rundir_is_record_name(const char *n) {
  size_t k = strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");
  size_t len = strlen(n);
  return n[0] != '.' && k == len &&
         ((len > 5 && strcmp(n + len - 5, ".json") == 0) ||
          (len > 9 && strcmp(n + len - 9, ".json.tmp") == 0));
}

/* 1 when the regular file `name` in dirfd starts with a run header. */
static int rundir_has_header(int dirfd, const char *name) {
  int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return 0;
  char buf[4096];
  ssize_t got = pread(fd, buf, sizeof buf, 0);
  close(fd);
  const char *nl = got > 0 ? memchr(buf, '\n', (size_t)got) : NULL;
  return got > 0 && runid_parse(buf, nl ? (size_t)(nl - buf) : (size_t)got, NULL) == 1;
}

static int rundir_is_transcript_name(const char *n) {
  size_t len = strlen(n);
  return len > 6 && strcmp(n + len - 6, ".jsonl") == 0 && strcmp(n, "contexts.jsonl") != 0 &&
         n[0] != '.';
}

/* ---- walking ---------------------------------------------------------------- */

typedef struct {
  char *list;       /* rundir_held: names found */
  size_t cap;
  int count;
  int remove;       /* rundir_clear: unlink what is ours */
  int rc;
  const char *dir;  /* for messages */
} rundir_walk;

/* One entry at a fleetsim name: counted, or (remove) unlinked when it is a
 * regular file; a link or non-file at our name stops --force. */
static void rundir_entry(rundir_walk *w, int dirfd, const char *sub, const char *name,
                         int must_be_ours) {
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return;
  char shown[600];
  snprintf(shown, sizeof shown, "%s%s%s", sub, sub[0] ? "/" : "", name);
  if (!w->remove) {
    size_t used = strlen(w->list);
    if (w->count < 8)
      snprintf(w->list + used, w->cap - used, "%s%s", w->count ? ", " : "", shown);
    else if (w->count == 8)
      snprintf(w->list + used, w->cap - used, ", ...");
    w->count++;
    return;
  }
  if (!S_ISREG(st.st_mode) || (must_be_ours && !rundir_has_header(dirfd, name))) {
    diag_addf("run --force: %s/%s is %s, so not a file fleetsim wrote: move it away yourself",
              w->dir, shown,
              S_ISLNK(st.st_mode)   ? "a symbolic link"
              : !S_ISREG(st.st_mode) ? "not a regular file"
                                     : "a file without a fleetsim run header");
    w->rc = FS_EIO;
    return;
  }
  if (unlinkat(dirfd, name, 0) != 0 && errno != ENOENT) {
    diag_addf("run --force: %s/%s: cannot remove: %s", w->dir, shown, strerror(errno));
    w->rc = FS_EIO;
  }
}

/* Opens sub (relative to dirfd) as a directory without following a link;
 * -1 when it is missing. A link or non-directory: counted as held, or
 * refused with remove. */
static int rundir_open_sub(rundir_walk *w, int dirfd, const char *sub, const char *shown) {
  int fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0 || errno == ENOENT)
    return fd;
  if (!w->remove) {
    rundir_entry(w, dirfd, "", sub, 0);
  } else {
    diag_addf("run --force: %s/%s is %s: fleetsim does not write through it; remove it yourself",
              w->dir, shown, errno == ELOOP || errno == ENOTDIR ? "not a directory (or a link)"
                                                                : strerror(errno));
    w->rc = FS_EIO;
  }
  return -1;
}

/* Every entry of the directory fd that `is_ours` accepts. */
static void rundir_scan(rundir_walk *w, int fd, const char *sub, int (*is_ours)(const char *),
                        int must_be_ours) {
  int dup_fd = dup(fd);
  DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
  if (!d) {
    if (dup_fd >= 0)
      close(dup_fd);
    diag_addf("%s/%s: cannot list: %s", w->dir, sub, strerror(errno));
    w->rc = FS_EIO;
    return;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 && is_ours(e->d_name))
      rundir_entry(w, fd, sub, e->d_name, must_be_ours);
  closedir(d);
}

/* Removes sub in dirfd when it is an empty directory (ENOTEMPTY: it holds
 * someone's files and stays). */
static void rundir_rmdir(rundir_walk *w, int dirfd, const char *sub) {
  if (w->remove && unlinkat(dirfd, sub, AT_REMOVEDIR) != 0 && errno != ENOENT &&
      errno != ENOTEMPTY && errno != EEXIST && errno != ENOTDIR) {
    diag_addf("run --force: %s/%s: cannot remove the folder: %s", w->dir, sub, strerror(errno));
    w->rc = FS_EIO;
  }
}

static int rundir_is_archive_name(const char *n) {
  return strcmp(n, "fleet.h5") == 0 || rundir_tail(n, "fleet.h5.partial");
}

/* judgment/<backend>/ packages (with remove: and the folders left empty). */
static void rundir_walk_judgment(rundir_walk *w, int top) {
  int jfd = rundir_open_sub(w, top, "judgment", "judgment");
  if (jfd < 0)
    return;
  int dup_fd = dup(jfd);
  DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    int bfd = openat(jfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (bfd < 0)
      continue; /* not a folder fleetsim made: not ours */
    char sub[400];
    snprintf(sub, sizeof sub, "judgment/%.300s", e->d_name);
    rundir_scan(w, bfd, sub, rundir_is_judgment_name, 0);
    close(bfd);
    rundir_rmdir(w, jfd, e->d_name);
  }
  if (d)
    closedir(d);
  else if (dup_fd >= 0)
    close(dup_fd);
  close(jfd);
  rundir_rmdir(w, top, "judgment");
}

/* closed_loop/: the twins' records and their run folders
 * (closed_loop/<policy>/llm/contexts.jsonl, with a run header, and
 * closed_loop/<policy>/results/). */
static void rundir_walk_closed_loop(rundir_walk *w, int top) {
  int cfd = rundir_open_sub(w, top, "closed_loop", "closed_loop");
  if (cfd < 0)
    return;
  rundir_scan(w, cfd, "closed_loop", rundir_is_record_name, 0);
  int dup_fd = dup(cfd);
  DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
  if (d) /* the scan's duplicate shared the offset: from the start again */
    rewinddir(d);
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL) {
    if (!rundir_is_id_then(e->d_name, ""))
      continue;
    int tfd = openat(cfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int lfd = tfd >= 0 ? openat(tfd, "llm", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
    char sub[400];
    if (lfd >= 0) {
      snprintf(sub, sizeof sub, "closed_loop/%.40s/llm", e->d_name);
      rundir_entry(w, lfd, sub, "contexts.jsonl", 1);
      close(lfd);
      rundir_rmdir(w, tfd, "llm");
    }
    int rfd =
        tfd >= 0 ? openat(tfd, "results", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
    if (rfd >= 0) {
      snprintf(sub, sizeof sub, "closed_loop/%.40s/results", e->d_name);
      rundir_scan(w, rfd, sub, rundir_is_results_name, 0);
      close(rfd);
      rundir_rmdir(w, tfd, "results");
    }
    if (tfd >= 0) {
      close(tfd);
      rundir_rmdir(w, cfd, e->d_name);
    }
  }
  if (d)
    closedir(d);
  else if (dup_fd >= 0)
    close(dup_fd);
  close(cfd);
  rundir_rmdir(w, top, "closed_loop");
}

static int rundir_walk_all(rundir_walk *w, const char *dir, int judgment_only) {
  int top = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (top < 0) {
    if (errno == ENOENT)
      return 0;
    diag_addf("%s: cannot open the run directory: %s", dir, strerror(errno));
    return FS_EIO;
  }
  if (!judgment_only) {
    rundir_scan(w, top, "", rundir_is_archive_name, 0);
    int fd = rundir_open_sub(w, top, "checkpoint", "checkpoint");
    if (fd >= 0) {
      rundir_scan(w, fd, "checkpoint", rundir_is_ckpt_name, 0);
      close(fd);
      rundir_rmdir(w, top, "checkpoint");
    }
    if ((fd = rundir_open_sub(w, top, "llm", "llm")) >= 0) {
      rundir_scan(w, fd, "llm", rundir_is_transcript_name, 1);
      rundir_entry(w, fd, "llm", "contexts.jsonl", 0);
      close(fd);
      rundir_rmdir(w, top, "llm");
    }
    if ((fd = rundir_open_sub(w, top, "calibration", "calibration")) >= 0) {
      rundir_scan(w, fd, "calibration", rundir_is_transcript_name, 1);
      close(fd);
      rundir_rmdir(w, top, "calibration");
    }
    if ((fd = rundir_open_sub(w, top, "results", "results")) >= 0) {
      rundir_scan(w, fd, "results", rundir_is_results_name, 0);
      close(fd);
      rundir_rmdir(w, top, "results");
    }
    rundir_walk_closed_loop(w, top);
  }
  rundir_walk_judgment(w, top);
  close(top);
  return w->rc;
}

int rundir_held(const char *dir, char *list, size_t cap) {
  list[0] = '\0';
  rundir_walk w = {.list = list, .cap = cap, .dir = dir};
  return rundir_walk_all(&w, dir, 0) != 0 ? -1 : w.count;
}

int rundir_clear(const char *dir) {
  rundir_walk w = {.remove = 1, .dir = dir};
  return rundir_walk_all(&w, dir, 0);
}

int rundir_clear_judgment(const char *dir) {
  rundir_walk w = {.remove = 1, .dir = dir};
  return rundir_walk_all(&w, dir, 1);
}

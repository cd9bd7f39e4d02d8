/* --resume of a compressed archive (see archive.h, h5a_rebuild): a new
 * archive made as a new run makes it, the checkpoint's rows copied into it
 * from the interrupted file (opened read-only), and the new file renamed
 * over the old one only once it holds them all, on disk. */
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/archive.h"
#include "io/archive_internal.h"
#include "mpi/par.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/paths.h"

enum { H5A_STAMP_MAX = 64 };

/* Reads the old file's root attribute created_utc into out[cap] (empty
 * when it has none: the new file then gets the time of now). Local. */
static int h5a_old_created(const h5a_writer *old, char *out, size_t cap) {
  out[0] = '\0';
  htri_t has = H5Aexists(old->file, "created_utc");
  if (has <= 0)
    return has < 0 ? h5a_fail(old, "read", "root attribute 'created_utc'") : 0;
  hid_t a = H5Aopen(old->file, "created_utc", H5P_DEFAULT), t = H5I_INVALID_HID;
  char *text = NULL;
  int rc = 0;
  if (a < 0 || (t = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(t, H5T_VARIABLE) < 0 ||
      H5Tset_cset(t, H5T_CSET_UTF8) < 0 || H5Aread(a, t, &text) < 0)
    rc = h5a_fail(old, "read", "root attribute 'created_utc'");
  else if (text)
    snprintf(out, cap, "%s", text);
  if (text)
    H5free_memory(text);
  h5a_close(old, &t, "root attribute 'created_utc'", &rc);
  h5a_close(old, &a, "root attribute 'created_utc'", &rc);
  return rc;
}

/* Opens "<path>.partial" read-only (metadata read independently, so that a
 * rank's failed read returns to it instead of stranding the others in a
 * collective) with every dataset checked as h5a_reopen checks them, and
 * reads its created_utc. Collective. */
static int h5a_old_open(h5a_writer **out, const char *path, const h5a_layout *lay, char *created,
                        size_t cap) {
  hid_t fapl;
  h5a_writer *old = NULL;
  int rc = h5a_new(&old, path, ".partial", 0, lay, &fapl);
  if (rc == 0)
    rc = h5a_agree(old, h5a_abort_on_io_failure(old));
  if (rc == 0 && (old->file = H5Fopen(old->partial, H5F_ACC_RDONLY, fapl)) < 0) {
    H5Eclear2(H5E_DEFAULT);
    diag_addf("archive %s: cannot open it to resume (missing or damaged)", old->partial);
    rc = FS_EIO;
  }
  par_io_abort_off();
  if ((rc = h5a_agree(old, rc)) == 0) {
    rc = h5a_open_all_series(old);
    if (rc == 0)
      rc = h5a_old_created(old, created, cap);
    rc = h5a_agree(old, rc);
  }
  h5a_close(old, &fapl, "the file access property list", &rc);
  *out = old;
  return rc;
}

/* h5a_fail for a failed read of the old file, naming it. The reads are
 * independent (no HDF5 collective), so the new file's state stays the same
 * on every rank: unlike a failed write, this does not mark it doubtful, and
 * the new file is closed and removed as after any other failure. */
static int h5a_read_fail(const h5a_writer *old, const char *name) {
  h5a_writer named = {.partial = old->partial, .file = H5I_INVALID_HID};
  return h5a_fail(&named, "read the checkpoint's rows of", name);
}

/* Copies one dataset's window: this rank's selection read from `from`
 * (independently; skipped where it selects nothing, or with `mine` 0 after
 * an earlier failure: one message) and written to `to` collectively (every
 * rank, even after a failed read, so that the calls stay matched). buf
 * holds the memory selection. Local failures: FS_EHDF5. */
static int h5a_copy_one(const h5a_writer *old, const h5a_writer *w, hid_t from, hid_t to,
                        hid_t mtype, hid_t ms, hid_t fs, int mine, void *buf, const char *name) {
  int rc = 0;
  if (mine && H5Dread(from, mtype, ms, fs, H5P_DEFAULT, buf) < 0)
    rc = h5a_read_fail(old, name);
  if (H5Dwrite(to, mtype, ms, fs, w->dxpl, buf) < 0 && rc == 0)
    rc = h5a_fail(w, "write dataset", name);
  h5a_writeback(w);
  return rc;
}

/* The memory type of a metric's values. */
static hid_t h5a_mtype(const metric_def *d) {
  return d->type == MT_U32 ? H5T_NATIVE_UINT32 : H5T_NATIVE_FLOAT;
}

/* Rows [t0, t0 + n) of every dataset, from old to w, with the selections
 * of h5a_write_window. Collective. */
static int h5a_copy_window(const h5a_writer *old, h5a_writer *w, int64_t t0, int n, void *buf) {
  const h5a_layout *lay = &w->lay;
  int local = lay->nnodes > 0, root = par_rank() == 0, rc = 0;
  hsize_t T = (hsize_t)lay->scrapes, nl = local ? (hsize_t)lay->nnodes : 1;
  hsize_t d3[3] = {T, (hsize_t)lay->nodes, FLEET_GPUS}, m3[3] = {(hsize_t)n, nl, FLEET_GPUS};
  hsize_t s3[3] = {(hsize_t)t0, (hsize_t)lay->node0, 0};
  hsize_t d1 = T, m1 = (hsize_t)n, s1 = (hsize_t)t0;
  hid_t fs = H5I_INVALID_HID, ms = H5I_INVALID_HID;
  char name[256];
  int r;

  if (h5a_select(3, d3, m3, s3, local, &fs, &ms) < 0)
    rc = h5a_fail(w, "select the window of", "/telemetry/gpu");
  for (int m = 0; fs >= 0 && ms >= 0 && m < GM_COUNT; m++) {
    snprintf(name, sizeof name, "/telemetry/gpu/%s", metric_gpu[m].name);
    r = h5a_copy_one(old, w, old->gpu_ds[m], w->gpu_ds[m], h5a_mtype(&metric_gpu[m]), ms, fs,
                     local && rc == 0, buf, name);
    rc = rc ? rc : r;
  }
  h5a_close(w, &fs, "/telemetry/gpu", &rc);
  h5a_close(w, &ms, "/telemetry/gpu", &rc);

  if (h5a_select(2, d3, m3, s3, local, &fs, &ms) < 0 && rc == 0)
    rc = h5a_fail(w, "select the window of", "/telemetry/node");
  for (int m = 0; fs >= 0 && ms >= 0 && m < NM_COUNT; m++) {
    snprintf(name, sizeof name, "/telemetry/node/%s", metric_node[m].name);
    r = h5a_copy_one(old, w, old->node_ds[m], w->node_ds[m], h5a_mtype(&metric_node[m]), ms, fs,
                     local && rc == 0, buf, name);
    rc = rc ? rc : r;
  }
  h5a_close(w, &fs, "/telemetry/node", &rc);
  h5a_close(w, &ms, "/telemetry/node", &rc);

  if (h5a_select(1, &d1, &m1, &s1, root, &fs, &ms) < 0 && rc == 0)
    rc = h5a_fail(w, "select the window of", "/telemetry/cluster");
  for (int m = 0; fs >= 0 && ms >= 0 && m < CM_COUNT; m++) {
    snprintf(name, sizeof name, "/telemetry/cluster/%s", metric_cluster[m].name);
    r = h5a_copy_one(old, w, old->cluster_ds[m], w->cluster_ds[m], h5a_mtype(&metric_cluster[m]),
                     ms, fs, root && rc == 0, buf, name);
    rc = rc ? rc : r;
  }
  if (fs >= 0 && ms >= 0) {
    r = h5a_copy_one(old, w, old->time_ds, w->time_ds, H5T_NATIVE_DOUBLE, ms, fs, root && rc == 0,
                     buf, "/time/seconds");
    rc = rc ? rc : r;
  }
  h5a_close(w, &fs, "/telemetry/cluster", &rc);
  h5a_close(w, &ms, "/telemetry/cluster", &rc);
  return h5a_agree(w, rc);
}

/* Rows [0, rows) of every dataset, window by window. Collective. */
static int h5a_copy_rows(const h5a_writer *old, h5a_writer *w, int64_t rows) {
  const h5a_layout *lay = &w->lay;
  int ws = lay->window_scrapes;
  size_t nl = lay->nnodes > 0 ? (size_t)lay->nnodes : 1;
  size_t cell = sizeof(double) > sizeof(float) ? sizeof(double) : sizeof(float);
  void *buf = malloc((size_t)ws * nl * FLEET_GPUS * cell);
  int rc = h5a_agree(w, buf ? 0 : FS_ENOMEM);
  for (int64_t t0 = 0; rc == 0 && t0 < rows; t0 += ws)
    rc = h5a_copy_window(old, w, t0, (int)(rows - t0 < ws ? rows - t0 : ws), buf);
  free(buf);
  return rc;
}

/* Rank 0, before the new file is made: removes a stale "<path>.partial.tmp"
 * of an earlier attempt (a link there is removed, never followed) and
 * gives back the old file's reservation beyond its end (the old file is
 * only read from now on; the new one reserves its own). */
static int h5a_rebuild_clear(const h5a_writer *old, const char *tmp) {
  if (unlink(tmp) != 0 && errno != ENOENT) {
    diag_addf("archive %s: cannot remove the unfinished copy of an earlier --resume: %s", tmp,
              strerror(errno));
    return FS_EIO;
  }
  (void)path_release_reserve(old->partial); /* what stays reserved only costs space */
  return 0;
}

int h5a_rebuild(h5a_writer **out, const char *path, const h5a_layout *lay,
                const h5a_provenance *prov, int64_t rows) {
  *out = NULL;
  char created[H5A_STAMP_MAX], tmp[4200];
  h5a_writer *old = NULL, *w = NULL;
  int rc = h5a_old_open(&old, path, lay, created, sizeof created);
  if (rc == 0 && (rows < 0 || rows > lay->scrapes)) {
    diag_addf("archive %s: %lld rows to resume, outside its %lld", old->partial, (long long)rows,
              (long long)lay->scrapes);
    rc = FS_EINVAL;
  }
  snprintf(tmp, sizeof tmp, "%s.partial.tmp", path);
  if (rc == 0)
    rc = h5a_agree(old, par_rank() == 0 ? h5a_rebuild_clear(old, tmp) : 0);
  if (rc == 0)
    rc = h5a_create_as(&w, path, ".partial.tmp", lay, prov, created[0] ? created : NULL);
  if (rc == 0)
    rc = h5a_agree(w, (w->replaces = strdup(old->partial)) ? 0 : FS_ENOMEM);
  if (rc == 0)
    rc = h5a_copy_rows(old, w, rows);
  h5a_abandon(&old); /* read-only: closing it changes nothing on disk */
  if (rc != 0 && w) {
    int left = w->broken;
    h5a_abandon(&w);
    if (!left && par_rank() == 0)
      unlink(tmp); /* the old file stands: nothing is lost */
  }
  *out = w;
  return rc;
}

int h5a_rebuild_commit(h5a_writer *w) {
  int rc = w && w->replaces ? h5a_flush(w) : par_agree(FS_EINVAL);
  if (rc == 0 && par_rank() == 0) {
    if (rename(w->partial, w->replaces) != 0) {
      diag_addf("archive %s: cannot rename it over %s: %s", w->partial, w->replaces,
                strerror(errno));
      rc = FS_EIO;
    } else if (path_sync_parent(w->replaces) != 0) {
      diag_addf("archive %s: cannot sync its directory after the rename: %s", w->replaces,
                strerror(errno));
      rc = FS_EIO;
    }
  }
  rc = h5a_agree(w, rc);
  if (rc == 0) {
    free(w->partial);
    w->partial = w->replaces;
    w->replaces = NULL;
  }
  return rc;
}

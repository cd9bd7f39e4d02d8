/* The fleet.h5 writer (see archive.h): layout, provenance, collective window
 * writes, topology, ground truth and the L1 event table, over parallel HDF5
 * (MPI-IO driver). Owns
 * every HDF5 call of the writer; calls no MPI function itself (mpi/par.h does
 * the agreeing) and decides nothing about what the numbers mean. */
#include "io/archive.h"

#include <errno.h>
#include <hdf5.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io/compression.h"
#include "mpi/par.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/paths.h"

struct h5a_writer {
  char *path;    /* final name */
  char *partial; /* "<path>.partial", the name while writing */
  h5a_layout lay;
  hid_t file;
  hid_t dxpl; /* collective MPI-IO transfer */
  hid_t time_ds;
  hid_t gpu_ds[GM_COUNT];
  hid_t node_ds[NM_COUNT];
  hid_t cluster_ds[CM_COUNT];
  int compression; /* cfg_compression of the telemetry datasets (h5a_create) */
  int broken; /* an HDF5 call on the open file failed on some rank: its
                 collective state may differ between ranks, so it is never
                 touched again (h5a_abandon leaves it, see h5a_stranded) */
};

/* Set by an HDF5 I/O failure on this rank while a file is open (h5a_fail), and
 * by h5a_abandon when it had to leave a broken file open. */
static int h5a_failed_here, h5a_left_open;

/* ---- errors ------------------------------------------------------------ */

static herr_t h5a_innermost_cb(unsigned n, const H5E_error2_t *e, void *data) {
  (void)n;
  char *out = data;
  if (out[0] == '\0' && e->desc && e->desc[0])
    snprintf(out, 160, "%s (%s)", e->desc, e->func_name ? e->func_name : "?");
  return 0;
}

/* Sets *(int *)data when an error record is of the kind that can leave the
 * ranks' HDF5 states apart: file I/O, the metadata cache, MPI. (A name
 * that exists, a bad argument: every rank fails alike, the file stays
 * usable.) */
static herr_t h5a_io_cb(unsigned n, const H5E_error2_t *e, void *data) {
  (void)n;
  if (e->maj_num == H5E_IO || e->maj_num == H5E_FILE || e->maj_num == H5E_CACHE ||
      e->maj_num == H5E_VFL || e->min_num == H5E_MPI || e->min_num == H5E_MPIERRSTR ||
      e->min_num == H5E_WRITEERROR || e->min_num == H5E_READERROR)
    *(int *)data = 1;
  return 0;
}

/* Records "archive PATH: ACTION OBJECT: <innermost HDF5 reason>[: <errno
 * text of a failed write>]" (after an I/O failure, only the first: the
 * later ones follow from it), marks this rank's file state as doubtful
 * after an I/O failure (h5a_io_cb), and returns FS_EHDF5. The HDF5 error
 * stack is cleared afterwards. */
static int h5a_fail(const h5a_writer *w, const char *action, const char *object) {
  int err = errno; /* what the failed write(2) under MPI-IO said, if that was it */
  char reason[160] = "";
  int io = 0;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, h5a_innermost_cb, reason);
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, h5a_io_cb, &io);
  H5Eclear2(H5E_DEFAULT);
  int first = !h5a_failed_here; /* after an I/O failure the writer is broken: one message */
  if (w && w->file >= 0 && io)
    h5a_failed_here = 1;
  io = io && (err == EIO || err == ENOSPC || err == EDQUOT || err == EFBIG || err == EROFS);
  if (first)
    diag_addf("archive %s: cannot %s %s: %s%s%s", w && w->partial ? w->partial : "(none)", action,
              object, reason[0] ? reason : "HDF5 error", io ? ": " : "", io ? strerror(err) : "");
  return FS_EHDF5;
}

/* Closes any HDF5 identifier by its kind and clears it; a failure turns a
 * zero *rc into FS_EHDF5 (with a message naming what). */
static void h5a_close(const h5a_writer *w, hid_t *id, const char *what, int *rc) {
  if (*id < 0)
    return;
  herr_t e;
  switch (H5Iget_type(*id)) {
  case H5I_FILE:
    e = H5Fclose(*id);
    break;
  case H5I_GROUP:
    e = H5Gclose(*id);
    break;
  case H5I_DATATYPE:
    e = H5Tclose(*id);
    break;
  case H5I_DATASPACE:
    e = H5Sclose(*id);
    break;
  case H5I_DATASET:
    e = H5Dclose(*id);
    break;
  case H5I_ATTR:
    e = H5Aclose(*id);
    break;
  case H5I_GENPROP_LST:
    e = H5Pclose(*id);
    break;
  default:
    e = -1;
    break;
  }
  *id = H5I_INVALID_HID;
  if (e < 0) {
    int r = h5a_fail(w, "close", what);
    if (*rc == 0)
      *rc = r;
  }
}

/* Ends a collective step: all ranks return the worst code. A rank that did
 * not fail itself but learns of a failure says so (rank 0 prints). */
static int h5a_agree(h5a_writer *w, int rc) {
  int all = par_agree(rc);
  if (all != 0 && rc == 0)
    diag_addf("archive %s: %s on another MPI rank", w && w->partial ? w->partial : "(none)",
              fs_strerror(all));
  /* after a failed HDF5 call on any rank the ranks may be at different
   * points of HDF5's own collectives: every rank stops using the file */
  if (all != 0 && w && w->file >= 0 && par_agree(h5a_failed_here ? -1 : 0) != 0)
    w->broken = 1;
  return all;
}

/* ---- attributes ---------------------------------------------------------- */

/* Scalar UTF-8 variable-length string attribute name = value on obj. */
static int h5a_attr_text(const h5a_writer *w, hid_t obj, const char *owner, const char *name,
                         const char *value) {
  hid_t type = H5I_INVALID_HID, space = H5I_INVALID_HID, attr = H5I_INVALID_HID;
  char what[512];
  snprintf(what, sizeof what, "attribute '%s' of %s", name, owner);
  int rc = 0;
  if ((type = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(type, H5T_VARIABLE) < 0 ||
      H5Tset_cset(type, H5T_CSET_UTF8) < 0 || (space = H5Screate(H5S_SCALAR)) < 0 ||
      (attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
      H5Awrite(attr, type, &value) < 0)
    rc = h5a_fail(w, "write", what);
  h5a_close(w, &attr, what, &rc);
  h5a_close(w, &space, what, &rc);
  h5a_close(w, &type, what, &rc);
  return rc;
}

/* Scalar numeric attribute: stored as ftype, *value in memory type mtype. */
static int h5a_attr_num(const h5a_writer *w, hid_t obj, const char *owner, const char *name,
                        hid_t ftype, hid_t mtype, const void *value) {
  hid_t space = H5I_INVALID_HID, attr = H5I_INVALID_HID;
  char what[512];
  snprintf(what, sizeof what, "attribute '%s' of %s", name, owner);
  int rc = 0;
  if ((space = H5Screate(H5S_SCALAR)) < 0 ||
      (attr = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
      H5Awrite(attr, mtype, value) < 0)
    rc = h5a_fail(w, "write", what);
  h5a_close(w, &attr, what, &rc);
  h5a_close(w, &space, what, &rc);
  return rc;
}

/* ---- groups and small datasets -------------------------------------------- */

static int h5a_group(const h5a_writer *w, hid_t parent, const char *name, const char *full,
                     hid_t *out) {
  *out = H5Gcreate2(parent, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  return *out < 0 ? h5a_fail(w, "create group", full) : 0;
}

/* Fixed-length, NUL-padded ASCII string type of len bytes (at least 1). */
static hid_t h5a_fixed_string(size_t len) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t < 0)
    return t;
  if (H5Tset_size(t, len > 0 ? len : 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0) {
    H5Tclose(t);
    return H5I_INVALID_HID;
  }
  return t;
}

/* Creates a small contiguous dataset group/name of shape dims[rank] and writes
 * buf collectively from rank 0 (other ranks select nothing; their buf is
 * ignored). Zero-sized datasets are created and not written. If out is not
 * NULL the dataset stays open there, else it is closed. */
static int h5a_small(const h5a_writer *w, hid_t group, const char *full, int rank,
                     const hsize_t *dims, hid_t ftype, hid_t mtype, const void *buf, hid_t *out) {
  hid_t space = H5I_INVALID_HID, mspace = H5I_INVALID_HID, dcpl = H5I_INVALID_HID;
  hid_t ds = H5I_INVALID_HID;
  const char *name = strrchr(full, '/') ? strrchr(full, '/') + 1 : full;
  hsize_t npoints = 1;
  for (int i = 0; i < rank; i++)
    npoints *= dims[i];
  int rc = 0;
  static const char dummy = 0;
  if ((space = H5Screate_simple(rank, dims, NULL)) < 0 ||
      (dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0 ||
      H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0 ||
      H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0 ||
      (ds = H5Dcreate2(group, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0) {
    rc = h5a_fail(w, "create dataset", full);
    goto cleanup;
  }
  if (npoints > 0) {
    /* a missing buffer on rank 0 still joins the collective write, empty */
    int mine = par_rank() == 0 && buf;
    if ((mspace = H5Screate_simple(rank, dims, NULL)) < 0 ||
        (!mine && (H5Sselect_none(space) < 0 || H5Sselect_none(mspace) < 0)) ||
        H5Dwrite(ds, mtype, mspace, space, w->dxpl, mine ? buf : &dummy) < 0)
      rc = h5a_fail(w, "write dataset", full);
    else if (par_rank() == 0 && !buf) {
      diag_addf("archive %s: no data for %s", w->partial, full);
      rc = FS_EINVAL;
    }
  }
cleanup:
  if (out && rc == 0)
    *out = ds;
  else
    h5a_close(w, &ds, full, &rc);
  h5a_close(w, &dcpl, full, &rc);
  h5a_close(w, &mspace, full, &rc);
  h5a_close(w, &space, full, &rc);
  return rc;
}

/* ---- create ---------------------------------------------------------------- */

/* "moe-inference,dense-inference" for a TM_* mask. */
static void h5a_tenant_list(unsigned mask, char *out, size_t cap) {
  out[0] = '\0';
  for (int k = 0; k < TENANT_COUNT; k++)
    if (mask & (1u << k)) {
      size_t used = strlen(out);
      snprintf(out + used, cap - used, "%s%s", used ? "," : "", fleet_tenant_name(k));
    }
}

/* One telemetry series with its attributes; the dataset stays open in *out. */
static int h5a_series(const h5a_writer *w, hid_t group, const char *scope, const metric_def *m,
                      hid_t space, hid_t dcpl, const char *dims_text, hid_t *out) {
  char full[256];
  snprintf(full, sizeof full, "/telemetry/%s/%s", scope, m->name);
  hid_t ftype = m->type == MT_U32 ? H5T_STD_U32LE : H5T_IEEE_F32LE;
  *out = H5Dcreate2(group, m->name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (*out < 0)
    return h5a_fail(w, "create dataset", full);
  int rc = h5a_attr_text(w, *out, full, "units", m->units);
  if (rc == 0)
    rc = h5a_attr_text(w, *out, full, "long_name", m->long_name);
  if (rc == 0)
    rc = h5a_attr_text(w, *out, full, "dimensions", dims_text);
  if (rc == 0 && m->dcgm_field)
    rc = h5a_attr_text(w, *out, full, "dcgm_field", m->dcgm_field);
  if (rc == 0 && m->tenants != TM_ALL) {
    char tenants[128];
    h5a_tenant_list(m->tenants, tenants, sizeof tenants);
    rc = h5a_attr_text(w, *out, full, "tenants", tenants);
  }
  return rc;
}

/* Chunked dataset-creation properties for parallel writing: no fill, all
 * chunks allocated at creation, the filters of the archive's compression
 * (filtered chunks get their space when written; every window write is
 * collective, as parallel HDF5 needs for filters). */
static int h5a_series_dcpl(const h5a_writer *w, int rank, const hsize_t *chunk, hid_t *out) {
  *out = H5Pcreate(H5P_DATASET_CREATE);
  if (*out < 0 || H5Pset_chunk(*out, rank, chunk) < 0 ||
      H5Pset_fill_time(*out, H5D_FILL_TIME_NEVER) < 0 ||
      H5Pset_alloc_time(*out, H5D_ALLOC_TIME_EARLY) < 0 ||
      h5c_set_filters(*out, w->compression) < 0)
    return h5a_fail(w, "set up chunked storage for", "/telemetry");
  return 0;
}

/* Every telemetry dataset and /time/seconds. */
static int h5a_create_series(h5a_writer *w) {
  const h5a_layout *lay = &w->lay;
  hsize_t T = (hsize_t)lay->scrapes;
  hsize_t tchunk = (hsize_t)lay->window_scrapes < T ? (hsize_t)lay->window_scrapes : T;
  hsize_t d3[3] = {T, (hsize_t)lay->nodes, FLEET_GPUS};
  hsize_t c3[3] = {tchunk, (hsize_t)lay->nodes_per_rack, FLEET_GPUS};
  hsize_t d2[2] = {T, (hsize_t)lay->nodes}, c2[2] = {tchunk, (hsize_t)lay->nodes_per_rack};
  hid_t tel = H5I_INVALID_HID, grp = H5I_INVALID_HID, tgrp = H5I_INVALID_HID;
  hid_t space = H5I_INVALID_HID, dcpl = H5I_INVALID_HID;
  int rc = h5a_group(w, w->file, "telemetry", "/telemetry", &tel);

  /* /telemetry/gpu */
  if (rc == 0)
    rc = h5a_group(w, tel, "gpu", "/telemetry/gpu", &grp);
  if (rc == 0 && (space = H5Screate_simple(3, d3, NULL)) < 0)
    rc = h5a_fail(w, "create dataspace for", "/telemetry/gpu");
  if (rc == 0)
    rc = h5a_series_dcpl(w, 3, c3, &dcpl);
  for (int m = 0; rc == 0 && m < GM_COUNT; m++)
    rc = h5a_series(w, grp, "gpu", &metric_gpu[m], space, dcpl, "time,node,gpu", &w->gpu_ds[m]);
  h5a_close(w, &grp, "/telemetry/gpu", &rc);
  h5a_close(w, &space, "/telemetry/gpu", &rc);
  h5a_close(w, &dcpl, "/telemetry/gpu", &rc);

  /* /telemetry/node */
  if (rc == 0)
    rc = h5a_group(w, tel, "node", "/telemetry/node", &grp);
  if (rc == 0 && (space = H5Screate_simple(2, d2, NULL)) < 0)
    rc = h5a_fail(w, "create dataspace for", "/telemetry/node");
  if (rc == 0)
    rc = h5a_series_dcpl(w, 2, c2, &dcpl);
  for (int m = 0; rc == 0 && m < NM_COUNT; m++)
    rc = h5a_series(w, grp, "node", &metric_node[m], space, dcpl, "time,node", &w->node_ds[m]);
  h5a_close(w, &grp, "/telemetry/node", &rc);
  h5a_close(w, &space, "/telemetry/node", &rc);
  h5a_close(w, &dcpl, "/telemetry/node", &rc);

  /* /telemetry/cluster and /time/seconds share shape and chunking */
  if (rc == 0)
    rc = h5a_group(w, tel, "cluster", "/telemetry/cluster", &grp);
  if (rc == 0 && (space = H5Screate_simple(1, &T, NULL)) < 0)
    rc = h5a_fail(w, "create dataspace for", "/telemetry/cluster");
  if (rc == 0)
    rc = h5a_series_dcpl(w, 1, &tchunk, &dcpl);
  for (int m = 0; rc == 0 && m < CM_COUNT; m++)
    rc = h5a_series(w, grp, "cluster", &metric_cluster[m], space, dcpl, "time", &w->cluster_ds[m]);
  if (rc == 0)
    rc = h5a_group(w, w->file, "time", "/time", &tgrp);
  if (rc == 0 && (w->time_ds = H5Dcreate2(tgrp, "seconds", H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl,
                                          H5P_DEFAULT)) < 0)
    rc = h5a_fail(w, "create dataset", "/time/seconds");
  if (rc == 0)
    rc = h5a_attr_text(w, w->time_ds, "/time/seconds", "units", "s");
  if (rc == 0)
    rc = h5a_attr_text(w, w->time_ds, "/time/seconds", "long_name",
                       "Simulated time of each scrape since the run started");
  h5a_close(w, &tgrp, "/time", &rc);
  h5a_close(w, &grp, "/telemetry/cluster", &rc);
  h5a_close(w, &space, "/telemetry/cluster", &rc);
  h5a_close(w, &dcpl, "/telemetry/cluster", &rc);
  h5a_close(w, &tel, "/telemetry", &rc);
  return rc;
}

/* Root attributes. Texts that ranks might hold differently (config,
 * scenarios, the clock) are taken from rank 0, since attributes are metadata
 * every rank must write identically. */
static int h5a_provenance_attrs(h5a_writer *w, const h5a_provenance *prov) {
  char stamp[32] = "";
  char *created = NULL, *config = NULL, *scenarios = NULL;
  int rc = 0;
  if (par_rank() == 0) {
    time_t now = time(NULL);
    struct tm utc;
    if (gmtime_r(&now, &utc))
      strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
    created = stamp;
    config = (char *)prov->config_json; /* only read: rank 0 is the source */
    scenarios = (char *)prov->scenarios_json;
  }
  if ((rc = par_bcast_text(&created)) != 0 || (rc = par_bcast_text(&config)) != 0 ||
      (rc = par_bcast_text(&scenarios)) != 0)
    goto cleanup;
  const hid_t f = w->file;
  const char *r = "/";
  int complete = 0;
  if ((rc = h5a_attr_text(w, f, r, "version", prov->version ? prov->version : "")) ||
      (rc = h5a_attr_text(w, f, r, "git_commit", prov->git_commit ? prov->git_commit : "")) ||
      (rc = h5a_attr_text(w, f, r, "fingerprint", prov->fingerprint ? prov->fingerprint : "")) ||
      (rc = h5a_attr_text(w, f, r, "config", config ? config : "{}")) ||
      (scenarios && (rc = h5a_attr_text(w, f, r, "scenarios", scenarios))) ||
      (rc = h5a_attr_num(w, f, r, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &prov->seed)) ||
      (rc = h5a_attr_num(w, f, r, "ranks", H5T_STD_I32LE, H5T_NATIVE_INT, &prov->ranks)) ||
      (rc = h5a_attr_num(w, f, r, "scrape_interval_s", H5T_STD_I32LE, H5T_NATIVE_INT,
                         &prov->scrape_interval_s)) ||
      (rc = h5a_attr_text(w, f, r, "created_utc", created ? created : "")) ||
      (rc = h5a_attr_num(w, f, r, "complete", H5T_STD_I32LE, H5T_NATIVE_INT, &complete)))
    goto cleanup; /* rc holds the failure */
cleanup:
  if (par_rank() != 0) {
    free(created);
    free(config);
    free(scenarios);
  }
  return rc;
}

static void h5a_free(h5a_writer *w) {
  free(w->path);
  free(w->partial);
  free(w);
}

/* Closes every open identifier; the first failure is kept in *rc. */
static void h5a_close_all(h5a_writer *w, int *rc) {
  for (int m = 0; m < GM_COUNT; m++)
    h5a_close(w, &w->gpu_ds[m], metric_gpu[m].name, rc);
  for (int m = 0; m < NM_COUNT; m++)
    h5a_close(w, &w->node_ds[m], metric_node[m].name, rc);
  for (int m = 0; m < CM_COUNT; m++)
    h5a_close(w, &w->cluster_ds[m], metric_cluster[m].name, rc);
  h5a_close(w, &w->time_ds, "/time/seconds", rc);
  h5a_close(w, &w->dxpl, "the transfer property list", rc);
  h5a_close(w, &w->file, "the file", rc);
}

/* Why the file could not be created, in words, probing the directory. */
static void h5a_create_reason(const char *partial, char *out, size_t cap) {
  char dir[4096];
  path_parent(partial, dir, sizeof dir);
  struct stat st;
  if (stat(dir, &st) != 0)
    snprintf(out, cap, "directory %s: %s", dir, strerror(errno));
  else if (!S_ISDIR(st.st_mode))
    snprintf(out, cap, "%s: %s", dir, strerror(ENOTDIR));
  else if (access(dir, W_OK | X_OK) != 0)
    snprintf(out, cap, "directory %s: %s", dir, strerror(errno));
  else if (lstat(partial, &st) == 0)
    snprintf(out, cap, "%s already stands at that name (fleetsim creates the archive only "
                       "where no file or link is)",
             S_ISLNK(st.st_mode) ? "a symbolic link" : S_ISDIR(st.st_mode) ? "a directory"
                                                                           : "a file");
  else
    snprintf(out, cap, "MPI-IO could not create the file");
}

static int h5a_check_layout(const h5a_layout *lay) {
  if (lay->scrapes < 1 || lay->nodes < 1 || lay->nodes_per_rack < 1 ||
      lay->nodes % lay->nodes_per_rack != 0 || lay->window_scrapes < 1 || lay->node0 < 0 ||
      lay->nnodes < 0 || lay->node0 + lay->nnodes > lay->nodes) {
    diag_addf("archive: inconsistent layout (%lld scrapes, %d nodes, %d per rack, window %d, "
              "local nodes [%d, %d))",
              (long long)lay->scrapes, lay->nodes, lay->nodes_per_rack, lay->window_scrapes,
              lay->node0, lay->node0 + lay->nnodes);
    return FS_EINVAL;
  }
  return 0;
}

/* A writer for path with every identifier invalid, and the MPI-IO file
 * access (*fapl) and collective transfer properties. Collective. */
static int h5a_new(h5a_writer **out, const char *path, const h5a_layout *lay, hid_t *fapl) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* our messages, not HDF5's stack dumps */
  h5c_init();
  int rc = path && lay ? h5a_check_layout(lay) : FS_EINVAL;
  h5a_writer *w = NULL;
  *fapl = H5I_INVALID_HID;
  if (rc == 0 && !(w = calloc(1, sizeof *w)))
    rc = FS_ENOMEM;
  if (rc == 0) {
    w->file = w->dxpl = w->time_ds = H5I_INVALID_HID;
    for (int m = 0; m < GM_COUNT; m++)
      w->gpu_ds[m] = H5I_INVALID_HID;
    for (int m = 0; m < NM_COUNT; m++)
      w->node_ds[m] = H5I_INVALID_HID;
    for (int m = 0; m < CM_COUNT; m++)
      w->cluster_ds[m] = H5I_INVALID_HID;
    w->lay = *lay;
    size_t n = strlen(path);
    w->path = malloc(n + 1);
    w->partial = malloc(n + sizeof ".partial");
    if (!w->path || !w->partial)
      rc = FS_ENOMEM;
    else {
      memcpy(w->path, path, n + 1);
      memcpy(w->partial, path, n);
      memcpy(w->partial + n, ".partial", sizeof ".partial");
    }
  }
  if ((rc = h5a_agree(w, rc)) == 0) {
    if ((*fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0 ||
        H5Pset_fapl_mpio(*fapl, MPI_COMM_WORLD, MPI_INFO_NULL) < 0 ||
        H5Pset_all_coll_metadata_ops(*fapl, 1) < 0 || H5Pset_coll_metadata_write(*fapl, 1) < 0 ||
        (w->dxpl = H5Pcreate(H5P_DATASET_XFER)) < 0 ||
        H5Pset_dxpl_mpio(w->dxpl, H5FD_MPIO_COLLECTIVE) < 0)
      rc = h5a_fail(w, "set up parallel access for", w->partial);
    rc = h5a_agree(w, rc);
  }
  *out = w;
  return rc;
}

/* Ends h5a_create/h5a_reopen: on failure everything is closed and freed. */
static int h5a_settle(h5a_writer **out, h5a_writer *w, hid_t *fapl, int rc) {
  h5a_close(w, fapl, "the file access property list", &rc);
  if (rc != 0 && w) {
    h5a_abandon(&w);
    w = NULL;
  }
  *out = w;
  return rc;
}

int h5a_create(h5a_writer **out, const char *path, const h5a_layout *lay,
               const h5a_provenance *prov) {
  *out = NULL;
  hid_t fapl;
  h5a_writer *w = NULL;
  int rc = prov ? h5a_new(&w, path, lay, &fapl) : par_agree(FS_EINVAL);
  if (rc == 0) { /* a filter that cannot be loaded is found before the file exists */
    rc = h5c_from_config(prov->config_json, &w->compression);
    rc = h5a_agree(w, rc == 0 ? h5c_require(w->compression) : rc);
  }
  if (rc != 0)
    return h5a_settle(out, w, &fapl, rc);

  /* EXCL: a file or a link already at the name is never truncated or followed */
  w->file = H5Fcreate(w->partial, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
  if (w->file < 0) {
    char reason[4200];
    h5a_create_reason(w->partial, reason, sizeof reason);
    H5Eclear2(H5E_DEFAULT);
    diag_addf("archive %s: cannot create the file: %s", w->partial, reason);
    rc = FS_EIO;
  }
  if ((rc = h5a_agree(w, rc)) != 0)
    return h5a_settle(out, w, &fapl, rc);
  /* the disk the whole file will take is reserved before anything is
   * written to it, so no collective write later fails for lack of space
   * (where the file system cannot reserve, the caller's free-space check
   * is all there is); the cache is flushed first so that giving up here
   * closes the file without writing */
  if (H5Fflush(w->file, H5F_SCOPE_GLOBAL) < 0)
    rc = h5a_fail(w, "flush", "the new file");
  if ((rc = h5a_agree(w, rc)) == 0 && par_rank() == 0 && lay->reserve_bytes > 0 &&
      path_reserve(w->partial, (uint64_t)lay->reserve_bytes) < 0)
    rc = FS_EIO;
  if ((rc = h5a_agree(w, rc)) == 0) {
    rc = h5a_create_series(w);
    if (rc == 0)
      rc = h5a_provenance_attrs(w, prov);
    rc = h5a_agree(w, rc);
  }
  int made = w->file >= 0;
  rc = h5a_settle(out, w, &fapl, rc);
  /* a file that never held a run is not left behind to look like one */
  if (rc != 0 && made && !h5a_left_open && par_rank() == 0) {
    char partial[4200];
    snprintf(partial, sizeof partial, "%s.partial", path);
    unlink(partial);
  }
  return rc;
}

/* Opens dataset name and checks its shape against dims[rank]. */
static int h5a_open_series(const h5a_writer *w, const char *name, int rank, const hsize_t *dims,
                           hid_t *out) {
  *out = H5Dopen2(w->file, name, H5P_DEFAULT);
  if (*out < 0)
    return h5a_fail(w, "open dataset", name);
  hid_t space = H5Dget_space(*out);
  hsize_t got[3] = {0, 0, 0};
  int r = space >= 0 ? H5Sget_simple_extent_dims(space, got, NULL) : -1;
  if (space >= 0)
    H5Sclose(space);
  if (r != rank || got[0] != dims[0] || (rank > 1 && got[1] != dims[1]) ||
      (rank > 2 && got[2] != dims[2])) {
    diag_addf("archive %s: %s has another shape than this run's layout (%llu rows, expected "
              "%llu): not the same run",
              w->partial, name, (unsigned long long)got[0], (unsigned long long)dims[0]);
    return FS_EINVAL;
  }
  return h5c_check_dataset(*out, w->partial, name); /* its compression must be writable here */
}

int h5a_reopen(h5a_writer **out, const char *path, const h5a_layout *lay, int ranks) {
  *out = NULL;
  hid_t fapl;
  h5a_writer *w = NULL;
  int rc = h5a_new(&w, path, lay, &fapl);
  if (rc != 0)
    return h5a_settle(out, w, &fapl, rc);
  w->file = H5Fopen(w->partial, H5F_ACC_RDWR, fapl);
  if (w->file < 0) {
    H5Eclear2(H5E_DEFAULT);
    diag_addf("archive %s: cannot open it for writing (missing or damaged)", w->partial);
    rc = FS_EIO;
  }
  if ((rc = h5a_agree(w, rc)) != 0)
    return h5a_settle(out, w, &fapl, rc);
  hsize_t T = (hsize_t)lay->scrapes;
  hsize_t d3[3] = {T, (hsize_t)lay->nodes, FLEET_GPUS}, d2[2] = {T, (hsize_t)lay->nodes};
  char name[256];
  for (int m = 0; rc == 0 && m < GM_COUNT; m++) {
    snprintf(name, sizeof name, "/telemetry/gpu/%s", metric_gpu[m].name);
    rc = h5a_open_series(w, name, 3, d3, &w->gpu_ds[m]);
  }
  for (int m = 0; rc == 0 && m < NM_COUNT; m++) {
    snprintf(name, sizeof name, "/telemetry/node/%s", metric_node[m].name);
    rc = h5a_open_series(w, name, 2, d2, &w->node_ds[m]);
  }
  for (int m = 0; rc == 0 && m < CM_COUNT; m++) {
    snprintf(name, sizeof name, "/telemetry/cluster/%s", metric_cluster[m].name);
    rc = h5a_open_series(w, name, 1, &T, &w->cluster_ds[m]);
  }
  if (rc == 0)
    rc = h5a_open_series(w, "/time/seconds", 1, &T, &w->time_ds);
  /* the root attribute `ranks` names the rank count of the leg that finishes */
  if (rc == 0) {
    hid_t a = H5Aopen(w->file, "ranks", H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, H5T_NATIVE_INT, &ranks) < 0)
      rc = h5a_fail(w, "rewrite", "root attribute 'ranks'");
    h5a_close(w, &a, "root attribute 'ranks'", &rc);
  }
  /* an event table from a finish that was cut short is written again */
  if (rc == 0) {
    htri_t has = H5Lexists(w->file, "/events", H5P_DEFAULT);
    if (has < 0 || (has > 0 && H5Ldelete(w->file, "/events", H5P_DEFAULT) < 0))
      rc = h5a_fail(w, "remove the unfinished", "/events");
  }
  return h5a_settle(out, w, &fapl, h5a_agree(w, rc));
}

int h5a_flush(h5a_writer *w) {
  int rc = w ? 0 : FS_EINVAL;
  if (rc == 0 && H5Fflush(w->file, H5F_SCOPE_GLOBAL) < 0)
    rc = h5a_fail(w, "flush", "the file");
  return h5a_agree(w, rc);
}

/* ---- windows ------------------------------------------------------------- */

/* File space dims[rank] and memory space count[rank]; with mine, the file
 * selection is the block count at start and the memory selection all of it,
 * otherwise both select nothing (the rank still joins the collective write). */
static herr_t h5a_select(int rank, const hsize_t *dims, const hsize_t *count, const hsize_t *start,
                         int mine, hid_t *fs, hid_t *ms) {
  if ((*fs = H5Screate_simple(rank, dims, NULL)) < 0 ||
      (*ms = H5Screate_simple(rank, count, NULL)) < 0)
    return -1;
  if (mine)
    return H5Sselect_hyperslab(*fs, H5S_SELECT_SET, start, NULL, count, NULL);
  if (H5Sselect_none(*fs) < 0 || H5Sselect_none(*ms) < 0)
    return -1;
  return 0;
}

/* One collective write of every dataset in a scope: all share one file and
 * one memory selection. */
static int h5a_write_scope(const h5a_writer *w, const hid_t *ds, int count, const metric_def *defs,
                           const void *const *bufs, hid_t mspace, hid_t fspace, const char *scope) {
  static const char dummy = 0;
  int rc = 0;
  for (int m = 0; m < count; m++) {
    hid_t mtype = defs[m].type == MT_U32 ? H5T_NATIVE_UINT32 : H5T_NATIVE_FLOAT;
    const void *buf = bufs && bufs[m] ? bufs[m] : &dummy;
    /* every rank issues every write, even after a failure, so the
     * collective calls stay matched */
    if (H5Dwrite(ds[m], mtype, mspace, fspace, w->dxpl, buf) < 0 && rc == 0) {
      char what[256];
      snprintf(what, sizeof what, "/telemetry/%s/%s", scope, defs[m].name);
      rc = h5a_fail(w, "write dataset", what);
    }
  }
  return rc;
}

int h5a_write_window(h5a_writer *w, int64_t t0, int n, tel_cell *const gpu[GM_COUNT],
                     tel_cell *const node[NM_COUNT], const float *const cluster[CM_COUNT],
                     const double *time_s) {
  int rc = 0, root = par_rank() == 0;
  if (!w || t0 < 0 || n < 1 || t0 + n > w->lay.scrapes) {
    diag_addf("archive: window [%lld, %lld) outside the %lld scrapes of the layout", (long long)t0,
              (long long)t0 + n, w ? (long long)w->lay.scrapes : 0LL);
    rc = FS_EINVAL;
  }
  int missing = rc == 0 && w->lay.nnodes > 0 && (!gpu || !node);
  for (int m = 0; rc == 0 && !missing && w->lay.nnodes > 0 && m < GM_COUNT; m++)
    missing |= !gpu[m];
  for (int m = 0; rc == 0 && !missing && w->lay.nnodes > 0 && m < NM_COUNT; m++)
    missing |= !node[m];
  for (int m = 0; rc == 0 && !missing && root && m < CM_COUNT; m++)
    missing |= !cluster || !cluster[m];
  if (rc == 0 && (missing || (root && !time_s))) {
    diag_addf("archive %s: write_window given a NULL buffer", w->partial);
    rc = FS_EINVAL;
  }
  if ((rc = h5a_agree(w, rc)) != 0)
    return rc;

  const h5a_layout *lay = &w->lay;
  int local = lay->nnodes > 0;
  hsize_t T = (hsize_t)lay->scrapes, nl = local ? (hsize_t)lay->nnodes : 1;
  hsize_t d3[3] = {T, (hsize_t)lay->nodes, FLEET_GPUS}, m3[3] = {(hsize_t)n, nl, FLEET_GPUS};
  hsize_t s3[3] = {(hsize_t)t0, (hsize_t)lay->node0, 0};
  hsize_t d1 = T, m1 = (hsize_t)n, s1 = (hsize_t)t0;
  hid_t fs = H5I_INVALID_HID, ms = H5I_INVALID_HID;

  /* Every rank issues every collective write even after a local failure,
   * so the calls stay matched; the first failure is what gets reported. */
  int r;

  /* GPU: [n][nnodes][8] into [t0:t0+n, node0:node0+nnodes, 0:8] */
  if (h5a_select(3, d3, m3, s3, local, &fs, &ms) < 0)
    r = h5a_fail(w, "select the window of", "/telemetry/gpu");
  else
    r = h5a_write_scope(w, w->gpu_ds, GM_COUNT, metric_gpu, (const void *const *)gpu, ms, fs,
                        "gpu");
  rc = rc ? rc : r;
  h5a_close(w, &fs, "/telemetry/gpu", &rc);
  h5a_close(w, &ms, "/telemetry/gpu", &rc);

  /* node: [n][nnodes] into [t0:t0+n, node0:node0+nnodes] (the first two
   * dimensions of the GPU selection) */
  if (h5a_select(2, d3, m3, s3, local, &fs, &ms) < 0)
    r = h5a_fail(w, "select the window of", "/telemetry/node");
  else
    r = h5a_write_scope(w, w->node_ds, NM_COUNT, metric_node, (const void *const *)node, ms, fs,
                        "node");
  rc = rc ? rc : r;
  h5a_close(w, &fs, "/telemetry/node", &rc);
  h5a_close(w, &ms, "/telemetry/node", &rc);

  /* cluster and time: rank 0 writes [t0:t0+n], the others take part with
   * empty selections */
  if (h5a_select(1, &d1, &m1, &s1, root, &fs, &ms) < 0)
    r = h5a_fail(w, "select the window of", "/telemetry/cluster");
  else {
    static const double dummy = 0;
    r = h5a_write_scope(w, w->cluster_ds, CM_COUNT, metric_cluster,
                        root ? (const void *const *)cluster : NULL, ms, fs, "cluster");
    if (H5Dwrite(w->time_ds, H5T_NATIVE_DOUBLE, ms, fs, w->dxpl, root ? time_s : &dummy) < 0 &&
        r == 0)
      r = h5a_fail(w, "write dataset", "/time/seconds");
  }
  rc = rc ? rc : r;
  h5a_close(w, &fs, "/telemetry/cluster", &rc);
  h5a_close(w, &ms, "/telemetry/cluster", &rc);
  return h5a_agree(w, rc);
}

/* ---- topology ------------------------------------------------------------ */

/* Copies a NUL-terminated text into a fixed, zero-padded field of cap bytes. */
static void h5a_put_fixed(char *field, size_t cap, const char *text) {
  size_t n = strnlen(text, cap);
  memcpy(field, text, n);
}

int h5a_write_topology(h5a_writer *w, const fleet *f) {
  int rc = w && f ? 0 : FS_EINVAL;
  int32_t *rack_row = NULL;
  char *ids = NULL, *models = NULL;
  double *step = NULL;
  hid_t grp = H5I_INVALID_HID, ds = H5I_INVALID_HID;
  hid_t idtype = H5I_INVALID_HID, modeltype = H5I_INVALID_HID;
  if (rc == 0) {
    size_t nj = (size_t)f->njobs + 1;
    rack_row = malloc(sizeof *rack_row * (size_t)f->racks);
    ids = calloc(nj, CFG_JOB_ID_LEN);
    models = calloc(nj, CFG_JOB_MODEL_LEN);
    step = calloc(nj, sizeof *step);
    if (!rack_row || !ids || !models || !step)
      rc = FS_ENOMEM;
  }
  if ((rc = h5a_agree(w, rc)) != 0)
    goto cleanup;
  for (int r = 0; r < f->racks; r++)
    rack_row[r] = fleet_rack_row(f, r);
  for (int j = 0; j < f->njobs; j++) {
    h5a_put_fixed(ids + (size_t)j * CFG_JOB_ID_LEN, CFG_JOB_ID_LEN, f->cfg->jobs[j].id);
    h5a_put_fixed(models + (size_t)j * CFG_JOB_MODEL_LEN, CFG_JOB_MODEL_LEN, f->cfg->jobs[j].model);
    step[j] = f->cfg->jobs[j].step_time_s;
  }

  const hsize_t nodes = (hsize_t)f->nodes, racks = (hsize_t)f->racks;
  const hsize_t njobs = (hsize_t)f->njobs, njobs1 = njobs + 1;
  const hsize_t jnodes = (hsize_t)f->job_offset[f->njobs];
  const hsize_t lots[2] = {nodes, FLEET_GPUS};
  const hid_t i32 = H5T_STD_I32LE, ni32 = H5T_NATIVE_INT32;
  char values[160];
  snprintf(values, sizeof values, "0 %s, 1 %s, 2 %s", fleet_tenant_name(0), fleet_tenant_name(1),
           fleet_tenant_name(2));

  rc = h5a_group(w, w->file, "topology", "/topology", &grp);
  if (rc == 0)
    rc = h5a_small(w, grp, "/topology/node_rack", 1, &nodes, i32, ni32, f->node_rack, NULL);
  if (rc == 0)
    rc = h5a_small(w, grp, "/topology/node_tenant", 1, &nodes, H5T_STD_U8LE, H5T_NATIVE_UINT8,
                   f->node_tenant, &ds);
  if (rc == 0)
    rc = h5a_attr_text(w, ds, "/topology/node_tenant", "values", values);
  h5a_close(w, &ds, "/topology/node_tenant", &rc);
  if (rc == 0)
    rc = h5a_small(w, grp, "/topology/node_job", 1, &nodes, i32, ni32, f->node_job, &ds);
  if (rc == 0)
    rc = h5a_attr_text(w, ds, "/topology/node_job", "values", "index into job_id, -1 = none");
  h5a_close(w, &ds, "/topology/node_job", &rc);
  if (rc == 0)
    rc = h5a_small(w, grp, "/topology/node_job_rank", 1, &nodes, i32, ni32, f->node_job_rank, NULL);
  if (rc == 0)
    rc = h5a_small(w, grp, "/topology/gpu_lot", 2, lots, i32, ni32, f->gpu_lot, NULL);
  if (rc == 0)
    rc = h5a_small(w, grp, "/topology/rack_row", 1, &racks, i32, ni32, rack_row, NULL);
  if (rc == 0 && ((idtype = h5a_fixed_string(CFG_JOB_ID_LEN)) < 0 ||
                  (modeltype = h5a_fixed_string(CFG_JOB_MODEL_LEN)) < 0))
    rc = h5a_fail(w, "make the string types of", "/topology/job_id");
  if (rc == 0)
    rc = h5a_small(w, grp, "/topology/job_id", 1, &njobs, idtype, idtype, ids, NULL);
  if (rc == 0)
    rc = h5a_small(w, grp, "/topology/job_model", 1, &njobs, modeltype, modeltype, models, NULL);
  if (rc == 0)
    rc = h5a_small(w, grp, "/topology/job_nodes", 1, &jnodes, i32, ni32, f->job_nodes, NULL);
  if (rc == 0)
    rc = h5a_small(w, grp, "/topology/job_offset", 1, &njobs1, i32, ni32, f->job_offset, NULL);
  if (rc == 0)
    rc = h5a_small(w, grp, "/topology/job_step_time_s", 1, &njobs, H5T_IEEE_F64LE,
                   H5T_NATIVE_DOUBLE, step, &ds);
  if (rc == 0)
    rc = h5a_attr_text(w, ds, "/topology/job_step_time_s", "units", "s");
cleanup:
  h5a_close(w, &ds, "/topology/job_step_time_s", &rc);
  h5a_close(w, &idtype, "/topology/job_id", &rc);
  h5a_close(w, &modeltype, "/topology/job_model", &rc);
  h5a_close(w, &grp, "/topology", &rc);
  free(rack_row);
  free(ids);
  free(models);
  free(step);
  return h5a_agree(w, rc);
}

/* ---- ground truth ----------------------------------------------------------- */

/* Compound row type of /ground_truth/scenarios, packed: id, kind, start_s,
 * end_s. fdouble is the double type of this side (file or memory). */
static hid_t h5a_scenario_type(hid_t idt, hid_t kindt, size_t idw, size_t kindw, hid_t fdouble) {
  hid_t t = H5Tcreate(H5T_COMPOUND, idw + kindw + 16);
  if (t < 0)
    return t;
  if (H5Tinsert(t, "id", 0, idt) < 0 || H5Tinsert(t, "kind", idw, kindt) < 0 ||
      H5Tinsert(t, "start_s", idw + kindw, fdouble) < 0 ||
      H5Tinsert(t, "end_s", idw + kindw + 8, fdouble) < 0) {
    H5Tclose(t);
    return H5I_INVALID_HID;
  }
  return t;
}

int h5a_write_ground_truth(h5a_writer *w, const h5a_scenario *list, int n) {
  int rc = w && n >= 0 && (n == 0 || list) ? 0 : FS_EINVAL;
  int root = par_rank() == 0;
  double *sizes = NULL; /* per scenario: nnodes, nimpacted, ngpus, |id|, |kind| */
  unsigned char *rows = NULL;
  char *params = NULL;
  hid_t gt = H5I_INVALID_HID, grp = H5I_INVALID_HID, ds = H5I_INVALID_HID;
  hid_t idt = H5I_INVALID_HID, kindt = H5I_INVALID_HID;
  hid_t ftype = H5I_INVALID_HID, mtype = H5I_INVALID_HID;
  if (rc == 0 && !(sizes = malloc(sizeof *sizes * ((size_t)n * 5 + 1))))
    rc = FS_ENOMEM;
  if ((rc = h5a_agree(w, rc)) != 0)
    goto cleanup;

  /* Dataset shapes and string widths are metadata: take rank 0's. */
  for (int i = 0; i < n; i++) {
    const h5a_scenario *s = &list[i];
    double *z = sizes + (size_t)i * 5;
    if (root) {
      z[0] = s->nodes ? s->nnodes : 0;
      z[1] = s->impacted ? s->nimpacted : 0;
      z[2] = s->gpus ? s->ngpus : 0;
      z[3] = s->id ? (double)strlen(s->id) : 0;
      z[4] = s->kind ? (double)strlen(s->kind) : 0;
    } else {
      for (int k = 0; k < 5; k++)
        z[k] = -1;
    }
  }
  if (n > 0 && (rc = par_max_doubles(sizes, n * 5)) != 0)
    goto cleanup;
  size_t idw = 1, kindw = 1;
  for (int i = 0; i < n; i++) {
    if (sizes[i * 5 + 3] > (double)idw)
      idw = (size_t)sizes[i * 5 + 3];
    if (sizes[i * 5 + 4] > (double)kindw)
      kindw = (size_t)sizes[i * 5 + 4];
  }
  size_t rowsize = idw + kindw + 16;
  if (!(rows = calloc((size_t)n + 1, rowsize)))
    rc = FS_ENOMEM;
  if ((rc = h5a_agree(w, rc)) != 0)
    goto cleanup;
  for (int i = 0; root && i < n; i++) {
    unsigned char *row = rows + (size_t)i * rowsize;
    if (list[i].id)
      memcpy(row, list[i].id, strlen(list[i].id));
    if (list[i].kind)
      memcpy(row + idw, list[i].kind, strlen(list[i].kind));
    memcpy(row + idw + kindw, &list[i].start_s, sizeof(double));
    memcpy(row + idw + kindw + 8, &list[i].end_s, sizeof(double));
  }

  const hsize_t nrows = (hsize_t)n;
  if ((rc = h5a_group(w, w->file, "ground_truth", "/ground_truth", &gt)) != 0)
    goto cleanup;
  if ((idt = h5a_fixed_string(idw)) < 0 || (kindt = h5a_fixed_string(kindw)) < 0 ||
      (ftype = h5a_scenario_type(idt, kindt, idw, kindw, H5T_IEEE_F64LE)) < 0 ||
      (mtype = h5a_scenario_type(idt, kindt, idw, kindw, H5T_NATIVE_DOUBLE)) < 0) {
    rc = h5a_fail(w, "make the row type of", "/ground_truth/scenarios");
    goto cleanup;
  }
  if ((rc = h5a_small(w, gt, "/ground_truth/scenarios", 1, &nrows, ftype, mtype, rows, &ds)) ||
      (rc = h5a_attr_text(w, ds, "/ground_truth/scenarios", "units",
                          "start_s, end_s: s since the run started; active over [start_s, end_s)")))
    goto cleanup;
  h5a_close(w, &ds, "/ground_truth/scenarios", &rc);

  for (int i = 0; rc == 0 && i < n; i++) {
    const h5a_scenario *s = &list[i];
    char full[256], item[300];
    snprintf(full, sizeof full, "/ground_truth/%s", s->id ? s->id : "");
    if ((rc = h5a_group(w, gt, s->id ? s->id : "", full, &grp)) != 0)
      break;
    const hsize_t nn = (hsize_t)sizes[i * 5], ni = (hsize_t)sizes[i * 5 + 1];
    const hsize_t ng = (hsize_t)sizes[i * 5 + 2];
    params = root ? (char *)s->params_json : NULL; /* only read: rank 0 is the source */
    if ((rc = par_bcast_text(&params)) != 0)
      break;
    snprintf(item, sizeof item, "%s/nodes", full);
    if ((rc = h5a_small(w, grp, item, 1, &nn, H5T_STD_I32LE, H5T_NATIVE_INT32, s->nodes, NULL)))
      break;
    snprintf(item, sizeof item, "%s/impacted", full);
    if ((rc = h5a_small(w, grp, item, 1, &ni, H5T_STD_I32LE, H5T_NATIVE_INT32, s->impacted, NULL)))
      break;
    snprintf(item, sizeof item, "%s/gpus", full);
    if ((rc = h5a_small(w, grp, item, 1, &ng, H5T_STD_I32LE, H5T_NATIVE_INT32, s->gpus, NULL)))
      break;
    rc = h5a_attr_text(w, grp, full, "params", params ? params : "{}");
    if (!root)
      free(params);
    params = NULL;
    h5a_close(w, &grp, full, &rc);
  }
cleanup:
  if (!root)
    free(params);
  h5a_close(w, &grp, "/ground_truth", &rc);
  h5a_close(w, &ds, "/ground_truth/scenarios", &rc);
  h5a_close(w, &mtype, "/ground_truth/scenarios", &rc);
  h5a_close(w, &ftype, "/ground_truth/scenarios", &rc);
  h5a_close(w, &kindt, "/ground_truth/scenarios", &rc);
  h5a_close(w, &idt, "/ground_truth/scenarios", &rc);
  h5a_close(w, &gt, "/ground_truth", &rc);
  free(sizes);
  free(rows);
  return h5a_agree(w, rc);
}

/* ---- L1 events ------------------------------------------------------------ */

enum { H5A_SCOPE_LEN = 8, H5A_REASON_LEN = 32, H5A_COOCCUR_LEN = 256 };
enum { H5A_EVENT_CHUNK_MIN = 64, H5A_EVENT_CHUNK_MAX = 1024 }; /* rows per chunk */

/* One row of /events/l1 in memory; the file row is the same fields packed,
 * little-endian (see h5a_event_type). */
typedef struct {
  int64_t event_id;
  double t_s;
  int32_t step;
  char scope[H5A_SCOPE_LEN];
  int32_t node, rack, job, tenant, nodes;
  char metric[EV_METRIC_LEN];
  int32_t gpu;
  float z, value, baseline, trend_z;
  int32_t escalated;
  char escalation_reason[H5A_REASON_LEN];
  char cooccur[H5A_COOCCUR_LEN];
} h5a_event_row;

typedef enum { H5A_F_I64, H5A_F_F64, H5A_F_I32, H5A_F_F32, H5A_F_STR } h5a_field_kind;

/* The columns of /events/l1, in file order. len is the string width. */
static const struct {
  const char *name;
  size_t offset;
  h5a_field_kind kind;
  size_t len;
} h5a_event_fields[] = {
#define H5A_FIELD(f, kind, len) {#f, offsetof(h5a_event_row, f), kind, len}
    H5A_FIELD(event_id, H5A_F_I64, 0),
    H5A_FIELD(t_s, H5A_F_F64, 0),
    H5A_FIELD(step, H5A_F_I32, 0),
    H5A_FIELD(scope, H5A_F_STR, H5A_SCOPE_LEN),
    H5A_FIELD(node, H5A_F_I32, 0),
    H5A_FIELD(rack, H5A_F_I32, 0),
    H5A_FIELD(job, H5A_F_I32, 0),
    H5A_FIELD(tenant, H5A_F_I32, 0),
    H5A_FIELD(nodes, H5A_F_I32, 0),
    H5A_FIELD(metric, H5A_F_STR, EV_METRIC_LEN),
    H5A_FIELD(gpu, H5A_F_I32, 0),
    H5A_FIELD(z, H5A_F_F32, 0),
    H5A_FIELD(value, H5A_F_F32, 0),
    H5A_FIELD(baseline, H5A_F_F32, 0),
    H5A_FIELD(trend_z, H5A_F_F32, 0),
    H5A_FIELD(escalated, H5A_F_I32, 0),
    H5A_FIELD(escalation_reason, H5A_F_STR, H5A_REASON_LEN),
    H5A_FIELD(cooccur, H5A_F_STR, H5A_COOCCUR_LEN),
#undef H5A_FIELD
};
enum { H5A_EVENT_NFIELDS = sizeof h5a_event_fields / sizeof h5a_event_fields[0] };

/* The `units` attribute of /events/l1: every column with its meaning and unit. */
static const char h5a_events_units[] =
    "event_id: emission order at the root; t_s: s since the run started, end of the detection "
    "block; step: detection step index; scope: gpu|node|rack|job|cluster; node: most "
    "anomalous node (global index); rack; job: job index or -1; tenant: 0 moe-inference, 1 "
    "dense-inference, 2 training; nodes: anomalous nodes folded in; metric, gpu (-1 = node "
    "metric), z (robust standard deviations), value, baseline (units of the metric): the "
    "triggering signal; trend_z: class rate-of-change z, 0 if none; escalated: 0/1 "
    "detector-driven escalation; escalation_reason; cooccur: further signals of the node as "
    "metric[/gpuK]:z;...";

/* Compound row type of /events/l1: the memory layout of h5a_event_row with
 * native types, or (file) the same fields packed with little-endian types. */
static hid_t h5a_event_type(int file) {
  static const size_t width[] = {[H5A_F_I64] = 8, [H5A_F_F64] = 8, [H5A_F_I32] = 4,
                                 [H5A_F_F32] = 4};
  size_t size = 0;
  for (int i = 0; i < H5A_EVENT_NFIELDS; i++)
    size += h5a_event_fields[i].kind == H5A_F_STR ? h5a_event_fields[i].len
                                                  : width[h5a_event_fields[i].kind];
  hid_t t = H5Tcreate(H5T_COMPOUND, file ? size : sizeof(h5a_event_row));
  size_t off = 0;
  for (int i = 0; t >= 0 && i < H5A_EVENT_NFIELDS; i++) {
    h5a_field_kind k = h5a_event_fields[i].kind;
    hid_t ft = H5I_INVALID_HID, own = H5I_INVALID_HID;
    switch (k) {
    case H5A_F_I64:
      ft = file ? H5T_STD_I64LE : H5T_NATIVE_INT64;
      break;
    case H5A_F_F64:
      ft = file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE;
      break;
    case H5A_F_I32:
      ft = file ? H5T_STD_I32LE : H5T_NATIVE_INT32;
      break;
    case H5A_F_F32:
      ft = file ? H5T_IEEE_F32LE : H5T_NATIVE_FLOAT;
      break;
    case H5A_F_STR:
      ft = own = h5a_fixed_string(h5a_event_fields[i].len);
      break;
    }
    herr_t e = ft < 0 ? -1
                      : H5Tinsert(t, h5a_event_fields[i].name,
                                  file ? off : h5a_event_fields[i].offset, ft);
    if (own >= 0)
      H5Tclose(own);
    if (e < 0) {
      H5Tclose(t);
      t = H5I_INVALID_HID;
    }
    off += k == H5A_F_STR ? h5a_event_fields[i].len : width[k];
  }
  return t;
}

/* The co-occurring signals of e as "metric[/gpuK]:z;..." (z to one decimal)
 * in out[cap]: items that do not fit whole are left out, with all after them,
 * and the text stays NUL-terminated. */
static void h5a_cooccur_text(const ev_event *e, char *out, size_t cap) {
  size_t used = 0;
  int n = e->ncooccur < 0 ? 0 : e->ncooccur > EV_COOCCUR ? EV_COOCCUR : e->ncooccur;
  out[0] = '\0';
  for (int i = 0; i < n; i++) {
    const ev_signal *s = &e->cooccur[i];
    int mlen = (int)strnlen(s->metric, EV_METRIC_LEN);
    char item[EV_METRIC_LEN + 112];
    int len = s->gpu >= 0 ? snprintf(item, sizeof item, "%s%.*s/gpu%d:%.1f", used ? ";" : "",
                                     mlen, s->metric, (int)s->gpu, (double)s->z)
                          : snprintf(item, sizeof item, "%s%.*s:%.1f", used ? ";" : "", mlen,
                                     s->metric, (double)s->z);
    if (len < 0 || (size_t)len >= sizeof item || used + (size_t)len >= cap)
      break;
    memcpy(out + used, item, (size_t)len + 1);
    used += (size_t)len;
  }
}

/* Fills the table row of one event. row must be zeroed (strings NUL-padded). */
static void h5a_event_fill(h5a_event_row *row, const ev_event *e) {
  row->event_id = e->event_id;
  row->t_s = e->t_s;
  row->step = e->step;
  h5a_put_fixed(row->scope, sizeof row->scope, ev_scope_name(e->scope));
  row->node = e->node;
  row->rack = e->rack;
  row->job = e->job;
  row->tenant = e->tenant;
  row->nodes = e->nodes;
  h5a_put_fixed(row->metric, sizeof row->metric, e->top.metric);
  row->gpu = e->top.gpu;
  row->z = e->top.z;
  row->value = e->top.value;
  row->baseline = e->top.baseline;
  row->trend_z = e->trend_z;
  row->escalated = e->escalated != 0;
  h5a_put_fixed(row->escalation_reason, sizeof row->escalation_reason, e->escalation_reason);
  h5a_cooccur_text(e, row->cooccur, sizeof row->cooccur);
}

int h5a_write_events(h5a_writer *w, const ev_event *events, int n) {
  static const char *const full = "/events/l1";
  const int root = par_rank() == 0;
  int rc = w ? 0 : FS_EINVAL;
  if (rc == 0 && root && (n < 0 || (n > 0 && !events))) {
    diag_addf("archive %s: write_events given %d events%s", w->partial, n,
              n > 0 ? " and no list" : "");
    rc = FS_EINVAL;
  }
  if ((rc = h5a_agree(w, rc)) != 0)
    return rc;

  h5a_event_row *rows = NULL;
  hsize_t nrows = 0, chunk = 0;
  const hsize_t maxrows = H5S_UNLIMITED;
  hid_t grp = H5I_INVALID_HID, ds = H5I_INVALID_HID, space = H5I_INVALID_HID;
  hid_t mspace = H5I_INVALID_HID, dcpl = H5I_INVALID_HID;
  hid_t ftype = H5I_INVALID_HID, mtype = H5I_INVALID_HID;

  /* The row count is metadata every rank must agree on: take rank 0's. */
  double count = root ? n : -1;
  if ((rc = par_max_doubles(&count, 1)) != 0)
    goto cleanup;
  nrows = (hsize_t)count;
  chunk = nrows < H5A_EVENT_CHUNK_MIN   ? H5A_EVENT_CHUNK_MIN
          : nrows > H5A_EVENT_CHUNK_MAX ? H5A_EVENT_CHUNK_MAX
                                        : nrows;
  if (root && !(rows = calloc(nrows > 0 ? (size_t)nrows : 1, sizeof *rows)))
    rc = FS_ENOMEM;
  if ((rc = h5a_agree(w, rc)) != 0)
    goto cleanup;
  for (int i = 0; root && i < n; i++)
    h5a_event_fill(&rows[i], &events[i]);

  /* chunked with an unlimited maximum, so an empty table is a plain (0,)
   * dataset and a resumed run can extend it */
  if ((rc = h5a_group(w, w->file, "events", "/events", &grp)) != 0)
    goto agreed;
  if ((ftype = h5a_event_type(1)) < 0 || (mtype = h5a_event_type(0)) < 0) {
    rc = h5a_fail(w, "make the row type of", full);
    goto agreed;
  }
  if ((space = H5Screate_simple(1, &nrows, &maxrows)) < 0 ||
      (dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0 || H5Pset_chunk(dcpl, 1, &chunk) < 0 ||
      H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0 ||
      H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0 ||
      (ds = H5Dcreate2(grp, "l1", ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0) {
    rc = h5a_fail(w, "create dataset", full);
    goto agreed;
  }
  rc = h5a_attr_text(w, ds, full, "description",
                     "L1 detector events: one row per emitted event after aggregation, "
                     "debounce and volume cap");
  if (rc == 0)
    rc = h5a_attr_text(w, ds, full, "units", h5a_events_units);
agreed:
  /* every rank must have the dataset before the collective write */
  if ((rc = h5a_agree(w, rc)) != 0 || nrows == 0)
    goto cleanup;
  static const char dummy = 0;
  if ((mspace = H5Screate_simple(1, &nrows, NULL)) < 0 ||
      (!root && (H5Sselect_none(space) < 0 || H5Sselect_none(mspace) < 0)) ||
      H5Dwrite(ds, mtype, mspace, space, w->dxpl, root ? (const void *)rows : &dummy) < 0)
    rc = h5a_fail(w, "write dataset", full);
cleanup:
  h5a_close(w, &mspace, full, &rc);
  h5a_close(w, &space, full, &rc);
  h5a_close(w, &dcpl, full, &rc);
  h5a_close(w, &ds, full, &rc);
  h5a_close(w, &mtype, full, &rc);
  h5a_close(w, &ftype, full, &rc);
  h5a_close(w, &grp, "/events", &rc);
  free(rows);
  return h5a_agree(w, rc);
}

/* ---- finish ------------------------------------------------------------- */

int h5a_finish(h5a_writer **wp) {
  if (!wp || !*wp)
    return par_agree(FS_EINVAL);
  h5a_writer *w = *wp;
  int rc = 0, complete = 1;
  hid_t attr = H5Aopen(w->file, "complete", H5P_DEFAULT);
  if (attr < 0 || H5Awrite(attr, H5T_NATIVE_INT, &complete) < 0)
    rc = h5a_fail(w, "set", "the root attribute 'complete'");
  h5a_close(w, &attr, "the root attribute 'complete'", &rc);
  rc = h5a_agree(w, rc);
  if (w->broken) { /* setting `complete` failed somewhere: leave the file alone */
    h5a_left_open = 1;
    h5a_free(w);
    *wp = NULL;
    return rc;
  }
  h5a_close_all(w, &rc);
  rc = h5a_agree(w, rc);
  if (w->broken)
    h5a_left_open = 1;
  /* the file is closed: the reservation it did not fill (all but the
   * compressed size) goes back to the file system; where that fails the
   * blocks stay reserved, and the archive is complete all the same */
  if (rc == 0 && par_rank() == 0)
    (void)path_release_reserve(w->partial);
  if (rc == 0 && par_rank() == 0 && rename(w->partial, w->path) != 0) {
    diag_addf("archive %s: cannot rename it to %s: %s", w->partial, w->path, strerror(errno));
    rc = FS_EIO;
  }
  rc = h5a_agree(w, rc);
  h5a_free(w);
  *wp = NULL;
  return rc;
}

void h5a_abandon(h5a_writer **wp) {
  if (!wp || !*wp)
    return;
  int rc = 0;
  if ((*wp)->broken)
    h5a_left_open = 1; /* no HDF5 call on it: a collective close could hang */
  else
    h5a_close_all(*wp, &rc);
  h5a_free(*wp);
  *wp = NULL;
}

int h5a_stranded(void) { return h5a_left_open; }

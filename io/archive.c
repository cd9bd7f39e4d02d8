/* The fleet.h5 writer (see archive.h): the file's life (create, reopen,
 * flush, finish, abandon), its layout and provenance, the shared error,
 * attribute and small-dataset helpers (archive_internal.h), and the
 * collective window writes, over parallel HDF5 (MPI-IO driver). The
 * coordinates are in archive_coords.c; topology, ground truth and the L1
 * event table in archive_records.c. Calls no MPI function itself (mpi/par.h
 * does the agreeing) and decides nothing about what the numbers mean. */
#include "io/archive.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io/archive_internal.h"
#include "io/compression.h"
#include "mpi/io_hints.h"
#include "mpi/par.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/paths.h"

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

int h5a_fail(const h5a_writer *w, const char *action, const char *object) {
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

void h5a_close(const h5a_writer *w, hid_t *id, const char *what, int *rc) {
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

int h5a_agree(h5a_writer *w, int rc) {
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

int h5a_attr_text(const h5a_writer *w, hid_t obj, const char *owner, const char *name,
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

int h5a_attr_num(const h5a_writer *w, hid_t obj, const char *owner, const char *name,
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

int h5a_group(const h5a_writer *w, hid_t parent, const char *name, const char *full,
              hid_t *out) {
  *out = H5Gcreate2(parent, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  return *out < 0 ? h5a_fail(w, "create group", full) : 0;
}

hid_t h5a_fixed_string(size_t len) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t < 0)
    return t;
  if (H5Tset_size(t, len > 0 ? len : 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0) {
    H5Tclose(t);
    return H5I_INVALID_HID;
  }
  return t;
}

int h5a_small(const h5a_writer *w, hid_t group, const char *full, int rank, const hsize_t *dims,
              hid_t ftype, hid_t mtype, const void *buf, hid_t *out) {
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

/* Root attributes; created_utc is `created` or, when NULL, now. Texts that
 * ranks might hold differently (config, scenarios, the clock) are taken
 * from rank 0, since attributes are metadata every rank must write
 * identically. */
static int h5a_provenance_attrs(h5a_writer *w, const h5a_provenance *prov, const char *created_utc) {
  char stamp[32] = "";
  char *created = NULL, *config = NULL, *scenarios = NULL;
  int rc = 0;
  if (par_rank() == 0) {
    time_t now = time(NULL);
    struct tm utc;
    if (created_utc)
      snprintf(stamp, sizeof stamp, "%s", created_utc);
    else if (gmtime_r(&now, &utc))
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
  if (w->wb_fd >= 0)
    close(w->wb_fd); /* read-only: nothing to lose */
  free(w->path);
  free(w->partial);
  free(w->replaces);
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

int h5a_new(h5a_writer **out, const char *path, const char *suffix, int coll_metadata,
            const h5a_layout *lay, hid_t *fapl) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* our messages, not HDF5's stack dumps */
  h5c_init();
  int rc = path && lay ? h5a_check_layout(lay) : FS_EINVAL;
  h5a_writer *w = NULL;
  *fapl = H5I_INVALID_HID;
  if (rc == 0 && !(w = calloc(1, sizeof *w)))
    rc = FS_ENOMEM;
  if (rc == 0) {
    w->file = w->dxpl = w->time_ds = H5I_INVALID_HID;
    w->wb_fd = -1;
    for (int m = 0; m < GM_COUNT; m++)
      w->gpu_ds[m] = H5I_INVALID_HID;
    for (int m = 0; m < NM_COUNT; m++)
      w->node_ds[m] = H5I_INVALID_HID;
    for (int m = 0; m < CM_COUNT; m++)
      w->cluster_ds[m] = H5I_INVALID_HID;
    w->lay = *lay;
    size_t n = strlen(path);
    w->path = malloc(n + 1);
    w->partial = malloc(n + strlen(suffix) + 1);
    if (!w->path || !w->partial)
      rc = FS_ENOMEM;
    else {
      memcpy(w->path, path, n + 1);
      memcpy(w->partial, path, n);
      memcpy(w->partial + n, suffix, strlen(suffix) + 1);
    }
  }
  MPI_Info hints = MPI_INFO_NULL; /* the operator's FLEETSIM_MPIIO_HINTS (mpi/io_hints.h) */
  if ((rc = h5a_agree(w, rc)) == 0 && (rc = par_io_hints(&hints)) == 0 &&
      (rc = par_agree(par_io_archive_hints(&hints))) == 0) {
    if ((*fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0 ||
        H5Pset_fapl_mpio(*fapl, MPI_COMM_WORLD, hints) < 0 ||
        H5Pset_all_coll_metadata_ops(*fapl, coll_metadata) < 0 ||
        H5Pset_coll_metadata_write(*fapl, coll_metadata) < 0 ||
        (w->dxpl = H5Pcreate(H5P_DATASET_XFER)) < 0 ||
        H5Pset_dxpl_mpio(w->dxpl, H5FD_MPIO_COLLECTIVE) < 0)
      rc = h5a_fail(w, "set up parallel access for", w->partial);
    rc = h5a_agree(w, rc);
  }
  par_io_hints_free(&hints); /* the file access list holds its own copy */
  *out = w;
  return rc;
}

/* Makes a failed I/O operation on the file about to be opened end every
 * rank at once with one message naming it (par_io_abort_on; with more than
 * one rank). Why not agree and exit like every other failure: a write or
 * sync that fails inside one of HDF5's collective calls (H5Dwrite of
 * filtered chunks, H5Fflush, H5Fclose) makes that rank leave the call's
 * remaining collectives out, while its peers wait in them (an EIO in the
 * H5Fflush of an lz4 archive left one rank in the metadata cache's
 * sync-point barrier and the other in MPI_File_sync); no rank then returns
 * to h5a_agree. Only MPI_Abort reaches a rank waiting inside HDF5. The
 * checkpoint contract is untouched: fleet.h5.partial is not renamed, and
 * --resume continues from the last checkpoint. FS_EMPI when MPI refuses
 * the handler. */
int h5a_abort_on_io_failure(const h5a_writer *w) {
  char what[4200];
  snprintf(what, sizeof what, "archive %s", w->partial);
  if (par_io_abort_on(what) == 0)
    return 0;
  diag_addf("archive %s: MPI refused the error handler for its I/O failures", w->partial);
  return FS_EMPI;
}

/* Opens the new or reopened file read-only for h5a_writeback. Where that
 * fails the writes are not hurried along, and nothing else changes. */
static void h5a_open_writeback(h5a_writer *w) {
  w->wb_fd = open(w->partial, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

/* Starts the write-back of everything written so far (path_writeback), so
 * that the disk writes this window's datasets while the next ones are
 * compressed and the checkpoint's H5Fflush (which fsyncs) waits for little.
 * A hint: a failure costs speed only, and the flush reports write errors. */
void h5a_writeback(const h5a_writer *w) {
  if (w->wb_fd >= 0)
    (void)path_writeback(w->wb_fd);
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

int h5a_create_as(h5a_writer **out, const char *path, const char *suffix, const h5a_layout *lay,
                  const h5a_provenance *prov, const char *created_utc) {
  *out = NULL;
  hid_t fapl;
  h5a_writer *w = NULL;
  int rc = prov ? h5a_new(&w, path, suffix, 1, lay, &fapl) : par_agree(FS_EINVAL);
  if (rc == 0) { /* a filter that cannot be loaded is found before the file exists */
    rc = h5c_from_config(prov->config_json, &w->compression);
    rc = h5a_agree(w, rc == 0 ? h5c_require(w->compression) : rc);
  }
  if (rc != 0)
    return h5a_settle(out, w, &fapl, rc);

  /* EXCL: a file or a link already at the name is never truncated or followed */
  rc = h5a_abort_on_io_failure(w);
  if (rc == 0)
    w->file = H5Fcreate(w->partial, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
  par_io_abort_off();
  if (rc == 0 && w->file < 0) {
    char reason[4200];
    h5a_create_reason(w->partial, reason, sizeof reason);
    H5Eclear2(H5E_DEFAULT);
    diag_addf("archive %s: cannot create the file: %s", w->partial, reason);
    rc = FS_EIO;
  }
  if ((rc = h5a_agree(w, rc)) != 0)
    return h5a_settle(out, w, &fapl, rc);
  h5a_open_writeback(w);
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
      rc = h5a_write_dimension_scales(w, prov);
    if (rc == 0)
      rc = h5a_provenance_attrs(w, prov, created_utc);
    rc = h5a_agree(w, rc);
  }
  int made = w->file >= 0;
  rc = h5a_settle(out, w, &fapl, rc);
  /* a file that never held a run is not left behind to look like one */
  if (rc != 0 && made && !h5a_left_open && par_rank() == 0) {
    char partial[4200];
    snprintf(partial, sizeof partial, "%s%s", path, suffix);
    unlink(partial);
  }
  return rc;
}

int h5a_create(h5a_writer **out, const char *path, const h5a_layout *lay,
               const h5a_provenance *prov) {
  return h5a_create_as(out, path, ".partial", lay, prov, NULL);
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

int h5a_open_all_series(h5a_writer *w) {
  const h5a_layout *lay = &w->lay;
  hsize_t T = (hsize_t)lay->scrapes;
  hsize_t d3[3] = {T, (hsize_t)lay->nodes, FLEET_GPUS}, d2[2] = {T, (hsize_t)lay->nodes};
  char name[256];
  int rc = 0;
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
  return rc;
}

int h5a_reopen(h5a_writer **out, const char *path, const h5a_layout *lay, int ranks) {
  *out = NULL;
  hid_t fapl;
  h5a_writer *w = NULL;
  int rc = h5a_new(&w, path, ".partial", 1, lay, &fapl);
  if (rc != 0)
    return h5a_settle(out, w, &fapl, rc);
  rc = h5a_abort_on_io_failure(w);
  if (rc == 0)
    w->file = H5Fopen(w->partial, H5F_ACC_RDWR, fapl);
  par_io_abort_off();
  if (rc == 0 && w->file < 0) {
    H5Eclear2(H5E_DEFAULT);
    diag_addf("archive %s: cannot open it for writing (missing or damaged)", w->partial);
    rc = FS_EIO;
  }
  if ((rc = h5a_agree(w, rc)) != 0)
    return h5a_settle(out, w, &fapl, rc);
  h5a_open_writeback(w);
  rc = h5a_open_all_series(w);
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

herr_t h5a_select(int rank, const hsize_t *dims, const hsize_t *count, const hsize_t *start,
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
    h5a_writeback(w);
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

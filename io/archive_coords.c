/* The archive's coordinates (see archive_internal.h): node names, racks, GPU
 * indices and time as netCDF-4 dimension scales (HDF5 high-level library)
 * attached to every telemetry dataset, and the /xarray views. */
#include <hdf5.h>
#include <hdf5_hl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/archive_internal.h"
#include "mpi/par.h"
#include "src/core/diag.h"
#include "src/core/errors.h"

/* The coordinates of the telemetry: node names ("node-0007", width bytes each,
 * NUL-padded), each node's rack, the GPU indices, and per scrape the seconds
 * since the start and since the Unix epoch. */
typedef struct {
  char *names;
  size_t width;
  int32_t *rack;
  int32_t gpu[FLEET_GPUS];
  double *time, *utc;
} h5a_coords;

/* The coordinate datasets (every dimension scale sits in a group that holds
 * every dataset using it, or one above: netCDF-4's rule, which h5netcdf
 * follows; "time" cannot be at the root, where the group /time is, nor "node"
 * and "gpu" in /telemetry, where the groups of those names are). */
enum { H5A_CO_NODE, H5A_CO_GPU, H5A_CO_RACK, H5A_CO_TIME, H5A_CO_UTC, H5A_CO_COUNT };
static const char *const h5a_coord_path[H5A_CO_COUNT] = {"/node", "/gpu", "/rack",
                                                         "/telemetry/time", "/telemetry/time_utc"};
static const char h5a_utc_units[] = "seconds since 1970-01-01T00:00:00Z";

/* The telemetry scopes; scope s has the dimensions time, node, gpu up to 3 - s. */
static const struct {
  const char *name;
  const metric_def *defs;
  int count;
  const char *aux; /* its coordinates that are no dimension */
} h5a_scopes[3] = {{"gpu", metric_gpu, GM_COUNT, "rack time_utc"},
                   {"node", metric_node, NM_COUNT, "rack time_utc"},
                   {"cluster", metric_cluster, CM_COUNT, "time_utc"}};

/* The config's start_hour (hour of day at t = 0; 0 when the config has
 * none) from the config JSON. */
static int h5a_start_hour(const h5a_writer *w, const char *config_json, double *out) {
  *out = 0.0;
  if (!config_json)
    return 0;
  json_error_t err;
  json_t *root = json_loads(config_json, 0, &err);
  json_t *sh = root ? json_object_get(root, "start_hour") : NULL;
  int rc = 0;
  if (!root) {
    diag_addf("archive %s: the config to record does not parse as JSON (line %d: %s)", w->partial,
              err.line, err.text);
    rc = FS_EINVAL;
  } else if (sh && !json_is_number(sh)) {
    diag_addf("archive %s: the config's start_hour is not a number", w->partial);
    rc = FS_EINVAL;
  } else if (sh) {
    *out = json_number_value(sh);
  }
  json_decref(root);
  return rc;
}

/* Fills c from the layout (every rank alike, though only rank 0's values are
 * written): scrape t is at t * interval s, start_hour:00 UTC of 1970-01-01 at
 * t = 0 (the simulated clock has an hour of day but no date). */
static int h5a_coords_fill(h5a_coords *c, const h5a_layout *lay, int interval_s,
                           double start_hour) {
  char probe[32];
  c->width = (size_t)snprintf(probe, sizeof probe, "node-%04d", lay->nodes - 1);
  c->names = calloc((size_t)lay->nodes, c->width);
  c->rack = malloc(sizeof *c->rack * (size_t)lay->nodes);
  c->time = malloc(sizeof *c->time * (size_t)lay->scrapes);
  c->utc = malloc(sizeof *c->utc * (size_t)lay->scrapes);
  if (!c->names || !c->rack || !c->time || !c->utc)
    return FS_ENOMEM;
  for (int n = 0; n < lay->nodes; n++) {
    char name[32];
    int len = snprintf(name, sizeof name, "node-%04d", n);
    memcpy(c->names + (size_t)n * c->width, name, (size_t)len);
    c->rack[n] = n / lay->nodes_per_rack; /* racks are consecutive nodes (src/model/fleet.c) */
  }
  for (int g = 0; g < FLEET_GPUS; g++)
    c->gpu[g] = g;
  for (int64_t t = 0; t < lay->scrapes; t++) {
    c->time[t] = (double)t * interval_s; /* as the run loop computes /time/seconds */
    c->utc[t] = start_hour * 3600.0 + c->time[t];
  }
  return 0;
}

static void h5a_coords_free(h5a_coords *c) {
  free(c->names);
  free(c->rack);
  free(c->time);
  free(c->utc);
}

/* Text attributes name=value pairs of one coordinate dataset, NULL-ended. */
static int h5a_coord_attrs(const h5a_writer *w, hid_t ds, const char *full,
                           const char *const *pairs) {
  int rc = 0;
  for (int i = 0; rc == 0 && pairs[i]; i += 2)
    rc = h5a_attr_text(w, ds, full, pairs[i], pairs[i + 1]);
  return rc;
}

/* Creates the five coordinate datasets (open in ds[], written from rank 0)
 * with their attributes. */
static int h5a_coord_datasets(const h5a_writer *w, const h5a_coords *c, hid_t ds[H5A_CO_COUNT]) {
  const h5a_layout *lay = &w->lay;
  const hsize_t nodes = (hsize_t)lay->nodes, gpus = FLEET_GPUS, T = (hsize_t)lay->scrapes;
  hid_t tel = H5I_INVALID_HID, names = h5a_fixed_string(c->width);
  int rc = names < 0 ? h5a_fail(w, "make the string type of", "/node") : 0;
  if (rc == 0 && (tel = H5Gopen2(w->file, "/telemetry", H5P_DEFAULT)) < 0)
    rc = h5a_fail(w, "open group", "/telemetry");
  static const char *const node_attrs[] = {
      "long_name", "Node name (the node dimension)", "_Encoding", "ascii", NULL};
  static const char *const gpu_attrs[] = {"long_name", "GPU index in the node (the gpu dimension)",
                                          NULL};
  static const char *const rack_attrs[] = {
      "long_name", "Rack of each node (as /topology/node_rack)", NULL};
  static const char *const time_attrs[] = {
      "units", "s", "long_name", "Simulated time of each scrape since the run started "
      "(the time dimension; as /time/seconds)", NULL};
  static const char *const utc_attrs[] = {
      "units", h5a_utc_units, "calendar", "standard", "long_name",
      "UTC time of each scrape: the simulated clock has an hour of day (start_hour at t = 0) "
      "but no date, so t = 0 is start_hour:00 on 1970-01-01", NULL};
  const hid_t i32 = H5T_STD_I32LE, ni32 = H5T_NATIVE_INT32;
  const hid_t f64 = H5T_IEEE_F64LE, nf64 = H5T_NATIVE_DOUBLE;
  if (rc == 0 && (rc = h5a_small(w, w->file, "/node", 1, &nodes, names, names, c->names,
                                 &ds[H5A_CO_NODE])) == 0)
    rc = h5a_coord_attrs(w, ds[H5A_CO_NODE], "/node", node_attrs);
  if (rc == 0 &&
      (rc = h5a_small(w, w->file, "/gpu", 1, &gpus, i32, ni32, c->gpu, &ds[H5A_CO_GPU])) == 0)
    rc = h5a_coord_attrs(w, ds[H5A_CO_GPU], "/gpu", gpu_attrs);
  if (rc == 0 &&
      (rc = h5a_small(w, w->file, "/rack", 1, &nodes, i32, ni32, c->rack, &ds[H5A_CO_RACK])) == 0)
    rc = h5a_coord_attrs(w, ds[H5A_CO_RACK], "/rack", rack_attrs);
  if (rc == 0 && (rc = h5a_small(w, tel, "/telemetry/time", 1, &T, f64, nf64, c->time,
                                 &ds[H5A_CO_TIME])) == 0)
    rc = h5a_coord_attrs(w, ds[H5A_CO_TIME], "/telemetry/time", time_attrs);
  if (rc == 0 && (rc = h5a_small(w, tel, "/telemetry/time_utc", 1, &T, f64, nf64, c->utc,
                                 &ds[H5A_CO_UTC])) == 0)
    rc = h5a_coord_attrs(w, ds[H5A_CO_UTC], "/telemetry/time_utc", utc_attrs);
  h5a_close(w, &tel, "/telemetry", &rc);
  h5a_close(w, &names, "/node", &rc);
  return rc;
}

/* Attaches the dimension scale ds[co] to dimension dim of dataset d. */
static int h5a_attach(const h5a_writer *w, hid_t d, const char *full, const hid_t *ds, int co,
                      unsigned dim) {
  if (H5DSattach_scale(d, ds[co], dim) >= 0)
    return 0;
  char action[96];
  snprintf(action, sizeof action, "attach the dimension scale %s to dimension %u of",
           h5a_coord_path[co], dim);
  return h5a_fail(w, action, full);
}

/* Makes time, node and gpu dimension scales and attaches them to every
 * telemetry dataset (time_utc to time, rack to node). Collective: every
 * rank does the same metadata operations in the same order. */
static int h5a_attach_scales(const h5a_writer *w, const hid_t ds[H5A_CO_COUNT]) {
  /* dimension d of a telemetry dataset, as far as it has it: time, node, gpu */
  static const int dim_coord[3] = {H5A_CO_TIME, H5A_CO_NODE, H5A_CO_GPU};
  static const char *const dim_name[3] = {"time", "node", "gpu"};
  const hid_t *const series[3] = {w->gpu_ds, w->node_ds, w->cluster_ds};
  int rc = 0;
  for (int d = 0; rc == 0 && d < 3; d++)
    if (H5DSset_scale(ds[dim_coord[d]], dim_name[d]) < 0)
      rc = h5a_fail(w, "make a dimension scale of", h5a_coord_path[dim_coord[d]]);
  if (rc == 0)
    rc = h5a_attach(w, ds[H5A_CO_RACK], "/rack", ds, H5A_CO_NODE, 0);
  if (rc == 0)
    rc = h5a_attach(w, ds[H5A_CO_UTC], "/telemetry/time_utc", ds, H5A_CO_TIME, 0);
  for (int s = 0; rc == 0 && s < 3; s++)
    for (int m = 0; rc == 0 && m < h5a_scopes[s].count; m++) {
      char full[256];
      snprintf(full, sizeof full, "/telemetry/%s/%s", h5a_scopes[s].name,
               h5a_scopes[s].defs[m].name);
      for (int d = 0; rc == 0 && d < 3 - s; d++)
        rc = h5a_attach(w, series[s][m], full, ds, dim_coord[d], (unsigned)d);
    }
  return rc;
}

/* Soft link group/name -> target. */
static int h5a_soft_link(const h5a_writer *w, hid_t group, const char *gname, const char *name,
                         const char *target) {
  if (H5Lcreate_soft(target, group, name, H5P_DEFAULT, H5P_DEFAULT) >= 0)
    return 0;
  char full[256];
  snprintf(full, sizeof full, "%s/%s", gname, name);
  return h5a_fail(w, "create the soft link", full);
}

/* /xarray/{gpu,node,cluster}: per scope, soft links to its telemetry
 * datasets and to their coordinates, so that one group holds both (xarray
 * reads coordinates only from the group it opens); the group attribute
 * `coordinates` names the coordinates that are not dimensions. */
static int h5a_xarray_views(const h5a_writer *w) {
  /* per scope, bit co set: the coordinate H5A_CO_<co> applies */
  const unsigned all = (1u << H5A_CO_COUNT) - 1;
  const unsigned mask[3] = {all, all & ~(1u << H5A_CO_GPU),
                            (1u << H5A_CO_TIME) | (1u << H5A_CO_UTC)};
  hid_t top = H5I_INVALID_HID, grp = H5I_INVALID_HID;
  int rc = h5a_group(w, w->file, "xarray", "/xarray", &top);
  for (int s = 0; rc == 0 && s < 3; s++) {
    const char *scope = h5a_scopes[s].name;
    char gname[64], target[256], about[256];
    snprintf(gname, sizeof gname, "/xarray/%s", scope);
    if ((rc = h5a_group(w, top, scope, gname, &grp)) != 0)
      break;
    for (int co = 0; rc == 0 && co < H5A_CO_COUNT; co++)
      if (mask[s] & (1u << co))
        rc = h5a_soft_link(w, grp, gname, strrchr(h5a_coord_path[co], '/') + 1,
                           h5a_coord_path[co]);
    for (int m = 0; rc == 0 && m < h5a_scopes[s].count; m++) {
      snprintf(target, sizeof target, "/telemetry/%s/%s", scope, h5a_scopes[s].defs[m].name);
      rc = h5a_soft_link(w, grp, gname, h5a_scopes[s].defs[m].name, target);
    }
    snprintf(about, sizeof about,
             "Soft links to /telemetry/%s and its coordinates, for xarray: "
             "xarray.open_dataset(path, engine=\"h5netcdf\", group=\"xarray/%s\")",
             scope, scope);
    if (rc == 0)
      rc = h5a_attr_text(w, grp, gname, "coordinates", h5a_scopes[s].aux);
    if (rc == 0)
      rc = h5a_attr_text(w, grp, gname, "description", about);
    h5a_close(w, &grp, gname, &rc);
  }
  h5a_close(w, &top, "/xarray", &rc);
  return rc;
}

int h5a_write_dimension_scales(h5a_writer *w, const h5a_provenance *prov) {
  h5a_coords c = {0};
  hid_t ds[H5A_CO_COUNT];
  for (int i = 0; i < H5A_CO_COUNT; i++)
    ds[i] = H5I_INVALID_HID;
  double start_hour = 0.0;
  int rc = h5a_start_hour(w, prov->config_json, &start_hour);
  if (rc == 0)
    rc = h5a_coords_fill(&c, &w->lay, prov->scrape_interval_s, start_hour);
  if ((rc = h5a_agree(w, rc)) != 0)
    goto cleanup;
  rc = h5a_coord_datasets(w, &c, ds);
  if (rc == 0)
    rc = h5a_attach_scales(w, ds);
  for (int i = 0; i < H5A_CO_COUNT; i++)
    h5a_close(w, &ds[i], h5a_coord_path[i], &rc);
  if (rc == 0)
    rc = h5a_xarray_views(w);
cleanup:
  h5a_coords_free(&c);
  return rc;
}

/* Ground truth and L1 events of a finished archive as plain rows for the
 * OpenMetrics export (see openmetrics_annotations.h). Memory row types
 * name the fields they want; HDF5 converts the file's packed rows and
 * fixed-length strings to them. */
#include "io/openmetrics_annotations.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/diag.h"
#include "src/core/errors.h"

static int om_annot_fail(const char *path, const char *what, const char *object) {
  diag_addf("%s: cannot %s %s (not a fleetsim archive, or damaged)", path, what, object);
  return FS_EHDF5;
}

/* A NUL-terminated memory string type of cap bytes (text cut to fit). */
static hid_t om_annot_string(size_t cap) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t >= 0 && (H5Tset_size(t, cap) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0)) {
    H5Tclose(t);
    t = H5I_INVALID_HID;
  }
  return t;
}

/* Rows of the 1-D dataset ds, or -1. */
static hssize_t om_annot_rows(hid_t ds) {
  hid_t sp = H5Dget_space(ds);
  hsize_t dim = 0;
  int ok = sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1 &&
           H5Sget_simple_extent_dims(sp, &dim, NULL) == 1;
  if (sp >= 0)
    H5Sclose(sp);
  return ok ? (hssize_t)dim : -1;
}

/* Reads the whole compound dataset `name` (absent: *n = 0) as mtype rows of
 * `size` bytes into a new buffer. */
static int om_annot_table(hid_t file, const char *path, const char *name, hid_t mtype, size_t size,
                          void **out, int *n) {
  *out = NULL;
  *n = 0;
  htri_t has = H5Lexists(file, name, H5P_DEFAULT);
  if (has == 0)
    return 0;
  hid_t ds = has > 0 ? H5Dopen2(file, name, H5P_DEFAULT) : H5I_INVALID_HID;
  hssize_t rows = ds >= 0 ? om_annot_rows(ds) : -1;
  int rc = rows >= 0 && rows < (1 << 30) ? 0 : om_annot_fail(path, "open", name);
  if (rc == 0 && !(*out = calloc((size_t)rows + 1, size)))
    rc = FS_ENOMEM;
  if (rc == 0 && rows > 0 && H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0)
    rc = om_annot_fail(path, "read", name);
  if (rc == 0)
    *n = (int)rows;
  else {
    free(*out);
    *out = NULL;
  }
  if (ds >= 0)
    H5Dclose(ds);
  return rc;
}

/* "node-0012,node-0013" from /ground_truth/<id>/nodes into s->nodes. */
static int om_scenario_nodes(hid_t file, const char *path, om_scenario *s) {
  char name[80];
  snprintf(name, sizeof name, "/ground_truth/%s/nodes", s->id);
  hid_t ds = H5Lexists(file, name, H5P_DEFAULT) > 0 ? H5Dopen2(file, name, H5P_DEFAULT) : -1;
  if (ds < 0)
    return 0; /* no node list: the label stays empty */
  hssize_t rows = om_annot_rows(ds);
  int32_t *nodes = rows >= 0 ? calloc((size_t)rows + 1, sizeof *nodes) : NULL;
  int rc = 0;
  if (rows < 0)
    rc = om_annot_fail(path, "open", name);
  else if (!nodes)
    rc = FS_ENOMEM;
  else if (rows > 0 && H5Dread(ds, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, nodes) < 0)
    rc = om_annot_fail(path, "read", name);
  size_t used = 0;
  const size_t cap = sizeof s->nodes, more = sizeof ",...";
  for (hssize_t i = 0; rc == 0 && i < rows; i++) {
    char item[24];
    int len = snprintf(item, sizeof item, "%snode-%04d", i ? "," : "", (int)nodes[i]);
    if (used + (size_t)len + more > cap) {
      snprintf(s->nodes + used, cap - used, ",...");
      break;
    }
    memcpy(s->nodes + used, item, (size_t)len + 1);
    used += (size_t)len;
  }
  free(nodes);
  H5Dclose(ds);
  return rc;
}

int om_read_scenarios(hid_t file, const char *path, om_scenario **out, int *n) {
  *out = NULL;
  *n = 0;
  hid_t idt = om_annot_string(OM_SCN_ID_LEN), kindt = om_annot_string(OM_SCN_KIND_LEN);
  hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(om_scenario));
  int rc = 0;
  if (idt < 0 || kindt < 0 || mt < 0 || H5Tinsert(mt, "id", offsetof(om_scenario, id), idt) < 0 ||
      H5Tinsert(mt, "kind", offsetof(om_scenario, kind), kindt) < 0 ||
      H5Tinsert(mt, "start_s", offsetof(om_scenario, start_s), H5T_NATIVE_DOUBLE) < 0 ||
      H5Tinsert(mt, "end_s", offsetof(om_scenario, end_s), H5T_NATIVE_DOUBLE) < 0)
    rc = om_annot_fail(path, "make a row type for", "/ground_truth/scenarios");
  void *rows = NULL;
  if (rc == 0 && H5Lexists(file, "/ground_truth", H5P_DEFAULT) > 0)
    rc = om_annot_table(file, path, "/ground_truth/scenarios", mt, sizeof(om_scenario), &rows, n);
  *out = rows;
  for (int i = 0; rc == 0 && i < *n; i++)
    rc = om_scenario_nodes(file, path, &(*out)[i]);
  if (rc != 0) {
    free(*out);
    *out = NULL;
    *n = 0;
  }
  if (mt >= 0)
    H5Tclose(mt);
  if (kindt >= 0)
    H5Tclose(kindt);
  if (idt >= 0)
    H5Tclose(idt);
  return rc;
}

int om_read_events(hid_t file, const char *path, om_event **out, int *n) {
  *out = NULL;
  *n = 0;
  hid_t scopet = om_annot_string(OM_EV_SCOPE_LEN), metrict = om_annot_string(EV_METRIC_LEN);
  hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(om_event));
  int rc = 0;
  if (scopet < 0 || metrict < 0 || mt < 0 ||
      H5Tinsert(mt, "event_id", offsetof(om_event, event_id), H5T_NATIVE_INT64) < 0 ||
      H5Tinsert(mt, "t_s", offsetof(om_event, t_s), H5T_NATIVE_DOUBLE) < 0 ||
      H5Tinsert(mt, "scope", offsetof(om_event, scope), scopet) < 0 ||
      H5Tinsert(mt, "metric", offsetof(om_event, metric), metrict) < 0 ||
      H5Tinsert(mt, "node", offsetof(om_event, node), H5T_NATIVE_INT32) < 0 ||
      H5Tinsert(mt, "rack", offsetof(om_event, rack), H5T_NATIVE_INT32) < 0 ||
      H5Tinsert(mt, "job", offsetof(om_event, job), H5T_NATIVE_INT32) < 0 ||
      H5Tinsert(mt, "gpu", offsetof(om_event, gpu), H5T_NATIVE_INT32) < 0 ||
      H5Tinsert(mt, "escalated", offsetof(om_event, escalated), H5T_NATIVE_INT32) < 0)
    rc = om_annot_fail(path, "make a row type for", "/events/l1");
  void *rows = NULL;
  if (rc == 0 && H5Lexists(file, "/events", H5P_DEFAULT) > 0)
    rc = om_annot_table(file, path, "/events/l1", mt, sizeof(om_event), &rows, n);
  *out = rows;
  if (mt >= 0)
    H5Tclose(mt);
  if (metrict >= 0)
    H5Tclose(metrict);
  if (scopet >= 0)
    H5Tclose(scopet);
  return rc;
}

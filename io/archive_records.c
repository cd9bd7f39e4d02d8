/* The archive's records (see archive.h): the topology, the ground truth and
 * the L1 event table, written collectively from rank 0's copy. */
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/archive_internal.h"
#include "mpi/par.h"
#include "src/core/diag.h"
#include "src/core/errors.h"

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

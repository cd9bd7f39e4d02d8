/* OpenMetrics export of a finished archive (see openmetrics.h). Owns the
 * read side it needs: topology, time axis, the metric list with attributes,
 * hyperslab reads of bounded size. Output order: one family after another
 * (gpu, node, cluster metrics in name order, or the order of --metrics); in a
 * family node by node, GPU by GPU, each series whole and in time order. */
#include "io/openmetrics.h"

#include <errno.h>
#include <hdf5.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io/archive_check.h"
#include "io/compression.h"
#include "io/openmetrics_annotations.h"
#include "io/openmetrics_names.h"
#include "io/openmetrics_text.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/paths.h"
#include "src/core/progress.h"
#include "src/core/safefile.h"
#include "src/model/fleet.h"
#include "src/model/metrics.h"

/* Largest hyperslab read at once: bounds memory whatever the archive size. */
enum {
  OM_READ_BUDGET_BYTES = 8 << 20,
  OM_OUT_BUFFER_BYTES = 1 << 20,
  OM_NAME_LEN = 96,
  OM_PREFIX_LEN = 640, /* a sample name with every label (dcgm: ten) */
};

typedef enum { OM_GPU, OM_NODE, OM_CLUSTER, OM_SCOPES } om_scope;
static const char *const om_scope_names[OM_SCOPES] = {"gpu", "node", "cluster"};

/* A family: a telemetry dataset, or one of the two annotation families. */
typedef enum { OM_TELEMETRY, OM_SCENARIOS, OM_EVENTS } om_kind;

typedef struct {
  om_kind kind;
  om_scope scope;         /* annotations: OM_CLUSTER (no node, --nodes ignored) */
  char name[OM_NAME_LEN]; /* dataset name (annotations: the family name) */
  om_name out;            /* family, sample name, type, unit and scaling written */
  char help[512];         /* escaped # HELP text */
  int is_int;             /* stored as uint32 */
  unsigned tenants;       /* bit k: tenant k reports the metric */
} om_metric;

typedef struct {
  const char *path; /* DIR/fleet.h5 */
  hid_t file;
  int64_t T;
  double *time_s; /* [T] */
  int interval_s;
  int nodes;
  int32_t *node_rack, *node_job;
  uint8_t *node_tenant;
  int njobs;
  char (*job_id)[CFG_JOB_ID_LEN];
  om_metric *metrics;
  int nmetrics;
  om_naming naming;
  om_scenario *scn; /* ground truth, for OM_SCENARIOS */
  int nscn;
  om_event *events; /* /events/l1, for OM_EVENTS */
  int nevents;
} om_archive;

/* ---- reading ---------------------------------------------------------------- */

static int om_hdf5_fail(const om_archive *a, const char *what, const char *object) {
  diag_addf("%s: cannot %s %s (not a fleetsim archive, or damaged)", a->path, what, object);
  return FS_EHDF5;
}

/* A string attribute (variable or fixed length) as a malloc'd string, or
 * NULL when it is missing or not a string. */
static char *om_attr_dup(hid_t obj, const char *name) {
  if (H5Aexists(obj, name) <= 0)
    return NULL;
  char *out = NULL;
  hid_t at = H5Aopen(obj, name, H5P_DEFAULT);
  hid_t t = at >= 0 ? H5Aget_type(at) : -1;
  if (t >= 0 && H5Tget_class(t) == H5T_STRING) {
    if (H5Tis_variable_str(t) > 0) {
      hid_t mt = H5Tcopy(H5T_C_S1);
      char *v = NULL;
      if (mt >= 0 && H5Tset_size(mt, H5T_VARIABLE) >= 0 && H5Tset_cset(mt, H5Tget_cset(t)) >= 0 &&
          H5Aread(at, mt, &v) >= 0 && v)
        out = strdup(v);
      if (v)
        H5free_memory(v);
      if (mt >= 0)
        H5Tclose(mt);
    } else {
      size_t len = H5Tget_size(t);
      out = calloc(len + 1, 1);
      if (out && H5Aread(at, t, out) < 0) {
        free(out);
        out = NULL;
      }
    }
  }
  if (t >= 0)
    H5Tclose(t);
  if (at >= 0)
    H5Aclose(at);
  return out;
}

/* The same into out (cap bytes, truncated); 0, or -1 with out = "". */
static int om_attr_text(hid_t obj, const char *name, char *out, size_t cap) {
  char *v = om_attr_dup(obj, name);
  int rc = v ? 0 : -1;
  snprintf(out, cap, "%s", v ? v : "");
  free(v);
  return rc;
}

/* Reads the whole 1-D dataset `name` of n elements as mtype into a new buffer. */
static int om_read_1d(const om_archive *a, const char *name, hid_t mtype, size_t elem,
                      int64_t *n, void **out) {
  *out = NULL;
  hid_t ds = H5Dopen2(a->file, name, H5P_DEFAULT);
  hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
  hsize_t dim = 0;
  int rc = ds >= 0 ? h5c_check_dataset(ds, a->path, name) : 0; /* its filters load? */
  if (rc == 0 && (sp < 0 || H5Sget_simple_extent_ndims(sp) != 1 ||
                  H5Sget_simple_extent_dims(sp, &dim, NULL) < 0))
    rc = om_hdf5_fail(a, "open", name);
  if (rc == 0 && *n >= 0 && (int64_t)dim != *n) {
    diag_addf("%s: %s has %llu entries, expected %lld", a->path, name, (unsigned long long)dim,
              (long long)*n);
    rc = FS_EHDF5;
  }
  if (rc == 0 && !(*out = calloc(dim ? dim : 1, elem)))
    rc = FS_ENOMEM;
  if (rc == 0 && dim > 0 && H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0)
    rc = om_hdf5_fail(a, "read", name);
  if (rc == 0)
    *n = (int64_t)dim;
  else {
    free(*out);
    *out = NULL;
  }
  if (sp >= 0)
    H5Sclose(sp);
  if (ds >= 0)
    H5Dclose(ds);
  return rc;
}

/* Tenant mask from a `tenants` attribute text ("moe-inference,dense-inference"). */
static unsigned om_tenant_mask(const char *text) {
  unsigned mask = 0;
  for (int k = 0; k < TENANT_COUNT; k++) {
    const char *name = fleet_tenant_name(k), *p = text;
    size_t n = strlen(name);
    while ((p = strstr(p, name)) != NULL) {
      if ((p == text || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
        mask |= 1u << k;
      p += n;
    }
  }
  return mask;
}

/* One metric's description from its dataset's type and attributes. */
static int om_describe(const om_archive *a, hid_t grp, om_scope scope, const char *name,
                       om_metric *m) {
  memset(m, 0, sizeof *m);
  m->scope = scope;
  snprintf(m->name, sizeof m->name, "%s", name);
  char full[160];
  snprintf(full, sizeof full, "/telemetry/%s/%s", om_scope_names[scope], name);
  hid_t ds = H5Dopen2(grp, name, H5P_DEFAULT);
  hid_t t = ds >= 0 ? H5Dget_type(ds) : -1;
  H5T_class_t cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
  if (t >= 0)
    H5Tclose(t);
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
    if (ds >= 0)
      H5Dclose(ds);
    return om_hdf5_fail(a, "read the type of", full);
  }
  int rc = h5c_check_dataset(ds, a->path, full); /* its filters must load before any read */
  if (rc) {
    H5Dclose(ds);
    return rc;
  }
  m->is_int = cls == H5T_INTEGER;
  char units[64], long_name[320], dcgm[96], tenants[128], help[480];
  om_attr_text(ds, "units", units, sizeof units);
  om_attr_text(ds, "long_name", long_name, sizeof long_name);
  om_attr_text(ds, "dcgm_field", dcgm, sizeof dcgm);
  m->tenants = om_attr_text(ds, "tenants", tenants, sizeof tenants) == 0 ? om_tenant_mask(tenants)
                                                                          : (1u << TENANT_COUNT) - 1;
  H5Dclose(ds);
  om_name_of(a->naming, name, units, scope == OM_GPU, &m->out);
  /* HELP: the long name, the unit of the values written, the DCGM field or
   * (renamed series) the archive's name */
  int k = snprintf(help, sizeof help, "%s", long_name[0] ? long_name : name);
  if (m->out.symbol[0] && k < (int)sizeof help)
    k += snprintf(help + k, sizeof help - (size_t)k, " (%s)", m->out.symbol);
  if (dcgm[0] && strcmp(dcgm, m->out.family) != 0 && k < (int)sizeof help)
    k += snprintf(help + k, sizeof help - (size_t)k, "; %s", dcgm);
  if (strcmp(name, m->out.sample) != 0 && k < (int)sizeof help)
    snprintf(help + k, sizeof help - (size_t)k, "; fleetsim %s", name);
  om_escape(help, m->help, sizeof m->help);
  return 0;
}

/* 1 when name is a metric name fleetsim writes: [a-zA-Z_][a-zA-Z0-9_]*. */
static int om_metric_name_ok(const char *name) {
  if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
        name[0] == '_'))
    return 0;
  for (const char *c = name; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
          *c == '_'))
      return 0;
  return 1;
}

/* name with every byte outside printable ASCII shown as \xNN, into out. */
static void om_show(const char *name, char *out, size_t cap) {
  size_t n = 0;
  for (const unsigned char *c = (const unsigned char *)name; *c && n + 5 < cap; c++)
    n += (size_t)(*c >= 0x20 && *c < 0x7f && *c != '\\'
                      ? snprintf(out + n, cap - n, "%c", *c)
                      : snprintf(out + n, cap - n, "\\x%02x", *c));
  out[n < cap ? n : cap - 1] = '\0';
}

/* Every dataset under /telemetry/{gpu,node,cluster}, in name order. */
static int om_list_metrics(om_archive *a) {
  int cap = 0, rc = 0;
  for (int s = 0; s < OM_SCOPES && rc == 0; s++) {
    char gname[32];
    snprintf(gname, sizeof gname, "/telemetry/%s", om_scope_names[s]);
    hid_t grp = H5Gopen2(a->file, gname, H5P_DEFAULT);
    H5G_info_t info = {.nlinks = 0};
    if (grp < 0 || H5Gget_info(grp, &info) < 0) {
      rc = om_hdf5_fail(a, "open", gname);
    }
    for (hsize_t i = 0; rc == 0 && i < info.nlinks; i++) {
      char name[OM_NAME_LEN];
      ssize_t len = H5Lget_name_by_idx(grp, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name,
                                       H5P_DEFAULT);
      if (len < 0 || len >= (ssize_t)sizeof name) {
        rc = om_hdf5_fail(a, "list", gname);
        break;
      }
      /* the name becomes sample and family names in a line-based text: a
       * tampered archive must not inject lines (or an early "# EOF") */
      if (!om_metric_name_ok(name)) {
        char shown[4 * OM_NAME_LEN];
        om_show(name, shown, sizeof shown);
        diag_addf("%s: dataset %s/%s is not a metric name ([a-zA-Z_][a-zA-Z0-9_]*): the archive "
                  "was altered; nothing exported",
                  a->path, gname, shown);
        rc = FS_EUSAGE;
        break;
      }
      if (a->nmetrics == cap) {
        cap = cap ? 2 * cap : 64;
        om_metric *grown = realloc(a->metrics, (size_t)cap * sizeof *grown);
        if (!grown) {
          rc = FS_ENOMEM;
          break;
        }
        a->metrics = grown;
      }
      rc = om_describe(a, grp, (om_scope)s, name, &a->metrics[a->nmetrics]);
      if (rc == 0)
        a->nmetrics++;
    }
    if (grp >= 0)
      H5Gclose(grp);
  }
  return rc;
}

/* The two annotation families, after the telemetry: the ground truth's
 * scenarios (1 at every scrape a scenario is active, else 0) and the L1
 * events (1 at each event's time). */
static int om_add_annotations(om_archive *a) {
  om_metric *grown = realloc(a->metrics, (size_t)(a->nmetrics + 2) * sizeof *grown);
  if (!grown)
    return FS_ENOMEM;
  a->metrics = grown;
  static const struct {
    om_kind kind;
    const char *name, *help;
  } annot[2] = {
      {OM_SCENARIOS, OM_SCENARIO_FAMILY,
       "1 while the ground-truth fault scenario id is active, else 0 (Grafana annotation)"},
      {OM_EVENTS, OM_EVENT_FAMILY,
       "1 at the end of the detection block of each L1 event (Grafana annotation)"},
  };
  for (int i = 0; i < 2; i++) {
    om_metric *m = &a->metrics[a->nmetrics++];
    memset(m, 0, sizeof *m);
    m->kind = annot[i].kind;
    m->scope = OM_CLUSTER;
    snprintf(m->name, sizeof m->name, "%s", annot[i].name);
    snprintf(m->out.family, sizeof m->out.family, "%s", annot[i].name);
    snprintf(m->out.sample, sizeof m->out.sample, "%s", annot[i].name);
    m->out.type = "gauge";
    m->is_int = 1;
    m->tenants = (1u << TENANT_COUNT) - 1;
    om_escape(annot[i].help, m->help, sizeof m->help);
  }
  return 0;
}

/* Opens the archive and reads everything but the telemetry itself. */
static int om_open(om_archive *a, const char *path, om_naming naming) {
  memset(a, 0, sizeof *a);
  a->path = path;
  a->naming = naming;
  h5c_init();
  a->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (a->file < 0)
    return om_hdf5_fail(a, "open", "the file");
  hid_t at = H5Aopen(a->file, "scrape_interval_s", H5P_DEFAULT);
  int ok = at >= 0 && H5Aread(at, H5T_NATIVE_INT, &a->interval_s) >= 0 && a->interval_s > 0;
  if (at >= 0)
    H5Aclose(at);
  if (!ok)
    return om_hdf5_fail(a, "read", "the root attribute scrape_interval_s");
  int64_t n = -1, nodes = -1;
  void *p = NULL;
  int rc = om_read_1d(a, "/time/seconds", H5T_NATIVE_DOUBLE, sizeof(double), &n, &p);
  a->time_s = p;
  a->T = n;
  if (rc == 0 && a->T < 1)
    rc = om_hdf5_fail(a, "find scrapes in", "/time/seconds");
  if (rc == 0 && (rc = om_read_1d(a, "/topology/node_rack", H5T_NATIVE_INT32, 4, &nodes, &p)) == 0)
    a->node_rack = p;
  if (rc == 0 && (rc = om_read_1d(a, "/topology/node_job", H5T_NATIVE_INT32, 4, &nodes, &p)) == 0)
    a->node_job = p;
  if (rc == 0 && (rc = om_read_1d(a, "/topology/node_tenant", H5T_NATIVE_UINT8, 1, &nodes, &p)) == 0)
    a->node_tenant = p;
  a->nodes = (int)nodes;
  hid_t st = H5Tcopy(H5T_C_S1);
  int64_t njobs = -1;
  if (rc == 0 && (st < 0 || H5Tset_size(st, sizeof a->job_id[0]) < 0))
    rc = FS_EHDF5;
  if (rc == 0 && (rc = om_read_1d(a, "/topology/job_id", st, sizeof a->job_id[0], &njobs, &p)) == 0)
    a->job_id = p;
  if (st >= 0)
    H5Tclose(st);
  a->njobs = (int)njobs;
  for (int i = 0; rc == 0 && i < a->nodes; i++)
    if (a->node_tenant[i] >= TENANT_COUNT || a->node_job[i] >= a->njobs || a->node_job[i] < -1)
      rc = om_hdf5_fail(a, "use the topology of", "/topology (tenant or job out of range)");
  if (rc == 0)
    rc = om_list_metrics(a);
  if (rc == 0)
    rc = om_read_scenarios(a->file, a->path, &a->scn, &a->nscn);
  if (rc == 0)
    rc = om_read_events(a->file, a->path, &a->events, &a->nevents);
  if (rc == 0)
    rc = om_add_annotations(a);
  return rc;
}

static void om_close(om_archive *a) {
  if (a->file >= 0)
    H5Fclose(a->file);
  free(a->time_s);
  free(a->node_rack);
  free(a->node_job);
  free(a->node_tenant);
  free(a->job_id);
  free(a->metrics);
  free(a->scn);
  free(a->events);
  memset(a, 0, sizeof *a);
  a->file = H5I_INVALID_HID;
}

/* Reads the hyperslab [t0, t0+nt) x [n0, n0+nn) x [g0, g0+ng) (as far as the
 * dataset's rank goes) into buf, row-major. */
static int om_read(const om_archive *a, hid_t ds, const om_metric *m, hsize_t t0, hsize_t nt,
                   hsize_t n0, hsize_t nn, hsize_t g0, hsize_t ng, tel_cell *buf) {
  int rank = m->scope == OM_GPU ? 3 : m->scope == OM_NODE ? 2 : 1;
  hsize_t start[3] = {t0, n0, g0}, count[3] = {nt, nn, ng};
  hid_t fs = H5Dget_space(ds);
  hid_t ms = H5Screate_simple(rank, count, NULL);
  hid_t mt = m->is_int ? H5T_NATIVE_UINT32 : H5T_NATIVE_FLOAT;
  int ok = fs >= 0 && ms >= 0 &&
           H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
           H5Dread(ds, mt, ms, fs, H5P_DEFAULT, buf) >= 0;
  if (ms >= 0)
    H5Sclose(ms);
  if (fs >= 0)
    H5Sclose(fs);
  if (!ok) {
    char what[200];
    snprintf(what, sizeof what, "/telemetry/%s/%s rows %llu-%llu", om_scope_names[m->scope],
             m->name, (unsigned long long)t0, (unsigned long long)(t0 + nt));
    return om_hdf5_fail(a, "read", what);
  }
  return 0;
}

/* ---- writing ---------------------------------------------------------------- */

typedef struct {
  const om_options *o;
  const om_archive *a;
  FILE *out;
  const char *out_name; /* FILE.partial, for messages */
  int64_t base_ms;      /* Unix ms of t = 0 */
  int64_t i0, i1;       /* scrape rows [i0, i1) */
  const unsigned char *sel;
  tel_cell *buf; /* budget bytes */
  int64_t budget;
  om_stats *st;
  progress_line line;
  double t0;
  int family_index, nfamilies;
  const char *family;
} om_writer;

static int om_put(om_writer *w, const char *text, size_t n) {
  if (fwrite(text, 1, n, w->out) != n) {
    diag_addf("--out %s: write to %s failed: %s", w->o->out_path, w->out_name, strerror(errno));
    return FS_EIO;
  }
  w->st->bytes += (int64_t)n;
  return 0;
}

/* Samples done of the estimated total, bytes, rate and ETA. */
static void om_progress(om_writer *w, int final) {
  double now = progress_now(), el = now - w->t0;
  const om_stats *st = w->st;
  double done = (double)(st->samples + st->nan_skipped);
  double rate = el > 0 ? done / el : 0.0, left = (double)st->est_samples - done;
  char eta[32] = "?";
  if (rate > 0)
    progress_hms(left > 0 ? left / rate : 0.0, eta, sizeof eta);
  char done_b[32], est_b[32];
  progress_bytes((double)st->bytes, done_b, sizeof done_b);
  progress_bytes((double)st->est_bytes, est_b, sizeof est_b);
  progress_line_report(&w->line, now, final,
                       "fleetsim: export: %5.1f%% (%lld of %lld samples, %s of ~%s), family "
                       "%d/%d %s, %.3g samples/s, ETA %s",
                       st->est_samples > 0 ? 100.0 * done / (double)st->est_samples : 100.0,
                       (long long)st->samples, (long long)st->est_samples, done_b, est_b,
                       w->family_index + 1, w->nfamilies, w->family, rate, eta);
}

/* `,job="train-001"` for a job index (-1: none), else "", into out (cap bytes). */
static void om_job_label(const om_archive *a, int32_t job, char *out, size_t cap) {
  out[0] = '\0';
  if (job >= 0 && job < a->njobs) {
    char esc[80];
    om_escape(a->job_id[job], esc, sizeof esc);
    snprintf(out, cap, ",job=\"%s\"", esc);
  }
}

/* The sample-name prefix of one series: `sample{labels} ` or `sample `. */
static int om_prefix(const om_archive *a, const om_metric *m, int node, int gpu, char *out,
                     size_t cap) {
  if (m->scope == OM_CLUSTER)
    return snprintf(out, cap, "%s ", m->out.sample);
  char gpu_label[320] = "", job_label[96];
  om_job_label(a, a->node_job[node], job_label, sizeof job_label);
  const char *tenant = fleet_tenant_name(a->node_tenant[node]);
  if (m->out.dcgm_labels) { /* dcgm-exporter's labels first, then fleetsim's */
    om_dcgm_gpu_labels(node, gpu, gpu_label, sizeof gpu_label);
    return snprintf(out, cap, "%s{%s,rack=\"rack-%02d\",tenant=\"%s\"%s} ", m->out.sample,
                    gpu_label, (int)a->node_rack[node], tenant, job_label);
  }
  if (gpu >= 0)
    snprintf(gpu_label, sizeof gpu_label, ",gpu=\"%d\"", gpu);
  return snprintf(out, cap, "%s{%s=\"node-%04d\",rack=\"rack-%02d\"%s,tenant=\"%s\"%s} ",
                  m->out.sample, om_host_label(a->naming), node, (int)a->node_rack[node], gpu_label,
                  tenant, job_label);
}

/* Writes n samples of one series: vals[k * stride] at row `row0 + k`. */
static int om_emit(om_writer *w, const om_metric *m, const char *prefix, int plen,
                   const tel_cell *vals, size_t stride, int64_t row0, int64_t n, int *any) {
  char line[OM_PREFIX_LEN + 2 * OM_NUM_LEN];
  memcpy(line, prefix, (size_t)plen);
  for (int64_t k = 0; k < n; k++) {
    const tel_cell *c = &vals[(size_t)k * stride];
    char *p = line + plen;
    if (m->is_int) {
      p += om_format_u32_pow10(c->u, m->out.pow10, p);
    } else if (isnan(c->f)) {
      w->st->nan_skipped++;
      continue;
    } else {
      p += om_format_f32(om_scale_f32(c->f, m->out.pow10, m->out.shift), p);
    }
    *p++ = ' ';
    int64_t ms = w->base_ms + llround(w->a->time_s[row0 + k] * 1000.0);
    p += om_format_ts_ms(ms, p);
    *p++ = '\n';
    int rc = om_put(w, line, (size_t)(p - line));
    if (rc)
      return rc;
    w->st->samples++;
    *any = 1;
    if ((w->st->samples & 0xffff) == 0)
      om_progress(w, 0);
  }
  return 0;
}

/* One series read in time slices of at most the budget (runs too long for
 * whole series to fit): node < 0 for a cluster metric. */
static int om_series_sliced(om_writer *w, hid_t ds, const om_metric *m, int node, int gpu) {
  char prefix[OM_PREFIX_LEN];
  int plen = om_prefix(w->a, m, node, gpu, prefix, sizeof prefix), any = 0, rc = 0;
  int64_t slice = w->budget / (int64_t)sizeof(tel_cell);
  for (int64_t t = w->i0; rc == 0 && t < w->i1; t += slice) {
    int64_t nt = w->i1 - t < slice ? w->i1 - t : slice;
    rc = om_read(w->a, ds, m, (hsize_t)t, (hsize_t)nt, node < 0 ? 0 : (hsize_t)node, 1,
                 gpu < 0 ? 0 : (hsize_t)gpu, 1, w->buf);
    if (rc == 0)
      rc = om_emit(w, m, prefix, plen, w->buf, 1, t, nt, &any);
  }
  w->st->series += any;
  return rc;
}

/* 1 when node is selected (sel) and reports metric m. */
static int om_selected(const om_archive *a, const unsigned char *sel, const om_metric *m,
                       int node) {
  return sel[node] && (m->tenants >> a->node_tenant[node] & 1u);
}

static int om_wanted(const om_writer *w, const om_metric *m, int node) {
  return om_selected(w->a, w->sel, m, node);
}

/* A GPU or node family: runs of consecutive selected nodes, read as blocks
 * [rows x k nodes x width] that fit the budget, written series by series. */
static int om_family_nodes(om_writer *w, hid_t ds, const om_metric *m) {
  const int width = m->scope == OM_GPU ? FLEET_GPUS : 1;
  const int64_t rows = w->i1 - w->i0;
  const int64_t per_node = rows * width * (int64_t)sizeof(tel_cell);
  int rc = 0;
  for (int a = 0; rc == 0 && a < w->a->nodes;) {
    if (!om_wanted(w, m, a)) {
      a++;
      continue;
    }
    if (per_node > w->budget) { /* one node does not fit: series by series */
      for (int g = 0; rc == 0 && g < width; g++)
        rc = om_series_sliced(w, ds, m, a, m->scope == OM_GPU ? g : -1);
      a++;
      continue;
    }
    int kmax = (int)(w->budget / per_node), k = 1, last = 1;
    while (a + k < w->a->nodes && k < kmax && w->sel[a + k]) {
      k++;
      if (om_wanted(w, m, a + k - 1))
        last = k;
    }
    k = last; /* trim unwanted nodes at the end of the run */
    rc = om_read(w->a, ds, m, (hsize_t)w->i0, (hsize_t)rows, (hsize_t)a, (hsize_t)k, 0,
                 (hsize_t)width, w->buf);
    for (int j = 0; rc == 0 && j < k; j++) {
      if (!om_wanted(w, m, a + j))
        continue;
      for (int g = 0; rc == 0 && g < width; g++) {
        char prefix[OM_PREFIX_LEN];
        int plen =
            om_prefix(w->a, m, a + j, m->scope == OM_GPU ? g : -1, prefix, sizeof prefix);
        int any = 0;
        rc = om_emit(w, m, prefix, plen, w->buf + (size_t)j * width + g, (size_t)k * width, w->i0,
                     rows, &any);
        w->st->series += any;
      }
    }
    a += k;
  }
  return rc;
}

/* Checks the dataset's shape against the archive: [T, nodes, 8], [T, nodes] or [T]. */
static int om_check_shape(const om_archive *a, hid_t ds, const om_metric *m) {
  int rank = m->scope == OM_GPU ? 3 : m->scope == OM_NODE ? 2 : 1;
  hsize_t want[3] = {(hsize_t)a->T, (hsize_t)a->nodes, FLEET_GPUS}, dims[3] = {0, 0, 0};
  hid_t sp = H5Dget_space(ds);
  int ok = sp >= 0 && H5Sget_simple_extent_ndims(sp) == rank &&
           H5Sget_simple_extent_dims(sp, dims, NULL) == rank;
  for (int i = 0; ok && i < rank; i++)
    ok = dims[i] == want[i];
  if (sp >= 0)
    H5Sclose(sp);
  if (!ok) {
    diag_addf("%s: /telemetry/%s/%s does not have the shape of the archive's time axis and "
              "topology",
              a->path, om_scope_names[m->scope], m->name);
    return FS_EHDF5;
  }
  return 0;
}

/* ---- annotations ------------------------------------------------------------ */

/* The prefix of scenario sc's series. */
static int om_scenario_prefix(const om_scenario *sc, char *out, size_t cap) {
  char id[2 * OM_SCN_ID_LEN], kind[2 * OM_SCN_KIND_LEN], nodes[2 * OM_SCN_NODES_LEN];
  om_escape(sc->id, id, sizeof id);
  om_escape(sc->kind, kind, sizeof kind);
  om_escape(sc->nodes, nodes, sizeof nodes);
  return snprintf(out, cap, OM_SCENARIO_FAMILY "{id=\"%s\",kind=\"%s\",nodes=\"%s\"} ", id, kind,
                  nodes);
}

/* The prefix of event e's series: event_id, scope, metric, then its node
 * (under the naming's host label), rack, job and GPU where it has them. */
static int om_event_prefix(const om_archive *a, const om_event *e, char *out, size_t cap) {
  char scope[2 * OM_EV_SCOPE_LEN], metric[2 * EV_METRIC_LEN], where[160] = "", job[96];
  om_escape(e->scope, scope, sizeof scope);
  om_escape(e->metric, metric, sizeof metric);
  size_t n = 0;
  if (e->node >= 0 && e->node < a->nodes)
    n += (size_t)snprintf(where + n, sizeof where - n, ",%s=\"node-%04d\"",
                          om_host_label(a->naming), (int)e->node);
  if (e->rack >= 0 && n < sizeof where)
    n += (size_t)snprintf(where + n, sizeof where - n, ",rack=\"rack-%02d\"", (int)e->rack);
  if (e->gpu >= 0 && n < sizeof where)
    snprintf(where + n, sizeof where - n, ",gpu=\"%d\"", (int)e->gpu);
  om_job_label(a, e->job, job, sizeof job);
  return snprintf(out, cap,
                  OM_EVENT_FAMILY
                  "{event_id=\"%lld\",scope=\"%s\",metric=\"%s\"%s%s,escalated=\"%d\"} ",
                  (long long)e->event_id, scope, metric, where, job, e->escalated ? 1 : 0);
}

/* 1 when event e falls in the exported time range (from, to]: its block
 * ends after the first exported scrape and no later than the last one's
 * interval, so consecutive ranges split the events between them. */
static int om_event_in_range(const om_archive *a, const om_event *e, int64_t i0, int64_t i1) {
  return e->t_s > a->time_s[i0] && e->t_s <= a->time_s[i1 - 1] + a->interval_s;
}

/* fleetsim_scenario_active: per scenario, 1 or 0 at every exported scrape. */
static int om_scenarios(om_writer *w, const om_metric *m) {
  const om_archive *a = w->a;
  int64_t slice = w->budget / (int64_t)sizeof(tel_cell);
  int rc = 0;
  for (int i = 0; rc == 0 && i < a->nscn; i++) {
    const om_scenario *sc = &a->scn[i];
    char prefix[OM_PREFIX_LEN];
    int plen = om_scenario_prefix(sc, prefix, sizeof prefix), any = 0;
    for (int64_t t = w->i0; rc == 0 && t < w->i1; t += slice) {
      int64_t nt = w->i1 - t < slice ? w->i1 - t : slice;
      for (int64_t k = 0; k < nt; k++)
        w->buf[k].u = a->time_s[t + k] >= sc->start_s && a->time_s[t + k] < sc->end_s;
      rc = om_emit(w, m, prefix, plen, w->buf, 1, t, nt, &any);
    }
    w->st->series += any;
  }
  return rc;
}

/* fleetsim_l1_event: 1 at the time of each event in the exported range. */
static int om_events(om_writer *w) {
  const om_archive *a = w->a;
  int rc = 0;
  for (int i = 0; rc == 0 && i < a->nevents; i++) {
    const om_event *e = &a->events[i];
    if (!om_event_in_range(a, e, w->i0, w->i1))
      continue;
    char line[OM_PREFIX_LEN + 2 * OM_NUM_LEN];
    int n = om_event_prefix(a, e, line, OM_PREFIX_LEN);
    n = n < OM_PREFIX_LEN ? n : OM_PREFIX_LEN - 1;
    line[n++] = '1';
    line[n++] = ' ';
    n += om_format_ts_ms(w->base_ms + llround(e->t_s * 1000.0), line + n);
    line[n++] = '\n';
    rc = om_put(w, line, (size_t)n);
    w->st->samples++;
    w->st->series++;
  }
  return rc;
}

static int om_family(om_writer *w, const om_metric *m) {
  char head[1400];
  int n = snprintf(head, sizeof head, "# TYPE %s %s\n", m->out.family, m->out.type);
  if (m->out.unit[0])
    n += snprintf(head + n, sizeof head - (size_t)n, "# UNIT %s %s\n", m->out.family, m->out.unit);
  n += snprintf(head + n, sizeof head - (size_t)n, "# HELP %s %s\n", m->out.family, m->help);
  int rc = om_put(w, head, (size_t)n);
  if (rc == 0 && m->kind != OM_TELEMETRY) {
    rc = m->kind == OM_SCENARIOS ? om_scenarios(w, m) : om_events(w);
    w->st->families++;
  }
  if (rc || m->kind != OM_TELEMETRY)
    return rc;
  char full[160];
  snprintf(full, sizeof full, "/telemetry/%s/%s", om_scope_names[m->scope], m->name);
  hid_t ds = H5Dopen2(w->a->file, full, H5P_DEFAULT);
  if (ds < 0)
    return om_hdf5_fail(w->a, "open", full);
  rc = om_check_shape(w->a, ds, m);
  if (rc == 0)
    rc = m->scope == OM_CLUSTER ? om_series_sliced(w, ds, m, -1, -1) : om_family_nodes(w, ds, m);
  H5Dclose(ds);
  w->st->families++;
  return rc;
}

/* ---- input checks ----------------------------------------------------------- */

/* Edit distance between s[0..n) and t (names are short: < OM_NAME_LEN). */
static int om_distance(const char *s, size_t n, const char *t) {
  size_t m = strlen(t);
  if (n >= OM_NAME_LEN || m >= OM_NAME_LEN)
    return OM_NAME_LEN;
  int row[OM_NAME_LEN + 1];
  for (size_t j = 0; j <= m; j++)
    row[j] = (int)j;
  for (size_t i = 1; i <= n; i++) {
    int diag = row[0];
    row[0] = (int)i;
    for (size_t j = 1; j <= m; j++) {
      int up = row[j], best = diag + (s[i - 1] != t[j - 1]);
      if (up + 1 < best)
        best = up + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      diag = up;
      row[j] = best;
    }
  }
  return row[m];
}

/* 1 when name is p[0..len). */
static int om_name_is(const char *name, const char *p, size_t len) {
  return strlen(name) == len && strncmp(name, p, len) == 0;
}

/* --metrics: indices into a->metrics in the given order (all, in archive
 * order, when NULL). Collects every unknown or repeated name. */
static int om_select_metrics(const om_archive *a, const char *list, int *idx, int *n) {
  *n = 0;
  if (!list) {
    for (int i = 0; i < a->nmetrics; i++)
      idx[(*n)++] = i;
    return 0;
  }
  int rc = 0;
  const char *p = list;
  for (;;) {
    size_t len = strcspn(p, ",");
    int found = -1;
    for (int i = 0; i < a->nmetrics; i++)
      if (om_name_is(a->metrics[i].name, p, len) || om_name_is(a->metrics[i].out.sample, p, len) ||
          om_name_is(a->metrics[i].out.family, p, len))
        found = i;
    if (found < 0) {
      char hint[OM_NAME_LEN + 32] = "";
      int best = (int)len / 3 + 1;
      const char *near = NULL;
      for (int i = 0; i < a->nmetrics; i++)
        for (int k = 0; k < 2; k++) { /* the archive's name and the naming's */
          const char *cand = k ? a->metrics[i].out.sample : a->metrics[i].name;
          int d = om_distance(p, len, cand);
          if (d < best) {
            best = d;
            near = cand;
          }
        }
      if (near)
        snprintf(hint, sizeof hint, " (did you mean %s?)", near);
      char valid[320];
      size_t used = 0;
      int shown = 0;
      for (int i = 0; i < a->nmetrics && used + strlen(a->metrics[i].name) + 8 < sizeof valid; i++)
        used += (size_t)snprintf(valid + used, sizeof valid - used, "%s%s", shown++ ? ", " : "",
                                 a->metrics[i].name);
      diag_addf("--metrics %s: unknown metric '%.*s'%s; valid: %s%s (%d in all: the datasets "
                "h5ls -r DIR/fleet.h5/telemetry lists, then " OM_SCENARIO_FAMILY
                " and " OM_EVENT_FAMILY "; docs/export.md has their names under each naming)",
                list, (int)len, p, hint, valid, shown < a->nmetrics ? ", ..." : "", a->nmetrics);
      rc = FS_EUSAGE;
    } else {
      int dup = 0;
      for (int k = 0; k < *n; k++)
        dup |= idx[k] == found;
      if (dup) {
        diag_addf("--metrics %s: '%.*s' is named twice", list, (int)len, p);
        rc = FS_EUSAGE;
      } else {
        idx[(*n)++] = found;
      }
    }
    if (p[len] == '\0')
      break;
    p += len + 1;
  }
  return rc;
}

/* --from/--to against the run: rows [*i0, *i1) of the time axis. */
static int om_select_rows(const om_archive *a, const om_options *o, int64_t *i0, int64_t *i1) {
  double end_s = a->time_s[a->T - 1] + a->interval_s, end_h = end_s / 3600.0;
  double from_h = isnan(o->from_h) ? 0.0 : o->from_h, to_h = isnan(o->to_h) ? end_h : o->to_h;
  int rc = 0;
  if (!isnan(o->from_h) && !(o->from_h >= 0 && o->from_h < end_h)) {
    diag_addf("--from %g: outside the run, which covers [0, %g) simulated hours", o->from_h, end_h);
    rc = FS_EUSAGE;
  }
  if (!isnan(o->to_h) && !(o->to_h > 0 && o->to_h <= end_h * (1 + 1e-12))) {
    diag_addf("--to %g: outside the run, which covers (0, %g] simulated hours", o->to_h, end_h);
    rc = FS_EUSAGE;
  }
  if (rc == 0 && from_h >= to_h) {
    diag_addf("--from %g is not before --to %g", from_h, to_h);
    rc = FS_EUSAGE;
  }
  if (rc)
    return rc;
  *i0 = 0;
  while (*i0 < a->T && a->time_s[*i0] < from_h * 3600.0)
    (*i0)++;
  *i1 = *i0;
  while (*i1 < a->T && a->time_s[*i1] < to_h * 3600.0)
    (*i1)++;
  if (*i1 == *i0) {
    diag_addf("--from %g --to %g: no scrape in that range (one every %d s)", from_h, to_h,
              a->interval_s);
    return FS_EUSAGE;
  }
  return 0;
}

/* The Unix time of t = 0: --start-epoch, or om_default_epoch from the
 * archive's created_utc and the config's start_hour. */
static int om_base_epoch(const om_archive *a, const om_options *o, int64_t *epoch) {
  if (o->has_start_epoch) {
    *epoch = o->start_epoch;
    return 0;
  }
  char created[64];
  int64_t c = 0;
  if (om_attr_text(a->file, "created_utc", created, sizeof created) != 0 ||
      om_parse_utc(created, &c) != 0) {
    diag_addf("%s: root attribute created_utc '%s' is missing or not YYYY-MM-DDTHH:MM:SSZ; "
              "give --start-epoch SECONDS",
              a->path, created);
    return FS_EUSAGE;
  }
  double start_hour = 0.0;
  char *config = om_attr_dup(a->file, "config"); /* none: start_hour 0 */
  json_t *root = config ? json_loads(config, 0, NULL) : NULL;
  json_t *sh = root ? json_object_get(root, "start_hour") : NULL;
  if (json_is_number(sh))
    start_hour = json_number_value(sh);
  json_decref(root);
  free(config);
  *epoch = om_default_epoch(c, start_hour, a->time_s[a->T - 1] + a->interval_s);
  return 0;
}

/* --out must not be a directory, nor the archive itself. */
static int om_check_out(const om_options *o, const char *archive) {
  struct stat so, sa;
  if (stat(o->out_path, &so) != 0)
    return 0;
  if (S_ISDIR(so.st_mode)) {
    diag_addf("--out %s: is a directory (give a file name)", o->out_path);
    return FS_EUSAGE;
  }
  /* The text is written to FILE.partial and renamed over FILE: that would
   * replace a device, FIFO or socket (e.g. /dev/full) with a plain file. */
  if (!S_ISREG(so.st_mode)) {
    diag_addf("--out %s: exists and is not a regular file (give a file name)", o->out_path);
    return FS_EUSAGE;
  }
  if (stat(archive, &sa) == 0 && so.st_dev == sa.st_dev && so.st_ino == sa.st_ino) {
    diag_addf("--out %s: is the archive itself", o->out_path);
    return FS_EUSAGE;
  }
  return 0;
}

/* ---- export ----------------------------------------------------------------- */

enum { OM_EST_FLOAT_CHARS = 9, OM_EST_INT_CHARS = 3 };

/* Samples and bytes the selection will write: every selected series' exact
 * label prefix and timestamps, a value of 9 characters (float32 takes 6 to 9
 * digits plus sign and point) or 3 (counters), the family headers. NaN
 * samples (rare outside the tenant mask) are counted as written. */
static void om_estimate(const om_archive *a, const int *idx, int n, const unsigned char *sel,
                        int64_t i0, int64_t i1, int64_t base_ms, om_stats *st) {
  char ts[OM_NUM_LEN];
  double ts_chars = 0;
  for (int64_t t = i0; t < i1; t++)
    ts_chars += om_format_ts_ms(base_ms + llround(a->time_s[t] * 1000.0), ts);
  int64_t rows = i1 - i0;
  for (int f = 0; f < n; f++) {
    const om_metric *m = &a->metrics[idx[f]];
    int width = m->scope == OM_GPU ? FLEET_GPUS : 1, nodes = m->scope == OM_CLUSTER ? 1 : a->nodes;
    /* a value, its blanks and \n; integers scaled up by 10^k take k digits more */
    int digits =
        m->is_int ? OM_EST_INT_CHARS + (m->out.pow10 > 0 ? m->out.pow10 : 0) : OM_EST_FLOAT_CHARS;
    double per_sample = digits + 3;
    st->est_bytes += (int64_t)(strlen(m->help) + 3 * strlen(m->out.family) + 40);
    char prefix[OM_PREFIX_LEN];
    for (int i = 0; m->kind == OM_SCENARIOS && i < a->nscn; i++) {
      st->est_samples += rows;
      st->est_bytes +=
          (int64_t)((double)rows * (om_scenario_prefix(&a->scn[i], prefix, sizeof prefix) + 4) +
                    ts_chars);
    }
    for (int i = 0; m->kind == OM_EVENTS && i < a->nevents; i++) {
      if (!om_event_in_range(a, &a->events[i], i0, i1))
        continue;
      st->est_samples++;
      st->est_bytes += om_event_prefix(a, &a->events[i], prefix, sizeof prefix) + 4 +
                       om_format_ts_ms(base_ms + llround(a->events[i].t_s * 1000.0), ts);
    }
    if (m->kind != OM_TELEMETRY)
      continue;
    for (int node = 0; node < nodes; node++) {
      if (m->scope != OM_CLUSTER && !om_selected(a, sel, m, node))
        continue;
      for (int g = 0; g < width; g++) {
        int plen = om_prefix(a, m, node, m->scope == OM_GPU ? g : -1, prefix, sizeof prefix);
        st->est_samples += rows;
        st->est_bytes += (int64_t)((double)rows * (plen + per_sample) + ts_chars);
      }
    }
  }
}

/* Refuses an export the file system holding FILE cannot take. */
static int om_check_space(const om_options *o, const om_stats *st) {
  char dir[4200];
  uint64_t free_bytes = 0;
  path_parent(o->out_path, dir, sizeof dir);
  struct stat sd;
  if (stat(dir, &sd) != 0) /* no such directory: creating FILE.partial reports it */
    return 0;
  int rc = path_free_bytes(dir, &free_bytes);
  if (rc == 0 && (uint64_t)st->est_bytes > free_bytes) {
    char need[32], have[32];
    progress_bytes((double)st->est_bytes, need, sizeof need);
    progress_bytes((double)free_bytes, have, sizeof have);
    diag_addf("--out %s: the export would write about %s (%lld samples) but %s has %s free: "
              "select less with --nodes, --metrics, --from/--to, or write elsewhere",
              o->out_path, need, (long long)st->est_samples, dir, have);
    rc = FS_EIO;
  }
  return rc;
}

static int om_write_all(om_writer *w, const int *idx, int n) {
  int rc = 0;
  w->nfamilies = n;
  for (int i = 0; rc == 0 && i < n; i++) {
    w->family_index = i;
    w->family = w->a->metrics[idx[i]].out.family;
    rc = om_family(w, &w->a->metrics[idx[i]]);
  }
  if (rc == 0)
    rc = om_put(w, "# EOF\n", 6);
  if (n > 0)
    om_progress(w, 1);
  return rc;
}

int om_export(const om_options *o, om_stats *st) {
  memset(st, 0, sizeof *st);
  double t0 = progress_now();
  char path[4200], partial[4200];
  snprintf(path, sizeof path, "%s/fleet.h5", o->run_dir);
  char who[4300];
  snprintf(who, sizeof who, "--run %s", o->run_dir);
  int rc0 = h5a_require_complete(who, path, o->run_dir);
  if (rc0)
    return rc0;
  H5E_auto2_t efunc = NULL;
  void *edata = NULL;
  H5Eget_auto2(H5E_DEFAULT, &efunc, &edata);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  om_archive a;
  int rc = om_open(&a, path, o->naming), bad = 0;
  int *idx = NULL, n = 0;
  unsigned char *sel = NULL;
  int64_t i0 = 0, i1 = 0, epoch = 0;
  if (rc == 0 && (!(idx = calloc((size_t)a.nmetrics + 1, sizeof *idx)) ||
                  !(sel = calloc((size_t)a.nodes, 1))))
    rc = FS_ENOMEM;
  if (rc == 0) { /* every input problem, collected before anything is written */
    bad |= om_select_metrics(&a, o->metrics, idx, &n);
    if (o->nodes)
      bad |= om_parse_nodes(o->nodes, a.nodes, sel);
    else
      memset(sel, 1, (size_t)a.nodes);
    bad |= om_select_rows(&a, o, &i0, &i1);
    bad |= om_base_epoch(&a, o, &epoch);
    bad |= om_check_out(o, path);
    if (bad)
      rc = FS_EUSAGE;
  }
  int64_t budget = o->read_budget > 0 ? o->read_budget : OM_READ_BUDGET_BYTES;
  if (budget < (int64_t)sizeof(tel_cell))
    budget = sizeof(tel_cell);
  tel_cell *buf = rc == 0 ? malloc((size_t)budget) : NULL;
  if (rc == 0 && !buf)
    rc = FS_ENOMEM;
  if (rc == 0) {
    om_estimate(&a, idx, n, sel, i0, i1, epoch * 1000, st);
    char est[32];
    progress_bytes((double)st->est_bytes, est, sizeof est);
    if (o->progress)
      fprintf(stderr, "fleetsim: export: %d families, %lld samples, about %s to %s\n", n,
              (long long)st->est_samples, est, o->out_path);
    rc = om_check_space(o, st);
  }
  FILE *out = NULL;
  if (rc == 0) {
    snprintf(partial, sizeof partial, "%s.partial", o->out_path);
    /* FILE.partial is fleetsim's name: a stale one goes, and the new one is
     * created exclusively, never through a link planted there */
    if ((unlink(partial) != 0 && errno != ENOENT) || sf_create(partial, &out) != 0) {
      diag_addf("--out %s: cannot create %s: %s", o->out_path, partial, strerror(errno));
      rc = FS_EIO;
    } else if (setvbuf(out, NULL, _IOFBF, OM_OUT_BUFFER_BYTES) != 0) {
      rc = FS_ENOMEM;
    }
  }
  if (rc == 0) {
    om_writer w = {.o = o,
                   .a = &a,
                   .out = out,
                   .out_name = partial,
                   .base_ms = epoch * 1000,
                   .i0 = i0,
                   .i1 = i1,
                   .sel = sel,
                   .buf = buf,
                   .budget = budget,
                   .st = st,
                   .t0 = progress_now()};
    progress_line_init(&w.line, o->progress);
    st->start_epoch = epoch;
    rc = om_write_all(&w, idx, n);
  }
  if (out) {
    if (fclose(out) != 0 && rc == 0) {
      diag_addf("--out %s: write to %s failed: %s", o->out_path, partial, strerror(errno));
      rc = FS_EIO;
    }
    if (rc == 0 && rename(partial, o->out_path) != 0) {
      diag_addf("--out %s: cannot rename %s to it: %s", o->out_path, partial, strerror(errno));
      rc = FS_EIO;
    }
    if (rc != 0)
      remove(partial);
  }
  free(buf);
  free(sel);
  free(idx);
  om_close(&a);
  H5Eset_auto2(H5E_DEFAULT, efunc, edata);
  st->wall_s = progress_now() - t0;
  return rc;
}

void om_print_summary(const om_options *o, const om_stats *st, FILE *out) {
  char when[32] = "?";
  time_t t = (time_t)st->start_epoch;
  struct tm utc;
  if (gmtime_r(&t, &utc))
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
  fprintf(out,
          "fleetsim: wrote %s: %d families, %lld series, %lld samples (%lld NaN skipped), "
          "%.3g MB\n"
          "fleetsim: t = 0 at %s (--start-epoch %lld); wall %.2f s, %.3g samples/s\n",
          o->out_path, st->families, (long long)st->series, (long long)st->samples,
          (long long)st->nan_skipped, (double)st->bytes / 1e6, when, (long long)st->start_epoch,
          st->wall_s, st->wall_s > 0 ? (double)st->samples / st->wall_s : 0.0);
}

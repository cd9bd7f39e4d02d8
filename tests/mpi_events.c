/* MPI test of the L1 event table (h5a_write_events in io/archive.c): a small
 * archive gets three events from rank 0 (the other ranks pass nothing, or a
 * count that must be ignored), another gets none; rank 0 reopens both with
 * plain serial HDF5 and check_count the row type, every field, the co-occurrence
 * text and its safe truncation, the empty (0,) table and the attributes.
 * Also: a negative count and a second call fail on every rank, cleanly, and
 * par_rack_range_of tiles the racks with the larger shares on the last ranks. */
#include <hdf5.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/archive.h"
#include "mpi/par.h"
#include "src/model/events.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "tests/check.h"

enum { T = 20, NODES = 12, RACKS = 3, NPR = NODES / RACKS, NFIELDS = 18 };


/* A row as the test reads it back (its own layout, converted by HDF5). */
typedef struct {
  int64_t event_id;
  double t_s;
  int32_t step;
  char scope[8];
  int32_t node, rack, job, tenant, nodes;
  char metric[48];
  int32_t gpu;
  float z, value, baseline, trend_z;
  int32_t escalated;
  char escalation_reason[32];
  char cooccur[256];
} row;

static const char *const FIELDS[NFIELDS] = {
    "event_id", "t_s",   "step",     "scope",    "node",    "rack",
    "job",      "tenant", "nodes",   "metric",   "gpu",     "z",
    "value",    "baseline", "trend_z", "escalated", "escalation_reason", "cooccur"};

/* 47 characters: the longest metric name the record can hold. */
#define LONG_METRIC "a_metric_name_of_forty_seven_characters_exactly"

static ev_signal sig(const char *metric, int gpu, float z, float value, float baseline) {
  ev_signal s;
  memset(&s, 0, sizeof s);
  snprintf(s.metric, sizeof s.metric, "%s", metric);
  s.gpu = (int16_t)gpu;
  s.z = z;
  s.value = value;
  s.baseline = baseline;
  return s;
}

static void make_events(ev_event *e) {
  memset(e, 0, 3 * sizeof *e);
  e[0] = (ev_event){.event_id = 0, .t_s = 300, .step = 0, .scope = EV_SCOPE_GPU, .node = 5,
                    .rack = 1, .job = 0, .tenant = 2, .nodes = 1, .trend_z = 1.5f,
                    .escalated = 1, .ncooccur = 2};
  e[0].top = sig("gpu_temp_celsius", 3, 12.5f, 88.25f, 75.5f);
  e[0].cooccur[0] = sig("gpu_power_watts", 3, 4.26f, 650, 600);
  e[0].cooccur[1] = sig("inlet_temp_celsius", -1, -3.04f, 18, 22);
  snprintf(e[0].escalation_reason, sizeof e[0].escalation_reason, "gpu_nvlink_replay_total");

  /* five long co-occurring signals: only four fit in 255 characters */
  e[1] = (ev_event){.event_id = 1, .t_s = 600, .step = 1, .scope = EV_SCOPE_RACK, .node = 7,
                    .rack = 1, .job = -1, .tenant = 1, .nodes = 4, .ncooccur = EV_COOCCUR};
  e[1].top = sig(LONG_METRIC, -1, 7.25f, 1, 0);
  for (int i = 0; i < EV_COOCCUR; i++)
    e[1].cooccur[i] = sig(LONG_METRIC, 7, 123.44f, 0, 0);

  /* int64 id, NaN value, a nonzero escalation flag stored as 1, garbage count */
  e[2] = (ev_event){.event_id = (int64_t)1 << 40, .t_s = 86100.5, .step = 286,
                    .scope = EV_SCOPE_CLUSTER, .node = 0, .rack = 0, .job = -1, .tenant = 0,
                    .nodes = 30, .trend_z = -2.5f, .escalated = 7, .ncooccur = -4};
  e[2].top = sig("expert_selection_entropy_nats", -1, -8.0f, NAN, 2.5f);
  snprintf(e[2].escalation_reason, sizeof e[2].escalation_reason, "cluster_scope");
}

/* ---- serial reading (rank 0) ---------------------------------------------- */

static hid_t text_type(size_t n) {
  hid_t t = H5Tcopy(H5T_C_S1);
  CHECK(t >= 0 && H5Tset_size(t, n) >= 0 && H5Tset_strpad(t, H5T_STR_NULLPAD) >= 0);
  return t;
}

static hid_t row_type(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(row));
  hid_t s8 = text_type(8), s48 = text_type(48), s32 = text_type(32), s256 = text_type(256);
  CHECK(H5Tinsert(t, "event_id", offsetof(row, event_id), H5T_NATIVE_INT64) >= 0);
  CHECK(H5Tinsert(t, "t_s", offsetof(row, t_s), H5T_NATIVE_DOUBLE) >= 0);
  CHECK(H5Tinsert(t, "step", offsetof(row, step), H5T_NATIVE_INT32) >= 0);
  CHECK(H5Tinsert(t, "scope", offsetof(row, scope), s8) >= 0);
  CHECK(H5Tinsert(t, "node", offsetof(row, node), H5T_NATIVE_INT32) >= 0);
  CHECK(H5Tinsert(t, "rack", offsetof(row, rack), H5T_NATIVE_INT32) >= 0);
  CHECK(H5Tinsert(t, "job", offsetof(row, job), H5T_NATIVE_INT32) >= 0);
  CHECK(H5Tinsert(t, "tenant", offsetof(row, tenant), H5T_NATIVE_INT32) >= 0);
  CHECK(H5Tinsert(t, "nodes", offsetof(row, nodes), H5T_NATIVE_INT32) >= 0);
  CHECK(H5Tinsert(t, "metric", offsetof(row, metric), s48) >= 0);
  CHECK(H5Tinsert(t, "gpu", offsetof(row, gpu), H5T_NATIVE_INT32) >= 0);
  CHECK(H5Tinsert(t, "z", offsetof(row, z), H5T_NATIVE_FLOAT) >= 0);
  CHECK(H5Tinsert(t, "value", offsetof(row, value), H5T_NATIVE_FLOAT) >= 0);
  CHECK(H5Tinsert(t, "baseline", offsetof(row, baseline), H5T_NATIVE_FLOAT) >= 0);
  CHECK(H5Tinsert(t, "trend_z", offsetof(row, trend_z), H5T_NATIVE_FLOAT) >= 0);
  CHECK(H5Tinsert(t, "escalated", offsetof(row, escalated), H5T_NATIVE_INT32) >= 0);
  CHECK(H5Tinsert(t, "escalation_reason", offsetof(row, escalation_reason), s32) >= 0);
  CHECK(H5Tinsert(t, "cooccur", offsetof(row, cooccur), s256) >= 0);
  H5Tclose(s8);
  H5Tclose(s48);
  H5Tclose(s32);
  H5Tclose(s256);
  return t;
}

/* A fixed-length field as a C string (it may fill its width without a NUL). */
static const char *text(const char *field, size_t width) {
  static char buf[4][300];
  static int next;
  char *out = buf[next++ % 4];
  size_t n = strnlen(field, width);
  memcpy(out, field, n);
  out[n] = '\0';
  return out;
}
#define TEXT(f) text(f, sizeof f)

static void read_attr_text(hid_t obj, const char *name, char *out, size_t cap) {
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0)
    CHECK_FAIL("attribute '%s' missing", name);
  hid_t t = H5Aget_type(a);
  CHECK(H5Tis_variable_str(t) > 0);
  char *s = NULL;
  CHECK(H5Aread(a, t, &s) >= 0 && s);
  snprintf(out, cap, "%s", s);
  H5free_memory(s);
  H5Tclose(t);
  H5Aclose(a);
  check_count++;
}

/* Opens /events/l1, check_count its shape, storage and row type; returns it. */
static hid_t open_table(hid_t file, hsize_t want_rows) {
  hid_t d = H5Dopen2(file, "/events/l1", H5P_DEFAULT);
  CHECK(d >= 0);
  hid_t s = H5Dget_space(d);
  hsize_t dims = 99, maxdims = 0;
  CHECK_EQ(H5Sget_simple_extent_ndims(s), 1);
  CHECK(H5Sget_simple_extent_dims(s, &dims, &maxdims) == 1);
  CHECK_EQ(dims, want_rows);
  CHECK(maxdims == H5S_UNLIMITED);
  H5Sclose(s);
  hid_t dcpl = H5Dget_create_plist(d);
  CHECK_EQ(H5Pget_layout(dcpl), H5D_CHUNKED);
  H5Pclose(dcpl);

  hid_t t = H5Dget_type(d);
  CHECK_EQ(H5Tget_class(t), H5T_COMPOUND);
  CHECK_EQ(H5Tget_nmembers(t), NFIELDS);
  for (int i = 0; i < NFIELDS; i++) {
    char *name = H5Tget_member_name(t, (unsigned)i);
    CHECK_STREQ(name, FIELDS[i]);
    H5free_memory(name);
  }
  static const struct {
    const char *name;
    H5T_class_t cls;
    size_t size;
  } types[] = {{"event_id", H5T_INTEGER, 8}, {"t_s", H5T_FLOAT, 8},
               {"step", H5T_INTEGER, 4},     {"scope", H5T_STRING, 8},
               {"gpu", H5T_INTEGER, 4},      {"z", H5T_FLOAT, 4},
               {"metric", H5T_STRING, 48},   {"escalation_reason", H5T_STRING, 32},
               {"cooccur", H5T_STRING, 256}, {"escalated", H5T_INTEGER, 4}};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    int idx = H5Tget_member_index(t, types[i].name);
    CHECK(idx >= 0);
    hid_t mt = H5Tget_member_type(t, (unsigned)idx);
    CHECK_EQ(H5Tget_class(mt), types[i].cls);
    CHECK_EQ(H5Tget_size(mt), types[i].size);
    if (types[i].cls != H5T_STRING)
      CHECK_EQ(H5Tget_order(mt), H5T_ORDER_LE);
    else
      CHECK_EQ(H5Tis_variable_str(mt), 0);
    H5Tclose(mt);
  }
  H5Tclose(t);

  char attr[2048];
  read_attr_text(d, "description", attr, sizeof attr);
  CHECK_STREQ(attr, "L1 detector events: one row per emitted event after aggregation, debounce "
                 "and volume cap");
  read_attr_text(d, "units", attr, sizeof attr);
  for (int i = 0; i < NFIELDS; i++)
    CHECK(strstr(attr, FIELDS[i]) != NULL);
  return d;
}

static void verify_three(const char *path) {
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  CHECK(file >= 0);
  hid_t d = open_table(file, 3);
  row r[3];
  memset(r, 0x55, sizeof r);
  hid_t mt = row_type();
  CHECK(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, r) >= 0);
  H5Tclose(mt);
  H5Dclose(d);
  CHECK(H5Fclose(file) >= 0);

  CHECK_EQ(r[0].event_id, 0);
  CHECK_NEAR(r[0].t_s, 300, 0);
  CHECK_EQ(r[0].step, 0);
  CHECK_STREQ(TEXT(r[0].scope), "gpu");
  CHECK_EQ(r[0].node, 5);
  CHECK_EQ(r[0].rack, 1);
  CHECK_EQ(r[0].job, 0);
  CHECK_EQ(r[0].tenant, 2);
  CHECK_EQ(r[0].nodes, 1);
  CHECK_STREQ(TEXT(r[0].metric), "gpu_temp_celsius");
  CHECK_EQ(r[0].gpu, 3);
  CHECK_NEAR(r[0].z, 12.5, 0);
  CHECK_NEAR(r[0].value, 88.25, 0);
  CHECK_NEAR(r[0].baseline, 75.5, 0);
  CHECK_NEAR(r[0].trend_z, 1.5, 0);
  CHECK_EQ(r[0].escalated, 1);
  CHECK_STREQ(TEXT(r[0].escalation_reason), "gpu_nvlink_replay_total");
  CHECK_STREQ(TEXT(r[0].cooccur), "gpu_power_watts/gpu3:4.3;inlet_temp_celsius:-3.0");

  CHECK_EQ(r[1].event_id, 1);
  CHECK_NEAR(r[1].t_s, 600, 0);
  CHECK_EQ(r[1].step, 1);
  CHECK_STREQ(TEXT(r[1].scope), "rack");
  CHECK_EQ(r[1].node, 7);
  CHECK_EQ(r[1].job, -1);
  CHECK_EQ(r[1].tenant, 1);
  CHECK_EQ(r[1].nodes, 4);
  CHECK_STREQ(TEXT(r[1].metric), LONG_METRIC);
  CHECK_EQ(r[1].gpu, -1);
  CHECK_NEAR(r[1].z, 7.25, 0);
  CHECK_EQ(r[1].escalated, 0);
  CHECK_STREQ(TEXT(r[1].escalation_reason), "");
  const char *item = LONG_METRIC "/gpu7:123.4";
  char want[300];
  snprintf(want, sizeof want, "%s;%s;%s;%s", item, item, item, item);
  CHECK_EQ(strlen(want), 235);
  CHECK_STREQ(TEXT(r[1].cooccur), want);
  CHECK(r[1].cooccur[255] == '\0'); /* terminated within the field */

  CHECK_EQ(r[2].event_id, (int64_t)1 << 40);
  CHECK_NEAR(r[2].t_s, 86100.5, 0);
  CHECK_EQ(r[2].step, 286);
  CHECK_STREQ(TEXT(r[2].scope), "cluster");
  CHECK_EQ(r[2].nodes, 30);
  CHECK_STREQ(TEXT(r[2].metric), "expert_selection_entropy_nats");
  CHECK_NEAR(r[2].z, -8, 0);
  CHECK(isnan(r[2].value));
  CHECK_NEAR(r[2].baseline, 2.5, 0);
  CHECK_NEAR(r[2].trend_z, -2.5, 0);
  CHECK_EQ(r[2].escalated, 1);
  CHECK_STREQ(TEXT(r[2].escalation_reason), "cluster_scope");
  CHECK_STREQ(TEXT(r[2].cooccur), "");
}

static void verify_empty(const char *path) {
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  CHECK(file >= 0);
  hid_t d = open_table(file, 0);
  H5Dclose(d);
  CHECK(H5Fclose(file) >= 0);
}

/* ---- the parallel part ---------------------------------------------------- */

/* par_rack_range_of tiles [0, racks) in rank order with counts that differ
 * by at most one, the larger ones on the highest ranks (rank 0 prints). */
static void test_rack_ranges(void) {
  for (int size = 1; size <= 7; size++)
    for (int racks = size; racks <= 26; racks++) {
      int next = 0, first, count, count0 = 0;
      for (int r = 0; r < size; r++) {
        par_rack_range_of(racks, r, size, &first, &count);
        CHECK_EQ(first, next);
        CHECK(count == racks / size || count == racks / size + 1);
        count0 = r == 0 ? count : count0;
        next = first + count;
      }
      CHECK_EQ(next, racks);
      CHECK(count0 <= count);
    }
}

int main(int argc, char **argv) {
  CHECK_EQ(par_init(&argc, &argv), 0);
  const int root = par_rank() == 0;
  CHECK(par_size() <= RACKS);
  test_rack_ranges();

  char *dir = NULL;
  char tmpl[] = "/tmp/fleetsim-mpi-events-XXXXXX";
  if (root)
    CHECK((dir = mkdtemp(tmpl)) != NULL);
  CHECK_EQ(par_bcast_text(&dir), 0);
  char path[512], empty[512];
  snprintf(path, sizeof path, "%s/events.h5", dir);
  snprintf(empty, sizeof empty, "%s/empty.h5", dir);

  int rack0, nracks;
  par_rack_range(RACKS, &rack0, &nracks);
  const h5a_layout lay = {.scrapes = T, .nodes = NODES, .nodes_per_rack = NPR,
                          .window_scrapes = T, .node0 = rack0 * NPR, .nnodes = nracks * NPR};
  const h5a_provenance prov = {.version = "0.0-test", .git_commit = "abcdef123456",
                               .config_json = "{}", .seed = 1, .ranks = par_size(),
                               .scrape_interval_s = 15};

  /* three events: rank 1 passes nothing, rank 2 a count that is ignored */
  ev_event events[3];
  make_events(events);
  h5a_writer *w = NULL;
  CHECK_EQ(h5a_create(&w, path, &lay, &prov), 0);
  int rc = root                ? h5a_write_events(w, events, 3)
           : par_rank() == 1 ? h5a_write_events(w, NULL, 0)
                             : h5a_write_events(w, NULL, 5);
  CHECK_EQ(rc, 0);
  /* a second table in the same file: an HDF5 error on every rank */
  diag_clear();
  CHECK_EQ(h5a_write_events(w, root ? events : NULL, root ? 1 : 0), FS_EHDF5);
  if (!strstr(diag_first(), "/events"))
    CHECK_FAIL("diag_first() = \"%s\"", diag_first());
  check_count++;
  if (root)
    printf("mpi_events: expected failure reads: %s\n", diag_first());
  diag_clear();
  CHECK_EQ(h5a_finish(&w), 0);

  /* no events; a negative count on rank 0 is refused everywhere first */
  CHECK_EQ(h5a_create(&w, empty, &lay, &prov), 0);
  CHECK_EQ(h5a_write_events(w, NULL, root ? -1 : 0), FS_EINVAL);
  CHECK(diag_count() >= 1);
  diag_clear();
  CHECK_EQ(h5a_write_events(w, NULL, 0), 0);
  CHECK_EQ(h5a_finish(&w), 0);
  CHECK_EQ(h5a_write_events(NULL, NULL, 0), FS_EINVAL);
  diag_clear();

  if (root) {
    verify_three(path);
    verify_empty(empty);
    CHECK(unlink(path) == 0);
    CHECK(unlink(empty) == 0);
    CHECK(rmdir(dir) == 0);
    printf("mpi_events: %ld checks passed on %d ranks\n", check_count, par_size());
  } else {
    free(dir);
  }
  CHECK_EQ(par_agree(0), 0);
  par_finalize();
  return 0;
}

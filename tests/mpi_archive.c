/* MPI test of the archive writer (io/archive.c): every rank writes its racks
 * of a small fleet (3 racks x 4 nodes, 50 scrapes in windows of 20, so the
 * last window is partial), plus topology and ground truth, once with every
 * archive_compression (none, lz4, deflate: filtered collective writes); rank
 * 0 then reopens each file with plain serial HDF5 and check_count every value,
 * attribute and filter, the dimension scales and the /xarray views. Also
 * check_count h5a_abandon (the .partial stays) and a create that must fail. */
#include <hdf5.h>
#include <hdf5_hl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/archive.h"
#include "io/compression.h"
#include "mpi/par.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/model/config.h"
#include "src/model/fleet.h"
#include "src/model/metrics.h"
#include "tests/check.h"

enum { T = 50, WINDOW = 20, NODES = 12, RACKS = 3, NPR = NODES / RACKS };

/* The archive_compression of the file being verified. */
static int compression;

/* ---- the values every rank writes: functions of (metric, t, node, gpu) ---- */

static uint32_t gpu_code(int m, int t, int node, int g) {
  return (((uint32_t)m * 64 + (uint32_t)t) * 16 + (uint32_t)node) * 8 + (uint32_t)g;
}

static tel_cell gpu_value(int m, int t, int node, int g) {
  tel_cell c;
  uint32_t code = gpu_code(m, t, node, g);
  if (metric_gpu[m].type == MT_U32)
    c.u = code | 0x80000000u; /* high bit set: catches a signed type */
  else
    c.f = (float)code + 0.5f; /* < 2^19: exact in float */
  return c;
}

/* NaN where the metric does not apply to the node's tenant. */
static tel_cell node_value(int m, int t, int node, const fleet *f) {
  tel_cell c;
  uint32_t code = ((uint32_t)m * 64 + (uint32_t)t) * 16 + (uint32_t)node;
  if (metric_node[m].type == MT_U32)
    c.u = code * 3u + 0xC0000000u;
  else if (!(metric_node[m].tenants & (1u << f->node_tenant[node])))
    c.f = NAN;
  else
    c.f = (float)code * 0.25f;
  return c;
}

static float cluster_value(int m, int t) { return (float)(m * 1000 + t) + 0.25f; }

/* Same bits, or both NaN. */
static int cell_same(tel_cell a, tel_cell b, metric_type type) {
  if (type == MT_F32 && isnan(a.f) && isnan(b.f))
    return 1;
  return a.u == b.u;
}

/* ---- serial reading helpers (rank 0) -------------------------------------- */

/* Text of a scalar string attribute (variable or fixed length) into out. */
static void read_attr_text(hid_t obj, const char *name, char *out, size_t cap) {
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0)
    CHECK_FAIL("attribute '%s' missing", name);
  hid_t t = H5Aget_type(a);
  CHECK(t >= 0);
  CHECK_EQ(H5Tget_class(t), H5T_STRING);
  if (H5Tis_variable_str(t) > 0) {
    char *s = NULL;
    CHECK(H5Aread(a, t, &s) >= 0);
    CHECK(s != NULL);
    snprintf(out, cap, "%s", s);
    H5free_memory(s);
  } else {
    size_t n = H5Tget_size(t);
    char *s = calloc(n + 1, 1);
    CHECK(s && H5Aread(a, t, s) >= 0);
    snprintf(out, cap, "%s", s);
    free(s);
  }
  H5Tclose(t);
  H5Aclose(a);
  check_count++;
}

static long long read_attr_int(hid_t obj, const char *name) {
  long long v = 0;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0)
    CHECK_FAIL("attribute '%s' missing", name);
  CHECK(H5Aread(a, H5T_NATIVE_LLONG, &v) >= 0);
  H5Aclose(a);
  return v;
}

static long long file_size(const char *path) {
  struct stat st;
  CHECK(stat(path, &st) == 0);
  return (long long)st.st_size;
}

/* Reads a whole dataset in memory type mtype; check_count its element count. */
static void read_all(hid_t file, const char *path, hid_t mtype, void *buf, hsize_t want) {
  hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
  if (d < 0)
    CHECK_FAIL("dataset %s missing", path);
  hid_t s = H5Dget_space(d);
  CHECK_EQ(H5Sget_simple_extent_npoints(s), want);
  if (want > 0)
    CHECK(H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
  H5Sclose(s);
  H5Dclose(d);
}

/* Shape, storage type and chunking of one telemetry dataset. */
static void check_layout(hid_t d, const char *path, int rank, const hsize_t *dims,
                         const hsize_t *chunk, hid_t ftype) {
  hid_t s = H5Dget_space(d), t = H5Dget_type(d), p = H5Dget_create_plist(d);
  hsize_t got[3] = {0, 0, 0}, gotc[3] = {0, 0, 0};
  CHECK_EQ(H5Sget_simple_extent_ndims(s), rank);
  H5Sget_simple_extent_dims(s, got, NULL);
  CHECK_EQ(H5Pget_layout(p), H5D_CHUNKED);
  CHECK_EQ(H5Pget_chunk(p, 3, gotc), rank);
  /* the filters of `compression`: none, or byte shuffle then the compressor */
  CHECK_EQ(H5Pget_nfilters(p), compression == CFG_COMPRESSION_NONE ? 0 : 2);
  if (compression != CFG_COMPRESSION_NONE) {
    unsigned flags = 0, cd[4] = {0};
    size_t ncd = 4;
    CHECK_EQ(H5Pget_filter2(p, 0, &flags, &ncd, cd, 0, NULL, NULL), H5Z_FILTER_SHUFFLE);
    ncd = 4;
    CHECK_EQ(H5Pget_filter2(p, 1, &flags, &ncd, cd, 0, NULL, NULL),
             compression == CFG_COMPRESSION_LZ4 ? H5C_FILTER_LZ4 : H5Z_FILTER_DEFLATE);
  }
  for (int i = 0; i < rank; i++) {
    if (got[i] != dims[i] || gotc[i] != chunk[i])
      CHECK_FAIL("%s: dim %d is %llu chunk %llu, want %llu chunk %llu", path, i,
                 (unsigned long long)got[i], (unsigned long long)gotc[i],
                 (unsigned long long)dims[i], (unsigned long long)chunk[i]);
    check_count++;
  }
  if (H5Tequal(t, ftype) <= 0)
    CHECK_FAIL("%s: unexpected storage type", path);
  check_count++;
  H5Pclose(p);
  H5Tclose(t);
  H5Sclose(s);
}

static void verify_telemetry(hid_t file, const fleet *f) {
  tel_cell *buf = malloc(sizeof *buf * T * NODES * FLEET_GPUS);
  CHECK(buf != NULL);
  char path[256], text[256];
  const hsize_t d3[3] = {T, NODES, FLEET_GPUS}, c3[3] = {WINDOW, NPR, FLEET_GPUS};
  const hsize_t d2[2] = {T, NODES}, c2[2] = {WINDOW, NPR}, d1 = T, c1 = WINDOW;
  for (int m = 0; m < GM_COUNT; m++) {
    const metric_def *md = &metric_gpu[m];
    snprintf(path, sizeof path, "/telemetry/gpu/%s", md->name);
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    CHECK(d >= 0);
    int u32 = md->type == MT_U32;
    check_layout(d, path, 3, d3, c3, u32 ? H5T_STD_U32LE : H5T_IEEE_F32LE);
    read_attr_text(d, "units", text, sizeof text);
    CHECK_STREQ(text, md->units);
    read_attr_text(d, "long_name", text, sizeof text);
    CHECK_STREQ(text, md->long_name);
    read_attr_text(d, "dcgm_field", text, sizeof text);
    CHECK_STREQ(text, md->dcgm_field);
    CHECK(H5Dread(d, u32 ? H5T_NATIVE_UINT32 : H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
               buf) >= 0);
    for (int t = 0; t < T; t++)
      for (int n = 0; n < NODES; n++)
        for (int g = 0; g < FLEET_GPUS; g++) {
          tel_cell want = gpu_value(m, t, n, g), got = buf[(t * NODES + n) * FLEET_GPUS + g];
          if (!cell_same(want, got, md->type))
            CHECK_FAIL("%s[%d,%d,%d] = 0x%08x, want 0x%08x", path, t, n, g, got.u, want.u);
        }
    check_count++;
    H5Dclose(d);
  }
  for (int m = 0; m < NM_COUNT; m++) {
    const metric_def *md = &metric_node[m];
    snprintf(path, sizeof path, "/telemetry/node/%s", md->name);
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    CHECK(d >= 0);
    int u32 = md->type == MT_U32;
    check_layout(d, path, 2, d2, c2, u32 ? H5T_STD_U32LE : H5T_IEEE_F32LE);
    read_attr_text(d, "units", text, sizeof text);
    CHECK_STREQ(text, md->units);
    CHECK_EQ(H5Aexists(d, "dcgm_field"), 0);
    CHECK_EQ(H5Aexists(d, "tenants"), md->tenants != TM_ALL);
    CHECK(H5Dread(d, u32 ? H5T_NATIVE_UINT32 : H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
               buf) >= 0);
    for (int t = 0; t < T; t++)
      for (int n = 0; n < NODES; n++) {
        tel_cell want = node_value(m, t, n, f), got = buf[t * NODES + n];
        if (!cell_same(want, got, md->type))
          CHECK_FAIL("%s[%d,%d] = 0x%08x, want 0x%08x", path, t, n, got.u, want.u);
      }
    check_count++;
    H5Dclose(d);
  }
  /* tenants attribute of an inference-only metric */
  hid_t d = H5Dopen2(file, "/telemetry/node/ttft_ms", H5P_DEFAULT);
  read_attr_text(d, "tenants", text, sizeof text);
  CHECK_STREQ(text, "moe-inference,dense-inference");
  H5Dclose(d);
  float *cl = (float *)buf;
  for (int m = 0; m < CM_COUNT; m++) {
    snprintf(path, sizeof path, "/telemetry/cluster/%s", metric_cluster[m].name);
    d = H5Dopen2(file, path, H5P_DEFAULT);
    CHECK(d >= 0);
    check_layout(d, path, 1, &d1, &c1, H5T_IEEE_F32LE);
    read_attr_text(d, "units", text, sizeof text);
    CHECK_STREQ(text, metric_cluster[m].units);
    H5Dclose(d);
    read_all(file, path, H5T_NATIVE_FLOAT, cl, T);
    for (int t = 0; t < T; t++)
      if (cl[t] != cluster_value(m, t))
        CHECK_FAIL("%s[%d] = %g, want %g", path, t, cl[t], cluster_value(m, t));
    check_count++;
  }
  double secs[T];
  d = H5Dopen2(file, "/time/seconds", H5P_DEFAULT);
  check_layout(d, "/time/seconds", 1, &d1, &c1, H5T_IEEE_F64LE);
  H5Dclose(d);
  read_all(file, "/time/seconds", H5T_NATIVE_DOUBLE, secs, T);
  for (int t = 0; t < T; t++)
    CHECK_NEAR(secs[t], t * 15.0, 0);
  free(buf);
}

/* The dimension scale attached to dimension dim of dataset d is the dataset
 * at scale_path, whose scale name is name. */
static void check_scale(hid_t file, hid_t d, const char *path, unsigned dim,
                        const char *scale_path, const char *name) {
  hid_t s = H5Dopen2(file, scale_path, H5P_DEFAULT);
  CHECK(s >= 0);
  if (H5DSis_attached(d, s, dim) <= 0)
    CHECK_FAIL("%s: dimension %u has no scale %s", path, dim, scale_path);
  char got[64] = "";
  CHECK(H5DSget_scale_name(s, got, sizeof got) > 0);
  CHECK_STREQ(got, name);
  CHECK_EQ(H5DSget_num_scales(d, dim), 1);
  H5Dclose(s);
}

/* A soft link at link pointing to target. */
static void check_soft_link(hid_t file, const char *link, const char *target) {
  H5L_info_t info;
  if (H5Lget_info(file, link, &info, H5P_DEFAULT) < 0)
    CHECK_FAIL("link %s missing", link);
  CHECK_EQ(info.type, H5L_TYPE_SOFT);
  char got[256] = "";
  CHECK(info.u.val_size <= sizeof got && H5Lget_val(file, link, got, sizeof got, H5P_DEFAULT) >= 0);
  CHECK_STREQ(got, target);
}

/* The coordinates: /node, /gpu, /rack, /telemetry/time and time_utc, the
 * scales time, node, gpu on every telemetry dataset, the /xarray views. */
static void verify_coordinates(hid_t file, double start_hour) {
  char names[NODES][10], text[256], path[256], link[256];
  int32_t rack[NODES], gpu[FLEET_GPUS];
  double secs[T], utc[T];
  hid_t st = H5Tcopy(H5T_C_S1);
  CHECK(st >= 0 && H5Tset_size(st, 10) >= 0);
  read_all(file, "/node", st, names, NODES);
  H5Tclose(st);
  read_all(file, "/rack", H5T_NATIVE_INT32, rack, NODES);
  read_all(file, "/gpu", H5T_NATIVE_INT32, gpu, FLEET_GPUS);
  for (int n = 0; n < NODES; n++) {
    char want[16];
    snprintf(want, sizeof want, "node-%04d", n);
    CHECK_STREQ(names[n], want);
    CHECK_EQ(rack[n], n / NPR);
  }
  for (int g = 0; g < FLEET_GPUS; g++)
    CHECK_EQ(gpu[g], g);
  read_all(file, "/telemetry/time", H5T_NATIVE_DOUBLE, secs, T);
  read_all(file, "/telemetry/time_utc", H5T_NATIVE_DOUBLE, utc, T);
  for (int t = 0; t < T; t++) {
    CHECK_NEAR(secs[t], t * 15.0, 0);
    CHECK_NEAR(utc[t], start_hour * 3600.0 + t * 15.0, 0);
  }
  hid_t d = H5Dopen2(file, "/telemetry/time_utc", H5P_DEFAULT);
  read_attr_text(d, "units", text, sizeof text);
  CHECK_STREQ(text, "seconds since 1970-01-01T00:00:00Z");
  check_scale(file, d, "/telemetry/time_utc", 0, "/telemetry/time", "time");
  H5Dclose(d);
  d = H5Dopen2(file, "/rack", H5P_DEFAULT);
  check_scale(file, d, "/rack", 0, "/node", "node");
  H5Dclose(d);
  static const char *const scope[] = {"gpu", "node", "cluster"};
  const int count[] = {GM_COUNT, NM_COUNT, CM_COUNT};
  const metric_def *const defs[] = {metric_gpu, metric_node, metric_cluster};
  static const char *const scale_path[] = {"/telemetry/time", "/node", "/gpu"};
  static const char *const scale_name[] = {"time", "node", "gpu"};
  for (int s = 0; s < 3; s++)
    for (int m = 0; m < count[s]; m++) {
      snprintf(path, sizeof path, "/telemetry/%s/%s", scope[s], defs[s][m].name);
      d = H5Dopen2(file, path, H5P_DEFAULT);
      CHECK(d >= 0);
      read_attr_text(d, "dimensions", text, sizeof text);
      CHECK_STREQ(text, s == 0 ? "time,node,gpu" : s == 1 ? "time,node" : "time");
      for (int dim = 0; dim < 3 - s; dim++)
        check_scale(file, d, path, (unsigned)dim, scale_path[dim], scale_name[dim]);
      H5Dclose(d);
      snprintf(link, sizeof link, "/xarray/%s/%s", scope[s], defs[s][m].name);
      check_soft_link(file, link, path);
    }
  check_soft_link(file, "/xarray/gpu/gpu", "/gpu");
  check_soft_link(file, "/xarray/gpu/rack", "/rack");
  check_soft_link(file, "/xarray/node/node", "/node");
  check_soft_link(file, "/xarray/cluster/time", "/telemetry/time");
  check_soft_link(file, "/xarray/cluster/time_utc", "/telemetry/time_utc");
  CHECK_EQ(H5Lexists(file, "/xarray/cluster/node", H5P_DEFAULT), 0);
  CHECK_EQ(H5Lexists(file, "/xarray/node/gpu", H5P_DEFAULT), 0);
  hid_t g = H5Gopen2(file, "/xarray/node", H5P_DEFAULT);
  read_attr_text(g, "coordinates", text, sizeof text);
  CHECK_STREQ(text, "rack time_utc");
  H5Gclose(g);
}

static void verify_root(hid_t file, const char *config_json, uint64_t seed) {
  char text[8192];
  CHECK_EQ(read_attr_int(file, "complete"), 1);
  CHECK_EQ(read_attr_int(file, "ranks"), par_size());
  CHECK_EQ(read_attr_int(file, "scrape_interval_s"), 15);
  uint64_t s = 0;
  hid_t a = H5Aopen(file, "seed", H5P_DEFAULT);
  CHECK(a >= 0 && H5Aread(a, H5T_NATIVE_UINT64, &s) >= 0);
  H5Aclose(a);
  CHECK(s == seed);
  read_attr_text(file, "version", text, sizeof text);
  CHECK_STREQ(text, "0.0-test");
  read_attr_text(file, "git_commit", text, sizeof text);
  CHECK_STREQ(text, "abcdef123456");
  read_attr_text(file, "config", text, sizeof text);
  CHECK_STREQ(text, config_json);
  read_attr_text(file, "scenarios", text, sizeof text);
  CHECK_STREQ(text, "{\"scenarios\": []}");
  read_attr_text(file, "created_utc", text, sizeof text);
  CHECK_EQ(strlen(text), 20); /* 2026-01-02T03:04:05Z */
  CHECK(text[4] == '-' && text[10] == 'T' && text[19] == 'Z');
}

static void verify_topology(hid_t file, const fleet *f) {
  int32_t i32[NODES * FLEET_GPUS];
  uint8_t u8[NODES];
  char text[256];
  read_all(file, "/topology/node_rack", H5T_NATIVE_INT32, i32, NODES);
  CHECK(memcmp(i32, f->node_rack, sizeof(int32_t) * NODES) == 0);
  read_all(file, "/topology/node_tenant", H5T_NATIVE_UINT8, u8, NODES);
  CHECK(memcmp(u8, f->node_tenant, NODES) == 0);
  read_all(file, "/topology/node_job", H5T_NATIVE_INT32, i32, NODES);
  CHECK(memcmp(i32, f->node_job, sizeof(int32_t) * NODES) == 0);
  read_all(file, "/topology/node_job_rank", H5T_NATIVE_INT32, i32, NODES);
  CHECK(memcmp(i32, f->node_job_rank, sizeof(int32_t) * NODES) == 0);
  read_all(file, "/topology/gpu_lot", H5T_NATIVE_INT32, i32, NODES * FLEET_GPUS);
  CHECK(memcmp(i32, f->gpu_lot, sizeof(int32_t) * NODES * FLEET_GPUS) == 0);
  read_all(file, "/topology/rack_row", H5T_NATIVE_INT32, i32, RACKS);
  for (int r = 0; r < RACKS; r++)
    CHECK_EQ(i32[r], fleet_rack_row(f, r));
  read_all(file, "/topology/job_offset", H5T_NATIVE_INT32, i32, 2);
  CHECK_EQ(i32[0], 0);
  CHECK_EQ(i32[1], 2);
  read_all(file, "/topology/job_nodes", H5T_NATIVE_INT32, i32, 2);
  CHECK(memcmp(i32, f->job_nodes, sizeof(int32_t) * 2) == 0);
  double step = 0;
  read_all(file, "/topology/job_step_time_s", H5T_NATIVE_DOUBLE, &step, 1);
  CHECK_NEAR(step, 1.5, 0);

  hid_t d = H5Dopen2(file, "/topology/job_id", H5P_DEFAULT);
  hid_t t = H5Dget_type(d);
  size_t n = H5Tget_size(t);
  char *s = calloc(n + 1, 1);
  CHECK(s && H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) >= 0);
  CHECK_STREQ(s, "train-000");
  free(s);
  H5Tclose(t);
  H5Dclose(d);
  d = H5Dopen2(file, "/topology/job_model", H5P_DEFAULT);
  t = H5Dget_type(d);
  n = H5Tget_size(t);
  s = calloc(n + 1, 1);
  CHECK(s && H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) >= 0);
  CHECK_STREQ(s, "tiny-test-model");
  free(s);
  H5Tclose(t);
  H5Dclose(d);
  d = H5Dopen2(file, "/topology/node_tenant", H5P_DEFAULT);
  read_attr_text(d, "values", text, sizeof text);
  CHECK_STREQ(text, "0 moe-inference, 1 dense-inference, 2 training");
  H5Dclose(d);
}

/* Ground truth as test_gt() below wrote it. */
static void verify_ground_truth(hid_t file) {
  typedef struct {
    char id[16];
    char kind[40];
    double start_s, end_s;
  } row;
  row rows[2];
  memset(rows, 0, sizeof rows);
  hid_t idt = H5Tcopy(H5T_C_S1), kindt = H5Tcopy(H5T_C_S1);
  H5Tset_size(idt, sizeof rows[0].id);
  H5Tset_size(kindt, sizeof rows[0].kind);
  hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(row));
  H5Tinsert(mt, "id", offsetof(row, id), idt);
  H5Tinsert(mt, "kind", offsetof(row, kind), kindt);
  H5Tinsert(mt, "start_s", offsetof(row, start_s), H5T_NATIVE_DOUBLE);
  H5Tinsert(mt, "end_s", offsetof(row, end_s), H5T_NATIVE_DOUBLE);
  read_all(file, "/ground_truth/scenarios", mt, rows, 2);
  CHECK_STREQ(rows[0].id, "S1");
  CHECK_STREQ(rows[0].kind, "thermal_cascade");
  CHECK_NEAR(rows[0].start_s, 300, 0);
  CHECK_NEAR(rows[0].end_s, 600, 0);
  CHECK_STREQ(rows[1].id, "S10");
  CHECK_STREQ(rows[1].kind, "kv_cache_eviction_storm");
  CHECK_NEAR(rows[1].start_s, 150, 0);
  CHECK_NEAR(rows[1].end_s, 450, 0);
  H5Tclose(mt);
  H5Tclose(idt);
  H5Tclose(kindt);

  int32_t v[8];
  read_all(file, "/ground_truth/S1/nodes", H5T_NATIVE_INT32, v, 2);
  CHECK(v[0] == 1 && v[1] == 2);
  read_all(file, "/ground_truth/S1/impacted", H5T_NATIVE_INT32, v, 4);
  CHECK(v[0] == 1 && v[1] == 2 && v[2] == 3 && v[3] == 5);
  read_all(file, "/ground_truth/S1/gpus", H5T_NATIVE_INT32, v, 2);
  CHECK(v[0] == 9 && v[1] == 17);
  read_all(file, "/ground_truth/S10/nodes", H5T_NATIVE_INT32, v, 1);
  CHECK_EQ(v[0], 4);
  read_all(file, "/ground_truth/S10/gpus", H5T_NATIVE_INT32, v, 0); /* empty */
  char text[256];
  hid_t g = H5Gopen2(file, "/ground_truth/S1", H5P_DEFAULT);
  read_attr_text(g, "params", text, sizeof text);
  CHECK_STREQ(text, "{\"inlet_rise_c\": 8}");
  H5Gclose(g);
}

/* ---- the parallel part ---------------------------------------------------- */

/* Rank 0's ground truth is written; the others pass the ids only. */
static int write_ground_truth(h5a_writer *w) {
  static const int32_t n1[] = {1, 2}, i1[] = {1, 2, 3, 5}, g1[] = {9, 17}, n2[] = {4};
  h5a_scenario gt[2] = {{.id = "S1"}, {.id = "S10"}};
  if (par_rank() == 0) {
    gt[0] = (h5a_scenario){"S1", "thermal_cascade", "{\"inlet_rise_c\": 8}", 300, 600, n1, 2,
                           i1, 4, g1, 2};
    gt[1] = (h5a_scenario){"S10", "kv_cache_eviction_storm", "{}", 150, 450, n2, 1, n2, 1,
                           NULL, 0};
  }
  return h5a_write_ground_truth(w, gt, 2);
}

static void build_config(fs_config *cfg) {
  cfg_defaults(cfg);
  static const char *const set[][2] = {
      {"nodes", "12"},      {"racks", "3"},        {"moe_nodes", "4"}, {"dense_nodes", "4"},
      {"training_nodes", "4"}, {"window_scrapes", "20"}, {"seed", "12345"},
      {"start_hour", "6.5"},
  };
  for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
    if (cfg_set(cfg, set[i][0], set[i][1], "test") != 0)
      CHECK_FAIL("cfg_set %s: %s", set[i][0], diag_first());
  const char *jobs = "{\"jobs\": [{\"id\": \"train-000\", \"model\": \"tiny-test-model\", "
                     "\"nodes\": 2, \"step_time_s\": 1.5}]}";
  if (cfg_apply_json(cfg, jobs, "test.json") != 0 || cfg_validate(cfg) != 0)
    CHECK_FAIL("config: %s", diag_first());
}

int main(int argc, char **argv) {
  CHECK_EQ(par_init(&argc, &argv), 0);
  const int rank = par_rank(), root = rank == 0;
  CHECK(par_size() <= RACKS);

  char *dir = NULL;
  char tmpl[] = "/tmp/fleetsim-mpi-archive-XXXXXX";
  if (root)
    CHECK((dir = mkdtemp(tmpl)) != NULL);
  CHECK_EQ(par_bcast_text(&dir), 0);
  char path[512], partial[600];
  snprintf(path, sizeof path, "%s/fleet.h5", dir);
  snprintf(partial, sizeof partial, "%s.partial", path);

  static fs_config cfg;
  build_config(&cfg);
  fleet *f = NULL;
  CHECK_EQ(fleet_init(&f, &cfg), 0);
  char *config_json = cfg_to_json(&cfg);
  CHECK(config_json != NULL);

  int rack0, nracks;
  par_rack_range(RACKS, &rack0, &nracks);
  const h5a_layout lay = {.scrapes = T, .nodes = NODES, .nodes_per_rack = NPR,
                          .window_scrapes = WINDOW, .node0 = rack0 * NPR, .nnodes = nracks * NPR};
  h5a_provenance prov = {.version = "0.0-test",
                         .git_commit = "abcdef123456",
                         .config_json = config_json,
                         .scenarios_json = "{\"scenarios\": []}",
                         .seed = 0xFEEDFACECAFEBEEFull,
                         .ranks = par_size(),
                         .scrape_interval_s = 15};

  /* window buffers, [WINDOW][nnodes][8] resp. [WINDOW][nnodes] */
  const int nl = lay.nnodes;
  tel_cell *gpu[GM_COUNT], *node[NM_COUNT];
  float *cluster[CM_COUNT];
  double time_s[WINDOW];
  for (int m = 0; m < GM_COUNT; m++)
    CHECK((gpu[m] = malloc(sizeof(tel_cell) * WINDOW * nl * FLEET_GPUS)) != NULL);
  for (int m = 0; m < NM_COUNT; m++)
    CHECK((node[m] = malloc(sizeof(tel_cell) * WINDOW * nl)) != NULL);
  for (int m = 0; m < CM_COUNT; m++)
    CHECK((cluster[m] = malloc(sizeof(float) * WINDOW)) != NULL);

  h5a_writer *w = NULL;
  /* the same archive with each compression; the last (deflate) file stays
   * for the checks below and the clean-up */
  for (compression = CFG_COMPRESSION_NONE; compression <= CFG_COMPRESSION_DEFLATE; compression++) {
    cfg.archive_compression = compression;
    free(config_json);
    CHECK((config_json = cfg_to_json(&cfg)) != NULL);
    prov.config_json = config_json;
    if (root && compression > CFG_COMPRESSION_NONE)
      CHECK(unlink(path) == 0);
    CHECK_EQ(par_agree(0), 0);
    CHECK_EQ(h5a_create(&w, path, &lay, &prov), 0);
    CHECK(w != NULL);
    CHECK_EQ(h5a_write_topology(w, f), 0);
    CHECK_EQ(write_ground_truth(w), 0);
    for (int t0 = 0; t0 < T; t0 += WINDOW) {
      int n = T - t0 < WINDOW ? T - t0 : WINDOW;
      for (int r = 0; r < n; r++) {
        for (int i = 0; i < nl; i++) {
          for (int m = 0; m < GM_COUNT; m++)
            for (int g = 0; g < FLEET_GPUS; g++)
              gpu[m][(r * nl + i) * FLEET_GPUS + g] = gpu_value(m, t0 + r, lay.node0 + i, g);
          for (int m = 0; m < NM_COUNT; m++)
            node[m][r * nl + i] = node_value(m, t0 + r, lay.node0 + i, f);
        }
        for (int m = 0; m < CM_COUNT; m++)
          cluster[m][r] = cluster_value(m, t0 + r);
        time_s[r] = (t0 + r) * 15.0;
      }
      /* only rank 0's cluster and time buffers are read */
      CHECK_EQ(h5a_write_window(w, t0, n, gpu, node, root ? (const float *const *)cluster : NULL,
                                root ? time_s : NULL),
               0);
    }
    /* a window past the end is refused on every rank */
    CHECK_EQ(h5a_write_window(w, T - 5, 10, gpu, node, (const float *const *)cluster, time_s),
             FS_EINVAL);
    diag_clear();
    CHECK_EQ(h5a_finish(&w), 0);
    CHECK(w == NULL);

    if (root) {
      CHECK(access(partial, F_OK) != 0);
      hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
      CHECK(file >= 0);
      verify_root(file, config_json, 0xFEEDFACECAFEBEEFull);
      verify_telemetry(file, f);
      verify_coordinates(file, 6.5);
      verify_topology(file, f);
      verify_ground_truth(file);
      CHECK(H5Fclose(file) >= 0);
      printf("mpi_archive: archive_compression %s: %lld bytes\n", cfg_compression_name(compression),
             (long long)file_size(path));
    }
    CHECK_EQ(par_agree(0), 0);
  }

  /* abandon: the .partial stays, complete = 0, no final file */
  char apath[600], apartial[700];
  snprintf(apath, sizeof apath, "%s/abandoned.h5", dir);
  snprintf(apartial, sizeof apartial, "%s.partial", apath);
  CHECK_EQ(h5a_create(&w, apath, &lay, &prov), 0);
  CHECK_EQ(h5a_write_topology(w, f), 0);
  /* an HDF5 failure (a scenario id used twice) is FS_EHDF5 with a message */
  diag_clear();
  h5a_scenario twice[2] = {{.id = "S1", .kind = "thermal_cascade"},
                           {.id = "S1", .kind = "thermal_cascade"}};
  CHECK_EQ(h5a_write_ground_truth(w, twice, 2), FS_EHDF5);
  if (!strstr(diag_first(), "/ground_truth/S1"))
    CHECK_FAIL("diag_first() = \"%s\"", diag_first());
  check_count++;
  if (root)
    printf("mpi_archive: expected failure reads: %s\n", diag_first());
  diag_clear();
  h5a_abandon(&w);
  CHECK(w == NULL);
  h5a_abandon(&w); /* accepts NULL */
  if (root) {
    CHECK(access(apath, F_OK) != 0);
    hid_t file = H5Fopen(apartial, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(file >= 0);
    CHECK_EQ(read_attr_int(file, "complete"), 0);
    CHECK(H5Fclose(file) >= 0);
  }
  CHECK_EQ(par_agree(0), 0);

  /* a file that cannot be created: FS_EIO on every rank, one clear message */
  char bad[600];
  snprintf(bad, sizeof bad, "%s/no-such-dir/fleet.h5", dir);
  diag_clear();
  CHECK_EQ(h5a_create(&w, bad, &lay, &prov), FS_EIO);
  CHECK(w == NULL);
  CHECK(diag_count() >= 1);
  if (!strstr(diag_first(), bad) || !strstr(diag_first(), "No such file or directory"))
    CHECK_FAIL("diag_first() = \"%s\"", diag_first());
  if (root)
    printf("mpi_archive: expected failure reads: %s\n", diag_first());
  diag_clear();
  CHECK_EQ(par_agree(0), 0);

  if (root) {
    CHECK(unlink(path) == 0);
    CHECK(unlink(apartial) == 0);
    CHECK(rmdir(dir) == 0);
    printf("mpi_archive: %ld checks passed on %d ranks\n", check_count, par_size());
  } else {
    free(dir);
  }
  for (int m = 0; m < GM_COUNT; m++)
    free(gpu[m]);
  for (int m = 0; m < NM_COUNT; m++)
    free(node[m]);
  for (int m = 0; m < CM_COUNT; m++)
    free(cluster[m]);
  free(config_json);
  fleet_destroy(&f);
  par_finalize();
  return 0;
}

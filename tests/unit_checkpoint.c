/* The checkpoint stream (src/core/checkpoint.c): every record kind round
 * trips through memory bit for bit; a file holds the same bytes as the
 * buffer; every cut and every single flipped byte is refused with a message
 * naming the stream, and a cut inside a field names that field; and the
 * telemetry model's records (node state, cluster state) saved to memory and
 * loaded into a fresh model continue the simulation identically. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/core/checkpoint.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/model/config.h"
#include "src/model/fleet.h"
#include "src/model/telemetry.h"
#include "tests/check.h"
#include "tests/lib_fleet.h"

enum { NVALUES = 300 };

/* What the test writes: one of each record kind. */
typedef struct {
  int32_t i32[4];
  int64_t i64[3];
  double f64[6];
  float values[NVALUES];
  struct {
    int32_t id;
    float x;
    char name[8];
  } pairs[3];
  unsigned char raw[5];
} records;

static void make_records(records *r) {
  memset(r, 0, sizeof *r);
  const int32_t i32[4] = {INT32_MIN, -1, 0, INT32_MAX};
  const int64_t i64[3] = {INT64_MIN, (int64_t)1 << 40, INT64_MAX};
  memcpy(r->i32, i32, sizeof i32);
  memcpy(r->i64, i64, sizeof i64);
  uint64_t nan_bits = 0x7ff80000deadbeefull; /* a NaN with a payload survives */
  memcpy(&r->f64[0], &nan_bits, sizeof nan_bits);
  r->f64[1] = -0.0;
  r->f64[2] = INFINITY;
  r->f64[3] = 0.1;
  r->f64[4] = DBL_MIN / 4; /* subnormal */
  r->f64[5] = -DBL_MAX;
  for (int i = 0; i < NVALUES; i++)
    r->values[i] = (float)i * 0.37f - 40.0f;
  for (int i = 0; i < 3; i++) {
    r->pairs[i].id = 10 + i;
    r->pairs[i].x = 1.5f * (float)i;
    snprintf(r->pairs[i].name, sizeof r->pairs[i].name, "p%d", i);
  }
  memcpy(r->raw, "\x00\x01\xfe\xff\x7f", 5);
}

static void write_records(ckpt_file *f, const records *r) {
  ckpt_tag(f, "TEST");
  for (int i = 0; i < 4; i++)
    ckpt_put_i32(f, r->i32[i]);
  for (int i = 0; i < 3; i++)
    ckpt_put_i64(f, r->i64[i]);
  for (int i = 0; i < 6; i++)
    ckpt_put_f64(f, r->f64[i]);
  ckpt_put_array(f, r->values, sizeof r->values[0], NVALUES);
  ckpt_put_array(f, NULL, sizeof(float), 0); /* an empty array writes nothing */
  ckpt_tag(f, "MORE");
  ckpt_put_array(f, r->pairs, sizeof r->pairs[0], 3);
  ckpt_put(f, r->raw, sizeof r->raw);
}

/* Reads what write_records wrote; 0 or -1 at the first failed get (the
 * later ones are still made: they must fail too). */
static int read_records(ckpt_file *f, records *r) {
  memset(r, 0x55, sizeof *r);
  int bad = ckpt_expect(f, "TEST");
  static const char *const i32_names[4] = {"i32 min", "i32 -1", "i32 0", "i32 max"};
  for (int i = 0; i < 4; i++)
    bad |= ckpt_get_i32(f, i32_names[i], &r->i32[i]);
  for (int i = 0; i < 3; i++)
    bad |= ckpt_get_i64(f, "i64", &r->i64[i]);
  for (int i = 0; i < 6; i++)
    bad |= ckpt_get_f64(f, "f64", &r->f64[i]);
  bad |= ckpt_get_array(f, "values", r->values, sizeof r->values[0], NVALUES);
  bad |= ckpt_get_array(f, "empty", NULL, sizeof(float), 0);
  bad |= ckpt_expect(f, "MORE");
  bad |= ckpt_get_array(f, "pairs", r->pairs, sizeof r->pairs[0], 3);
  bad |= ckpt_get(f, r->raw, sizeof r->raw);
  return bad ? -1 : 0;
}

/* Member by member (the struct's padding is not state), bit for bit. */
static int records_equal(const records *a, const records *b) {
  return memcmp(a->i32, b->i32, sizeof a->i32) == 0 && memcmp(a->i64, b->i64, sizeof a->i64) == 0 &&
         memcmp(a->f64, b->f64, sizeof a->f64) == 0 &&
         memcmp(a->values, b->values, sizeof a->values) == 0 &&
         memcmp(a->pairs, b->pairs, sizeof a->pairs) == 0 &&
         memcmp(a->raw, b->raw, sizeof a->raw) == 0;
}

static void check_has(const char *text, const char *part) {
  check_count++;
  if (!strstr(text, part))
    CHECK_FAIL("\"%s\" lacks \"%s\"", text, part);
}

/* The complete image of write_records in memory. */
static void image(ckpt_buf *b, const records *r) {
  ckpt_file *f = NULL;
  CHECK_EQ(ckpt_create_mem(&f, b, "mem:records"), 0);
  write_records(f, r);
  CHECK_EQ(ckpt_commit(&f), 0);
  CHECK(f == NULL);
}

/* Opens, reads and closes len bytes of data: 0 only when all three succeed
 * and read back exactly `want`. The first message is left in diag. */
static int try_read(const unsigned char *data, size_t len, const records *want) {
  diag_clear();
  ckpt_file *f = NULL;
  if (ckpt_open_mem(&f, data, len, "mem:records") != 0)
    return -1;
  records got;
  int bad = read_records(f, &got);
  int rc = ckpt_close(&f);
  CHECK(f == NULL);
  CHECK_EQ(bad != 0 && rc == 0, 0); /* a failed get always fails the close */
  return bad || rc || !records_equal(&got, want) ? -1 : 0;
}

static void test_memory_round_trip(const records *r) {
  ckpt_buf b = {0};
  image(&b, r);
  /* header 16 + payload + trailer 16 */
  size_t payload = 4 + 4 * 4 + 3 * 8 + 6 * 8 + NVALUES * 4 + 4 + sizeof r->pairs + 5;
  CHECK_EQ(b.len, 16 + payload + 16);
  CHECK(memcmp(b.data, "FLEETCKP", 8) == 0);
  CHECK(memcmp(b.data + b.len - 4, "END!", 4) == 0);
  uint64_t n;
  memcpy(&n, b.data + b.len - 16, sizeof n);
  CHECK_EQ(n, payload);
  CHECK_EQ(try_read(b.data, b.len, r), 0);
  CHECK_EQ(diag_count(), 0);
  /* bit for bit, NaN payload and -0 included */
  ckpt_file *f = NULL;
  records got;
  CHECK_EQ(ckpt_open_mem(&f, b.data, b.len, "mem:records"), 0);
  CHECK_EQ(read_records(f, &got), 0);
  CHECK_EQ(ckpt_close(&f), 0);
  CHECK(memcmp(got.f64, r->f64, sizeof got.f64) == 0);
  CHECK(signbit(got.f64[1]) && got.f64[1] == 0.0);
  CHECK_EQ(got.i64[0], INT64_MIN);
  CHECK_EQ(got.i32[3], INT32_MAX);
  CHECK_STREQ(got.pairs[2].name, "p2");
  /* a second stream into the same buffer starts it afresh */
  image(&b, r);
  CHECK_EQ(b.len, 16 + payload + 16);
  ckpt_buf_free(&b);
  CHECK(b.data == NULL && b.len == 0);
  printf("ok: every record kind round trips through memory (%zu bytes)\n", 32 + payload);
}

static void test_truncated(const records *r) {
  ckpt_buf b = {0};
  image(&b, r);
  for (size_t len = 0; len < b.len; len++) {
    if (try_read(b.data, len, r) == 0)
      CHECK_FAIL("a stream cut to %zu of %zu bytes was accepted", len, b.len);
    check_has(diag_first(), "checkpoint mem:records: ");
  }
  /* cut in the middle of the values: that field is named, with the offsets */
  size_t values_at = 16 + 4 + 4 * 4 + 3 * 8 + 6 * 8;
  CHECK(try_read(b.data, values_at + 100 + 16, r) != 0);
  CHECK_STREQ(diag_first(),
              "checkpoint mem:records: section 'TEST', field 'values': the stream ends early "
              "(1200 bytes wanted at offset 108, 100 left)");
  /* cut inside the second section's tag */
  size_t more_at = values_at + NVALUES * 4;
  CHECK(try_read(b.data, more_at + 2 + 16, r) != 0);
  check_has(diag_first(), "field 'tag of section 'MORE'': the stream ends early");
  CHECK(try_read(b.data, 31, r) != 0);
  CHECK_STREQ(diag_first(), "checkpoint mem:records: not a fleetsim checkpoint file");
  printf("ok: all %zu cuts refused; a cut names its section and field\n", b.len);
  ckpt_buf_free(&b);
}

static void test_corrupted(const records *r) {
  ckpt_buf b = {0};
  image(&b, r);
  int by_crc = 0;
  for (size_t i = 0; i < b.len; i++) {
    b.data[i] ^= 0x10;
    if (try_read(b.data, b.len, r) == 0)
      CHECK_FAIL("byte %zu flipped was accepted", i);
    check_has(diag_first(), "checkpoint mem:records: ");
    by_crc += strstr(diag_first(), "checksum mismatch") != NULL;
    b.data[i] ^= 0x10;
  }
  CHECK_GE(by_crc, NVALUES * 4); /* every value byte at least */
  /* each kind of damage has its own message */
  b.data[16 + 100] ^= 1;
  CHECK(try_read(b.data, b.len, r) != 0);
  check_has(diag_first(), "checksum mismatch: CRC-32 of the payload ");
  check_has(diag_first(), "(the file is damaged)");
  b.data[16 + 100] ^= 1;
  b.data[0] = 'X';
  CHECK(try_read(b.data, b.len, r) != 0);
  CHECK_STREQ(diag_first(), "checkpoint mem:records: not a fleetsim checkpoint file");
  b.data[0] = 'F';
  b.data[12] ^= 0xff; /* the byte-order mark */
  CHECK(try_read(b.data, b.len, r) != 0);
  CHECK_STREQ(diag_first(), "checkpoint mem:records: written on a machine with another byte order");
  b.data[12] ^= 0xff;
  b.data[8] = 7; /* the format */
  CHECK(try_read(b.data, b.len, r) != 0);
  CHECK_STREQ(diag_first(),
              "checkpoint mem:records: written by a fleetsim with another checkpoint format");
  b.data[8] = 1;
  b.data[16] = 0x1b; /* the first tag, with a control byte */
  CHECK(try_read(b.data, b.len, r) != 0);
  CHECK_STREQ(diag_first(),
              "checkpoint mem:records: section 'TEST' expected, found '?EST' (offset 16)");
  b.data[16] = 'T';
  b.data[b.len - 2] = '?'; /* "END!" */
  CHECK(try_read(b.data, b.len, r) != 0);
  check_has(diag_first(), "trailer damaged");
  b.data[b.len - 2] = 'D';
  CHECK_EQ(try_read(b.data, b.len, r), 0);
  printf("ok: each of %zu single flipped bytes refused (%d by the checksum)\n", b.len, by_crc);
  ckpt_buf_free(&b);
}

static void test_reader_rules(const records *r) {
  ckpt_buf b = {0};
  image(&b, r);
  ckpt_file *f = NULL;
  int32_t v;
  /* stopping early: the rest of the state is unread */
  diag_clear();
  CHECK_EQ(ckpt_open_mem(&f, b.data, b.len, "mem:records"), 0);
  CHECK_EQ(ckpt_expect(f, "TEST"), 0);
  CHECK_EQ(ckpt_get_i32(f, "first", &v), 0);
  CHECK_EQ(v, INT32_MIN);
  CHECK_EQ(ckpt_close(&f), FS_EIO);
  CHECK_STREQ(diag_first(), "checkpoint mem:records: section 'TEST', 1341 bytes of state not "
                            "read (another fleetsim version?)");
  /* a loader's complaint names the section; the first one wins; gets fail after it */
  diag_clear();
  CHECK_EQ(ckpt_open_mem(&f, b.data, b.len, "mem:records"), 0);
  CHECK_EQ(ckpt_expect(f, "TEST"), 0);
  ckpt_fail(f, "field 'n': %d is impossible", -3);
  ckpt_fail(f, "a second complaint");
  v = 99;
  CHECK_EQ(ckpt_get_i32(f, "after", &v), -1);
  CHECK_EQ(v, 0);
  CHECK_EQ(ckpt_close(&f), FS_EIO);
  CHECK_STREQ(diag_first(), "checkpoint mem:records: section 'TEST', field 'n': -3 is impossible");
  CHECK_EQ(diag_count(), 1);
  /* an array whose size overflows is refused, not read */
  diag_clear();
  CHECK_EQ(ckpt_open_mem(&f, b.data, b.len, "mem:records"), 0);
  CHECK_EQ(ckpt_get_array(f, "huge", &v, SIZE_MAX / 2, 3), -1);
  CHECK_EQ(ckpt_close(&f), FS_EIO);
  CHECK_STREQ(diag_first(), "checkpoint mem:records: field 'huge': an array of 3 x "
                            "9223372036854775807 bytes");
  ckpt_close(&f); /* NULL: nothing */
  CHECK_EQ(ckpt_open_mem(&f, NULL, 100, "mem:none"), FS_EIO);
  CHECK(f == NULL);
  ckpt_buf_free(&b);
  printf("ok: unread state, loader complaints and impossible sizes are refused\n");
}

static unsigned char *slurp(const char *path, size_t *len) {
  FILE *fp = fopen(path, "rb");
  CHECK(fp != NULL);
  CHECK_EQ(fseek(fp, 0, SEEK_END), 0);
  long n = ftell(fp);
  CHECK_GE(n, 0);
  rewind(fp);
  unsigned char *d = malloc((size_t)n + 1);
  CHECK(d != NULL);
  CHECK_EQ(fread(d, 1, (size_t)n, fp), n);
  fclose(fp);
  *len = (size_t)n;
  return d;
}

static void test_file(const char *dir, const records *r) {
  char path[512], tmp[600];
  snprintf(path, sizeof path, "%s/w000001-r0000.bin", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  ckpt_file *f = NULL;
  CHECK_EQ(ckpt_create(&f, path), 0);
  CHECK_EQ(access(tmp, F_OK), 0); /* written under the temp name */
  CHECK(access(path, F_OK) != 0);
  write_records(f, r);
  CHECK_EQ(ckpt_commit(&f), 0);
  CHECK(access(tmp, F_OK) != 0 && errno == ENOENT);
  size_t len;
  unsigned char *disk = slurp(path, &len);
  ckpt_buf b = {0};
  image(&b, r);
  CHECK_EQ(len, b.len);
  CHECK(memcmp(disk, b.data, len) == 0);
  /* and it reads back from the file */
  records got;
  diag_clear();
  CHECK_EQ(ckpt_open(&f, path), 0);
  CHECK_EQ(read_records(f, &got), 0);
  CHECK_EQ(ckpt_close(&f), 0);
  CHECK(records_equal(&got, r));
  /* a cut file names the file and the field */
  CHECK_EQ(truncate(path, (off_t)(16 + 4 + 4 * 4 + 3 * 8 + 6 * 8 + 100 + 16)), 0);
  CHECK_EQ(ckpt_open(&f, path), 0);
  CHECK_EQ(read_records(f, &got), -1);
  CHECK_EQ(ckpt_close(&f), FS_EIO);
  char want[700];
  snprintf(want, sizeof want,
           "checkpoint %s: section 'TEST', field 'values': the stream ends early", path);
  check_has(diag_first(), want);
  diag_clear();
  CHECK_EQ(ckpt_open(&f, tmp), FS_EIO); /* missing */
  check_has(diag_first(), tmp);
  unlink(path);
  free(disk);
  ckpt_buf_free(&b);
  printf("ok: a file holds the buffer's %zu bytes exactly and reads back\n", len);
}

/* ---- the telemetry model's records ---------------------------------------- */

typedef struct {
  tel_model *m;
  tel_cluster *c;
  tel_window w;
  float *cluster[CM_COUNT];
} model_run;

enum { ROWS = 40 };

static void model_init(model_run *x, const fleet *f) {
  memset(x, 0, sizeof *x);
  CHECK_EQ(tel_init(&x->m, f, 0, f->nodes), 0);
  CHECK_EQ(tel_window_init(&x->w, x->m, ROWS), 0);
  CHECK_EQ(tel_cluster_init(&x->c, f), 0);
  for (int k = 0; k < CM_COUNT; k++)
    CHECK((x->cluster[k] = calloc(ROWS, sizeof(float))) != NULL);
}

static void model_destroy(model_run *x) {
  tel_window_destroy(&x->w);
  tel_destroy(&x->m);
  tel_cluster_destroy(&x->c);
  for (int k = 0; k < CM_COUNT; k++)
    free(x->cluster[k]);
}

/* One window of scrapes [t0, t0 + ROWS), as a run at one rank does it. */
static void model_window(model_run *x, const fleet *f, int64_t t0) {
  tel_drivers d[12];
  CHECK_EQ(f->nodes, 12);
  double jm[ROWS * 2], agg[3 * ROWS * TEL_AGG_COUNT];
  for (int r = 0; r < ROWS; r++) {
    tel_drivers_reset(d, f->nodes);
    tel_scrape(x->m, t0 + r, d, &x->w, r, NULL, NULL);
  }
  tel_job_local_max(x->m, &x->w, ROWS, jm);
  tel_finish_training(x->m, &x->w, ROWS, jm);
  tel_rack_aggregates(x->m, &x->w, t0, ROWS, agg);
  tel_cluster_window(x->c, t0, ROWS, agg, x->cluster);
}

static void test_model_records(void) {
  static fs_config cfg;
  fleet12_config(&cfg, 0);
  fleet *f = NULL;
  CHECK_EQ(fleet_init(&f, &cfg), 0);
  model_run a, b;
  model_init(&a, f);
  model_init(&b, f);
  model_window(&a, f, 0);
  model_window(&a, f, ROWS);
  /* save a's state the way a checkpoint does: node records, then the cluster */
  size_t rec = tel_node_state_bytes(a.m);
  CHECK_GT(rec, 0);
  unsigned char *buf = malloc(rec);
  CHECK(buf != NULL);
  ckpt_buf img = {0};
  ckpt_file *s = NULL;
  CHECK_EQ(ckpt_create_mem(&s, &img, "mem:model"), 0);
  ckpt_tag(s, "NODE");
  for (int i = 0; i < f->nodes; i++) {
    tel_save_node(a.m, i, buf);
    ckpt_put_array(s, buf, 1, rec);
  }
  tel_cluster_save(a.c, s);
  CHECK_EQ(ckpt_commit(&s), 0);
  CHECK_GT(img.len, 32 + 4 + 12 * rec + 4);
  /* load it into b, which never simulated */
  CHECK_EQ(ckpt_open_mem(&s, img.data, img.len, "mem:model"), 0);
  CHECK_EQ(ckpt_expect(s, "NODE"), 0);
  for (int i = 0; i < f->nodes; i++) {
    CHECK_EQ(ckpt_get_array(s, "node record", buf, 1, rec), 0);
    tel_load_node(b.m, i, buf);
  }
  CHECK_EQ(tel_cluster_load(b.c, s), 0);
  CHECK_EQ(ckpt_close(&s), 0);
  /* saving b gives the same bytes */
  ckpt_buf again = {0};
  CHECK_EQ(ckpt_create_mem(&s, &again, "mem:model"), 0);
  ckpt_tag(s, "NODE");
  for (int i = 0; i < f->nodes; i++) {
    tel_save_node(b.m, i, buf);
    ckpt_put_array(s, buf, 1, rec);
  }
  tel_cluster_save(b.c, s);
  CHECK_EQ(ckpt_commit(&s), 0);
  CHECK_EQ(again.len, img.len);
  CHECK(memcmp(again.data, img.data, img.len) == 0);
  /* and both continue identically: every cell of the next window */
  model_window(&a, f, 2 * ROWS);
  model_window(&b, f, 2 * ROWS);
  size_t ng = (size_t)ROWS * 12 * FLEET_GPUS, nn = (size_t)ROWS * 12;
  for (int k = 0; k < GM_COUNT; k++)
    CHECK(memcmp(a.w.gpu[k], b.w.gpu[k], sizeof(tel_cell) * ng) == 0);
  for (int k = 0; k < NM_COUNT; k++)
    CHECK(memcmp(a.w.node[k], b.w.node[k], sizeof(tel_cell) * nn) == 0);
  for (int k = 0; k < CM_COUNT; k++)
    CHECK(memcmp(a.cluster[k], b.cluster[k], sizeof(float) * ROWS) == 0);
  /* the state moved on: a third window differs from the second somewhere */
  CHECK(a.cluster[CM_OUTDOOR_TEMP][0] != a.cluster[CM_OUTDOOR_TEMP][ROWS - 1] ||
        a.cluster[CM_IT_POWER][0] != a.cluster[CM_IT_POWER][ROWS - 1]);
  /* a cluster record of another layout is refused, naming its section */
  CHECK_EQ(ckpt_open_mem(&s, img.data, img.len, "mem:model"), 0);
  diag_clear();
  CHECK_EQ(tel_cluster_load(b.c, s), FS_EIO);
  CHECK_EQ(ckpt_close(&s), FS_EIO);
  check_has(diag_first(), "checkpoint mem:model: section 'TCLU' expected, found 'NODE'");
  ckpt_buf_free(&img);
  ckpt_buf_free(&again);
  free(buf);
  model_destroy(&a);
  model_destroy(&b);
  fleet_destroy(&f);
  printf("ok: the model's node and cluster records round trip in memory (%zu-byte node "
         "records) and the model continues identically\n",
         rec);
}

int main(void) {
  records r;
  make_records(&r);
  test_memory_round_trip(&r);
  test_truncated(&r);
  test_corrupted(&r);
  test_reader_rules(&r);
  char tmpl[] = "/tmp/fleetsim-unit-ckpt-XXXXXX";
  char *dir = mkdtemp(tmpl);
  CHECK(dir != NULL);
  test_file(dir, &r);
  CHECK_EQ(rmdir(dir), 0);
  test_model_records();
  printf("unit_checkpoint: %ld checks passed\n", check_count);
  return 0;
}

/* MPI test of the L1 detector (pipeline/detect/detect.c) and its root-side
 * aggregation, at np 1, 2 and 3 with the same expectations (rank-count
 * invariance): eight blocks of lib_detect.h's synthetic telemetry through
 * the public API. Clean data raises nothing, nor do a scrape gap (NaN
 * samples) and a counter that restarts from 0; every rank holds every
 * node's block features, equal to the values computed from the input (NaN
 * where a block misses a scrape or a counter restarted); a GPU that
 * jumps 12 C after warm-up is flagged once, with its peer z-score, value
 * and baseline, while one that always ran hot (own history) and one that
 * jumped during warm-up are not; an ECC counter outlier is flagged and
 * escalated; a tenant-wide TTFT shift is a class trend and no node
 * candidate. The detector's records saved to memory after block 3 and
 * loaded into a fresh detector give the same candidates, trends and
 * features for the remaining blocks; a record of another fleet is refused
 * naming the field. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/par.h"
#include "pipeline/detect/aggregate.h"
#include "pipeline/detect/detect.h"
#include "src/core/checkpoint.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "tests/check.h"
#include "tests/lib_detect.h"
#include "tests/lib_fleet.h"

enum { BLOCKS = 8 };

static int same_float(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

/* Every rank: the gathered features of every node and GPU are the input's. */
static void check_features(const det_state *d, const fleet *f, int block) {
  for (int k = 0; k < GM_COUNT; k++)
    for (int n = 0; n < f->nodes; n++)
      for (int g = 0; g < FLEET_GPUS; g++) {
        float got = det_gpu_feature(d, k, n, g), want = syn_gpu_feature(f, k, n, g, block);
        if (!same_float(got, want))
          CHECK_FAIL("block %d %s node %d gpu %d: %.9g, expected %.9g", block, metric_gpu[k].name,
                     n, g, got, want);
        CHECK(same_float(det_gpu_features(d, k)[n * FLEET_GPUS + g], got));
      }
  for (int k = 0; k < NM_COUNT; k++)
    for (int n = 0; n < f->nodes; n++) {
      float got = det_node_feature(d, k, n), want = syn_node_feature(f, k, n, block);
      if (!same_float(got, want))
        CHECK_FAIL("block %d %s node %d: %.9g, expected %.9g", block, metric_node[k].name, n, got,
                   want);
      CHECK(same_float(det_node_features(d, k)[n], got));
    }
  check_count += GM_COUNT * f->nodes * FLEET_GPUS + NM_COUNT * f->nodes;
  CHECK_EQ(det_class_gpu_median(d, 0, GM_TEMP), 60);
  CHECK_EQ(det_class_node_median(d, 1, NM_TTFT), block >= SYN_TTFT_BLOCK ? 300 : 200);
  CHECK_EQ(det_class_node_median(d, 0, NM_TTFT), 200);
  CHECK(isnan(det_class_node_median(d, 0, NM_STEP_TIME))); /* MoE nodes do not report it */
}

static void check_signal(const ev_signal *s, const char *metric, int gpu, float z, float value,
                         float baseline) {
  CHECK_STREQ(s->metric, metric);
  CHECK_EQ(s->gpu, gpu);
  CHECK_NEAR(s->z, z, 1e-4);
  CHECK_NEAR(s->value, value, 1e-4);
  CHECK_NEAR(s->baseline, baseline, 1e-4);
}

/* Rank 0: the block's candidates other than trend members (one per rank
 * and trend: those depend on the rank count). */
static void check_candidates(const syn_block_out *o, int block) {
  int n = 0;
  const det_candidate *c = NULL;
  for (int i = 0; i < o->nall; i++)
    if (!o->all[i].trend_member) {
      c = &o->all[i];
      n++;
    }
  if (block == SYN_HOT_BLOCK) {
    CHECK_EQ(n, 1);
    CHECK_EQ(c->node, 3);
    CHECK_EQ(c->cls, 0);
    CHECK_EQ(c->ncooccur, 0);
    check_signal(&c->top, "gpu_temp_celsius", 5, (72.0f - 60.0f) / (0.02f * 60.0f), 72, 60);
  } else if (block == SYN_SBE_BLOCK) {
    CHECK_EQ(n, 1);
    CHECK_EQ(c->node, 7);
    CHECK_EQ(c->cls, 1);
    CHECK_EQ(c->ncooccur, 0);
    /* counts: sigma floored at 1 + 2 sqrt(class mean), the mean 60 / 32 GPUs */
    check_signal(&c->top, "gpu_ecc_sbe_total", 2, 60.0f / (1.0f + 2.0f * sqrtf(60.0f / 32)), 60, 0);
  } else if (n != 0) {
    CHECK_FAIL("block %d: %d candidates on clean data, the first node %d on %s (z %.3g)", block, n,
               c->node, c->top.metric, c->top.z);
  }
  int members = o->nall - n;
  if (block == SYN_TTFT_BLOCK) {
    /* each rank holding dense nodes names its most-moved one: the first */
    CHECK_RANGE(members, 1, par_size());
    CHECK_EQ(o->all[0].node, 1);
    CHECK_EQ(o->all[0].cls, 1);
    /* z: its own deviation; baseline: its own mean, already moved by a fifth */
    check_signal(&o->all[0].top, "ttft_ms", -1, 100.0f / (0.02f * 300.0f), 300, 220);
  } else {
    CHECK_EQ(members, 0);
  }
}

static void check_trends(const syn_block_out *o, int block) {
  if (block != SYN_TTFT_BLOCK) {
    CHECK_EQ(o->ntrends, 0);
    return;
  }
  CHECK_EQ(o->ntrends, 1);
  CHECK_EQ(o->trends[0].cls, 1);
  CHECK_EQ(o->trends[0].nmore, 0);
  /* the change over the class's typical change, floored at 5% of the median */
  check_signal(&o->trends[0].top, "ttft_ms", -1, 100.0f / (0.05f * 200.0f), 300, 200);
}

static void check_same_block(const syn_block_out *a, const syn_block_out *b) {
  CHECK_EQ(a->nall, b->nall);
  for (int i = 0; i < a->nall; i++) {
    const det_candidate *x = &a->all[i], *y = &b->all[i];
    CHECK_EQ(x->node, y->node);
    CHECK_EQ(x->trend_member, y->trend_member);
    CHECK_STREQ(x->top.metric, y->top.metric);
    CHECK(same_float(x->top.z, y->top.z) && same_float(x->top.value, y->top.value) &&
          same_float(x->top.baseline, y->top.baseline));
  }
  CHECK_EQ(a->ntrends, b->ntrends);
  for (int i = 0; i < a->ntrends; i++)
    CHECK(same_float(a->trends[i].top.z, b->trends[i].top.z));
}

/* The detector's records (every local node, then the global part) into
 * memory, and from there into a fresh detector for the same nodes. */
static det_state *resume_copy(const det_state *d, const fleet *f, const syn_window *s) {
  size_t rec = det_node_state_bytes(d);
  unsigned char *buf = malloc(rec);
  CHECK(buf != NULL);
  ckpt_buf img = {0};
  ckpt_file *ck = NULL;
  CHECK_EQ(ckpt_create_mem(&ck, &img, "mem:detector"), 0);
  ckpt_tag(ck, "NODE");
  for (int i = 0; i < s->nnodes; i++) {
    det_save_node(d, i, buf);
    ckpt_put_array(ck, buf, 1, rec);
  }
  det_save_global(d, ck);
  CHECK_EQ(ckpt_commit(&ck), 0);
  /* header, tag, records, "DETG" + classes + blocks + 3 arrays of 4 classes x NM, trailer */
  CHECK_EQ(img.len, 16 + 4 + s->nnodes * rec + 4 + 4 + 8 + 3 * 4 * 4 * NM_COUNT + 16);
  det_state *r = NULL;
  CHECK_EQ(det_init(&r, f, s->node0, s->nnodes, SYN_B), 0);
  CHECK_EQ(ckpt_open_mem(&ck, img.data, img.len, "mem:detector"), 0);
  CHECK_EQ(ckpt_expect(ck, "NODE"), 0);
  for (int i = 0; i < s->nnodes; i++) {
    CHECK_EQ(ckpt_get_array(ck, "node record", buf, 1, rec), 0);
    det_load_node(r, i, buf);
  }
  CHECK_EQ(det_load_global(r, ck), 0);
  CHECK_EQ(ckpt_close(&ck), 0);
  ckpt_buf_free(&img);
  free(buf);
  return r;
}

/* A global record of a fleet with another number of classes is refused. */
static void check_foreign_global(det_state *d) {
  ckpt_buf img = {0};
  ckpt_file *ck = NULL;
  CHECK_EQ(ckpt_create_mem(&ck, &img, "mem:foreign"), 0);
  ckpt_tag(ck, "DETG");
  ckpt_put_i32(ck, 5);
  CHECK_EQ(ckpt_commit(&ck), 0);
  diag_clear();
  CHECK_EQ(ckpt_open_mem(&ck, img.data, img.len, "mem:foreign"), 0);
  CHECK_EQ(det_load_global(d, ck), FS_EIO);
  CHECK_EQ(ckpt_close(&ck), FS_EIO);
  CHECK_STREQ(diag_first(), "checkpoint mem:foreign: section 'DETG', field 'classes': 5 workload "
                            "classes, this run has 4");
  diag_clear();
  ckpt_buf_free(&img);
}

/* Rank 0: the events the aggregation made of the eight blocks. */
static void check_events(const agg_state *a) {
  int n;
  const ev_event *e = agg_events(a, &n);
  CHECK_EQ(n, 3);
  CHECK_EQ(e[0].step, SYN_HOT_BLOCK);
  CHECK_EQ(e[0].scope, EV_SCOPE_GPU);
  CHECK_EQ(e[0].node, 3);
  CHECK_EQ(e[0].rack, 0);
  CHECK_EQ(e[0].escalated, 0);
  CHECK_EQ(e[1].step, SYN_SBE_BLOCK);
  CHECK_EQ(e[1].scope, EV_SCOPE_GPU);
  CHECK_EQ(e[1].node, 7);
  CHECK_EQ(e[1].escalated, 1); /* an ECC burst above z 15 */
  CHECK_STREQ(e[1].escalation_reason, "gpu_ecc_sbe_total");
  CHECK_EQ(e[2].step, SYN_TTFT_BLOCK);
  CHECK_EQ(e[2].scope, EV_SCOPE_CLUSTER);
  CHECK_EQ(e[2].tenant, TENANT_DENSE);
  CHECK_EQ(e[2].node, 1);
  CHECK_EQ(e[2].nodes, 4);
  CHECK_NEAR(e[2].trend_z, 10.0, 1e-4);
  CHECK_STREQ(e[2].escalation_reason, "cluster_scope");
  CHECK_NEAR(e[2].t_s, (SYN_TTFT_BLOCK + 1) * SYN_B * 15.0, 1e-9);
}

int main(int argc, char **argv) {
  CHECK_EQ(par_init(&argc, &argv), 0);
  const int root = par_rank() == 0;
  static fs_config cfg;
  fleet12_config(&cfg, 0);
  fleet *f = NULL;
  CHECK_EQ(fleet_init(&f, &cfg), 0);
  syn_window s;
  syn_window_init(&s, f);
  det_state *d = NULL, *resumed = NULL;
  CHECK_EQ(det_init(&d, f, s.node0, s.nnodes, SYN_B), 0);
  /* a node's record has a fixed size, whatever the rank count: per GPU metric
   * 8 EWMA means and variances (and 8 last values of a counter), per node
   * metric the same for one */
  size_t want = 0;
  for (int k = 0; k < GM_COUNT; k++)
    want +=
        FLEET_GPUS * (2 * sizeof(float) + (metric_is_counter(&metric_gpu[k]) ? sizeof(double) : 0));
  for (int k = 0; k < NM_COUNT; k++)
    want += 2 * sizeof(float) + (metric_is_counter(&metric_node[k]) ? sizeof(double) : 0);
  CHECK_EQ(det_node_state_bytes(d), want);
  agg_state *agg = NULL;
  if (root)
    CHECK_EQ(agg_init(&agg, f), 0);
  CHECK_EQ(det_class_of(f, 3), 0);
  CHECK_EQ(det_class_of(f, 7), 1);
  CHECK_EQ(det_class_of(f, 8), 2);
  CHECK_EQ(det_class_of(f, 5), 3);
  for (int block = 0; block < BLOCKS; block++) {
    if (block == SYN_HOT_BLOCK) {
      resumed = resume_copy(d, f, &s);
      check_foreign_global(resumed);
    }
    det_state *dets[2] = {d, resumed};
    syn_fill(&s, f, block, dets, resumed ? 2 : 1);
    syn_block_out out = {0}, again = {0};
    syn_detect(d, &s, &out);
    check_features(d, f, block);
    check_trends(&out, block);
    if (root)
      check_candidates(&out, block);
    if (resumed) {
      syn_detect(resumed, &s, &again);
      check_features(resumed, f, block);
      check_same_block(&out, &again);
    }
    if (root)
      CHECK_EQ(agg_step(agg, block, (double)(block + 1) * SYN_B * cfg.scrape_interval_s, out.all,
                        out.nall, out.trends, out.ntrends),
               0);
    free(out.all);
    free(again.all);
  }
  if (root)
    check_events(agg);
  agg_destroy(&agg);
  det_destroy(&d);
  det_destroy(&resumed);
  CHECK(d == NULL && resumed == NULL);
  syn_window_destroy(&s);
  fleet_destroy(&f);
  CHECK_EQ(par_agree(0), 0);
  if (root)
    printf("mpi_detect: %ld checks passed on %d ranks\n", check_count, par_size());
  par_finalize();
  return 0;
}

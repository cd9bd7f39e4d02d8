/* Unit tests of the fleet topology (src/model/fleet.c): tenants mixed evenly inside
 * every rack, jobs over consecutive training nodes with consistent index
 * tables, GPU silicon lots keyed by the seed, a 100-rack fleet, clean failure
 * when the jobs do not fit, and fleet_destroy's NULL handling. No MPI. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/model/config.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/model/fleet.h"
#include "tests/check.h"


/* Builds a fleet for cfg, which must validate; fails the test otherwise. */
static fleet *build(const fs_config *cfg) {
  diag_clear();
  if (cfg_validate(cfg) != 0)
    CHECK_FAIL("config does not validate: %s", diag_first());
  fleet *f = NULL;
  int rc = fleet_init(&f, cfg);
  if (rc != 0 || !f)
    CHECK_FAIL("fleet_init = %d: %s", rc, diag_first());
  check_count++;
  return f;
}

/* Every rack holds the tenants in the config's proportions, interleaved. */
static void check_racks(const fleet *f, int moe, int dense, int training) {
  const int want[TENANT_COUNT] = {moe, dense, training};
  for (int r = 0; r < f->racks; r++) {
    int have[TENANT_COUNT] = {0, 0, 0};
    int half[TENANT_COUNT] = {0, 0, 0};
    int run = 0, max_run = 0;
    for (int s = 0; s < f->nodes_per_rack; s++) {
      int n = r * f->nodes_per_rack + s;
      CHECK_EQ(f->node_rack[n], r);
      CHECK_EQ(fleet_rack_slot(f, n), s);
      CHECK_LT(f->node_tenant[n], TENANT_COUNT);
      have[f->node_tenant[n]]++;
      if (s < f->nodes_per_rack / 2)
        half[f->node_tenant[n]]++;
      run = s > 0 && f->node_tenant[n] == f->node_tenant[n - 1] ? run + 1 : 1;
      if (run > max_run)
        max_run = run;
    }
    for (int t = 0; t < TENANT_COUNT; t++) {
      CHECK_EQ(have[t], want[t]);
      CHECK_GT(half[t], 0); /* mixed, not one tenant per block of slots */
    }
    CHECK_LE(max_run, 2);
  }
}

/* The job tables agree with each other and with the config. */
static void check_jobs(const fleet *f, const fs_config *cfg) {
  CHECK_EQ(f->njobs, cfg->njobs);
  CHECK_EQ(f->job_offset[0], 0);
  int prev = -1;
  for (int j = 0; j < f->njobs; j++) {
    CHECK_EQ(f->job_offset[j + 1] - f->job_offset[j], cfg->jobs[j].nodes);
    for (int k = 0; k < cfg->jobs[j].nodes; k++) {
      int n = f->job_nodes[f->job_offset[j] + k];
      CHECK_GE(n, 0);
      CHECK_LT(n, f->nodes);
      CHECK_GT(n, prev); /* training nodes taken in order, never twice */
      prev = n;
      CHECK_EQ(f->node_tenant[n], TENANT_TRAINING);
      CHECK_EQ(f->node_job[n], j);
      CHECK_EQ(f->node_job_rank[n], k);
    }
  }
  /* The other direction: each node's job entry points back at it. */
  for (int n = 0; n < f->nodes; n++) {
    int j = f->node_job[n];
    if (j < 0) {
      CHECK_EQ(j, -1);
      CHECK_EQ(f->node_job_rank[n], -1);
      continue;
    }
    CHECK_LT(j, f->njobs);
    CHECK_EQ(f->job_nodes[f->job_offset[j] + f->node_job_rank[n]], n);
  }
}

/* Racks spanned by job j (its nodes are in increasing order). */
static int job_racks(const fleet *f, int j) {
  int first = f->job_nodes[f->job_offset[j]], last = f->job_nodes[f->job_offset[j + 1] - 1];
  return f->node_rack[last] - f->node_rack[first] + 1;
}

static int idle_training(const fleet *f) {
  int idle = 0;
  for (int n = 0; n < f->nodes; n++)
    if (f->node_tenant[n] == TENANT_TRAINING && f->node_job[n] == -1)
      idle++;
  return idle;
}

static void test_default_fleet(void) {
  fs_config cfg;
  cfg_defaults(&cfg);
  fleet *f = build(&cfg);
  CHECK(f->cfg == &cfg);
  CHECK_EQ(f->nodes, 1000);
  CHECK_EQ(f->racks, 25);
  CHECK_EQ(f->nodes_per_rack, 40);
  CHECK_EQ(f->racks_per_row, 5);
  CHECK_EQ(f->rows, 5);
  CHECK_EQ(fleet_rack_row(f, 0), 0);
  CHECK_EQ(fleet_rack_row(f, 7), 1);
  CHECK_EQ(fleet_rack_row(f, 24), 4);
  check_racks(f, 12, 14, 14);
  check_jobs(f, &cfg);
  static const int want_nodes[5] = {64, 32, 32, 64, 128};
  for (int j = 0; j < 5; j++) {
    CHECK_EQ(f->job_offset[j + 1] - f->job_offset[j], want_nodes[j]);
    CHECK_GE(job_racks(f, j), 2); /* every default job spans racks */
  }
  CHECK_EQ(f->job_offset[5], 320);
  CHECK_EQ(idle_training(f), 30);
  fleet_destroy(&f);
  CHECK(f == NULL);
}

static void test_gpu_lots(void) {
  fs_config a, b;
  cfg_defaults(&a);
  cfg_defaults(&b);
  fleet *f1 = build(&a), *f2 = build(&a), *f3 = NULL;
  b.seed = 43;
  f3 = build(&b);
  const long ngpu = (long)f1->nodes * FLEET_GPUS;
  int *seen = calloc((size_t)a.gpu_lots, sizeof *seen);
  CHECK(seen != NULL);
  long bad = 0, differ = 0;
  for (long g = 0; g < ngpu; g++) {
    if (f1->gpu_lot[g] < 0 || f1->gpu_lot[g] >= a.gpu_lots)
      bad++;
    else
      seen[f1->gpu_lot[g]]++;
    if (f1->gpu_lot[g] != f3->gpu_lot[g])
      differ++;
  }
  CHECK_EQ(bad, 0);
  int unused = 0;
  for (int l = 0; l < a.gpu_lots; l++)
    unused += seen[l] == 0;
  CHECK_EQ(unused, 0); /* 8,000 GPUs over 200 lots: ~40 each */
  free(seen);
  CHECK(memcmp(f1->gpu_lot, f2->gpu_lot, (size_t)ngpu * sizeof *f1->gpu_lot) == 0);
  CHECK_GT(differ, ngpu * 95 / 100); /* equal by chance ~1 in 200 */
  /* The topology does not depend on the seed, only the lots do. */
  CHECK(memcmp(f1->node_tenant, f3->node_tenant, (size_t)f1->nodes) == 0);
  CHECK(memcmp(f1->node_job, f3->node_job, (size_t)f1->nodes * sizeof *f1->node_job) == 0);
  fleet_destroy(&f1);
  fleet_destroy(&f2);
  fleet_destroy(&f3);
}

static void test_100_racks(void) {
  fs_config cfg;
  cfg_defaults(&cfg);
  cfg.nodes = 4000;
  cfg.racks = 100;
  cfg.moe_nodes = 1200;
  cfg.dense_nodes = 1400;
  cfg.training_nodes = 1400;
  fleet *f = build(&cfg);
  CHECK_EQ(f->nodes, 4000);
  CHECK_EQ(f->racks, 100);
  CHECK_EQ(f->nodes_per_rack, 40);
  CHECK_EQ(f->rows, 20);
  check_racks(f, 12, 14, 14);
  check_jobs(f, &cfg);
  CHECK_EQ(idle_training(f), 1400 - 320);
  fleet_destroy(&f);
  CHECK(f == NULL);
}

/* fleet_init refuses jobs it cannot place, with a message and no fleet. */
static void expect_no_fit(const fs_config *cfg, const char *job_id) {
  static fleet dummy;
  fleet *f = &dummy; /* fleet_init must clear *out on failure */
  diag_clear();
  CHECK_EQ(fleet_init(&f, cfg), FS_ECONFIG);
  CHECK(f == NULL);
  CHECK_GE(diag_count(), 1);
  if (!strstr(diag_first(), job_id))
    CHECK_FAIL("diag_first() = \"%s\" lacks \"%s\"", diag_first(), job_id);
  check_count++;
  diag_clear();
}

static void test_jobs_do_not_fit(void) {
  fs_config cfg;
  cfg_defaults(&cfg);
  cfg.jobs[4].nodes = 2000; /* more than the whole fleet */
  expect_no_fit(&cfg, "train-004");

  cfg_defaults(&cfg);
  cfg.jobs[2].nodes = 300; /* fits the fleet, not the 350 training nodes */
  expect_no_fit(&cfg, "train-002");

  /* A small fleet that fits exactly still builds. */
  cfg_defaults(&cfg);
  cfg.nodes = 20;
  cfg.racks = 2;
  cfg.racks_per_row = 1;
  cfg.moe_nodes = 6;
  cfg.dense_nodes = 6;
  cfg.training_nodes = 8;
  cfg.njobs = 2;
  cfg.jobs[0].nodes = 5;
  cfg.jobs[1].nodes = 3;
  fleet *f = build(&cfg);
  check_jobs(f, &cfg);
  CHECK_EQ(idle_training(f), 0);
  CHECK_EQ(f->rows, 2);
  fleet_destroy(&f);
  cfg.jobs[1].nodes = 4;
  expect_no_fit(&cfg, "train-001");
}

static void test_destroy_and_names(void) {
  fleet *f = NULL;
  fleet_destroy(&f);
  CHECK(f == NULL);
  fleet_destroy(NULL);
  check_count++;
  CHECK_STREQ(fleet_tenant_name(TENANT_MOE), "moe-inference");
  CHECK_STREQ(fleet_tenant_name(TENANT_DENSE), "dense-inference");
  CHECK_STREQ(fleet_tenant_name(TENANT_TRAINING), "training");
  CHECK_STREQ(fleet_tenant_name(3), "unknown");
  CHECK_STREQ(fleet_tenant_key(TENANT_MOE), "moe_inference");
  CHECK_STREQ(fleet_tenant_key(TENANT_DENSE), "dense_inference");
  CHECK_STREQ(fleet_tenant_key(TENANT_TRAINING), "training");
  CHECK_STREQ(fleet_tenant_key(-1), "unknown");
}

int main(void) {
  test_default_fleet();
  test_gpu_lots();
  test_100_racks();
  test_jobs_do_not_fit();
  test_destroy_and_names();
  printf("unit_fleet: %ld checks passed\n", check_count);
  return 0;
}

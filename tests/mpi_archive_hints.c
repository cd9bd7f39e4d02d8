/* MPI test of the archive's MPI-IO hints (mpi/io_hints.c, FLEETSIM_MPIIO_HINTS):
 * only rank 0's environment counts (the other ranks get a different value or
 * none); good hints arrive in the MPI_Info with their values; every kind of
 * bad hint is FS_ECONFIG on every rank with one message naming it; h5a_create
 * opens a file with good hints and refuses bad ones before it creates
 * anything. Whether an MPI-IO layer then uses them is tests/e2e_mpiio_hints.sh. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/archive.h"
#include "mpi/io_hints.h"
#include "mpi/par.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "tests/check.h"

/* Sets FLEETSIM_MPIIO_HINTS to text on rank 0 and to other elsewhere (NULL:
 * unset), so a rank that read its own environment would disagree. */
static void set_hints(const char *text, const char *other) {
  const char *v = par_rank() == 0 ? text : other;
  if (v)
    CHECK_EQ(setenv(PAR_IO_HINTS_ENV, v, 1), 0);
  else
    CHECK_EQ(unsetenv(PAR_IO_HINTS_ENV), 0);
}

/* The value of key in info, "" when absent. */
static void info_value(MPI_Info info, const char *key, char *out, int cap) {
  int flag = 0;
  out[0] = '\0';
  CHECK_EQ(MPI_Info_get(info, key, cap - 1, out, &flag), MPI_SUCCESS);
  if (!flag)
    out[0] = '\0';
}

/* hints must be refused on every rank with a message holding want. */
static void expect_bad(const char *hints, const char *want) {
  set_hints(hints, "romio_cb_write=enable");
  diag_clear();
  MPI_Info info = MPI_INFO_NULL;
  CHECK_EQ(par_io_hints(&info), FS_ECONFIG);
  CHECK(info == MPI_INFO_NULL);
  CHECK_EQ(diag_count(), 1);
  if (!strstr(diag_first(), PAR_IO_HINTS_ENV) || !strstr(diag_first(), want))
    CHECK_FAIL("'%s': diag_first() = \"%s\", expected '%s'", hints, diag_first(), want);
  if (par_rank() == 0)
    printf("mpi_archive_hints: '%s' -> %s\n", hints, diag_first());
  diag_clear();
  char shown[64];
  CHECK_EQ(par_io_hints_check(shown, sizeof shown), FS_ECONFIG);
  diag_clear();
}

int main(int argc, char **argv) {
  CHECK_EQ(par_init(&argc, &argv), 0);
  const int root = par_rank() == 0;
  char shown[512], v[MPI_MAX_INFO_VAL];
  MPI_Info info = MPI_INFO_NULL;

  /* none: MPI_INFO_NULL, even where another rank's environment has some */
  set_hints(NULL, "striping_factor=4");
  CHECK_EQ(par_io_hints(&info), 0);
  CHECK(info == MPI_INFO_NULL);
  set_hints(" \t", NULL);
  CHECK_EQ(par_io_hints_check(shown, sizeof shown), 0);
  CHECK_STREQ(shown, "");

  /* good hints, spaces around them ignored; rank 0's on every rank */
  set_hints(" romio_cb_write = enable ,striping_factor=8,striping_unit=4194304, cb_nodes=2,"
            "collective_buffering=true,cb_config_list=*:1",
            "romio_cb_write=disable");
  CHECK_EQ(par_io_hints_check(shown, sizeof shown), 0);
  CHECK_STREQ(shown, "romio_cb_write=enable,striping_factor=8,striping_unit=4194304,cb_nodes=2,"
                     "collective_buffering=true,cb_config_list=*:1");
  CHECK_EQ(par_io_hints(&info), 0);
  CHECK(info != MPI_INFO_NULL);
  int nkeys = 0;
  CHECK_EQ(MPI_Info_get_nkeys(info, &nkeys), MPI_SUCCESS);
  CHECK_EQ(nkeys, 6);
  static const char *const want[][2] = {
      {"romio_cb_write", "enable"},     {"striping_factor", "8"},
      {"striping_unit", "4194304"},     {"cb_nodes", "2"},
      {"collective_buffering", "true"}, {"cb_config_list", "*:1"}};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    info_value(info, want[i][0], v, sizeof v);
    CHECK_STREQ(v, want[i][1]);
  }
  par_io_hints_free(&info);
  CHECK(info == MPI_INFO_NULL);
  par_io_hints_free(&info); /* accepts MPI_INFO_NULL */

  /* bad hints: one message naming the hint and what it expects */
  expect_bad("romio_cb_wrte=enable", "unknown hint 'romio_cb_wrte' (known: cb_buffer_size");
  expect_bad("striping_factor=eight", "hint 'striping_factor=eight': expected a positive integer");
  expect_bad("striping_unit=0", "'striping_unit=0': expected a positive integer");
  expect_bad("cb_nodes=-2", "'cb_nodes=-2': expected a positive integer");
  expect_bad("cb_buffer_size=4294967296", "expected a positive integer");
  expect_bad("romio_cb_write=on", "'romio_cb_write=on': expected enable, disable or automatic");
  expect_bad("romio_no_indep_rw=1", "'romio_no_indep_rw=1': expected true or false");
  expect_bad("cb_config_list=a b", "'cb_config_list=a b': expected one cb_config_list entry");
  expect_bad("striping_factor", "hint 'striping_factor' has no value");
  expect_bad("cb_nodes=", "'cb_nodes=': expected a positive integer");
  expect_bad("cb_nodes=2,,striping_factor=4", "an empty hint");
  expect_bad("cb_nodes=2,", "an empty hint");
  expect_bad("cb_nodes=2,cb_nodes=4", "hint 'cb_nodes' is given twice");
  char long_value[MPI_MAX_INFO_VAL + 32];
  snprintf(long_value, sizeof long_value, "cb_config_list=%0*d", MPI_MAX_INFO_VAL + 8, 1);
  expect_bad(long_value, "MPI takes at most");

  /* h5a_create: a file with good hints; bad ones refused before a file exists */
  char *dir = NULL;
  char tmpl[] = "/tmp/fleetsim-mpi-hints-XXXXXX";
  if (root)
    CHECK((dir = mkdtemp(tmpl)) != NULL);
  CHECK_EQ(par_bcast_text(&dir), 0);
  char path[512], partial[600];
  snprintf(path, sizeof path, "%s/fleet.h5", dir);
  snprintf(partial, sizeof partial, "%s.partial", path);
  const h5a_layout lay = {.scrapes = 20,
                          .nodes = 4,
                          .nodes_per_rack = 4,
                          .window_scrapes = 20,
                          .node0 = 0,
                          .nnodes = root ? 4 : 0};
  const h5a_provenance prov = {.version = "0.0-test",
                               .git_commit = "abcdef123456",
                               .fingerprint = "test",
                               .config_json = "{}",
                               .seed = 1,
                               .ranks = par_size(),
                               .scrape_interval_s = 15};
  h5a_writer *w = NULL;
  set_hints("romio_cb_write=enable,cb_buffer_size=1048576", NULL);
  CHECK_EQ(h5a_create(&w, path, &lay, &prov), 0);
  h5a_abandon(&w);
  if (root)
    CHECK(access(partial, F_OK) == 0 && unlink(partial) == 0);
  CHECK_EQ(par_agree(0), 0);

  set_hints("striping_factor=many", NULL);
  diag_clear();
  CHECK_EQ(h5a_create(&w, path, &lay, &prov), FS_ECONFIG);
  CHECK(w == NULL);
  if (!strstr(diag_first(), "'striping_factor=many'"))
    CHECK_FAIL("diag_first() = \"%s\"", diag_first());
  diag_clear();
  if (root) {
    CHECK(access(partial, F_OK) != 0);
    CHECK(rmdir(dir) == 0);
    printf("mpi_archive_hints: %ld checks passed on %d ranks\n", check_count, par_size());
  } else {
    free(dir);
  }
  par_finalize();
  return 0;
}

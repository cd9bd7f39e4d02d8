/* The run's ground truth and detection records (see run_record.h): the
 * scenarios converted for the archive, and the L1 events turned into the
 * archive's /events/l1 and the detection report. */
#include "src/app/run_record.h"

#include <stdio.h>
#include <stdlib.h>

#include "mpi/par.h"
#include "pipeline/score/checklist.h"
#include "pipeline/score/detection_report.h"
#include "src/core/errors.h"
#include "src/core/safefile.h"

int record_ground_truth(h5a_writer *archive, const scn_set *set, const fs_config *cfg) {
  h5a_scenario *gt = calloc((size_t)set->n + 1, sizeof *gt);
  char **params = calloc((size_t)set->n + 1, sizeof *params);
  int rc = gt && params ? 0 : FS_ENOMEM;
  for (int i = 0; rc == 0 && i < set->n; i++) {
    const scn_def *d = &set->s[i];
    if (!(params[i] = scn_params_json(d))) {
      rc = FS_ENOMEM;
      break;
    }
    gt[i] = (h5a_scenario){
        .id = d->id,
        .kind = scn_kind_name(d->kind),
        .params_json = params[i],
        .start_s = (double)d->t_start * cfg->scrape_interval_s,
        .end_s = (double)d->t_end * cfg->scrape_interval_s,
        .nodes = d->nodes,
        .nnodes = d->nnodes,
        .impacted = d->impacted,
        .nimpacted = d->nimpacted,
        .gpus = d->gpus,
        .ngpus = d->ngpus,
    };
  }
  rc = par_agree(rc);
  if (rc == 0 && cfg->archive)
    rc = h5a_write_ground_truth(archive, gt, set->n);
  for (int i = 0; params && i < set->n; i++)
    free(params[i]);
  free(params);
  free(gt);
  return rc;
}

int record_events(h5a_writer *archive, const agg_state *agg, const scn_set *set, const fleet *f,
                  const char *out_dir, int quiet) {
  const fs_config *cfg = f->cfg;
  int n = 0;
  const ev_event *ev = par_prints() ? agg_events(agg, &n) : NULL;
  int rc = par_bcast_int(&n);
  if (rc == 0 && cfg->archive)
    rc = h5a_write_events(archive, ev, n);
  if (rc == 0 && par_prints()) {
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/results", out_dir);
    snprintf(path, sizeof path, "%s/detection.json", dir);
    detrep *rep = NULL;
    chk_set *knowledge = NULL;
    rc = sf_mkdir(dir, "results directory", 0);
    if (rc == 0)
      rc = chk_parse(&knowledge, chk_default_text(), "built-in scenarios/checklists.json");
    if (rc == 0)
      rc = detrep_build(&rep, ev, n, set, f, knowledge, cfg->scrape_interval_s,
                        (double)cfg_scrapes(cfg) * cfg->scrape_interval_s);
    chk_destroy(&knowledge);
    if (rc == 0)
      rc = detrep_write_json(rep, path);
    if (rc == 0 && !quiet) {
      printf("L1 detection (%s):\n\n", path);
      detrep_print_table(rep, stdout);
      printf("\n");
    }
    detrep_destroy(&rep);
  }
  return par_agree(rc);
}

/* --resume checks (see resume_check.h): the checkpoint's manifest, build,
 * config and scenarios against this invocation, and the run fingerprint of
 * the archive and contexts.jsonl; every difference goes to diag, so one
 * refusal names all of them. The printing rank reads the files; the
 * verdict and the manifest are shared with every rank. */
#include "src/app/resume_check.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/archive_check.h"
#include "mpi/par.h"
#include "pipeline/score/score_run.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/textfile.h"
#include "version.h"

/* Every config key whose value differs between the config of `whose`
 * ("checkpoint", "finished run"; was) and this invocation's (now), into
 * diag. Returns how many. */
static int resume_config_diff(const char *whose, const char *was, const char *now) {
  json_error_t err;
  json_t *a = json_loads(was, 0, &err), *b = json_loads(now, 0, &err);
  int n = 0;
  if (!json_is_object(a) || !json_is_object(b)) {
    diag_addf("--resume: the %s's config cannot be read", whose);
    n = 1;
  }
  const char *key;
  json_t *va;
  for (int pass = 0; n == 0 && pass < 2; pass++) {
    json_t *x = pass == 0 ? a : b, *y = pass == 0 ? b : a;
    json_object_foreach(x, key, va) {
      json_t *vb = json_object_get(y, key);
      if (pass == 1 && vb)
        continue; /* compared in pass 0 */
      if (vb && json_equal(va, vb))
        continue;
      char *sa = json_dumps(pass == 0 ? va : vb, JSON_ENCODE_ANY | JSON_COMPACT);
      char *sb = json_dumps(pass == 0 ? vb : va, JSON_ENCODE_ANY | JSON_COMPACT);
      diag_addf("--resume: config key '%s' differs from the %s's: %s %.200s, now %.200s", key,
                whose, whose, sa ? sa : "(none)", sb ? sb : "(none)");
      free(sa);
      free(sb);
      n++;
    }
  }
  json_decref(a);
  json_decref(b);
  return n;
}

/* 1 when two scenario texts hold the same JSON (formatting aside). */
static int resume_same_json(const char *x, const char *y) {
  json_error_t err;
  json_t *a = json_loads(x, 0, &err), *b = json_loads(y, 0, &err);
  int same = a && b ? json_equal(a, b) : strcmp(x, y) == 0;
  json_decref(a);
  json_decref(b);
  return same;
}

/* "--resume: WHAT belongs to run A (...); this invocation is run B (...)"
 * into diag. */
static void resume_other_run(const char *what, const runid *theirs, const runid *ours) {
  char a[160], b[160];
  runid_describe(theirs, a, sizeof a);
  runid_describe(ours, b, sizeof b);
  diag_addf("--resume: %s belongs to %s; this invocation is %s", what, a, b);
}

/* A complete DIR/fleet.h5 on --resume: fine when it is this invocation's
 * run; else every difference (config keys, scenarios, build) into diag. */
static int resume_finished(const char *path, const sim_options *opt, const char *config_json,
                           const runid *run) {
  runid theirs;
  if (h5a_read_runid(path, &theirs) != 0)
    return FS_EUSAGE;
  if (runid_same(&theirs, run))
    return 0;
  char *config = NULL, *scenarios = NULL;
  if (h5a_read_root_text(path, "config", &config) == 0)
    resume_config_diff("finished run", config, config_json);
  if (h5a_read_root_text(path, "scenarios", &scenarios) == 0 &&
      !resume_same_json(scenarios, opt->scenarios_text))
    diag_addf("--resume: the scenarios (%s) differ from the finished run's", opt->scenarios_source);
  free(config);
  free(scenarios);
  resume_other_run(path, &theirs, run);
  return FS_EUSAGE;
}

/* Printing rank: reads and checks out_dir's checkpoint for this invocation
 * into *text (the manifest), or sets *complete when fleet.h5 is finished
 * (and is this invocation's run). The archive and contexts.jsonl must be
 * regular files of the same run as the checkpoint. */
static int resume_check_root(const fs_config *cfg, const sim_options *opt, const char *config_json,
                             const runid *run, char **text, int *complete) {
  if (!cfg->archive) {
    diag_addf("--resume with archive = 0: a run without fleet.h5 keeps no checkpoints, so "
              "there is nothing to resume; drop --resume or --set archive=0");
    return FS_EUSAGE;
  }
  char path[4400], mpath[4400], cpath[4400];
  snprintf(path, sizeof path, "%s/fleet.h5", opt->out_dir);
  if (h5a_archive_state(path) == H5A_COMPLETE) {
    *complete = 1;
    return resume_finished(path, opt, config_json, run);
  }
  snprintf(mpath, sizeof mpath, "%s/checkpoint/manifest.json", opt->out_dir);
  struct stat st;
  if (lstat(mpath, &st) != 0) {
    diag_addf("--resume: %s has no checkpoint to resume from (%s: %s); start the run again "
              "without --resume",
              opt->out_dir, mpath, strerror(errno));
    return FS_EUSAGE;
  }
  snprintf(path, sizeof path, "%s/fleet.h5.partial", opt->out_dir);
  if (lstat(path, &st) != 0) {
    diag_addf("--resume: %s: %s, so the checkpoint has no archive to continue; start the run "
              "again without --resume",
              path, strerror(errno));
    return FS_EUSAGE;
  }
  if (!S_ISREG(st.st_mode)) {
    diag_addf("--resume: %s is %s, not the archive fleetsim wrote (it does not write through "
              "links)",
              path, S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
    return FS_EUSAGE;
  }
  int rc = text_read_file(mpath, text, "--resume");
  ckpt_manifest m;
  if (rc == 0)
    rc = ckpt_manifest_parse(*text, mpath, &m);
  if (rc != 0)
    return rc;
  if (strcmp(m.version, FLEETSIM_VERSION) != 0 || strcmp(m.git_commit, FLEETSIM_GIT_COMMIT) != 0) {
    diag_addf("--resume: the checkpoint in %s was written by fleetsim %s (git %s), this is %s "
              "(git %s): resume with the build that started the run",
              opt->out_dir, m.version, m.git_commit, FLEETSIM_VERSION, FLEETSIM_GIT_COMMIT);
    rc = FS_EUSAGE;
  }
  if (resume_config_diff("checkpoint", m.config_json, config_json) > 0)
    rc = FS_EUSAGE;
  if (!resume_same_json(m.scenarios_text, opt->scenarios_text)) {
    diag_addf("--resume: the scenarios (%s) differ from the ones the checkpoint in %s was run "
              "with: resume with the same scenario file",
              opt->scenarios_source, opt->out_dir);
    rc = FS_EUSAGE;
  }
  if (rc == 0 && strcmp(m.fingerprint, run->fingerprint) != 0) {
    runid theirs = *run;
    snprintf(theirs.fingerprint, sizeof theirs.fingerprint, "%.16s", m.fingerprint);
    resume_other_run(mpath, &theirs, run);
    rc = FS_EUSAGE;
  }
  ckpt_manifest_free(&m);
  /* the archive and the contexts must be the checkpoint's run too */
  runid theirs;
  runid_file state;
  if (rc == 0 && h5a_read_runid(path, &theirs) != 0)
    rc = FS_EUSAGE;
  if (rc == 0 && !runid_same(&theirs, run)) {
    resume_other_run(path, &theirs, run);
    rc = FS_EUSAGE;
  }
  snprintf(cpath, sizeof cpath, "%s/llm/contexts.jsonl", opt->out_dir);
  if (rc == 0 && runid_read_file(cpath, &state, &theirs) != 0)
    rc = FS_EUSAGE;
  if (rc == 0 && state != RUNID_FILE_HEADER) {
    diag_addf("--resume: %s has no run header: it was not written by this run", cpath);
    rc = FS_EUSAGE;
  }
  if (rc == 0 && !runid_same(&theirs, run)) {
    resume_other_run(cpath, &theirs, run);
    rc = FS_EUSAGE;
  }
  return rc;
}

int resume_check(const fs_config *cfg, const sim_options *opt, const char *config_json,
                 const runid *run, ckpt_manifest *m, int *complete) {
  char *text = NULL;
  memset(m, 0, sizeof *m);
  *complete = 0;
  int rc = par_prints() ? resume_check_root(cfg, opt, config_json, run, &text, complete) : 0;
  rc = par_agree(rc);
  if (rc == 0)
    rc = par_bcast_int(complete);
  if (rc == 0 && !*complete) {
    rc = par_bcast_text(&text);
    if (rc == 0)
      rc = par_agree(text ? ckpt_manifest_parse(text, "manifest.json", m) : FS_EIO);
  }
  free(text);
  return rc;
}

int resume_finish_complete(const sim_options *opt) {
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/checkpoint", opt->out_dir);
  struct stat st;
  int leftover = stat(dir, &st) == 0;
  printf("fleetsim: %s/fleet.h5 is complete: nothing to resume\n", opt->out_dir);
  int rc = 0;
  if (leftover && opt->nbackends > 0) {
    printf("fleetsim: the run's finish was interrupted: scoring it again\n");
    rc = score_run_archive(opt->out_dir, !opt->quiet);
  }
  if (rc == 0 && leftover)
    rc = ckpt_prune(dir, -1);
  return rc;
}

/* Phase timers of the run and the end-of-run performance report (see
 * timers.h): wall-clock spans per rank, reduced to min/avg/max over the
 * ranks. */
#include "src/app/timers.h"

#include <stdio.h>
#include <sys/resource.h>

#include "mpi/par.h"
#include "src/model/fleet.h"
#include "src/model/metrics.h"

#define TIMER_NAME(e, name) [e] = name,
const char *const timer_names[TIMER_COUNT] = {RUN_TIMERS(TIMER_NAME)};
#undef TIMER_NAME

void timer_start(run_timers *t, timer_id k) { t->started_s[k] = par_wtime(); }

void timer_stop(run_timers *t, timer_id k) { t->total_s[k] += par_wtime() - t->started_s[k]; }

void timers_report(const run_timers *t, const run_report *r) {
  double mn[TIMER_COUNT], av[TIMER_COUNT], mx[TIMER_COUNT];
  for (int k = 0; k < TIMER_COUNT; k++)
    if (par_min_avg_max(t->total_s[k], &mn[k], &av[k], &mx[k]))
      return;
  struct rusage ru;
  double rss_mib = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss / 1024.0 : 0.0;
  double rss_min, rss_avg, rss_max;
  if (par_min_avg_max(rss_mib, &rss_min, &rss_avg, &rss_max))
    return;
  double ck_min, ck_avg, ck_max;
  if (par_min_avg_max(r->checkpoint_bytes, &ck_min, &ck_avg, &ck_max))
    return;
  if (!par_prints())
    return;
  const fs_config *cfg = r->cfg;
  int64_t T = cfg_scrapes(cfg);
  double gpu_points = (double)T * cfg->nodes * FLEET_GPUS * GM_COUNT;
  double node_points = (double)T * cfg->nodes * NM_COUNT;
  double bytes = (gpu_points + node_points + (double)T * CM_COUNT) * 4.0 + T * 8.0;
  if (cfg->archive)
    printf("fleetsim: wrote %s (complete)\n", r->archive_path);
  else
    printf("fleetsim: archive off (archive = 0): %s not written\n", r->archive_path);
  printf("fleetsim: %d nodes x %d GPUs, %lld scrapes of %d s, %d ranks\n", cfg->nodes,
         FLEET_GPUS, (long long)T, cfg->scrape_interval_s, par_size());
  printf("fleetsim: %.4g GPU data points + %.4g node data points, %.3g GB of telemetry\n",
         gpu_points, node_points, bytes / 1e9);
  printf("fleetsim: wall %.2f s, %.4g data points/s\n", r->wall_s,
         (gpu_points + node_points) / r->wall_s);
  for (int k = 0; k < TIMER_COUNT; k++)
    printf("fleetsim: timer %-12s min %8.2f s  avg %8.2f s  max %8.2f s\n", timer_names[k],
           mn[k], av[k], mx[k]);
  printf("fleetsim: peak memory per rank: min %.0f MiB  avg %.0f MiB  max %.0f MiB\n", rss_min,
         rss_avg, rss_max);
  printf("fleetsim: %lld checkpoints, the last %.3g MiB in all (max %.3g MiB on one rank, "
         "root part included)\n",
         (long long)r->checkpoints, ck_avg * par_size() / 1048576.0, ck_max / 1048576.0);
}

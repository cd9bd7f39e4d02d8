/* Run size estimates (see sizing.h). Constants are bytes per value of the
 * archive layout (io/archive.c) and per node of the model, detector and
 * context ring, measured on the default and test fleets. */
#include "src/model/sizing.h"

#include <math.h>
#include <stdint.h>
#include <unistd.h>

#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/model/fleet.h"
#include "src/model/metrics.h"
#include "src/core/paths.h"

enum {
  SZ_BLOCK = 20,            /* scrapes per detection block */
  SZ_RING_BLOCKS = 13,      /* blocks of whole-fleet features in the context ring */
  SZ_NODE_STATE = 3800,     /* checkpoint record of one node (model + detector) */
  SZ_READ_BACK_VALUES = 124, /* values per node-scrape the window keeps with archive = 0 */
};
#define SZ_NODE_VALUES ((double)FLEET_GPUS * GM_COUNT + NM_COUNT) /* values per node-scrape */
#define SZ_BASE_BYTES (32.0 * 1048576)   /* code, libraries, MPI and HDF5 buffers */
#define SZ_META_BYTES (1.0 * 1048576)    /* archive metadata, topology, ground truth */

void sizing_estimate(const fs_config *cfg, int ranks, sizing *s) {
  double T = (double)cfg_scrapes(cfg), N = cfg->nodes;
  double rows = cfg->window_scrapes < T ? cfg->window_scrapes : T;
  double rows_alloc = ceil(T / rows) * rows; /* chunks hold whole windows */
  int per_rack = cfg->nodes / (cfg->racks > 0 ? cfg->racks : 1);
  int racks_max = (cfg->racks + ranks - 1) / (ranks > 0 ? ranks : 1);
  double local = (double)racks_max * per_rack, node_bytes = SZ_NODE_VALUES * 4;
  s->local_nodes = (int)local;
  s->node_scrape_bytes = node_bytes;
  /* per row: the telemetry, and 8 B each of /time/seconds, /telemetry/time and time_utc */
  s->archive_bytes = rows_alloc * (N * node_bytes + CM_COUNT * 4.0 + 3 * 8.0) +
                     (double)cfg->racks * rows_alloc / rows * (GM_COUNT + NM_COUNT) * 48.0 +
                     SZ_META_BYTES;
  double ring = SZ_RING_BLOCKS * N * node_bytes;
  s->checkpoint_bytes = 2.0 * (N * SZ_NODE_STATE + ring);
  s->other_bytes = 16.0 * 1048576 + 8.0 * 1048576 * T * cfg->scrape_interval_s / 86400.0;
  s->disk_bytes = s->archive_bytes + s->checkpoint_bytes + s->other_bytes;
  if (!cfg->archive) /* no archive, no checkpoints */
    s->disk_bytes = s->other_bytes;
  /* archive = 0: the window keeps only what the detector reads back */
  s->window_bytes = rows * local * (cfg->archive ? node_bytes : SZ_READ_BACK_VALUES * 4.0);
  double gpus = local * FLEET_GPUS;
  double detector = 2.0 * N * node_bytes + 3.0 * N * FLEET_GPUS * 4 +
                    (rows / SZ_BLOCK + 1) * gpus * GM_COUNT * 4 + 3.0 * gpus * GM_COUNT * 4 +
                    4.0 * local * NM_COUNT * 4;
  s->rank_bytes = SZ_BASE_BYTES + s->window_bytes + detector;
  s->root_bytes = s->rank_bytes + ring + (double)cfg->racks * rows * 7 * 8 +
                  T / SZ_BLOCK * (double)cfg->racks * 20.0;
}

void sizing_bytes(double b, char *out, size_t cap) {
  static const char *const unit[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (b >= 999.5 && u < 5) {
    b /= 1000;
    u++;
  }
  snprintf(out, cap, u == 0 ? "%.0f %s" : "%.3g %s", b, unit[u]);
}

void sizing_print(const sizing *s, const fs_config *cfg, int ranks, FILE *out) {
  char a[32], c[32], d[32], w[32], r[32], root[32];
  sizing_bytes(s->archive_bytes, a, sizeof a);
  sizing_bytes(s->checkpoint_bytes, c, sizeof c);
  sizing_bytes(s->disk_bytes, d, sizeof d);
  sizing_bytes(s->window_bytes, w, sizeof w);
  sizing_bytes(s->rank_bytes, r, sizeof r);
  sizing_bytes(s->root_bytes, root, sizeof root);
  if (cfg->archive)
    fprintf(out,
            "fleetsim: disk: about %s in the output directory: archive %s (%lld scrapes x %d "
            "nodes x %.0f B: keys hours, scrape_interval_s, nodes), checkpoints up to %s\n",
            d, a, (long long)cfg_scrapes(cfg), cfg->nodes, s->node_scrape_bytes, c);
  else
    fprintf(out, "fleetsim: disk: about %s (archive = 0: no archive, no checkpoints)\n", d);
  fprintf(out,
          "fleetsim: memory on %d rank%s: about %s per rank (window buffer %s = window_scrapes "
          "%d x %d nodes x %.0f B), %s on rank 0\n",
          ranks, ranks == 1 ? "" : "s", r, w,
          cfg->window_scrapes < cfg_scrapes(cfg) ? cfg->window_scrapes : (int)cfg_scrapes(cfg),
          s->local_nodes, s->node_scrape_bytes, root);
}

int sizing_check_fits(const sizing *z, const fs_config *cfg, const char *out_dir, int node_ranks) {
  char need[32], have[32], arch[32], ck[32], rank[32], root[32], win[32];
  sizing_bytes(z->disk_bytes, need, sizeof need);
  sizing_bytes(z->archive_bytes, arch, sizeof arch);
  sizing_bytes(z->checkpoint_bytes, ck, sizeof ck);
  uint64_t free_bytes = 0;
  int rc = path_free_bytes(out_dir, &free_bytes);
  if (rc == 0 && z->disk_bytes > (double)free_bytes) {
    sizing_bytes((double)free_bytes, have, sizeof have);
    diag_addf("run: %s needs about %s (archive %s = %lld scrapes x %d nodes x %.0f B, set by "
              "hours, scrape_interval_s and nodes; checkpoints %s), but its file system has %s "
              "free: free space, lower hours or nodes, or pass --force to try anyway",
              out_dir, need, arch, (long long)cfg_scrapes(cfg), cfg->nodes, z->node_scrape_bytes,
              ck, have);
    rc = FS_EIO;
  }
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  double mem = pages > 0 && page > 0 ? (double)pages * (double)page : 0;
  double want = z->root_bytes + (node_ranks - 1) * z->rank_bytes;
  if (mem > 0 && want > mem) {
    sizing_bytes(want, need, sizeof need);
    sizing_bytes(mem, have, sizeof have);
    sizing_bytes(z->rank_bytes, rank, sizeof rank);
    sizing_bytes(z->root_bytes, root, sizeof root);
    sizing_bytes(z->window_bytes, win, sizeof win);
    diag_addf("run: %d rank%s on this node would need about %s of memory (%s per rank, %s on "
              "rank 0; the window buffer alone %s = window_scrapes %d x %d nodes per rank x "
              "%.0f B), but it has %s: lower window_scrapes or nodes, use more ranks on more "
              "nodes, or pass --force to try anyway",
              node_ranks, node_ranks == 1 ? "" : "s", need, rank, root, win,
              cfg->window_scrapes, z->local_nodes, z->node_scrape_bytes, have);
    rc = rc ? rc : FS_EIO;
  }
  return rc;
}

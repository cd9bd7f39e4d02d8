/* The fleet's telemetry model: turns workload state and fault drivers into
 * every metric of every local node and GPU, one scrape at a time, into a
 * window buffer. Physical couplings (power -> junction temperature with
 * thermal lag, temperature -> clocks -> step time and latency, context length
 * -> KV hit ratio -> TTFT, ...) live here; what goes wrong lives in scenarios/,
 * which only sets the drivers below. No MPI, no I/O. */
#ifndef FLEETSIM_TELEMETRY_H
#define FLEETSIM_TELEMETRY_H
#include <stddef.h>
#include <stdint.h>

#include "src/model/fleet.h"
#include "src/model/metrics.h"

enum { TEL_DRAINED_IDLE = 1, TEL_DRAINED_AWAY = 2 }; /* tel_drivers.drained */

/* Physical causes a fault injector can set on one node for one scrape. The
 * neutral value of every field (tel_drivers_reset) means "no fault". */
typedef struct {
  float inlet_delta_c;     /* added to the node's inlet air temperature (C) */
  float board_delta_c;     /* added to every GPU's junction temperature (C) */
  float routing_collapse;  /* MoE router confidence collapse, 0 normal .. 1 full */
  float entropy_to_nats;   /* router entropy at full collapse */
  float hot_share;         /* share of tokens on the hot experts at full collapse */
  uint8_t hot_gpu_mask;    /* GPUs hosting the over-selected experts */
  float context_scale;     /* prompt length multiplier, 1 = normal */
  float fabric_congestion; /* leaf-switch buffer overflow intensity, 0 .. 1 */
  float nvlink_replays;    /* extra NVLink replays per interval on masked GPUs */
  uint8_t nvlink_gpu_mask;
  float sbe_per_interval[FLEET_GPUS]; /* extra single-bit ECC errors per interval */
  /* silicon, firmware and stuck-kernel causes */
  float clock_sag_mhz[FLEET_GPUS]; /* SM clock ceiling this far below boost; 0: none */
  float link_scale;                /* NVLink and PCIe throughput factor; 0: unchanged */
  uint8_t hung_gpu_mask;           /* GPUs stuck in a kernel that does no work */
  float hung_power_w;              /* power above idle each stuck GPU draws */
  /* power and thermal-telemetry faults */
  float gpu_power_limit_w; /* enforced GPU power limit (W); 0: the board's own TDP */
  float phase_loss;        /* share of its lost PDU phase's load the node no longer draws there */
  float load_burst;        /* inference traffic pushed toward saturation, 0 normal .. 1 */
  uint8_t sensor_stuck_mask;             /* GPUs whose temperature reading is stuck ... */
  float sensor_stuck_c[FLEET_GPUS];      /* ... at this value (C) */
  float sensor_offset_c[FLEET_GPUS];     /* the others: error added to the true reading (C) */
  /* GPU and link faults that end or interrupt work (the job side: tel_job_drivers) */
  uint8_t gpu_off_bus_mask; /* GPUs fallen off the bus (XID 79): no reading, no work */
  uint8_t job_excluded;     /* 1: the node's job restarted without it (its GPUs idle) */
  uint8_t dbe_gpu_mask;     /* GPUs with an uncorrectable HBM error now (DBE, XID 48) */
  uint8_t remap_gpu_mask;   /* GPUs remapping a row after one now (XID 63) */
  uint8_t pcie_gpu_mask;    /* GPUs whose PCIe link retrained down */
  float pcie_link_loss;     /* share of the link's bandwidth lost, 0 none .. <1 */
  float pcie_replays;       /* extra PCIe replays per interval on pcie_gpu_mask */
  float nic_down_share;     /* share of the interval the node's IB port is down, 0 .. 1 */
  float nic_flaps;          /* IB port down/up transitions in the interval */
  /* operators' actions (src/model/mitigation.h); neutral 0 */
  uint8_t drained;         /* TEL_DRAINED_IDLE: out of service (drained, replicas migrated):
                              the node runs as an idle-pool node (GPUs idle, no workload) and
                              reports only the metrics an idle-pool node reports; GPU faults
                              that need no load (ECC, a stuck sensor, ...) still show.
                              TEL_DRAINED_AWAY: out of the rack for repair: no samples (as a
                              failed scrape: gauges NaN, counters hold) */
  float load_scale;        /* multiplier of the node's offered inference load (its tenant's
                              traffic spread over fewer nodes); 0: unchanged. The load still
                              saturates at 1: traffic beyond is lost */
  float capacity_share;    /* share of the node's serving capacity left (fewer concurrent
                              sequences): the same traffic loads it 1 / share times more and it
                              serves at most share of a full load; 0: all of it */
  float kv_capacity_scale; /* KV-cache pool multiplier: the working set's excess over the
                              pool (context_scale - 1, when above 0) is divided by it; 0:
                              unchanged */
} tel_drivers;

/* Job-level state of one scrape: what stops or stretches a whole training
 * job. Neutral (tel_job_drivers_reset): running, checkpoints at nominal
 * speed. Set from outside the model (fault injectors, and later actions)
 * through tel_job_drivers_of, for every job on every rank alike. */
typedef struct {
  float hang_s;     /* seconds of the interval hung in a collective (a rank is gone) */
  float restart_s;  /* seconds relaunching and reading back the last checkpoint */
  float ckpt_scale; /* checkpoint write time factor (shared storage), 1 nominal */
  float extra_stall_s; /* seconds of the interval writing an extra checkpoint (an operator's
                          checkpoint_job), added to the periodic stall (at most the
                          interval); 0: none */
} tel_job_drivers;

/* One window of this rank's telemetry: rows are scrapes. */
typedef struct {
  int capacity;               /* rows allocated */
  int node0;                  /* first local node (global index) */
  int nnodes;                 /* local nodes per row */
  tel_cell *gpu[GM_COUNT];    /* [capacity][nnodes][FLEET_GPUS] */
  tel_cell *node[NM_COUNT];   /* [capacity][nnodes] */
  float *step_own_ms;         /* [capacity][nnodes] own step time, 0 if none, -1 if left out */
  void *block;                /* the one allocation the arrays above live in */
  float *job_stall_s;         /* [capacity][njobs] checkpoint stall of each job, its own
                                 allocation (tel_window_init's windows only) */
  unsigned char gpu_kept[GM_COUNT]; /* 0: tel_scrape leaves metric k's cells unwritten */
} tel_window;

/* Per-rack aggregates that cluster metrics are built from, one block per
 * (rack, row): sums in rack order keep cluster values rank-count invariant. */
enum {
  TEL_AGG_POWER_W,     /* node power, summed */
  TEL_AGG_SPARE_GPUS,  /* healthy GPUs of idle-pool nodes */
  TEL_AGG_VIOL_MOE,    /* MoE nodes violating their latency SLO */
  TEL_AGG_VIOL_DENSE,  /* dense nodes violating their latency SLO */
  TEL_AGG_VIOL_TRAIN,  /* job nodes whose step time breaks the SLO */
  TEL_AGG_TOK_MOE,     /* tokens/s, MoE tenant */
  TEL_AGG_TOK_DENSE,   /* tokens/s, dense tenant */
  TEL_AGG_COUNT
};

typedef struct tel_model tel_model;

/* Creates the model state for nodes [node0, node0 + nnodes) of fleet f
 * (borrowed; must outlive the model). Returns 0 or FS_ENOMEM. */
int tel_init(tel_model **out, const fleet *f, int node0, int nnodes);

/* Frees the model; accepts NULL and clears the pointer. */
void tel_destroy(tel_model **m);

/* Allocates a window of `capacity` rows for the model's nodes. 0 or FS_ENOMEM. */
int tel_window_init(tel_window *w, const tel_model *m, int capacity);

/* Which GPU metrics tel_scrape stores in w (all of them after
 * tel_window_init): only those with keep[k] set and the ones tel_rack_
 * aggregates reads (clock events, DBE). For a window nothing archives: the
 * other cells are computed and handed to the chunk callback, not stored. */
void tel_window_keep(tel_window *w, const unsigned char keep[GM_COUNT]);

/* Frees a window's buffers; safe on a zeroed or already freed window. */
void tel_window_destroy(tel_window *w);

/* Sets every driver of n nodes to its neutral value. */
void tel_drivers_reset(tel_drivers *d, int n);

/* Sets n jobs' drivers to their neutral value. */
void tel_job_drivers_reset(tel_job_drivers *jd, int n);

/* The model's job drivers, one per job of the fleet (neutral after
 * tel_init): tel_scrape reads them for every job node, so they must be the
 * same on every rank for a scrape (a pure function of the scrape). */
tel_job_drivers *tel_job_drivers_of(tel_model *m);

/* What tel_scrape hands each chunk of nodes it completes, while the cells
 * are still in cache: gpu[k] holds metric k of local nodes [i0, i0 + n)
 * (FLEET_GPUS cells each, node-major) of window row `row`. */
typedef void (*tel_chunk_fn)(void *ctx, int row, size_t i0, size_t n, tel_cell *const *gpu);

/* Simulates global scrape t for every local node into row `row` of w, with
 * drivers[i] for local node i, and calls on_chunk(ctx, ...) for each chunk
 * of nodes in order (on_chunk may be NULL). Step time and all-reduce wait
 * of job nodes are left for tel_finish_training; step_own_ms gets each
 * node's own time. Must be called for consecutive t (the model keeps
 * counters and lags). */
void tel_scrape(tel_model *m, int64_t t, const tel_drivers *drivers, tel_window *w, int row,
                tel_chunk_fn on_chunk, void *ctx);

/* Job-level step time: fills job_max_ms[row * njobs + j] with this rank's
 * largest own step time of job j (0 if no local node), for rows [0, rows). */
void tel_job_local_max(const tel_model *m, const tel_window *w, int rows, double *job_max_ms);

/* Completes training metrics once job_max_ms holds the maximum over all
 * ranks: step_time_ms = the job's slowest node, allreduce_wait_ms = time
 * waiting for it plus the collective itself. */
void tel_finish_training(tel_model *m, tel_window *w, int rows, const double *job_max_ms);

/* Per-rack aggregates of this rank's racks for the rows [0, rows) of w
 * (a tel_window_init window of scrapes [t0, t0 + rows)):
 * out[(lr * rows + row) * TEL_AGG_COUNT + k] for local rack lr. Call after
 * tel_finish_training. */
void tel_rack_aggregates(const tel_model *m, const tel_window *w, int64_t t0, int rows,
                         double *out);

/* Cluster-level state (outdoor temperature, PUE, SLA budgets), kept on the
 * printing rank only. */
typedef struct tel_cluster tel_cluster;

/* 0 or FS_ENOMEM. */
int tel_cluster_init(tel_cluster **out, const fleet *f);
void tel_cluster_destroy(tel_cluster **c);

/* Computes cluster metrics for scrapes [t0, t0 + rows) from all racks'
 * aggregates (agg[(rack * rows + row) * TEL_AGG_COUNT + k], rack order) into
 * cluster[m][row]. Must be called for consecutive windows. */
void tel_cluster_window(tel_cluster *c, int64_t t0, int rows, const double *agg,
                        float *const cluster[CM_COUNT]);

/* The GPU board's power limit (TDP) of the model's H100 SXM5, W. */
#define TEL_BOARD_TDP_W 700.0f

/* Nominal write time (s) of one checkpoint of job j (by job size, before
 * the per-checkpoint draw and any storage slowdown). */
double tel_job_checkpoint_write_s(const fs_config *cfg, int j);

/* Start time (s from t = 0) of job j's last periodic checkpoint (the
 * schedule of every checkpoint_every_min the model writes) whose write, at
 * nominal storage speed, completed at or before time_s; 0 when none has
 * (the job's state at the start of the run). */
double tel_job_last_checkpoint_s(const fs_config *cfg, int j, double time_s);

/* Hour of day (0..24) at scrape t. */
double tel_hour_of_day(const fs_config *cfg, int64_t t);

/* ---- checkpoint (resume) ------------------------------------------------
 * The state that evolves from scrape to scrape, so that a resumed run
 * continues bit-identically. Per node it is a fixed-size record (the same
 * for every rank count), so checkpoints can be redistributed over ranks. */
typedef struct ckpt_file ckpt_file;

/* Size of one node's record. */
size_t tel_node_state_bytes(const tel_model *m);

/* Copies local node i's state into rec (tel_node_state_bytes bytes), and back. */
void tel_save_node(const tel_model *m, int i, void *rec);
void tel_load_node(tel_model *m, int i, const void *rec);

/* Cluster state (outdoor noise, SLA budgets) to or from a checkpoint
 * stream; load returns 0 or FS_EIO. */
void tel_cluster_save(const tel_cluster *c, ckpt_file *f);
int tel_cluster_load(tel_cluster *c, ckpt_file *f);

#endif

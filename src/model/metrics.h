/* The metric catalogue: every exported series with its Prometheus-style name,
 * units, description, DCGM field, storage type and which nodes report it.
 * One X-macro list per scope; the enums, the model (which cells are NaN,
 * which counters it accumulates), the archive's datasets and attributes
 * (and through them the export), the detector's features and the contexts'
 * metric names all read them. */
#ifndef FLEETSIM_METRICS_H
#define FLEETSIM_METRICS_H
#include <stdint.h>

/* Storage: 32-bit float gauges, or 32-bit unsigned integers (counters and
 * codes). 4 bytes per value either way; a cell holds one of them. */
typedef enum { MT_F32 = 0, MT_U32 = 1 } metric_type;
typedef union {
  float f;
  uint32_t u;
} tel_cell;

/* Tenant masks: bit k for tenant k of fleet.h (fleet_tenant order). */
#define TM_MOE 1u
#define TM_DENSE 2u
#define TM_TRAIN 4u
#define TM_INFER (TM_MOE | TM_DENSE)
#define TM_ALL (TM_MOE | TM_DENSE | TM_TRAIN)

/* Reporter masks: which nodes report a node metric, by what runs on them;
 * the model writes NaN into the metric's cells on every other node (the one
 * place that decides it). A training node outside every job (the idle
 * pool) is a reporter of its own; the other bits are the tenant bits. */
#define RM_MOE TM_MOE     /* MoE inference nodes */
#define RM_DENSE TM_DENSE /* dense inference nodes */
#define RM_JOB TM_TRAIN   /* training nodes in a job */
#define RM_POOL 8u        /* training nodes of the idle pool */
#define RM_INFER (RM_MOE | RM_DENSE)
#define RM_WORKLOAD (RM_INFER | RM_JOB) /* every node with a workload */
#define RM_ALL (RM_WORKLOAD | RM_POOL)

/* X(ENUM, name, units, long_name, dcgm_field, type) -- per GPU, [T, nodes, 8];
 * every GPU reports every GPU metric. A counter (MT_U32, name ending in
 * "_total") gets a per-GPU accumulator in the model (tel_gpu_real_ctr in
 * src/model/node_physics.c lists those that accumulate time or energy). */
#define GPU_METRICS(X)                                                                      \
  X(GM_TEMP, "gpu_temp_celsius", "C", "GPU junction temperature", "DCGM_FI_DEV_GPU_TEMP", MT_F32) \
  X(GM_MEM_TEMP, "gpu_memory_temp_celsius", "C", "HBM memory temperature",                 \
    "DCGM_FI_DEV_MEMORY_TEMP", MT_F32)                                                      \
  X(GM_POWER, "gpu_power_watts", "W", "Board power draw", "DCGM_FI_DEV_POWER_USAGE", MT_F32) \
  X(GM_ENERGY, "gpu_energy_joules_total", "J", "Energy consumed since the run started",    \
    "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", MT_U32)                                         \
  X(GM_SM_CLOCK, "gpu_sm_clock_mhz", "MHz", "SM clock frequency", "DCGM_FI_DEV_SM_CLOCK", MT_F32) \
  X(GM_MEM_CLOCK, "gpu_mem_clock_mhz", "MHz", "Memory clock frequency",                   \
    "DCGM_FI_DEV_MEM_CLOCK", MT_F32)                                                        \
  X(GM_SM_UTIL, "gpu_sm_util_percent", "%", "GPU utilization", "DCGM_FI_DEV_GPU_UTIL", MT_F32) \
  X(GM_MEM_BW_UTIL, "gpu_mem_bw_util_percent", "%", "Memory bandwidth utilization",        \
    "DCGM_FI_DEV_MEM_COPY_UTIL", MT_F32)                                                    \
  X(GM_SM_ACTIVE, "gpu_sm_active_ratio", "1", "Fraction of cycles an SM has a warp resident", \
    "DCGM_FI_PROF_SM_ACTIVE", MT_F32)                                                       \
  X(GM_SM_OCCUPANCY, "gpu_sm_occupancy_ratio", "1", "Resident warps over the SM maximum",  \
    "DCGM_FI_PROF_SM_OCCUPANCY", MT_F32)                                                    \
  X(GM_TENSOR_ACTIVE, "gpu_tensor_active_ratio", "1", "Fraction of cycles the tensor pipe is active", \
    "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", MT_F32)                                              \
  X(GM_DRAM_ACTIVE, "gpu_dram_active_ratio", "1", "Fraction of cycles device memory is busy", \
    "DCGM_FI_PROF_DRAM_ACTIVE", MT_F32)                                                     \
  X(GM_FB_USED, "gpu_fb_used_bytes", "B", "Framebuffer (HBM) memory used",                 \
    "DCGM_FI_DEV_FB_USED", MT_F32)                                                          \
  X(GM_FB_FREE, "gpu_fb_free_bytes", "B", "Framebuffer (HBM) memory free",                 \
    "DCGM_FI_DEV_FB_FREE", MT_F32)                                                          \
  X(GM_PCIE_TX, "gpu_pcie_tx_bytes_per_second", "B/s", "PCIe transmit throughput",         \
    "DCGM_FI_PROF_PCIE_TX_BYTES", MT_F32)                                                   \
  X(GM_PCIE_RX, "gpu_pcie_rx_bytes_per_second", "B/s", "PCIe receive throughput",          \
    "DCGM_FI_PROF_PCIE_RX_BYTES", MT_F32)                                                   \
  X(GM_NVLINK_TX, "gpu_nvlink_tx_bytes_per_second", "B/s", "NVLink transmit throughput",   \
    "DCGM_FI_PROF_NVLINK_TX_BYTES", MT_F32)                                                 \
  X(GM_NVLINK_RX, "gpu_nvlink_rx_bytes_per_second", "B/s", "NVLink receive throughput",    \
    "DCGM_FI_PROF_NVLINK_RX_BYTES", MT_F32)                                                 \
  X(GM_CLOCK_EVENTS, "gpu_clock_event_reasons", "bitmask",                                 \
    "Clock event (throttle) reasons: 0x1 idle, 0x4 sw power cap, 0x20 sw thermal, 0x40 hw thermal", \
    "DCGM_FI_DEV_CLOCKS_EVENT_REASONS", MT_U32)                                             \
  X(GM_XID, "gpu_xid_last", "code", "Last XID error code (0 = none)",                      \
    "DCGM_FI_DEV_XID_ERRORS", MT_U32)                                                       \
  X(GM_ECC_SBE, "gpu_ecc_sbe_total", "errors", "Single-bit (corrected) ECC errors",        \
    "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", MT_U32)                                                \
  X(GM_ECC_DBE, "gpu_ecc_dbe_total", "errors", "Double-bit (uncorrectable) ECC errors",    \
    "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", MT_U32)                                                \
  X(GM_NVLINK_REPLAY, "gpu_nvlink_replay_total", "errors", "NVLink replay errors",         \
    "DCGM_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL", MT_U32)                                  \
  X(GM_NVLINK_CRC, "gpu_nvlink_crc_flit_errors_total", "errors", "NVLink CRC flit errors", \
    "DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL", MT_U32)                                \
  X(GM_NVLINK_RECOVERY, "gpu_nvlink_recovery_errors_total", "errors",                      \
    "NVLink link recovery errors", "DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL", MT_U32) \
  X(GM_PCIE_REPLAY, "gpu_pcie_replay_total", "errors", "PCIe replays",                     \
    "DCGM_FI_DEV_PCIE_REPLAY_COUNTER", MT_U32)                                              \
  X(GM_REMAP_CORR, "gpu_remapped_rows_correctable_total", "rows",                          \
    "HBM rows remapped after correctable errors", "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", MT_U32) \
  X(GM_REMAP_UNCORR, "gpu_remapped_rows_uncorrectable_total", "rows",                      \
    "HBM rows remapped after uncorrectable errors",                                         \
    "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", MT_U32)                                      \
  X(GM_THERMAL_VIOL, "gpu_thermal_violation_ms_total", "ms",                               \
    "Time clocks were held down by thermal limits", "DCGM_FI_DEV_THERMAL_VIOLATION", MT_U32) \
  X(GM_POWER_VIOL, "gpu_power_violation_ms_total", "ms",                                   \
    "Time clocks were held down by the power cap", "DCGM_FI_DEV_POWER_VIOLATION", MT_U32)

/* X(ENUM, name, units, long_name, reporters, type) -- per node, [T, nodes];
 * reporters: an RM_* mask (a metric some nodes do not report is MT_F32). */
#define NODE_METRICS(X)                                                                     \
  X(NM_INLET_TEMP, "inlet_temp_celsius", "C", "Server inlet air temperature", RM_ALL, MT_F32) \
  X(NM_PDU_IMBALANCE, "pdu_phase_imbalance_percent", "%",                                  \
    "Load imbalance across the node's three PDU phases", RM_ALL, MT_F32)                    \
  X(NM_POWER, "node_power_watts", "W", "Node power draw (GPUs and host)", RM_ALL, MT_F32)   \
  X(NM_RDMA_BYTES, "rdma_bytes_per_second", "B/s", "RDMA traffic over InfiniBand", RM_ALL, MT_F32) \
  X(NM_RDMA_RETX, "rdma_retransmits_total", "packets", "RDMA retransmitted packets", RM_ALL, MT_U32) \
  X(NM_IB_RCV_ERR, "ib_port_rcv_errors_total", "packets", "InfiniBand port receive errors", \
    RM_ALL, MT_U32)                                                                         \
  X(NM_IB_XMIT_WAIT, "ib_port_xmit_wait_ms_total", "ms",                                   \
    "Time the InfiniBand port waited for credits (PFC pressure)", RM_ALL, MT_U32)           \
  X(NM_NCCL_LAT, "nccl_allreduce_latency_us", "us", "Mean NCCL all-reduce latency",        \
    RM_WORKLOAD, MT_F32)                                                                    \
  X(NM_REQ_RATE, "requests_per_second", "1/s", "Inference requests served", RM_INFER, MT_F32) \
  X(NM_PROMPT_TOKENS, "prompt_tokens_mean", "tokens", "Mean prompt (context) length",      \
    RM_INFER, MT_F32)                                                                       \
  X(NM_TTFT, "ttft_ms", "ms", "Time to first token, p95", RM_INFER, MT_F32)                 \
  X(NM_ITL, "itl_ms", "ms", "Inter-token latency, p95", RM_INFER, MT_F32)                   \
  X(NM_KV_HIT, "kv_cache_hit_ratio", "1", "KV cache (prefix) hit ratio", RM_INFER, MT_F32)  \
  X(NM_TOKENS, "tokens_per_second", "1/s", "Generated tokens per second", RM_INFER, MT_F32) \
  X(NM_ENTROPY, "expert_selection_entropy_nats", "nats",                                   \
    "Entropy of MoE expert selection (max ln 8 = 2.079)", RM_MOE, MT_F32)                   \
  X(NM_STEP_TIME, "step_time_ms", "ms", "Training step time (the job's slowest node)", RM_JOB, MT_F32) \
  X(NM_CKPT_WRITE, "checkpoint_write_seconds", "s", "Duration of the last checkpoint write", \
    RM_JOB, MT_F32)                                                                         \
  X(NM_ALLREDUCE_WAIT, "allreduce_wait_ms", "ms", "Time per step waiting at the all-reduce barrier", \
    RM_JOB, MT_F32)                                                                         \
  X(NM_GRAD_NORM, "gradient_norm", "1", "Global gradient norm", RM_JOB, MT_F32)             \
  X(NM_RESERVED_MEM, "reserved_memory_bytes", "B", "Memory reserved by the training framework", \
    RM_JOB, MT_F32)

/* X(ENUM, name, units, long_name) -- per cluster, [T], float32. */
#define CLUSTER_METRICS(X)                                                                  \
  X(CM_OUTDOOR_TEMP, "outdoor_temp_celsius", "C", "Outdoor air temperature")                \
  X(CM_PUE, "facility_pue", "1", "Power usage effectiveness of the facility")               \
  X(CM_IT_POWER, "it_power_watts", "W", "IT power of all nodes")                            \
  X(CM_FACILITY_POWER, "facility_power_watts", "W", "Facility power (IT power x PUE)")      \
  X(CM_SPARE_GPUS, "spare_gpu_capacity", "GPUs", "Healthy GPUs not allocated to a tenant job") \
  X(CM_SLA_MOE, "sla_budget_remaining_moe_inference", "1", "SLA error budget left, MoE inference") \
  X(CM_SLA_DENSE, "sla_budget_remaining_dense_inference", "1",                             \
    "SLA error budget left, dense inference")                                               \
  X(CM_SLA_TRAIN, "sla_budget_remaining_training", "1", "SLA error budget left, training") \
  X(CM_TOKENS_MOE, "tokens_per_second_moe_inference", "1/s", "Tokens per second, MoE tenant") \
  X(CM_TOKENS_DENSE, "tokens_per_second_dense_inference", "1/s",                           \
    "Tokens per second, dense tenant")

#define METRIC_ENUM6(e, n, u, l, d, t) e,
#define METRIC_ENUM4(e, n, u, l) e,
typedef enum { GPU_METRICS(METRIC_ENUM6) GM_COUNT } gpu_metric;
typedef enum { NODE_METRICS(METRIC_ENUM6) NM_COUNT } node_metric;
typedef enum { CLUSTER_METRICS(METRIC_ENUM4) CM_COUNT } cluster_metric;
#undef METRIC_ENUM6
#undef METRIC_ENUM4

typedef struct {
  const char *name;       /* Prometheus-style name */
  const char *units;      /* unit symbol */
  const char *long_name;  /* one-line description */
  const char *dcgm_field; /* DCGM field id name, or NULL */
  metric_type type;
  unsigned tenants;       /* TM_* mask: the tenants with a reporting node (the
                             archive's `tenants` attribute); NaN for the others */
  unsigned reporters;     /* RM_* mask: the nodes that report it; NaN elsewhere */
} metric_def;

/* 1 when the metric is a monotonic counter (its name ends in "_total"). */
int metric_is_counter(const metric_def *m);

/* The reporter bit (RM_MOE, RM_DENSE, RM_JOB or RM_POOL) of a node of
 * `tenant` (fleet_tenant) in training job `job` (-1: none). */
unsigned metric_reporter(int tenant, int job);

/* 1 when a node with reporter bit `reporter` reports metric m. */
static inline int metric_reported(const metric_def *m, unsigned reporter) {
  return (m->reporters & reporter) != 0;
}

extern const metric_def metric_gpu[GM_COUNT];
extern const metric_def metric_node[NM_COUNT];
extern const metric_def metric_cluster[CM_COUNT];

/* DCGM clock event reason bits used by the model. */
enum {
  CLOCK_EVENT_IDLE = 0x1,
  CLOCK_EVENT_SW_POWER_CAP = 0x4,
  CLOCK_EVENT_SW_THERMAL = 0x20,
  CLOCK_EVENT_HW_THERMAL = 0x40,
};

#endif

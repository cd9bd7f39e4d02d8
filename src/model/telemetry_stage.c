/* tel_scrape (see telemetry.h): one scrape of every local node, staged in
 * cache. The scrape's shared quantities and draws come first; then the
 * nodes advance in chunks of TEL_STAGE_NODES into a one-row stage that
 * stays in L2, the catalogue's NaN goes into the cells of node metrics a
 * node does not report, the chunk goes to the caller's callback (the
 * detector's fold) while it is still in cache, and then into the window,
 * the GPU cells with non-temporal stores. Hot path: no allocation, no I/O,
 * one indirect call per chunk. */
#include "src/model/telemetry_model.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* dst[0..n) = src[0..n) for n a multiple of 4 and dst 16-byte aligned, with
 * non-temporal stores where the CPU has them (SSE2): the window's GPU cells
 * go to memory without each line being read first, and they are next read
 * long after (the archive, two rows of the counters). */
static void tel_copy_stream(tel_cell *restrict dst, const tel_cell *restrict src, size_t n) {
#if defined(__SSE2__)
  for (size_t j = 0; j < n; j += 4)
    _mm_stream_si128((__m128i *)(void *)&dst[j], _mm_loadu_si128((const __m128i *)(const void *)&src[j]));
#else
  memcpy(dst, src, n * sizeof *dst);
#endif
}

/* Copies the stage's n nodes into window row `row` from local node i0 on. */
static void tel_stage_flush(const tel_window *st, tel_window *w, int row, size_t i0, size_t n) {
  const size_t o = (size_t)row * (size_t)w->nnodes + i0;
  for (int k = 0; k < GM_COUNT; k++)
    if (w->gpu_kept[k])
      tel_copy_stream(&w->gpu[k][o * FLEET_GPUS], st->gpu[k], n * FLEET_GPUS);
#if defined(__SSE2__)
  _mm_sfence(); /* the streamed stores are ordered before anything later */
#endif
  for (int k = 0; k < NM_COUNT; k++)
    memcpy(&w->node[k][o], st->node[k], n * sizeof(tel_cell));
  memcpy(&w->step_own_ms[o], st->step_own_ms, n * sizeof(float));
}

/* NaN into the stage cells (slot o) of every node metric that local node i
 * does not report, as the catalogue says; a drained node (drivers d)
 * reports what an idle-pool node reports. */
static inline void tel_stage_unreported(const tel_model *m, tel_window *st, size_t i, size_t o,
                                        const tel_drivers *d) {
  const int r = d->drained ? __builtin_ctz(RM_POOL) : m->reporter[i];
  for (int j = 0; j < m->nunreported[r]; j++)
    st->node[m->unreported[r][j]][o].f = NAN;
}

/* NaN into every float node metric of slot o: a node without samples
 * this scrape (a scrape gap or a reboot); its integer counters keep the
 * value the exporter last had (0 during a reboot). */
static inline void tel_stage_missing(tel_window *st, size_t o) {
  for (int k = 0; k < NM_COUNT; k++)
    if (metric_node[k].type == MT_F32)
      st->node[k][o].f = NAN;
}

void tel_scrape(tel_model *m, int64_t t, const tel_drivers *drivers, tel_window *w, int row,
                tel_chunk_fn on_chunk, void *ctx) {
  const double hour = tel_hour_of_day(m->cfg, t);
  tel_scrape_ctx sc = {
      .t = t, .load = tel_inference_load(hour), .outdoor_c = tel_outdoor_base(hour)};
  const int nj = m->f->njobs;
  for (int j = 0; j < nj; j++) {
    tel_job_checkpoint(m, j, t, m->jobd[j].ckpt_scale, &m->job_stall_s[j],
                       &m->job_ckpt_last_s[j]);
    if (m->jobd[j].extra_stall_s > 0) /* an operator's checkpoint_job: one more write */
      m->job_stall_s[j] = fminf(m->job_stall_s[j] + m->jobd[j].extra_stall_s, m->dt);
    if (w->job_stall_s)
      w->job_stall_s[(size_t)row * (size_t)nj + (size_t)j] = m->job_stall_s[j];
  }
  sc.sr.noise = rng_counter((uint64_t)t);
  for (int k = 0; k < EV_COUNT; k++)
    sc.sr.ev[k] = rng_counter((uint64_t)t * 16u + (uint64_t)k);
  tel_scrape_draws(m, &sc.sr);

  const size_t nn = (size_t)m->nnodes;
  tel_window *const st = &m->stage;
  for (size_t i0 = 0; i0 < nn; i0 += TEL_STAGE_NODES) {
    const size_t i1 = nn - i0 < TEL_STAGE_NODES ? nn : i0 + TEL_STAGE_NODES;
    for (size_t i = i0; i < i1; i++) {
      if (tel_node_advance(m, &sc, i, &drivers[i], st, i - i0) != BG_NODE_OK)
        tel_stage_missing(st, i - i0);
      else
        tel_stage_unreported(m, st, i, i - i0, &drivers[i]);
    }
    if (on_chunk)
      on_chunk(ctx, row, i0, i1 - i0, st->gpu);
    tel_stage_flush(st, w, row, i0, i1 - i0);
  }
}

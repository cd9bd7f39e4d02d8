/* crah_failure: the computer-room air handler (CRAH) of one row of racks
 * fails, and the whole row warms: the neighbouring rows' units reach the
 * row's ends, so the inlet rise is largest mid-row and smaller at its ends
 * (the gradient), and larger in the top slots, where hot exhaust air
 * recirculates over the racks. Unlike thermal_cascade (two adjacent racks)
 * every rack of the row is hit. A row is the fleet's: racks_per_row
 * consecutive racks share one CRAH (src/model/fleet.h). Causes only: the
 * injector raises each node's inlet air; the telemetry model turns that into
 * junction temperature, throttling on the hottest GPUs and slower work.
 *
 * Defaults from public figures: ASHRAE TC 9.9 recommends 18-27 C server
 * inlet air, and a failed CRAH raises the inlet of the racks it serves by
 * several degrees within minutes (room-level CFD studies of CRAH failure
 * report 5-15 C); the H100's software thermal slowdown starts near 83 C
 * junction (the model's TEL_THROTTLE_C). */
#include "scenarios/kinds/kind.h"
#include "src/core/diag.h"
#include "src/core/errors.h"

enum { CR_ROW, CR_INLET_RISE_C, CR_GRADIENT, CR_SPREAD_C, CR_RAMP_MIN, CR_CREEP, CR_COUNT };

static const scn_magnitude cr_magnitudes[CR_COUNT] = {
    [CR_ROW] = {"row", -1, -1, 100000, 1, "", "the row whose CRAH fails; -1: chosen from the seed"},
    [CR_INLET_RISE_C] = {"inlet_rise_c", 8, 0.5, 30, 0, "C",
                         "inlet air rise at full onset, mid-row, mid-rack"},
    [CR_GRADIENT] = {"gradient", 0.5, 0, 0.9, 0, "",
                     "share of the rise the racks at the row's ends are spared"},
    [CR_SPREAD_C] = {"inlet_spread_c", 1, 0, 10, 0, "C",
                     "each node's rise plus or minus up to this"},
    [CR_RAMP_MIN] = {"ramp_min", 10, 0, 600, 0, "min", "onset time (smoothstep)"},
    [CR_CREEP] = {"creep_c_per_min", 0.05, 0, 5, 0, "C/min",
                  "further inlet rise per minute after the onset"},
};

static int cr_resolve(scn_def *s, const fleet *f, const char *source, uint64_t key,
                      scn_list *nodes, scn_list *gpus) {
  (void)gpus;
  int row = (int)s->param[CR_ROW];
  if (row >= f->rows) {
    diag_addf("%s: scenario '%s': key 'row': %d is out of range: the fleet has %d rows", source,
              s->id, row, f->rows);
    return FS_ESCENARIO;
  }
  if (row < 0) {
    row = (int)(rng_bits(key, 1) % (uint64_t)f->rows);
    s->param[CR_ROW] = row;
  }
  int first = row * f->racks_per_row;
  int last = first + f->racks_per_row < f->racks ? first + f->racks_per_row : f->racks;
  if (last - first > SCN_MAX_RACKS) {
    diag_addf("%s: scenario '%s': key 'row': row %d has %d racks, more than the %d a scenario "
              "can name",
              source, s->id, row, last - first, SCN_MAX_RACKS);
    return FS_ESCENARIO;
  }
  s->nracks = 0;
  for (int r = first; r < last; r++)
    s->racks[s->nracks++] = r;
  int rc = 0;
  for (int k = 0; k < s->nracks && rc == 0; k++)
    for (int slot = 0; slot < f->nodes_per_rack && rc == 0; slot++)
      rc = scn_list_add(nodes, s->racks[k] * f->nodes_per_rack + slot);
  return rc;
}

enum { CR_STREAM_SPREAD };
static const scn_stream cr_streams[] = {
    [CR_STREAM_SPREAD] = {"spread", RNG_STREAM_SCENARIO + 40}, /* per node: its own share */
};

/* Node n's inlet rise at full onset: the row gradient (1 mid-row, 1 -
 * gradient at its ends), the height in the rack (0.75 bottom .. 1.25 top)
 * and a spread drawn per node. */
static double cr_rise(const scn_def *s, const fleet *f, int n) {
  const int nr = s->nracks, npr = f->nodes_per_rack;
  const int pos = f->node_rack[n] - s->racks[0], slot = fleet_rack_slot(f, n);
  const double mid = (nr - 1) / 2.0;
  const double dist = mid > 0 ? (pos > mid ? pos - mid : mid - pos) / mid : 0.0;
  const double height = npr > 1 ? 0.75 + 0.5 * slot / (npr - 1.0) : 1.0;
  const uint64_t key = scn_stream_key(f, &cr_streams[CR_STREAM_SPREAD], (uint64_t)n);
  const double u = rng_uniform(rng_bits(key, 0));
  return s->param[CR_INLET_RISE_C] * (1.0 - s->param[CR_GRADIENT] * dist) * height +
         s->param[CR_SPREAD_C] * (2.0 * u - 1.0);
}

static void cr_inject(const scn_def *s, const scn_now *now, int k0, int k1, int node0,
                      tel_drivers *d) {
  const double ramp = s->param[CR_RAMP_MIN];
  const double onset = scn_ramp(now->elapsed_min, ramp);
  const double creep = now->elapsed_min > ramp ? s->param[CR_CREEP] * (now->elapsed_min - ramp) : 0;
  for (int k = k0; k < k1; k++)
    d[s->nodes[k] - node0].inlet_delta_c +=
        (float)(cr_rise(s, now->f, s->nodes[k]) * onset + creep);
}

static int cr_random(json_t *o, uint64_t key, const fleet *f) {
  int bad = json_object_set_new(o, "row", json_integer((json_int_t)(rng_bits(key, 10) %
                                                                     (uint64_t)f->rows)));
  bad |= json_object_set_new(o, "inlet_rise_c", json_real(scn_random_between(key, 12, 6, 10)));
  return bad;
}

const scn_kind_ops scn_kind_crah_failure = {
    .magnitudes = cr_magnitudes,
    .nmagnitudes = CR_COUNT,
    .resolve = cr_resolve,
    .streams = cr_streams,
    .nstreams = 1,
    .impacts_job_peers = 1,
    .inject = cr_inject,
    .random_min_lo = 30,
    .random_min_hi = 90,
    .random = cr_random,
};

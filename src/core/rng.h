/* Counter-based random numbers: every draw is a pure function of (seed,
 * stream, entity, counter), so any rank computes the same value for the same
 * entity and scrape, and nothing has to be carried between ranks or saved. */
#ifndef FLEETSIM_RNG_H
#define FLEETSIM_RNG_H
#include <stdint.h>

/* Stream ids: what a random stream is for. Ranges keep owners apart:
 * topology 1..15, telemetry 16..63, scenarios 64..127, detection 128..191,
 * background operations (src/model/background.c) 192..255. */
enum {
  RNG_STREAM_GPU_LOT = 1,
  RNG_STREAM_TELEMETRY = 16,
  RNG_STREAM_SCENARIO = 64,
  RNG_STREAM_DETECTION = 128,
  RNG_STREAM_BACKGROUND = 192,
};

/* SplitMix64's finaliser: a bijective 64-bit mixer with full avalanche. */
static inline uint64_t rng_mix64(uint64_t z) {
  z ^= z >> 30;
  z *= 0xbf58476d1ce4e5b9ULL;
  z ^= z >> 27;
  z *= 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return z;
}

/* Key for one random stream of one entity (a GPU, node, rack, job ...).
 * stream names what the numbers are for (a metric's noise channel, a
 * scenario's choice); entity is its global index. Example:
 *   uint64_t k = rng_key(seed, RNG_STREAM_GPU_UTIL, gpu_global_index); */
static inline uint64_t rng_key(uint64_t seed, uint32_t stream, uint64_t entity) {
  return rng_mix64(rng_mix64(seed ^ 0x6a09e667f3bcc909ULL) ^
                   rng_mix64(((uint64_t)stream << 40) ^ entity ^ 0xbb67ae8584caa73bULL));
}

/* The counter's half of rng_bits. Hot loops that draw for many keys at one
 * counter (every GPU at scrape t) compute it once per counter and call
 * rng_bits_at for each key: the values are exactly those of rng_bits. */
static inline uint64_t rng_counter(uint64_t counter) {
  return rng_mix64(counter * 0x9e3779b97f4a7c15ULL + 0x3c6ef372fe94f82bULL);
}

/* rng_bits(key, counter) from cm = rng_counter(counter): one mix per draw. */
static inline uint64_t rng_bits_at(uint64_t key, uint64_t cm) { return rng_mix64(key ^ cm); }

/* The counter-th 64 random bits of the stream with this key. */
static inline uint64_t rng_bits(uint64_t key, uint64_t counter) {
  return rng_bits_at(key, rng_counter(counter));
}

/* Uniform double in [0, 1) from 64 random bits. */
static inline double rng_uniform(uint64_t bits) {
  return (double)(bits >> 11) * 0x1.0p-53;
}

/* Approximately standard-normal value from 64 random bits: the sum of four
 * 16-bit uniforms (Irwin-Hall), rescaled to unit variance. Bounded to +-3.4641,
 * which keeps simulated noise free of absurd single-scrape outliers. */
static inline float rng_normal(uint64_t bits) {
  uint32_t s = (uint32_t)(bits & 0xffff) + (uint32_t)((bits >> 16) & 0xffff) +
               (uint32_t)((bits >> 32) & 0xffff) + (uint32_t)(bits >> 48);
  return ((float)s * (1.0f / 65536.0f) - 2.0f) * 1.7320508f;
}

#endif

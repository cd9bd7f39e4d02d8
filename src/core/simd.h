/* Function multiversioning for hot loops: FS_SIMD_CLONES builds a
 * function for AVX-512F, AVX2 and the baseline, and the loader picks by the
 * CPU's features (an arch= clone is picked by CPU model, so a newer core
 * than the one named never gets it). Only for code whose results cannot
 * depend on the vector width: integer arithmetic, IEEE min/max and
 * element-wise float arithmetic (ISO C mode keeps -ffp-contract=off: no
 * FMA), no floating-point reductions; so every clone gives the same bits. */
#ifndef FLEETSIM_SIMD_H
#define FLEETSIM_SIMD_H

#if defined(__x86_64__) && defined(__ELF__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define FS_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef FS_SIMD_CLONES
#define FS_SIMD_CLONES
#endif

#endif

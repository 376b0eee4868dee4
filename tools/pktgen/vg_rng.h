/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small deterministic generators for vg-pktgen. Everything the generator writes is a function of
 * the seed, so it uses these instead of rand(): their output is the same on every libc and
 * platform. splitmix64 seeds streams and hashes indices (a flow's addresses, ports and initial
 * sequence numbers are hashes of its index); xoshiro256** is the sequential stream (shuffles).
 */
#ifndef VG_RNG_H
#define VG_RNG_H

#include <stdint.h>

#define VG_GOLDEN64 0x9e3779b97f4a7c15ULL

/* splitmix64's finalizer: a bijective 64-bit mix with full avalanche. */
static inline uint64_t
vg_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Next value of a splitmix64 stream. */
static inline uint64_t
vg_splitmix64(uint64_t *state)
{
	*state += VG_GOLDEN64;
	return vg_mix64(*state);
}

/* Keyed hash of two integers (for example a flow index and a purpose). */
static inline uint64_t
vg_hash2(uint64_t key, uint64_t a, uint64_t b)
{
	return vg_mix64(key ^ vg_mix64(a * VG_GOLDEN64 + b + 1));
}

struct vg_xoshiro {
	uint64_t s[4];
};

static inline uint64_t
vg_rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* Seed the four words from splitmix64, as the xoshiro authors recommend (never all zero). */
static inline void
vg_xoshiro_seed(struct vg_xoshiro *r, uint64_t seed)
{
	uint64_t st = seed;

	for (int i = 0; i < 4; i++)
		r->s[i] = vg_splitmix64(&st);
}

/* xoshiro256**. */
static inline uint64_t
vg_xoshiro_next(struct vg_xoshiro *r)
{
	uint64_t *s = r->s;
	const uint64_t result = vg_rotl64(s[1] * 5, 7) * 9;
	const uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = vg_rotl64(s[3], 45);
	return result;
}

/* A value in [0, n) by multiply-shift (bias below 2^-32 for the n used here). n > 0. */
static inline uint64_t
vg_below(uint64_t x, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)x * n) >> 64);
}

static inline uint64_t
vg_xoshiro_below(struct vg_xoshiro *r, uint64_t n)
{
	return vg_below(vg_xoshiro_next(r), n);
}

#endif /* VG_RNG_H */

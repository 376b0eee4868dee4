/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 and IPv6 addresses, prefixes and sets of them: the one parser and formatter of address
 * text for every layer (policy, signatures, detectors, the store, the API), and the interval
 * sets that address lists resolve into.
 *
 * Text is parsed with inet_pton (so "010.0.0.1" and "1.2.3" are not addresses) and formatted
 * with inet_ntop (so "::ffff:1.2.3.4"-style spellings come out canonical). Values are numbers in
 * host order: an IPv4 address is a number below 2^32, an IPv6 address a 128-bit number; sets
 * keep one interval list per family. No EAL, no allocation except in the sets.
 */
#ifndef VG_ADDR_H
#define VG_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef unsigned __int128 vg_u128;

#define VG_U32_MAX_128 ((vg_u128)UINT32_MAX)
#define VG_U128_MAX    (~(vg_u128)0)

/* Long enough for any address inet_ntop writes, with its NUL. */
#define VG_ADDR_STRLEN 46
/* Long enough for an address, "/128" and the NUL. */
#define VG_PREFIX_STRLEN (VG_ADDR_STRLEN + 4)

/* An address of either family. */
struct vg_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t b[16];	/* network order; IPv4 in b[0..3], the rest zero */
};

/* An address prefix (network): addr has its host bits clear. */
struct vg_prefix {
	struct vg_addr addr;
	uint8_t plen; /* 0..32 or 0..128 */
};

/* Flags of vg_prefix_parse(). */
enum {
	/* Accept an address with host bits set ("10.0.0.1/8"): clear them and return 1. */
	VG_PREFIX_HOST_BITS = 1u << 0,
	/* Accept an IPv4 netmask after the slash ("10.0.0.0/255.0.0.0"); it must be contiguous. */
	VG_PREFIX_NETMASK = 1u << 1,
};

/* What a failed prefix parse found wrong. */
enum vg_prefix_why {
	VG_PREFIX_OK,
	VG_PREFIX_BAD_ADDR,  /* the part before '/' is no address */
	VG_PREFIX_BAD_LEN,   /* the part after '/' is no number (empty, sign, junk, leading 0) */
	VG_PREFIX_LEN_RANGE, /* the number is above 32 or 128 */
	VG_PREFIX_BAD_MASK,  /* VG_PREFIX_NETMASK: the netmask is not contiguous */
	VG_PREFIX_HOST_SET,  /* host bits are set and VG_PREFIX_HOST_BITS is not given */
};

/* Why a prefix parse failed, for a person: the message and where in the text it points. */
struct vg_addr_err {
	enum vg_prefix_why why;
	unsigned off; /* offset in the text of the offending part */
	char msg[160];
};

/* Number of address bits of a family: 32 for 4, 128 otherwise. */
static inline unsigned
vg_addr_bits(uint8_t family)
{
	return family == 4 ? 32 : 128;
}

/* Largest value of a family: 2^32 - 1 or 2^128 - 1. */
static inline vg_u128
vg_addr_max(uint8_t family)
{
	return family == 4 ? VG_U32_MAX_128 : VG_U128_MAX;
}

/*
 * Parse the len bytes at s (no NUL needed) as one IPv4 or IPv6 address, nothing else around
 * it. Returns 0 with *out filled, or -EINVAL (*out zeroed).
 */
int vg_addr_parse(const char *s, size_t len, struct vg_addr *out);

/* vg_addr_parse() of a NUL-terminated string. */
static inline int
vg_addr_parse_str(const char *s, struct vg_addr *out)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return vg_addr_parse(s, n, out);
}

/*
 * Parse the len bytes at s as an address or "address/length" (an address alone is a host
 * prefix, /32 or /128). The length is decimal digits without sign, blank or leading zero.
 * Returns 0; 1 when host bits were set and cleared (only with VG_PREFIX_HOST_BITS); or -EINVAL
 * with *err (when not NULL) saying why and where.
 */
int vg_prefix_parse(const char *s, size_t len, unsigned flags, struct vg_prefix *out,
		struct vg_addr_err *err);

/*
 * Canonical text of an address (inet_ntop) into buf of len bytes (VG_ADDR_STRLEN is enough).
 * Returns 0, or -ENOSPC when it does not fit (buf then holds "").
 */
int vg_addr_format(const struct vg_addr *a, char *buf, size_t len);

/*
 * The same of the address at b (network order, 4 bytes for family 4, 16 for family 6), as
 * packets and flow records hold it. Returns 0, -ENOSPC, or -EINVAL for another family.
 */
int vg_addr_format_bytes(uint8_t family, const uint8_t *b, char *buf, size_t len);

/* "net/plen" (VG_PREFIX_STRLEN is enough); with host_plain, a host prefix is the address alone. */
int vg_prefix_format(const struct vg_prefix *p, bool host_plain, char *buf, size_t len);

/* The host-order value of the 4 (family 4) or 16 bytes at b, in network order. */
static inline vg_u128
vg_addr_num(uint8_t family, const uint8_t *b)
{
	unsigned n = family == 4 ? 4 : 16;
	vg_u128 v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | b[i];
	return v;
}

/* The host-order value of an address. */
static inline vg_u128
vg_addr_value(const struct vg_addr *a)
{
	return vg_addr_num(a->family, a->b);
}

/* The address of a value of a family (value below 2^32 for family 4). */
void vg_addr_from_value(uint8_t family, vg_u128 v, struct vg_addr *out);

/* The first and last values of a prefix. */
void vg_prefix_range(const struct vg_prefix *p, vg_u128 *lo, vg_u128 *hi);

/* Does the prefix hold the address (same family, same leading plen bits)? */
bool vg_prefix_has(const struct vg_prefix *p, const struct vg_addr *a);

/*
 * Call fn for each prefix of the fewest that hold exactly [lo, hi] of a family, lowest first.
 * Returns how many.
 */
unsigned vg_range_prefixes(uint8_t family, vg_u128 lo, vg_u128 hi,
		void (*fn)(vg_u128 net, unsigned plen, void *arg), void *arg);

/* ---- interval sets ---- */

struct vg_iv {
	vg_u128 lo, hi; /* inclusive */
};

/*
 * A set of numbers as intervals. After vg_ivs_normalize() (and as every function below but
 * vg_ivs_add leaves it) the intervals are sorted, disjoint and not adjacent. {0} is empty.
 */
struct vg_ivs {
	struct vg_iv *v;
	unsigned n;
};

/* An address set: IPv4 values in v4, IPv6 values in v6. */
struct vg_addrset {
	struct vg_ivs v4;
	struct vg_ivs v6;
};

/* Append [lo, hi] (lo <= hi) without normalizing. Returns 0 or -ENOMEM. */
int vg_ivs_add(struct vg_ivs *s, vg_u128 lo, vg_u128 hi);

/* Append every interval of src to dst without normalizing. Returns 0 or -ENOMEM. */
int vg_ivs_append(struct vg_ivs *dst, const struct vg_ivs *src);

/* Sort and merge overlapping or adjacent intervals. */
void vg_ivs_normalize(struct vg_ivs *s);

/* out = a minus b (a and b normalized; out is overwritten). Returns 0 or -ENOMEM. */
int vg_ivs_sub(const struct vg_ivs *a, const struct vg_ivs *b, struct vg_ivs *out);

/* s = [0, max] minus s (s normalized). Returns 0 or -ENOMEM (s unchanged). */
int vg_ivs_complement(struct vg_ivs *s, vg_u128 max);

/* a = a intersected with b (both normalized). Returns 0 or -ENOMEM (a unchanged). */
int vg_ivs_intersect(struct vg_ivs *a, const struct vg_ivs *b);

/* Is x in the normalized set a? Binary search. */
bool vg_ivs_has(const struct vg_ivs *a, vg_u128 x);

/* Do the normalized sets a and b share a value? */
bool vg_ivs_overlaps(const struct vg_ivs *a, const struct vg_ivs *b);

/* Is every value of b in a (both normalized)? */
bool vg_ivs_contains(const struct vg_ivs *a, const struct vg_ivs *b);

void vg_ivs_free(struct vg_ivs *s);

/* Add a prefix to its family's list (not normalized). Returns 0 or -ENOMEM. */
int vg_addrset_add_prefix(struct vg_addrset *s, const struct vg_prefix *p);

/* Is the address in the normalized set? */
bool vg_addrset_has(const struct vg_addrset *s, const struct vg_addr *a);

void vg_addrset_free(struct vg_addrset *s);

#endif

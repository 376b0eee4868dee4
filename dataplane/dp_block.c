/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "dp_block.h"

/*
 * rte_hash_crc reads the key in 8-byte words, so a key must start on an 8-byte boundary: the
 * alignment and the size (a multiple of 8) keep every element of an array of keys aligned.
 */
struct block_key {
	uint8_t addr[16];
	uint8_t family;
	uint8_t pad[7];
} __attribute__((aligned(8)));

_Static_assert(sizeof(struct block_key) % 8 == 0, "block keys must stay 8-byte aligned");

struct dp_blocklist {
	struct rte_hash *hash;
	uint32_t count;
};

static void
make_key(struct block_key *k, uint8_t family, const uint8_t *addr)
{
	memset(k, 0, sizeof(*k));
	k->family = family;
	memcpy(k->addr, addr, family == 4 ? 4 : 16);
}

struct dp_blocklist *
dp_blocklist_create(uint32_t capacity, struct rte_rcu_qsbr *qsbr, int socket)
{
	struct rte_hash_parameters hp = {
		.name = "vg_blocklist",
		.entries = capacity < 8 ? 8 : capacity,
		.key_len = sizeof(struct block_key),
		.hash_func = rte_hash_crc,
		.socket_id = socket,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	struct rte_hash_rcu_config rcu = {
		.v = qsbr,
		.mode = RTE_HASH_QSBR_MODE_SYNC,
	};
	struct dp_blocklist *bl = rte_zmalloc_socket("dp_blocklist", sizeof(*bl), 0, socket);

	if (bl == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	bl->hash = rte_hash_create(&hp);
	if (bl->hash == NULL || rte_hash_rcu_qsbr_add(bl->hash, &rcu) != 0) {
		dp_blocklist_free(bl);
		rte_errno = ENOMEM;
		return NULL;
	}
	return bl;
}

void
dp_blocklist_free(struct dp_blocklist *bl)
{
	if (bl == NULL)
		return;
	rte_hash_free(bl->hash);
	rte_free(bl);
}

int
dp_blocklist_add(struct dp_blocklist *bl, uint8_t family, const uint8_t *addr)
{
	struct block_key k;
	int rc;

	if (family != 4 && family != 6)
		return -EINVAL;
	make_key(&k, family, addr);
	if (rte_hash_lookup(bl->hash, &k) >= 0)
		return 0;
	rc = rte_hash_add_key(bl->hash, &k);
	if (rc < 0)
		return rc == -ENOSPC ? -ENOSPC : -EINVAL;
	__atomic_add_fetch(&bl->count, 1, __ATOMIC_RELEASE);
	return 0;
}

int
dp_blocklist_del(struct dp_blocklist *bl, uint8_t family, const uint8_t *addr)
{
	struct block_key k;

	make_key(&k, family, addr);
	if (rte_hash_del_key(bl->hash, &k) < 0)
		return -ENOENT;
	__atomic_sub_fetch(&bl->count, 1, __ATOMIC_RELEASE);
	return 0;
}

uint32_t
dp_blocklist_count(const struct dp_blocklist *bl)
{
	return __atomic_load_n(&bl->count, __ATOMIC_ACQUIRE);
}

void
dp_blocklist_check(const struct dp_blocklist *bl, unsigned n, const uint8_t *family,
		const uint8_t *const *src, const uint8_t *const *dst, uint8_t *hit)
{
	struct block_key keys[128];
	const void *kp[128];
	int32_t pos[128];

	for (unsigned i = 0; i < n; i++) {
		make_key(&keys[2 * i], family[i], src[i]);
		make_key(&keys[2 * i + 1], family[i], dst[i]);
		kp[2 * i] = &keys[2 * i];
		kp[2 * i + 1] = &keys[2 * i + 1];
	}
	for (unsigned off = 0; off < 2 * n; off += RTE_HASH_LOOKUP_BULK_MAX) {
		unsigned m = 2 * n - off;

		if (m > RTE_HASH_LOOKUP_BULK_MAX)
			m = RTE_HASH_LOOKUP_BULK_MAX;
		rte_hash_lookup_bulk(bl->hash, &kp[off], m, &pos[off]);
	}
	for (unsigned i = 0; i < n; i++)
		hit[i] = pos[2 * i] >= 0 || pos[2 * i + 1] >= 0;
}

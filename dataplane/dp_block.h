/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The blocklist: addresses whose traffic the appliance drops whatever the policy says, put
 * there by a detector (closed loop) or the API, with a TTL kept by control.
 *
 * One table shared by every worker: an rte_hash with lock-free readers and one writer
 * (control). Workers look up the source and destination of every IP packet, before the flow
 * table, in one bulk lookup per burst, and only when the table is not empty. A deleted entry's
 * slot is reused only after every worker has passed a quiescent state (the dataplane's RCU).
 */
#ifndef DP_BLOCK_H
#define DP_BLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct rte_rcu_qsbr;
struct dp_blocklist;

struct dp_blocklist *dp_blocklist_create(uint32_t capacity, struct rte_rcu_qsbr *qsbr, int socket);
void dp_blocklist_free(struct dp_blocklist *bl);

/* Control lcore. 0, -ENOSPC (full) or -EINVAL. Adding an address twice is fine. */
int dp_blocklist_add(struct dp_blocklist *bl, uint8_t family, const uint8_t *addr);
/* Control lcore; waits for the workers' quiescence before the slot can be reused. 0 or -ENOENT. */
int dp_blocklist_del(struct dp_blocklist *bl, uint8_t family, const uint8_t *addr);

/* Entries now (any thread). */
uint32_t dp_blocklist_count(const struct dp_blocklist *bl);

/*
 * Workers: for each of the n (family, src, dst) triples, set hit[i] when src or dst is blocked.
 * src and dst point at 16-byte addresses (IPv4 in the first 4). n <= 64.
 */
void dp_blocklist_check(const struct dp_blocklist *bl, unsigned n, const uint8_t *family,
		const uint8_t *const *src, const uint8_t *const *dst, uint8_t *hit);

#endif /* DP_BLOCK_H */

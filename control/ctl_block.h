/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The closed loop: block a source for a TTL when a detector that opted in raises an alert, keep
 * the blocklist in SQLite so that a restart restores it, and hand every change to the workers
 * through a callback (the control loop turns it into a command on each worker's ring; the
 * worker-side blocklist is the dataplane's). Entries expire on the control clock (wall time in
 * milliseconds). Control thread only. Needs EAL (rte_hash).
 */
#ifndef CTL_BLOCK_H
#define CTL_BLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "ctl_alert.h"
#include "ctl_store.h"

/* Called for every entry to add (add = true; again with a later expiry to extend) or remove. */
typedef void (*ctl_block_push_fn)(const struct ctl_store_block *b, bool add, void *arg);

struct ctl_blocker;

/*
 * Create a blocklist of up to capacity entries. With a store, the entries still active at now_ms
 * are loaded and pushed (add) before this returns. Returns NULL and sets errno.
 */
struct ctl_blocker *ctl_blocker_create(struct ctl_store *s, uint32_t capacity,
		ctl_block_push_fn push, void *arg, uint64_t now_ms);
void ctl_blocker_free(struct ctl_blocker *bl);

/*
 * Act on an alert: when the detector asked for a block (a->block_ttl_ms > 0), block a->flow.src
 * until now_ms + TTL, unless it is already blocked at least that long. Returns 1 when an entry
 * was added or extended (and pushed and queued to the store), 0 when nothing changed, -ENOSPC
 * when the blocklist is full.
 */
int ctl_blocker_on_alert(struct ctl_blocker *bl, const struct ctl_alert *a, uint64_t now_ms);

/*
 * Add or replace an entry (from the API: source "api"). t (NULL: none) is the store ticket of a
 * durable row (ctl_store.h). Returns 0, -EINVAL, -ENOSPC (blocklist full) or -EAGAIN (the
 * store's queue has no room for a durable row; nothing changed).
 */
int ctl_blocker_add(struct ctl_blocker *bl, const struct ctl_store_block *b,
		struct ctl_store_ticket *t);

/* Remove an entry now. Returns 0 or -ENOENT. */
int ctl_blocker_remove(struct ctl_blocker *bl, uint8_t family, const uint8_t *addr);

/* Remove entries whose expiry is at or before now_ms. Returns how many. */
unsigned ctl_blocker_expire(struct ctl_blocker *bl, uint64_t now_ms);

/* Is addr blocked (at now_ms)? */
bool ctl_blocker_contains(
		const struct ctl_blocker *bl, uint8_t family, const uint8_t *addr, uint64_t now_ms);

uint32_t ctl_blocker_count(const struct ctl_blocker *bl);

#endif /* CTL_BLOCK_H */

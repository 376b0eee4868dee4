/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fixed-capacity map from fixed-size keys to fixed-size values, for control's aggregation and
 * detector state. Keys live in an rte_hash; values sit in a plain array indexed by the position
 * rte_hash gives each key, so a lookup is one hash probe and values are never copied.
 *
 * The capacity bounds control's memory: when the map is full, adding fails (ENOSPC) and the
 * caller counts what it could not track. Single-threaded: only the control lcore uses a map.
 * Needs EAL (rte_hash allocates with rte_malloc).
 */
#ifndef CTL_MAP_H
#define CTL_MAP_H

#include <stdbool.h>
#include <stdint.h>

struct ctl_map;

/*
 * Create a map for capacity keys of key_len bytes with val_size-byte values. name is only used
 * to tell hashes apart in DPDK's lists (a unique suffix is added). Returns NULL and sets errno
 * (EINVAL, ENOMEM, or rte_errno's value) on failure.
 */
struct ctl_map *ctl_map_create(
		const char *name, uint32_t key_len, uint32_t val_size, uint32_t capacity);

/* Free the map and its values. NULL is a no-op. */
void ctl_map_free(struct ctl_map *m);

/* The value of key, or NULL when absent. */
void *ctl_map_find(const struct ctl_map *m, const void *key);

/*
 * The value of key; when absent it is added with a zeroed value and *added (if not NULL) is set.
 * Returns NULL with errno ENOSPC when the map is full.
 */
void *ctl_map_get(struct ctl_map *m, const void *key, bool *added);

/* Remove key. Returns 0 or -ENOENT. */
int ctl_map_del(struct ctl_map *m, const void *key);

/* Number of keys. */
uint32_t ctl_map_count(const struct ctl_map *m);

/* The capacity given at creation. */
uint32_t ctl_map_capacity(const struct ctl_map *m);

/*
 * Walk the map: set *iter to 0, then call until it returns false. Each call yields one key and
 * its value. Deleting the entry just yielded is allowed but may make the walk skip another
 * entry; when every entry matters, collect the keys first and delete after the walk.
 */
bool ctl_map_next(const struct ctl_map *m, uint32_t *iter, const void **key, void **val);

/* Remove every key. */
void ctl_map_reset(struct ctl_map *m);

#endif /* CTL_MAP_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Maps of eBPF programs (docs/BPF.md, "Maps"): subnet sets (longest-prefix match, rte_lpm for
 * IPv4 and rte_lpm6 for IPv6) and key-value tables (rte_hash) that a program declares in a
 * companion YAML file next to its object (prog.o: prog.maps.yaml), that operators fill from
 * YAML files named there and through the API, and that programs read (and, for hash maps,
 * write) through the helpers of vigil_bpf.h.
 *
 * Concurrency. Workers only read lpm maps; control changes them copy-on-write: a new table is
 * built with the whole change, published by pointer, and the old one freed after every worker
 * went through a quiescent state (rte_rcu_qsbr), so a batch is in force entirely or not at all.
 * Hash maps are rte_hash tables with lock-free readers (RW_CONCURRENCY_LF). Their writers (a
 * program's vg_map_update or vg_map_delete on any worker, control for the API, the thread that
 * compiles a policy for the fill files) take the map's spinlock for one insert or delete;
 * readers never wait. (rte_hash's own multi-writer mode keeps per-lcore slot caches, which a
 * thread that is not an EAL lcore would index out of bounds.) A deleted key's slot is reused
 * only after a grace period (rte_hash's RCU defer queue on the same qsbr).
 */
#ifndef RL_BPF_MAP_H
#define RL_BPF_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil_bpf.h"

/* vigild's limits. */
#define RL_BPF_MAX_MAPS	       VG_BPF_MAX_MAPS /* maps per program (ids 0 to 7) */
#define RL_BPF_MAP_MAX_ENTRIES 65536u	       /* max_entries of one map */
#define RL_BPF_MAP_NAME_MAX    32u	       /* name bytes, NUL included */
#define RL_BPF_LPM_VALUE_MAX   0x1fffffu       /* rte_lpm6 keeps 21 bits of a next hop */
#define RL_BPF_MAP_BATCH_MAX   4096u	       /* entries in one change (API or file) */

enum rl_bpf_map_kind {
	RL_BPF_MAP_LPM,
	RL_BPF_MAP_HASH,
};

enum rl_bpf_key_type {
	RL_BPF_KEY_PREFIX, /* lpm: an IPv4 or IPv6 prefix, as the map's family */
	RL_BPF_KEY_U64,	   /* hash: a number (k0; k1 is 0) */
	RL_BPF_KEY_ADDR,   /* hash: an address as ctx->src holds it (16 bytes, IPv4 in 0-3) */
};

/* One entry, as the API and the files give it. */
struct rl_bpf_map_entry {
	uint64_t k[2];	  /* hash key (KEY_U64: k[0]; KEY_ADDR: the 16 bytes) */
	uint8_t addr[16]; /* lpm: the prefix's address, network order, host bits zero */
	uint8_t depth;	  /* lpm: prefix length */
	uint64_t value;
};

struct rl_bpf_map;
struct rte_rcu_qsbr;

/*
 * A map's helper calls, per worker (each worker writes its own line, no atomics; the sum is
 * read with relaxed loads, so it may be a few increments behind). lookups: vg_map_lpm4,
 * vg_map_lpm and vg_map_lookup on this map; hits: those that found a value; updates and
 * deletes: vg_map_update and vg_map_delete that changed the map; full: updates refused because
 * the map was full. The API's changes and the files are not counted.
 */
struct rl_bpf_map_counters {
	uint64_t lookups;
	uint64_t hits;
	uint64_t updates;
	uint64_t deletes;
	uint64_t full;
} __attribute__((aligned(64)));

/* A program's maps, in the order of their declaration (a program names a map by its index). */
struct rl_bpf_maps {
	unsigned n;
	struct rl_bpf_map *m[RL_BPF_MAX_MAPS];
};

/*
 * The workers' quiescent-state variable: old lpm tables and deleted hash slots are reclaimed
 * after a grace period on it. Set once before the first policy compiles (vigild) or never
 * (tests, fuzzing, --check-bpf: a single thread, and tables are reclaimed at once).
 */
void rl_bpf_maps_set_qsbr(struct rte_rcu_qsbr *v);

/* The companion file of object path: prog.o -> prog.maps.yaml (into buf). */
void rl_bpf_maps_path(const char *obj, char *buf, size_t len);

/*
 * Read obj's companion file if there is one, create its maps (with counters for n_workers
 * workers) and fill them from the files it names. Returns 0 with *out NULL (no companion file) or
 * the maps; or -errno with err filled (file:line:column and the reason). Needs the EAL (maps live
 * in DPDK memory), unless check: then the declarations and the files' entries are checked and no
 * table is made: only the maps' declarations may be read (`vigild --check-bpf`), no entry changed
 * or looked up.
 */
int rl_bpf_maps_load(const char *obj, unsigned n_workers, bool check, struct rl_bpf_maps **out,
		char *err, size_t errlen);

/* Free maps no worker uses any more. NULL is a no-op. */
void rl_bpf_maps_free(struct rl_bpf_maps *maps);

const char *rl_bpf_map_name(const struct rl_bpf_map *m);
enum rl_bpf_map_kind rl_bpf_map_kind(const struct rl_bpf_map *m);
enum rl_bpf_key_type rl_bpf_map_key_type(const struct rl_bpf_map *m);
unsigned rl_bpf_map_family(const struct rl_bpf_map *m); /* lpm: 4 or 6; hash: 0 */
uint32_t rl_bpf_map_max_entries(const struct rl_bpf_map *m);
uint32_t rl_bpf_map_count(const struct rl_bpf_map *m);
const char *rl_bpf_map_file(const struct rl_bpf_map *m); /* fill file, or NULL */

/*
 * Parse an entry's key text (lpm: "10.0.0.0/8", "2001:db8::/32" or one address; hash with
 * u64 keys: a number, decimal or 0x hex; with addr keys: an address) and value into e.
 * Returns 0, or -EINVAL with err saying why and what would be accepted.
 */
int rl_bpf_map_parse(const struct rl_bpf_map *m, const char *key, uint64_t value,
		struct rl_bpf_map_entry *e, char *err, size_t errlen);

/* The key of e as rl_bpf_map_parse() reads it back. */
void rl_bpf_map_key_text(const struct rl_bpf_map *m, const struct rl_bpf_map_entry *e, char *buf,
		size_t len);

/*
 * Put (del false: insert or replace) or remove (del true: every key must be there) n entries,
 * all or none: on error nothing in force changed, and err says which entry and why (-ENOSPC
 * beyond max_entries, -ENOENT for a missing key, -ENOMEM). Control only (one writer of lpm
 * maps at a time); may wait for a grace period.
 */
int rl_bpf_map_change(struct rl_bpf_map *m, const struct rl_bpf_map_entry *e, unsigned n, bool del,
		char *err, size_t errlen);

/* What rl_bpf_map_change() would refuse (0 if nothing), without changing anything. */
int rl_bpf_map_check(const struct rl_bpf_map *m, const struct rl_bpf_map_entry *e, unsigned n,
		bool del, char *err, size_t errlen);

/*
 * Call fn for each entry (lpm: in the order they were put; hash: the table's order). A hash map
 * that programs write may change meanwhile: the listing is not a snapshot. Control only.
 */
void rl_bpf_map_walk(const struct rl_bpf_map *m,
		void (*fn)(void *arg, const struct rl_bpf_map_entry *e), void *arg);

/*
 * A copy of m's entries now, sorted by key, into *out (the caller's to free; NULL when empty)
 * and *n: a hash map that programs write is read under its writers' lock, so no write tears it.
 * 0 or -ENOMEM. Control only.
 */
int rl_bpf_map_copy(struct rl_bpf_map *m, struct rl_bpf_map_entry **out, uint32_t *n);

/* Call fn for each entry m's file gave when m loaded (what rl_bpf_map_carry() compares the next
 * version's file with), in the file's order. Control only. */
void rl_bpf_map_walk_file(const struct rl_bpf_map *m,
		void (*fn)(void *arg, const struct rl_bpf_map_entry *e), void *arg);

/*
 * Carry the entries of from, a map of the version in force, into to, the same map (name) of a
 * version not published yet (no worker reads it), which holds what its file gave. to ends up
 * with from's entries as they are now (the files', the API's and the programs' own), with the
 * change of the file since from loaded applied on top: keys its old file had and its new file
 * has not are removed, and keys the new file adds or gives another value are put. Control
 * only (from's lpm entries are control's; from's hash map is read under its writers' lock, so
 * a program's write to from after this call is not in to). Returns 0; -EXDEV when the two are
 * not the same kind of map (kind, lpm family, hash key type), -ENOSPC when the result would
 * not fit to's max_entries (or its lpm groups), -ENOMEM: on error to holds what its file gave,
 * as before the call (except after -ENOMEM in the middle of an lpm change: then some of the
 * entries), with err saying why.
 */
int rl_bpf_map_carry(struct rl_bpf_map *to, struct rl_bpf_map *from, char *err, size_t errlen);

/*
 * rl_bpf_map_carry() from a map that is no longer in memory (a previous run's, saved by
 * control/ctl_bpf_state.c): a map of kind, key and family (as rl_bpf_map_kind(),
 * rl_bpf_map_key_type() and rl_bpf_map_family() answered) that held now[0..n_now) and whose
 * file gave file[0..n_file) when it loaded (rl_bpf_map_walk_file()). The same result and errors
 * as rl_bpf_map_carry(), and -EINVAL when a list holds a key twice (err names it): to then
 * holds what its file gave.
 */
int rl_bpf_map_restore(struct rl_bpf_map *to, enum rl_bpf_map_kind kind, enum rl_bpf_key_type key,
		unsigned family, const struct rl_bpf_map_entry *now, uint32_t n_now,
		const struct rl_bpf_map_entry *file, uint32_t n_file, char *err, size_t errlen);

/* The helpers' work on worker w (any worker). VG_BPF_MAP_NONE when absent, or for a map of
 * another kind. */
uint64_t rl_bpf_map_lpm(const struct rl_bpf_maps *maps, unsigned w, uint64_t id, unsigned family,
		const uint8_t *addr);
uint64_t rl_bpf_map_lookup(
		const struct rl_bpf_maps *maps, unsigned w, uint64_t id, uint64_t k0, uint64_t k1);
uint64_t rl_bpf_map_update(struct rl_bpf_maps *maps, unsigned w, uint64_t id, uint64_t k0,
		uint64_t k1, uint64_t value);
uint64_t rl_bpf_map_delete(
		struct rl_bpf_maps *maps, unsigned w, uint64_t id, uint64_t k0, uint64_t k1);

/* The sum of m's counters over the workers. */
void rl_bpf_map_counters_sum(const struct rl_bpf_map *m, struct rl_bpf_map_counters *out);

#endif /* RL_BPF_MAP_H */

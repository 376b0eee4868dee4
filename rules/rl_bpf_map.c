/* SPDX-License-Identifier: BSD-3-Clause */
/* Maps of eBPF programs: declaration (prog.maps.yaml), filling, the helpers' lookups. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_rcu_qsbr.h>
#include <rte_spinlock.h>

#include "rl_bpf_map.h"
#include "vg_addr.h"
#include "vg_diag.h"
#include "vg_yaml.h"

/* tbl8 groups: IPv4 prefixes longer than /24 take one each; IPv6 ones up to 13. */
#define LPM4_TBL8_MAX 4096u
#define LPM6_TBL8_PER 4u

struct rl_bpf_map {
	char name[RL_BPF_MAP_NAME_MAX];
	enum rl_bpf_map_kind kind;
	enum rl_bpf_key_type key;
	unsigned family;
	uint32_t max_entries;
	char *file;
	/* lpm: the table in force (one of the two), replaced whole by control. */
	struct rte_lpm *lpm4;
	struct rte_lpm6 *lpm6;
	/* lpm: the entries in force, for listings and the next table (control only). */
	struct rl_bpf_map_entry *ent;
	uint32_t n_ent;
	/* hash */
	struct rte_hash *hash;
	rte_spinlock_t wlock; /* the writers' (workers and control), never the readers' */
	/* Its keys, kept under wlock: rte_hash_count() also counts deleted keys whose slots
	 * wait for RCU's grace period, so it moves with the reclaim's timing. */
	uint32_t n_keys;
	/* What the file gave at load, for the next version's carry (rl_bpf_map_carry). */
	struct rl_bpf_map_entry *fent;
	uint32_t n_fent;
	/* The helpers' counters: one line per worker, each written by its worker only. */
	unsigned n_workers;
	struct rl_bpf_map_counters *ctr;
};

struct hkey {
	uint64_t k[2];
};

static struct rte_rcu_qsbr *qsbr;
static uint32_t name_seq;

void
rl_bpf_maps_set_qsbr(struct rte_rcu_qsbr *v)
{
	qsbr = v;
}

/* Wait until no worker can hold a pointer read before now. */
static void
grace(void)
{
	if (qsbr != NULL)
		rte_rcu_qsbr_synchronize(qsbr, RTE_QSBR_THRID_INVALID);
}

void
rl_bpf_maps_path(const char *obj, char *buf, size_t len)
{
	size_t n = strlen(obj);

	if (n > 2 && strcmp(obj + n - 2, ".o") == 0)
		n -= 2;
	snprintf(buf, len, "%.*s.maps.yaml", (int)n, obj);
}

/* ---------------------------------------------------------------------------------------- */
/* Tables                                                                                    */

static void
lpm_free_tables(struct rte_lpm *l4, struct rte_lpm6 *l6)
{
	rte_lpm_free(l4);
	rte_lpm6_free(l6);
}

/* A new table of m's family holding ent[0..n); NULL with err filled. */
static int
lpm_build(const struct rl_bpf_map *m, const struct rl_bpf_map_entry *ent, uint32_t n,
		struct rte_lpm **l4, struct rte_lpm6 **l6, char *err, size_t errlen)
{
	char name[RTE_LPM_NAMESIZE];
	int rc = 0;

	*l4 = NULL, *l6 = NULL;
	snprintf(name, sizeof(name), "vgbpf_lpm%u",
			__atomic_fetch_add(&name_seq, 1, __ATOMIC_RELAXED));
	if (m->family == 4) {
		const struct rte_lpm_config c = {
			.max_rules = m->max_entries,
			.number_tbl8s = RTE_MIN(m->max_entries, LPM4_TBL8_MAX),
		};

		*l4 = rte_lpm_create(name, (int)rte_socket_id(), &c);
	} else {
		const struct rte_lpm6_config c = {
			.max_rules = m->max_entries,
			.number_tbl8s = m->max_entries * LPM6_TBL8_PER,
		};

		*l6 = rte_lpm6_create(name, (int)rte_socket_id(), &c);
	}
	if (*l4 == NULL && *l6 == NULL) {
		snprintf(err, errlen, "map '%s': no memory for its table (%s)", m->name,
				rte_strerror(rte_errno));
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		const struct rl_bpf_map_entry *e = &ent[i];
		uint32_t a;

		if (m->family == 4) {
			memcpy(&a, e->addr, 4);
			rc = rte_lpm_add(*l4, ntohl(a), e->depth, (uint32_t)e->value);
		} else {
			rc = rte_lpm6_add(*l6, e->addr, e->depth, (uint32_t)e->value);
		}
		if (rc != 0) {
			char k[64];

			rl_bpf_map_key_text(m, e, k, sizeof(k));
			snprintf(err, errlen,
					"map '%s': %s does not fit (%s: the table's groups for prefixes longer than /24 are used up)",
					m->name, k, strerror(-rc));
		}
	}
	if (rc != 0) {
		lpm_free_tables(*l4, *l6);
		*l4 = NULL, *l6 = NULL;
		return rc == -ENOSPC ? -ENOSPC : -ENOMEM;
	}
	return 0;
}

static int
map_create(struct rl_bpf_map *m, char *err, size_t errlen)
{
	if (m->kind == RL_BPF_MAP_LPM)
		return lpm_build(m, NULL, 0, &m->lpm4, &m->lpm6, err, errlen);

	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = RTE_MAX(m->max_entries, 8u),
		.key_len = sizeof(struct hkey),
		.hash_func = rte_hash_crc,
		.socket_id = (int)rte_socket_id(),
		/*
		 * Lock-free readers. Writers (workers' vg_map_update, control, the thread that
		 * compiles a policy) take wlock: rte_hash's own multi-writer mode keeps per-lcore
		 * slot caches, indexed out of bounds from a thread that is no EAL lcore.
		 */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			      RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	snprintf(name, sizeof(name), "vgbpf_h%u",
			__atomic_fetch_add(&name_seq, 1, __ATOMIC_RELAXED));
	m->hash = rte_hash_create(&hp);
	if (m->hash == NULL) {
		snprintf(err, errlen, "map '%s': no memory for its table (%s)", m->name,
				rte_strerror(rte_errno));
		return -ENOMEM;
	}
	if (qsbr != NULL) {
		/* A deleted key's slot is reused once every worker has been quiescent. */
		struct rte_hash_rcu_config rc = { .v = qsbr, .mode = RTE_HASH_QSBR_MODE_DQ };

		if (rte_hash_rcu_qsbr_add(m->hash, &rc) != 0) {
			snprintf(err, errlen, "map '%s': cannot attach RCU (%s)", m->name,
					rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	return 0;
}

static void
map_free(struct rl_bpf_map *m)
{
	if (m == NULL)
		return;
	lpm_free_tables(m->lpm4, m->lpm6);
	rte_hash_free(m->hash);
	free(m->ent);
	free(m->fent);
	free(m->ctr);
	free(m->file);
	free(m);
}

void
rl_bpf_maps_free(struct rl_bpf_maps *maps)
{
	if (maps == NULL)
		return;
	for (unsigned i = 0; i < maps->n; i++)
		map_free(maps->m[i]);
	free(maps);
}

/* ---------------------------------------------------------------------------------------- */
/* Entries                                                                                   */

const char *
rl_bpf_map_name(const struct rl_bpf_map *m)
{
	return m->name;
}

enum rl_bpf_map_kind
rl_bpf_map_kind(const struct rl_bpf_map *m)
{
	return m->kind;
}

enum rl_bpf_key_type
rl_bpf_map_key_type(const struct rl_bpf_map *m)
{
	return m->key;
}

unsigned
rl_bpf_map_family(const struct rl_bpf_map *m)
{
	return m->family;
}

uint32_t
rl_bpf_map_max_entries(const struct rl_bpf_map *m)
{
	return m->max_entries;
}

uint32_t
rl_bpf_map_count(const struct rl_bpf_map *m)
{
	if (m->kind == RL_BPF_MAP_LPM)
		return m->n_ent;
	return __atomic_load_n(&m->n_keys, __ATOMIC_RELAXED);
}

const char *
rl_bpf_map_file(const struct rl_bpf_map *m)
{
	return m->file;
}

static int
parse_prefix(const struct rl_bpf_map *m, const char *key, struct rl_bpf_map_entry *e, char *err,
		size_t errlen)
{
	const unsigned bits = m->family == 4 ? 32 : 128;
	const char *slash = strchr(key, '/');
	struct vg_addr a;
	struct vg_prefix p;
	int rc;

	if (vg_addr_parse(key, slash ? (size_t)(slash - key) : strlen(key), &a) != 0)
		goto bad;
	if (a.family != m->family) {
		snprintf(err, errlen, "map '%s' holds IPv%u prefixes; '%.64s' is IPv%u", m->name,
				m->family, key, a.family);
		return -EINVAL;
	}
	rc = vg_prefix_parse(key, strlen(key), VG_PREFIX_HOST_BITS, &p, NULL);
	if (rc < 0 || p.plen < 1) {
		snprintf(err, errlen, "'%.64s': the prefix length must be 1 to %u", key, bits);
		return -EINVAL;
	}
	if (rc == 1) {
		snprintf(err, errlen,
				"'%.64s' has bits set past its /%u (write the network address)",
				key, p.plen);
		return -EINVAL;
	}
	memcpy(e->addr, p.addr.b, sizeof(e->addr));
	e->depth = p.plen;
	return 0;
bad:
	snprintf(err, errlen, "'%.64s' is not an IPv%u prefix (%s) or address", key, m->family,
			m->family == 4 ? "10.0.0.0/8" : "2001:db8::/32");
	return -EINVAL;
}

int
rl_bpf_map_parse(const struct rl_bpf_map *m, const char *key, uint64_t value,
		struct rl_bpf_map_entry *e, char *err, size_t errlen)
{
	memset(e, 0, sizeof(*e));
	e->value = value;
	if (m->kind == RL_BPF_MAP_LPM) {
		if (value > RL_BPF_LPM_VALUE_MAX) {
			snprintf(err, errlen, "value %" PRIu64 ": an lpm map's values are 0 to %u",
					value, RL_BPF_LPM_VALUE_MAX);
			return -EINVAL;
		}
		return parse_prefix(m, key, e, err, errlen);
	}
	if (value == VG_BPF_MAP_NONE) {
		snprintf(err, errlen,
				"value %" PRIu64 " is what a lookup answers for a missing key; "
				"a hash map's values are 0 to %" PRIu64,
				value, VG_BPF_MAP_NONE - 1);
		return -EINVAL;
	}
	if (m->key == RL_BPF_KEY_U64) {
		char *end;

		errno = 0;
		e->k[0] = strtoull(key, &end, 0);
		if (key[0] == '\0' || key[0] == '-' || *end != '\0' || errno != 0) {
			snprintf(err, errlen,
					"map '%s' has number keys: '%.64s' is not one (0 to %" PRIu64
					", decimal or 0x hex)",
					m->name, key, UINT64_MAX);
			return -EINVAL;
		}
		return 0;
	}
	struct vg_addr a;

	if (vg_addr_parse_str(key, &a) != 0) {
		snprintf(err, errlen,
				"map '%s' has address keys: '%.64s' is not an IPv4 or IPv6 address",
				m->name, key);
		return -EINVAL;
	}
	memcpy(e->k, a.b, 16);
	return 0;
}

void
rl_bpf_map_key_text(
		const struct rl_bpf_map *m, const struct rl_bpf_map_entry *e, char *buf, size_t len)
{
	static const uint8_t zero[12];

	if (m->kind == RL_BPF_MAP_LPM) {
		struct vg_prefix p = { .addr.family = m->family, .plen = e->depth };

		memcpy(p.addr.b, e->addr, sizeof(p.addr.b));
		vg_prefix_format(&p, false, buf, len);
	} else if (m->key == RL_BPF_KEY_U64) {
		snprintf(buf, len, "%" PRIu64, e->k[0]);
	} else {
		/* IPv4 when the last 12 bytes are zero (as ctx->src holds one). */
		struct vg_addr a;

		memcpy(a.b, e->k, 16);
		a.family = memcmp(a.b + 4, zero, 12) == 0 ? 4 : 6;
		vg_addr_format(&a, buf, len);
	}
}

static int
lpm_find(const struct rl_bpf_map_entry *ent, uint32_t n, const struct rl_bpf_map_entry *e)
{
	for (uint32_t i = 0; i < n; i++)
		if (ent[i].depth == e->depth && memcmp(ent[i].addr, e->addr, 16) == 0)
			return (int)i;
	return -1;
}

static int
lpm_change(struct rl_bpf_map *m, const struct rl_bpf_map_entry *e, unsigned n, bool del, bool dry,
		char *err, size_t errlen)
{
	struct rl_bpf_map_entry *ent = malloc(((size_t)m->n_ent + n + 1) * sizeof(*ent));
	struct rte_lpm *l4, *o4 = m->lpm4;
	struct rte_lpm6 *l6, *o6 = m->lpm6;
	uint32_t cnt = m->n_ent;
	char k[64];
	int rc;

	if (ent == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (m->n_ent > 0) /* m->ent is NULL for an empty map */
		memcpy(ent, m->ent, (size_t)m->n_ent * sizeof(*ent));
	for (unsigned i = 0; i < n; i++) {
		int at = lpm_find(ent, cnt, &e[i]);

		if (del && at < 0) {
			rl_bpf_map_key_text(m, &e[i], k, sizeof(k));
			snprintf(err, errlen, "entry %u: %s is not in map '%s'", i, k, m->name);
			free(ent);
			return -ENOENT;
		}
		if (del)
			ent[at] = ent[--cnt];
		else if (at >= 0)
			ent[at].value = e[i].value;
		else if (cnt == m->max_entries) {
			snprintf(err, errlen,
					"entry %u: map '%s' is full (max_entries %u); nothing was changed",
					i, m->name, m->max_entries);
			free(ent);
			return -ENOSPC;
		} else
			ent[cnt++] = e[i];
	}
	if (dry) {
		free(ent);
		return 0;
	}
	rc = lpm_build(m, ent, cnt, &l4, &l6, err, errlen);
	if (rc != 0) {
		free(ent);
		return rc;
	}
	__atomic_store_n(&m->lpm4, l4, __ATOMIC_RELEASE);
	__atomic_store_n(&m->lpm6, l6, __ATOMIC_RELEASE);
	grace();
	lpm_free_tables(o4, o6);
	free(m->ent);
	m->ent = ent;
	m->n_ent = cnt;
	return 0;
}

static void
hkey_of(const struct rl_bpf_map *m, uint64_t k0, uint64_t k1, struct hkey *k)
{
	k->k[0] = k0;
	k->k[1] = m->key == RL_BPF_KEY_ADDR ? k1 : 0;
}

/* The writes, under the map's writer lock. */
static int
hash_put(struct rl_bpf_map *m, const struct hkey *k, uint64_t value)
{
	int rc;

	bool fresh;

	rte_spinlock_lock(&m->wlock);
	fresh = rte_hash_lookup(m->hash, k) < 0;
	rc = rte_hash_add_key_data(m->hash, k, (void *)(uintptr_t)value);
	if (rc == 0 && fresh)
		__atomic_store_n(&m->n_keys, m->n_keys + 1, __ATOMIC_RELAXED);
	rte_spinlock_unlock(&m->wlock);
	return rc;
}

static int
hash_del(struct rl_bpf_map *m, const struct hkey *k)
{
	int32_t pos;

	rte_spinlock_lock(&m->wlock);
	pos = rte_hash_del_key(m->hash, k);
	if (pos >= 0)
		__atomic_store_n(&m->n_keys, m->n_keys - 1, __ATOMIC_RELAXED);
	/* Without RCU (a single thread) the slot is free at once; with it, after a grace period. */
	if (pos >= 0 && qsbr == NULL)
		rte_hash_free_key_with_position(m->hash, pos);
	rte_spinlock_unlock(&m->wlock);
	return pos;
}

static int
hash_change(struct rl_bpf_map *m, const struct rl_bpf_map_entry *e, unsigned n, bool del, bool dry,
		char *err, size_t errlen)
{
	struct {
		bool had;
		uint64_t old;
	} *undo = calloc(n ? n : 1, sizeof(*undo));
	uint32_t fresh = 0;
	unsigned i;
	int rc = 0;
	char k[64];

	if (undo == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* Check everything first: nothing changes on a refused request. */
	for (i = 0; i < n; i++) {
		struct hkey hk;
		void *d = NULL;

		hkey_of(m, e[i].k[0], e[i].k[1], &hk);
		undo[i].had = rte_hash_lookup_data(m->hash, &hk, &d) >= 0;
		undo[i].old = (uint64_t)(uintptr_t)d;
		if (del && !undo[i].had) {
			rl_bpf_map_key_text(m, &e[i], k, sizeof(k));
			snprintf(err, errlen, "entry %u: %s is not in map '%s'", i, k, m->name);
			free(undo);
			return -ENOENT;
		}
		fresh += !undo[i].had;
	}
	if (!del && rl_bpf_map_count(m) + fresh > m->max_entries) {
		snprintf(err, errlen,
				"map '%s' would hold %u entries, more than its max_entries %u; nothing was changed",
				m->name, rl_bpf_map_count(m) + fresh, m->max_entries);
		free(undo);
		return -ENOSPC;
	}
	if (dry) {
		free(undo);
		return 0;
	}
	for (i = 0; i < n && rc == 0; i++) {
		struct hkey hk;

		hkey_of(m, e[i].k[0], e[i].k[1], &hk);
		if (del)
			rc = hash_del(m, &hk) >= 0 ? 0 : -ENOENT;
		else
			rc = hash_put(m, &hk, e[i].value);
	}
	if (rc != 0) {
		/* Put back what was done (a program may have written the same keys meanwhile). */
		rl_bpf_map_key_text(m, &e[i - 1], k, sizeof(k));
		snprintf(err, errlen, "entry %u: %s: %s; nothing was changed", i - 1, k,
				strerror(-rc));
		for (unsigned j = 0; j + 1 < i; j++) {
			struct hkey hk;

			hkey_of(m, e[j].k[0], e[j].k[1], &hk);
			if (undo[j].had)
				hash_put(m, &hk, undo[j].old);
			else
				hash_del(m, &hk);
		}
	}
	free(undo);
	return rc == -ENOENT || rc == -ENOSPC ? rc : rc ? -ENOMEM : 0;
}

static int
change(struct rl_bpf_map *m, const struct rl_bpf_map_entry *e, unsigned n, bool del, bool dry,
		char *err, size_t errlen)
{
	if (n > RL_BPF_MAP_BATCH_MAX) {
		snprintf(err, errlen, "%u entries in one change; at most %u", n,
				RL_BPF_MAP_BATCH_MAX);
		return -E2BIG;
	}
	if (m->kind == RL_BPF_MAP_LPM)
		return lpm_change(m, e, n, del, dry, err, errlen);
	return hash_change(m, e, n, del, dry, err, errlen);
}

int
rl_bpf_map_change(struct rl_bpf_map *m, const struct rl_bpf_map_entry *e, unsigned n, bool del,
		char *err, size_t errlen)
{
	return change(m, e, n, del, false, err, errlen);
}

int
rl_bpf_map_check(const struct rl_bpf_map *m, const struct rl_bpf_map_entry *e, unsigned n, bool del,
		char *err, size_t errlen)
{
	/* dry: nothing is written through m. */
	return change((struct rl_bpf_map *)(uintptr_t)m, e, n, del, true, err, errlen);
}

void
rl_bpf_map_walk(const struct rl_bpf_map *m, void (*fn)(void *arg, const struct rl_bpf_map_entry *e),
		void *arg)
{
	if (m->kind == RL_BPF_MAP_LPM) {
		for (uint32_t i = 0; i < m->n_ent; i++)
			fn(arg, &m->ent[i]);
		return;
	}
	const void *key;
	void *data;
	uint32_t next = 0;

	while (rte_hash_iterate(m->hash, &key, &data, &next) >= 0) {
		struct rl_bpf_map_entry e = { .value = (uint64_t)(uintptr_t)data };

		memcpy(e.k, key, sizeof(e.k));
		fn(arg, &e);
	}
}

void
rl_bpf_map_walk_file(const struct rl_bpf_map *m,
		void (*fn)(void *arg, const struct rl_bpf_map_entry *e), void *arg)
{
	for (uint32_t i = 0; i < m->n_fent; i++)
		fn(arg, &m->fent[i]);
}

/* ---------------------------------------------------------------------------------------- */
/* Carrying entries into the next policy version                                             */

typedef int cmp_fn(const void *, const void *);

static int
cmp_prefix(const void *a, const void *b)
{
	const struct rl_bpf_map_entry *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, sizeof(x->addr));

	return c != 0 ? c : (int)x->depth - (int)y->depth;
}

static int
cmp_hkey(const void *a, const void *b)
{
	const struct rl_bpf_map_entry *x = a, *y = b;

	if (x->k[0] != y->k[0])
		return x->k[0] < y->k[0] ? -1 : 1;
	if (x->k[1] != y->k[1])
		return x->k[1] < y->k[1] ? -1 : 1;
	return 0;
}

static cmp_fn *
cmp_of(const struct rl_bpf_map *m)
{
	return m->kind == RL_BPF_MAP_LPM ? cmp_prefix : cmp_hkey;
}

struct elist {
	struct rl_bpf_map_entry *v;
	uint32_t n, cap;
};

static int
elist_add(struct elist *l, const struct rl_bpf_map_entry *e)
{
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 64;
		struct rl_bpf_map_entry *v = realloc(l->v, (size_t)cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		l->v = v, l->cap = cap;
	}
	l->v[l->n++] = *e;
	return 0;
}

static int
elist_copy(struct elist *l, const struct rl_bpf_map_entry *e, uint32_t n,
		int (*cmp)(const void *, const void *))
{
	for (uint32_t i = 0; i < n; i++)
		if (elist_add(l, &e[i]) != 0)
			return -ENOMEM;
	if (l->n > 0)
		qsort(l->v, l->n, sizeof(*l->v), cmp);
	return 0;
}

static struct rl_bpf_map_entry *
elist_find(const struct elist *l, const struct rl_bpf_map_entry *e,
		int (*cmp)(const void *, const void *))
{
	return l->n > 0 ? bsearch(e, l->v, l->n, sizeof(*l->v), cmp) : NULL;
}

/* from's entries now: an lpm map's list is control's; a hash map is read under its writers'
 * lock, so that no program's write tears the copy. */
static int
entries_now(struct rl_bpf_map *from, struct elist *l, int (*cmp)(const void *, const void *))
{
	const void *key;
	void *data;
	uint32_t next = 0;
	int rc = 0;

	if (from->kind == RL_BPF_MAP_LPM)
		return elist_copy(l, from->ent, from->n_ent, cmp);
	l->cap = rl_bpf_map_count(from) + 64;
	l->v = malloc((size_t)l->cap * sizeof(*l->v));
	if (l->v == NULL)
		return -ENOMEM;
	rte_spinlock_lock(&from->wlock);
	while (rc == 0 && rte_hash_iterate(from->hash, &key, &data, &next) >= 0) {
		struct rl_bpf_map_entry e = { .value = (uint64_t)(uintptr_t)data };

		memcpy(e.k, key, sizeof(e.k));
		rc = elist_add(l, &e);
	}
	rte_spinlock_unlock(&from->wlock);
	if (rc == 0 && l->n > 0)
		qsort(l->v, l->n, sizeof(*l->v), cmp);
	return rc;
}

int
rl_bpf_map_copy(struct rl_bpf_map *m, struct rl_bpf_map_entry **out, uint32_t *n)
{
	struct elist l = { 0 };
	int rc = entries_now(m, &l, cmp_of(m));

	if (rc != 0) {
		free(l.v);
		*out = NULL, *n = 0;
		return rc;
	}
	*out = l.v, *n = l.n;
	return 0;
}

/* to's lpm table (not published: changed in place) from cur (what it holds) to want. */
static int
lpm_carry(struct rl_bpf_map *to, const struct elist *cur, const struct elist *want, char *err,
		size_t errlen)
{
	int rc = 0;

	for (uint32_t i = 0; i < cur->n && rc == 0; i++) {
		const struct rl_bpf_map_entry *e = &cur->v[i];
		uint32_t a;

		if (elist_find(want, e, cmp_prefix) != NULL)
			continue;
		memcpy(&a, e->addr, 4);
		rc = to->family == 4 ? rte_lpm_delete(to->lpm4, ntohl(a), e->depth)
				     : rte_lpm6_delete(to->lpm6, e->addr, e->depth);
	}
	for (uint32_t i = 0; i < want->n && rc == 0; i++) {
		const struct rl_bpf_map_entry *e = &want->v[i], *c = elist_find(cur, e, cmp_prefix);
		uint32_t a;

		if (c != NULL && c->value == e->value)
			continue;
		memcpy(&a, e->addr, 4);
		rc = to->family == 4 ? rte_lpm_add(to->lpm4, ntohl(a), e->depth, (uint32_t)e->value)
				     : rte_lpm6_add(to->lpm6, e->addr, e->depth,
						       (uint32_t)e->value);
	}
	if (rc == 0)
		return 0;
	/* Half changed: make its table again from its own entries (nobody reads it yet). */
	struct rte_lpm *l4;
	struct rte_lpm6 *l6;
	char why[256];

	snprintf(err, errlen,
			"map '%s': the entries do not fit its table (%s: the groups for prefixes longer than /24 are used up)",
			to->name, strerror(-rc));
	if (lpm_build(to, to->ent, to->n_ent, &l4, &l6, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "map '%s': %s", to->name, why);
		return -ENOMEM; /* the caller refuses the version */
	}
	lpm_free_tables(to->lpm4, to->lpm6);
	to->lpm4 = l4, to->lpm6 = l6;
	return -ENOSPC;
}

/* to's hash table (not published) replaced by a new one holding want. */
static int
hash_carry(struct rl_bpf_map *to, const struct elist *want, char *err, size_t errlen)
{
	struct rte_hash *old = to->hash;
	uint32_t keys = 0;
	int rc;

	to->hash = NULL;
	rc = map_create(to, err, errlen);
	for (uint32_t i = 0; i < want->n && rc == 0; i++) {
		struct hkey hk = { .k = { want->v[i].k[0], want->v[i].k[1] } };

		keys += rte_hash_lookup(to->hash, &hk) < 0;
		rc = rte_hash_add_key_data(to->hash, &hk, (void *)(uintptr_t)want->v[i].value);
		if (rc != 0)
			snprintf(err, errlen, "map '%s': %u entries do not fit its table (%s)",
					to->name, want->n, strerror(-rc));
	}
	if (rc != 0) {
		rte_hash_free(to->hash);
		to->hash = old;
		return rc == -ENOSPC ? -ENOSPC : -ENOMEM;
	}
	rte_hash_free(old);
	to->n_keys = keys;
	return 0;
}

/*
 * The carry proper: to (holding what its file gave, in to->fent) ends up with now (what the old
 * map held) less the keys fold (its old file's) had and to's file has not, with what to's file
 * adds or changes on top. now and fold are sorted by cmp.
 */
static int
carry_lists(struct rl_bpf_map *to, const struct elist *now, const struct elist *fold, cmp_fn *cmp,
		char *err, size_t errlen)
{
	struct elist fnew = { 0 }, cur = { 0 }, want = { 0 }, add = { 0 };
	int rc;

	rc = elist_copy(&fnew, to->fent, to->n_fent, cmp);
	/* What is there now, less what the old file had and the new one has not... */
	for (uint32_t i = 0; i < now->n && rc == 0; i++)
		if (elist_find(fold, &now->v[i], cmp) == NULL ||
				elist_find(&fnew, &now->v[i], cmp) != NULL)
			rc = elist_add(&want, &now->v[i]);
	/* ... with what the new file adds or changes. */
	for (uint32_t i = 0; i < fnew.n && rc == 0; i++) {
		const struct rl_bpf_map_entry *o = elist_find(fold, &fnew.v[i], cmp);
		struct rl_bpf_map_entry *w;

		if (o != NULL && o->value == fnew.v[i].value)
			continue;
		w = elist_find(&want, &fnew.v[i], cmp);
		if (w != NULL)
			w->value = fnew.v[i].value;
		else
			rc = elist_add(&add, &fnew.v[i]);
	}
	for (uint32_t i = 0; i < add.n && rc == 0; i++)
		rc = elist_add(&want, &add.v[i]);
	if (rc == 0 && want.n > 0)
		qsort(want.v, want.n, sizeof(*want.v), cmp);
	if (rc != 0) {
		snprintf(err, errlen, "out of memory");
	} else if (want.n > to->max_entries) {
		snprintf(err, errlen,
				"map '%s' would hold %u entries, more than its max_entries %u",
				to->name, want.n, to->max_entries);
		rc = -ENOSPC;
	} else if (to->kind == RL_BPF_MAP_LPM) {
		rc = elist_copy(&cur, to->ent, to->n_ent, cmp);
		if (rc == 0)
			rc = lpm_carry(to, &cur, &want, err, errlen);
		if (rc == 0) {
			free(to->ent);
			to->ent = want.v, to->n_ent = want.n;
			want.v = NULL;
		}
	} else {
		rc = hash_carry(to, &want, err, errlen);
	}
	free(fnew.v), free(cur.v), free(want.v), free(add.v);
	return rc;
}

int
rl_bpf_map_carry(struct rl_bpf_map *to, struct rl_bpf_map *from, char *err, size_t errlen)
{
	cmp_fn *cmp = cmp_of(to);
	struct elist now = { 0 }, fold = { 0 };
	int rc;

	err[0] = '\0';
	if (to->kind != from->kind || to->key != from->key || to->family != from->family) {
		snprintf(err, errlen, "map '%s' is not the same kind of map in the new version",
				to->name);
		return -EXDEV;
	}
	rc = entries_now(from, &now, cmp);
	if (rc == 0)
		rc = elist_copy(&fold, from->fent, from->n_fent, cmp);
	if (rc != 0)
		snprintf(err, errlen, "out of memory");
	else
		rc = carry_lists(to, &now, &fold, cmp, err, errlen);
	free(now.v), free(fold.v);
	return rc;
}

/* The first key l holds twice (l sorted), or NULL. */
static const struct rl_bpf_map_entry *
elist_twice(const struct elist *l, cmp_fn *cmp)
{
	for (uint32_t i = 1; i < l->n; i++)
		if (cmp(&l->v[i - 1], &l->v[i]) == 0)
			return &l->v[i];
	return NULL;
}

static void
kind_text(enum rl_bpf_map_kind kind, enum rl_bpf_key_type key, unsigned family, char *buf,
		size_t len)
{
	if (kind == RL_BPF_MAP_LPM)
		snprintf(buf, len, "lpm, family %u", family);
	else
		snprintf(buf, len, "hash, key %s", key == RL_BPF_KEY_U64 ? "u64" : "addr");
}

int
rl_bpf_map_restore(struct rl_bpf_map *to, enum rl_bpf_map_kind kind, enum rl_bpf_key_type key,
		unsigned family, const struct rl_bpf_map_entry *now, uint32_t n_now,
		const struct rl_bpf_map_entry *file, uint32_t n_file, char *err, size_t errlen)
{
	cmp_fn *cmp = cmp_of(to);
	struct elist lnow = { 0 }, fold = { 0 };
	const struct rl_bpf_map_entry *twice;
	int rc;

	err[0] = '\0';
	if (to->kind != kind || to->key != key || to->family != family) {
		char was[32], is[32];

		kind_text(kind, key, family, was, sizeof(was));
		kind_text(to->kind, to->key, to->family, is, sizeof(is));
		snprintf(err, errlen, "map '%s' was %s and is now %s", to->name, was, is);
		return -EXDEV;
	}
	rc = elist_copy(&lnow, now, n_now, cmp);
	if (rc == 0)
		rc = elist_copy(&fold, file, n_file, cmp);
	if (rc != 0) {
		snprintf(err, errlen, "out of memory");
	} else if ((twice = elist_twice(&lnow, cmp)) != NULL ||
			(twice = elist_twice(&fold, cmp)) != NULL) {
		char k[64];

		rl_bpf_map_key_text(to, twice, k, sizeof(k));
		snprintf(err, errlen, "%s is there twice", k);
		rc = -EINVAL;
	} else {
		rc = carry_lists(to, &lnow, &fold, cmp, err, errlen);
	}
	free(lnow.v), free(fold.v);
	return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* The helpers' work (workers)                                                               */

static inline struct rl_bpf_map *
map_of(const struct rl_bpf_maps *maps, uint64_t id, enum rl_bpf_map_kind kind)
{
	struct rl_bpf_map *m;

	if (maps == NULL || id >= maps->n)
		return NULL;
	m = maps->m[id];
	return m->kind == kind ? m : NULL;
}

uint64_t
rl_bpf_map_lpm(const struct rl_bpf_maps *maps, unsigned w, uint64_t id, unsigned family,
		const uint8_t *addr)
{
	struct rl_bpf_map *m = map_of(maps, id, RL_BPF_MAP_LPM);
	uint32_t nh, a;
	int rc;

	if (m == NULL || m->family != family)
		return VG_BPF_MAP_NONE;
	m->ctr[w].lookups++;
	if (family == 4) {
		const struct rte_lpm *l = __atomic_load_n(&m->lpm4, __ATOMIC_ACQUIRE);

		memcpy(&a, addr, 4);
		rc = rte_lpm_lookup((struct rte_lpm *)(uintptr_t)l, ntohl(a), &nh);
	} else {
		const struct rte_lpm6 *l6 = __atomic_load_n(&m->lpm6, __ATOMIC_ACQUIRE);

		rc = rte_lpm6_lookup(l6, addr, &nh);
	}
	if (rc != 0)
		return VG_BPF_MAP_NONE;
	m->ctr[w].hits++;
	return nh;
}

uint64_t
rl_bpf_map_lookup(const struct rl_bpf_maps *maps, unsigned w, uint64_t id, uint64_t k0, uint64_t k1)
{
	struct rl_bpf_map *m = map_of(maps, id, RL_BPF_MAP_HASH);
	struct hkey k;
	void *d;

	if (m == NULL)
		return VG_BPF_MAP_NONE;
	m->ctr[w].lookups++;
	hkey_of(m, k0, k1, &k);
	if (rte_hash_lookup_data(m->hash, &k, &d) < 0)
		return VG_BPF_MAP_NONE;
	m->ctr[w].hits++;
	return (uint64_t)(uintptr_t)d;
}

uint64_t
rl_bpf_map_update(struct rl_bpf_maps *maps, unsigned w, uint64_t id, uint64_t k0, uint64_t k1,
		uint64_t value)
{
	struct rl_bpf_map *m = map_of(maps, id, RL_BPF_MAP_HASH);
	struct hkey k;

	if (m == NULL || value == VG_BPF_MAP_NONE)
		return VG_BPF_MAP_NONE;
	hkey_of(m, k0, k1, &k);
	if (hash_put(m, &k, value) != 0) {
		m->ctr[w].full++;
		return VG_BPF_MAP_NONE;
	}
	m->ctr[w].updates++;
	return 0;
}

uint64_t
rl_bpf_map_delete(struct rl_bpf_maps *maps, unsigned w, uint64_t id, uint64_t k0, uint64_t k1)
{
	struct rl_bpf_map *m = map_of(maps, id, RL_BPF_MAP_HASH);
	struct hkey k;

	if (m == NULL)
		return VG_BPF_MAP_NONE;
	hkey_of(m, k0, k1, &k);
	if (hash_del(m, &k) < 0)
		return VG_BPF_MAP_NONE;
	m->ctr[w].deletes++;
	return 0;
}

void
rl_bpf_map_counters_sum(const struct rl_bpf_map *m, struct rl_bpf_map_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned w = 0; w < m->n_workers; w++) {
		const struct rl_bpf_map_counters *c = &m->ctr[w];

		/* Each line is its worker's; a read may be one increment behind. */
		out->lookups += __atomic_load_n(&c->lookups, __ATOMIC_RELAXED);
		out->hits += __atomic_load_n(&c->hits, __ATOMIC_RELAXED);
		out->updates += __atomic_load_n(&c->updates, __ATOMIC_RELAXED);
		out->deletes += __atomic_load_n(&c->deletes, __ATOMIC_RELAXED);
		out->full += __atomic_load_n(&c->full, __ATOMIC_RELAXED);
	}
}

/* ---------------------------------------------------------------------------------------- */
/* The declaration and the fill files                                                        */

struct decl {
	char name[RL_BPF_MAP_NAME_MAX];
	int kind; /* enum rl_bpf_map_kind, -1 unset */
	int key;  /* 0 u64, 1 addr, -1 unset */
	uint8_t family;
	uint32_t max_entries;
	char *file;
};

static const char *const kind_names[] = { "lpm", "hash", NULL };
static const char *const key_names[] = { "u64", "addr", NULL };

static const struct vg_yaml_field decl_fields[] = {
	{ .name = "name",
			.type = VG_YT_STRBUF,
			.off = offsetof(struct decl, name),
			.min = 1,
			.max = RL_BPF_MAP_NAME_MAX,
			.required = true },
	{ .name = "kind",
			.type = VG_YT_ENUM,
			.off = offsetof(struct decl, kind),
			.names = kind_names,
			.required = true },
	{ .name = "key",
			.type = VG_YT_ENUM,
			.off = offsetof(struct decl, key),
			.names = key_names },
	{ .name = "family",
			.type = VG_YT_U8,
			.off = offsetof(struct decl, family),
			.min = 4,
			.max = 6 },
	{ .name = "max_entries",
			.type = VG_YT_U32,
			.off = offsetof(struct decl, max_entries),
			.min = 1,
			.max = RL_BPF_MAP_MAX_ENTRIES,
			.required = true },
	{ .name = "file", .type = VG_YT_STR, .off = offsetof(struct decl, file), .min = 1 },
	{ 0 },
};

struct fill_entry {
	char *key;
	uint64_t value;
};

static const struct vg_yaml_field entry_fields[] = {
	{ .name = "key",
			.type = VG_YT_STR,
			.off = offsetof(struct fill_entry, key),
			.min = 1,
			.required = true },
	{ .name = "value",
			.type = VG_YT_U64,
			.off = offsetof(struct fill_entry, value),
			.required = true },
	{ 0 },
};

/* The first error of diag as "file:line:col: message". */
static void
diag_first(const struct vg_diag *d, char *err, size_t errlen)
{
	for (unsigned i = 0; i < d->n; i++) {
		const struct vg_diag_entry *x = &d->v[i];

		if (x->sev != VG_SEV_ERROR)
			continue;
		snprintf(err, errlen, "%s:%u:%u: %s", x->file, x->line, x->col, x->msg);
		return;
	}
	snprintf(err, errlen, "invalid");
}

static bool
name_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
				    *s == '-'))
			return false;
	return true;
}

/* Fill m from its file (relative to dir). */
static int
fill(struct rl_bpf_map *m, bool check, char *err, size_t errlen)
{
	struct vg_diag diag;
	struct vg_yaml y = { 0 };
	struct rl_bpf_map_entry *ent = NULL;
	yaml_node_t *root, *list = NULL;
	int n = 0, rc;

	vg_diag_init(&diag);
	rc = vg_yaml_load_file(&y, m->file, &diag);
	if (rc != 0)
		goto out;
	root = vg_yaml_root(&y);
	if (root == NULL || root->type != YAML_MAPPING_NODE) {
		vg_yaml_err(&y, root, "a map's file is a mapping with 'entries:', a list");
		rc = -EINVAL;
		goto out;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
			p++) {
		yaml_node_t *k = vg_yaml_node(&y, p->key);
		const char *ks = k != NULL ? vg_yaml_scalar(&y, k, "key") : NULL;

		if (ks != NULL && strcmp(ks, "entries") == 0)
			list = vg_yaml_node(&y, p->value);
		else if (ks != NULL)
			vg_yaml_err(&y, k, "unknown key '%s' (a map's file has 'entries:')", ks);
	}
	if (list == NULL || !vg_yaml_expect_seq(&y, list, "entries")) {
		if (list == NULL)
			vg_yaml_err(&y, root, "no 'entries:' list");
		rc = -EINVAL;
		goto out;
	}
	n = vg_yaml_seq_len(list);
	if ((unsigned)n > RL_BPF_MAP_BATCH_MAX || (uint32_t)n > m->max_entries) {
		vg_yaml_err(&y, list, "%d entries: map '%s' holds at most %u (max_entries)", n,
				m->name, RTE_MIN(m->max_entries, RL_BPF_MAP_BATCH_MAX));
		rc = -EINVAL;
		goto out;
	}
	ent = calloc((size_t)n + 1, sizeof(*ent));
	if (ent == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		yaml_node_t *it = vg_yaml_seq_item(&y, list, i);
		struct fill_entry fe = { 0 };
		char why[256];

		if (vg_yaml_map(&y, it, "the entry", entry_fields, &fe) == 0 &&
				rl_bpf_map_parse(m, fe.key, fe.value, &ent[i], why, sizeof(why)) !=
						0)
			vg_yaml_err(&y, it, "entry %d: %s", i, why);
		free(fe.key);
	}
	if (vg_diag_has_errors(&diag)) {
		rc = -EINVAL;
		goto out;
	}
	rc = check ? 0 : rl_bpf_map_change(m, ent, (unsigned)n, false, err, errlen);
	if (rc == 0 && !check) {
		/* Kept for the next version's carry: what changed in the file since. */
		m->fent = ent;
		m->n_fent = (uint32_t)n;
		ent = NULL;
	}
	if (rc != 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s: %s", m->file, why);
	}
out:
	if (vg_diag_has_errors(&diag))
		diag_first(&diag, err, errlen);
	else if (rc != 0 && err[0] == '\0')
		snprintf(err, errlen, "%s: %s", m->file, strerror(-rc));
	free(ent);
	vg_yaml_free(&y);
	vg_diag_free(&diag);
	return rc;
}

/* Check one declaration (its node n) and create the map. */
static struct rl_bpf_map *
declare(struct vg_yaml *y, yaml_node_t *n, const struct decl *d, const char *dir,
		unsigned n_workers, const struct rl_bpf_maps *maps)
{
	struct rl_bpf_map *m;

	if (!name_ok(d->name)) {
		vg_yaml_err(y, n, "map '%s': a name is lower-case letters, digits, '_' and '-'",
				d->name);
		return NULL;
	}
	for (unsigned i = 0; i < maps->n; i++)
		if (strcmp(maps->m[i]->name, d->name) == 0) {
			vg_yaml_err(y, n, "map '%s' is declared twice", d->name);
			return NULL;
		}
	if (d->kind == RL_BPF_MAP_LPM && (d->family != 4 && d->family != 6)) {
		vg_yaml_err(y, n, "map '%s': an lpm map needs 'family: 4' or 'family: 6'", d->name);
		return NULL;
	}
	if (d->kind == RL_BPF_MAP_LPM && d->key >= 0) {
		vg_yaml_err(y, n,
				"map '%s': an lpm map's keys are prefixes; 'key' is for hash maps",
				d->name);
		return NULL;
	}
	if (d->kind == RL_BPF_MAP_HASH && d->key < 0) {
		vg_yaml_err(y, n, "map '%s': a hash map needs 'key: u64' or 'key: addr'", d->name);
		return NULL;
	}
	if (d->kind == RL_BPF_MAP_HASH && d->family != 0) {
		vg_yaml_err(y, n, "map '%s': 'family' is for lpm maps", d->name);
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m != NULL) {
		m->n_workers = n_workers;
		m->ctr = aligned_alloc(64, n_workers * sizeof(*m->ctr));
	}
	if (m == NULL || m->ctr == NULL) {
		vg_yaml_err(y, n, "out of memory");
		free(m);
		return NULL;
	}
	memset(m->ctr, 0, n_workers * sizeof(*m->ctr));
	snprintf(m->name, sizeof(m->name), "%s", d->name);
	m->kind = (enum rl_bpf_map_kind)d->kind;
	m->key = m->kind == RL_BPF_MAP_LPM ? RL_BPF_KEY_PREFIX
		 : d->key == 0		   ? RL_BPF_KEY_U64
					   : RL_BPF_KEY_ADDR;
	m->family = d->family;
	m->max_entries = d->max_entries;
	if (d->file != NULL) {
		if (d->file[0] == '/')
			m->file = strdup(d->file);
		else if (asprintf(&m->file, "%s/%s", dir, d->file) < 0)
			m->file = NULL;
		if (m->file == NULL) {
			vg_yaml_err(y, n, "out of memory");
			free(m->ctr);
			free(m);
			return NULL;
		}
	}
	return m;
}

int
rl_bpf_maps_load(const char *obj, unsigned n_workers, bool check, struct rl_bpf_maps **out,
		char *err, size_t errlen)
{
	char path[1024], dirbuf[1024];
	struct vg_diag diag;
	struct vg_yaml y = { 0 };
	struct rl_bpf_maps *maps = NULL;
	yaml_node_t *root, *list = NULL;
	struct stat st;
	const char *dir;
	int rc = 0;

	*out = NULL;
	err[0] = '\0';
	rl_bpf_maps_path(obj, path, sizeof(path));
	if (stat(path, &st) != 0)
		return 0; /* no maps */
	snprintf(dirbuf, sizeof(dirbuf), "%s", path);
	dir = dirname(dirbuf);
	vg_diag_init(&diag);
	maps = calloc(1, sizeof(*maps));
	if (maps == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc = vg_yaml_load_file(&y, path, &diag);
	if (rc != 0)
		goto out;
	root = vg_yaml_root(&y);
	if (root != NULL && root->type == YAML_MAPPING_NODE)
		for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
				p < root->data.mapping.pairs.top; p++) {
			yaml_node_t *k = vg_yaml_node(&y, p->key);
			const char *ks = k != NULL ? vg_yaml_scalar(&y, k, "key") : NULL;

			if (ks != NULL && strcmp(ks, "maps") == 0)
				list = vg_yaml_node(&y, p->value);
			else if (ks != NULL)
				vg_yaml_err(&y, k, "unknown key '%s' (a maps file has 'maps:')",
						ks);
		}
	if (list == NULL) {
		vg_yaml_err(&y, root, "a maps file is a mapping with 'maps:', a list of maps");
		rc = -EINVAL;
		goto out;
	}
	if (!vg_yaml_expect_seq(&y, list, "maps")) {
		rc = -EINVAL;
		goto out;
	}
	if (vg_yaml_seq_len(list) > RL_BPF_MAX_MAPS) {
		vg_yaml_err(&y, list, "%d maps: a program has at most %u", vg_yaml_seq_len(list),
				RL_BPF_MAX_MAPS);
		rc = -EINVAL;
		goto out;
	}
	for (int i = 0; i < vg_yaml_seq_len(list); i++) {
		yaml_node_t *it = vg_yaml_seq_item(&y, list, i);
		struct decl d = { .kind = -1, .key = -1 };
		struct rl_bpf_map *m = NULL;

		if (vg_yaml_map(&y, it, "the map", decl_fields, &d) == 0)
			m = declare(&y, it, &d, dir, RTE_MAX(n_workers, 1u), maps);
		free(d.file);
		if (m != NULL)
			maps->m[maps->n++] = m;
	}
	if (vg_diag_has_errors(&diag)) {
		rc = -EINVAL;
		goto out;
	}
	for (unsigned i = 0; i < maps->n && rc == 0; i++) {
		rc = check ? 0 : map_create(maps->m[i], err, errlen);
		if (rc == 0 && maps->m[i]->file != NULL)
			rc = fill(maps->m[i], check, err, errlen);
	}
out:
	if (vg_diag_has_errors(&diag))
		diag_first(&diag, err, errlen);
	else if (rc != 0 && err[0] == '\0')
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	vg_yaml_free(&y);
	vg_diag_free(&diag);
	if (rc != 0) {
		rl_bpf_maps_free(maps);
		return rc;
	}
	*out = maps;
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Counter tables: one per counter struct, next to the struct, in the layer that owns it. A row
 * names one uint64_t field (or an array of them) by its offset and says what it is: its key in
 * the JSON documents (GET /api/v1/status, /metrics, `vigild --stats-json`), its Prometheus
 * family, its type, unit and help, and its short name in the stats lines. The report
 * (control/ctl_status.c), the exposition (mgmt/mg_prom.c) and the stats line are loops over
 * these rows, so a counter is named in one place and a renamed key renames the metric with it.
 *
 * An array row (n > 0) is one value per element, labelled by a names table (for example
 * vg_exc_cond_names): a new element of the enum and its name flow through without an edit here.
 */
#ifndef VG_CTR_H
#define VG_CTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vg_ctr_type {
	VG_CTR_COUNTER, /* only grows (Prometheus counter: its family ends in _total) */
	VG_CTR_GAUGE,	/* a level */
};

struct vg_ctr {
	const char *name; /* JSON key; the stats line's column heading with '-' for '_' */
	size_t offset;	  /* of the uint64_t, or of the array's first element */
	enum vg_ctr_type type;
	const char *unit; /* what one counts: "packets", "bytes", "flows" */
	const char *help; /* the Prometheus HELP text, a sentence */
	/* Prometheus family. NULL: "vigil_<set>_<name>" (+ "_<unit>" unless the name ends with
	 * it, + "_total" for a counter): vg_ctr_prom_name(). */
	const char *prom;
	/* A fixed label pair that tells this row apart in a family it shares ("reason=\"policy\"")
	 */
	const char *prom_label;
	/* Array rows: n elements (0 for a scalar), element i named by names[first + i] or, without
	 * a names table, by name_of(first + i) (vg_ctr_elem_name()), labelled label="<name>" in
	 * Prometheus and keyed <name> in JSON. first: the index in the struct's array of the row's
	 * first element (an element before it has a row of its own: err[0] is "clean"). */
	const char *const *names;
	const char *(*name_of)(unsigned i);
	unsigned first;
	unsigned n;
	const char *label;
	bool json_nonzero; /* array rows: JSON leaves out the elements that are 0 */
	/* Array rows with first > 0: the elements before first count nothing (an enum whose 0 is
	 * no value), so that vg_ctr_check() takes them as described. */
	bool head_unused;
	/* Array rows: the document's object the elements are summed into ("exceptions.packets"),
	 * when several structs count the same thing; NULL: an object under the set's section. */
	const char *json_at;
	/* Its name in the stats lines (the periodic line of each port, the final report's line of
	 * each worker: vg_ctr_stat_line()); NULL: not in them. */
	const char *stat;
	/* In the JSON only: a sum of other rows that the exposition has by label (ipfix's
	 * records_lost is lost_queue_full + lost_send), which a family of its own would count
	 * twice. */
	bool no_prom;
};

struct vg_ctr_set {
	const char *name; /* the set's prefix in derived Prometheus names ("policy", "port") */
	const struct vg_ctr *ctr;
	unsigned n;
	size_t size; /* the bytes of the struct the rows describe (VG_CTR_SET: all) */
};

/* A scalar row of struct type's field, and an array row of it labelled label by names. (The
 * parameters end in '_': a parameter named as a member would replace its designator.) */
#define VG_CTR(type_, field_, key_, ctype_, unit_, ...)                                     \
	{                                                                                   \
		.name = (key_), .offset = offsetof(type_, field_), .type = VG_CTR_##ctype_, \
		.unit = (unit_), __VA_ARGS__                                                \
	}
#define VG_CTR_ARRAY(type_, field_, key_, ctype_, unit_, names_, label_, ...)               \
	{                                                                                   \
		.name = (key_), .offset = offsetof(type_, field_), .type = VG_CTR_##ctype_, \
		.unit = (unit_), .names = (names_),                                         \
		.n = (unsigned)(sizeof(((type_ *)0)->field_) / sizeof(uint64_t)),           \
		.label = (label_), __VA_ARGS__                                              \
	}
/* An array row of struct type's field from element first_ on, named by the function fn_ (or,
 * fn_ NULL, by .names given after). */
#define VG_CTR_ARRAY_FN(type_, field_, first_, key_, ctype_, unit_, fn_, label_, ...)          \
	{                                                                                      \
		.name = (key_), .offset = offsetof(type_, field_[first_]),                     \
		.type = VG_CTR_##ctype_, .unit = (unit_), .name_of = (fn_), .first = (first_), \
		.n = (unsigned)(sizeof(((type_ *)0)->field_) / sizeof(uint64_t)) - (first_),   \
		.label = (label_), __VA_ARGS__                                                 \
	}
#define VG_CTR_SET(name_, type_, rows_)                                                   \
	{                                                                                 \
		.name = (name_), .ctr = (rows_), .n = sizeof(rows_) / sizeof((rows_)[0]), \
		.size = sizeof(type_)                                                     \
	}
/* A set whose rows describe the struct's fields before end_ (a struct whose counters come
 * first, followed by levels, flags and text that its owner reports by hand). */
#define VG_CTR_SET_TO(name_, type_, rows_, end_)                                          \
	{                                                                                 \
		.name = (name_), .ctr = (rows_), .n = sizeof(rows_) / sizeof((rows_)[0]), \
		.size = offsetof(type_, end_)                                             \
	}

/* Element i of row c of the struct at base (0 for a scalar), read with a relaxed load. */
static inline uint64_t
vg_ctr_read(const void *base, const struct vg_ctr *c, unsigned i)
{
	return __atomic_load_n(
			(const uint64_t *)((const char *)base + c->offset) + i, __ATOMIC_RELAXED);
}

/* Element i of row c of the struct at base, to write (tests, sums). */
static inline uint64_t *
vg_ctr_ptr(void *base, const struct vg_ctr *c, unsigned i)
{
	return (uint64_t *)((char *)base + c->offset) + i;
}

/* The name of element i of array row c (NULL when it has none). */
static inline const char *
vg_ctr_elem_name(const struct vg_ctr *c, unsigned i)
{
	if (c->names != NULL)
		return c->names[c->first + i];
	return c->name_of != NULL ? c->name_of(c->first + i) : NULL;
}

/* Add every value of src (a struct of set s, read with relaxed loads: another thread may be
 * writing it) into dst. How per-worker copies are summed. */
void vg_ctr_add(const struct vg_ctr_set *s, void *dst, const void *src);

/*
 * The stats line's part for base (a struct of set s): " <stat> <value>" for each row with a
 * .stat, in the rows' order, into buf (cut at len). Returns buf.
 */
char *vg_ctr_stat_line(const struct vg_ctr_set *s, const void *base, char *buf, size_t len);

/* The row of s keyed name, or NULL. */
const struct vg_ctr *vg_ctr_find(const struct vg_ctr_set *s, const char *name);

/* c's Prometheus family (c->prom, or the derived name) into buf. Returns buf. */
const char *vg_ctr_prom_name(
		const struct vg_ctr_set *s, const struct vg_ctr *c, char *buf, size_t len);

/*
 * Whether the rows of s describe every byte of the first `size` bytes of its struct once (no
 * field left out, none twice) and each array's names table has a name for each element.
 * size 0 means s->size. Returns 0, or -EINVAL with what is wrong in err.
 */
int vg_ctr_check(const struct vg_ctr_set *s, size_t size, char *err, size_t errlen);

#endif /* VG_CTR_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * YAML documents with positions, and typed mappings declared as tables of fields.
 *
 * Every loader in Vigil (appliance config, policy) reads a whole document with libyaml, then
 * walks it with vg_yaml_map(): each mapping is described by a table of vg_yaml_field rows
 * (name, type, where the value goes, limits). Unknown keys, duplicate keys, missing required
 * keys, wrong types and values out of range are errors that name file:line:column and the key.
 * Walking goes on after an error, so that one run reports every mistake in the file.
 */
#ifndef VG_YAML_H
#define VG_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "vg_diag.h"

struct vg_yaml {
	yaml_document_t doc;
	bool loaded;
	char *file;
	struct vg_diag *diag;
	unsigned errors; /* errors reported through this document */
};

/* Lists and mappings nested deeper than this are refused unless a loader says otherwise. */
#define VG_YAML_MAX_DEPTH 64

/*
 * Load a file; parse errors go to diag. Returns 0 or -errno (-EINVAL for bad YAML). A document
 * nested deeper than VG_YAML_MAX_DEPTH (or max_depth) is refused, at the position of the first
 * node too deep, before libyaml builds it: the cost of a hostile text stays that of the limit.
 */
int vg_yaml_load_file(struct vg_yaml *y, const char *path, struct vg_diag *diag);
int vg_yaml_load_file_depth(
		struct vg_yaml *y, const char *path, unsigned max_depth, struct vg_diag *diag);

/* Load from memory; name is used in messages. Returns 0 or -errno. */
int vg_yaml_load_buf(struct vg_yaml *y, const char *name, const void *buf, size_t len,
		struct vg_diag *diag);
int vg_yaml_load_buf_depth(struct vg_yaml *y, const char *name, const void *buf, size_t len,
		unsigned max_depth, struct vg_diag *diag);

/* Release the document. Safe on a zeroed or already freed vg_yaml. */
void vg_yaml_free(struct vg_yaml *y);

/* The root node, or NULL for an empty document. */
yaml_node_t *vg_yaml_root(struct vg_yaml *y);

/* Node by id inside a mapping pair or sequence item. */
yaml_node_t *vg_yaml_node(struct vg_yaml *y, int id);

/* Report an error or warning at a node's position. */
void vg_yaml_err(struct vg_yaml *y, const yaml_node_t *n, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
void vg_yaml_warn(struct vg_yaml *y, const yaml_node_t *n, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

/* 1-based line and column of a node. */
static inline unsigned
vg_yaml_line(const yaml_node_t *n)
{
	return (unsigned)n->start_mark.line + 1;
}

static inline unsigned
vg_yaml_col(const yaml_node_t *n)
{
	return (unsigned)n->start_mark.column + 1;
}

/* The text of a scalar node, or NULL (and an error naming key) when it is not a scalar. */
const char *vg_yaml_scalar(struct vg_yaml *y, yaml_node_t *n, const char *key);

/* True for a plain (unquoted) scalar spelled null, ~ or empty. */
bool vg_yaml_is_null(const yaml_node_t *n);

/* Typed scalar readers; each reports its own error naming key and returns 0 or -EINVAL. */
int vg_yaml_u64(struct vg_yaml *y, yaml_node_t *n, const char *key, uint64_t min, uint64_t max,
		uint64_t *out);
int vg_yaml_bool(struct vg_yaml *y, yaml_node_t *n, const char *key, bool *out);
int vg_yaml_enum(struct vg_yaml *y, yaml_node_t *n, const char *key, const char *const *names,
		int *out);
/* Durations: an integer (in unit_ms milliseconds) or a number with ms, s, m, h or d. */
int vg_yaml_duration_ms(struct vg_yaml *y, yaml_node_t *n, const char *key, uint64_t unit_ms,
		uint64_t min_ms, uint64_t max_ms, uint64_t *out);
/* Sizes: an integer, or a number with k, M or G (powers of 1024). */
int vg_yaml_size(struct vg_yaml *y, yaml_node_t *n, const char *key, uint64_t min, uint64_t max,
		uint64_t *out);

enum vg_yaml_type {
	VG_YT_U8,
	VG_YT_U16,
	VG_YT_U32,
	VG_YT_U64,
	VG_YT_SIZE32, /* uint32_t, size suffixes allowed */
	VG_YT_SIZE64, /* uint64_t, size suffixes allowed */
	VG_YT_BOOL,
	VG_YT_STR,    /* char * (strdup'd; caller frees) */
	VG_YT_STRBUF, /* char[len] inline, len in max */
	VG_YT_ENUM,   /* int, names in names[] */
	VG_YT_MS,     /* uint64_t milliseconds; bare integers are seconds */
	VG_YT_CUSTOM, /* parse() does everything */
};

struct vg_yaml_field {
	const char *name;
	enum vg_yaml_type type;
	size_t off;
	uint64_t min;
	uint64_t max;
	const char *const *names;
	/* For VG_YT_CUSTOM: obj is the struct being filled. Returns 0 or -EINVAL. */
	int (*parse)(struct vg_yaml *y, yaml_node_t *val, const char *key, void *obj);
	bool required;
};

/*
 * Walk a mapping node with a table of fields (terminated by a row with name NULL). what names
 * the mapping in messages ("the ports entry"). Returns 0, or -EINVAL after reporting every
 * problem found.
 */
int vg_yaml_map(struct vg_yaml *y, yaml_node_t *n, const char *what,
		const struct vg_yaml_field *fields, void *obj);

/* Sequence helpers: number of items and item i; the caller checks the node is a sequence. */
int vg_yaml_seq_len(const yaml_node_t *n);
yaml_node_t *vg_yaml_seq_item(struct vg_yaml *y, yaml_node_t *n, int i);

/* Expect a sequence (reporting an error naming key otherwise). */
bool vg_yaml_expect_seq(struct vg_yaml *y, yaml_node_t *n, const char *key);
bool vg_yaml_expect_map(struct vg_yaml *y, yaml_node_t *n, const char *key);

#endif /* VG_YAML_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Diagnostics: errors and warnings that a person reads, each with the place in the input
 * (file:line:column) that caused it. Loaders (appliance config, policy, signatures) append to a
 * vg_diag; callers print it, or hand it to the API as structured data.
 */
#ifndef VG_DIAG_H
#define VG_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

enum vg_severity {
	VG_SEV_ERROR,
	VG_SEV_WARNING,
};

struct vg_diag_entry {
	enum vg_severity sev;
	char *file;    /* input name, never NULL ("<input>" when there is none) */
	unsigned line; /* 1-based; 0 when the message is about the whole input */
	unsigned col;  /* 1-based; 0 when unknown */
	char *msg;
};

struct vg_diag {
	struct vg_diag_entry *v;
	unsigned n;
	unsigned cap;
	unsigned errors;
	unsigned warnings;
};

/* Initialise an empty list (equivalent to zeroing it). */
void vg_diag_init(struct vg_diag *d);

/* Free every entry; the list is empty and reusable afterwards. NULL is a no-op. */
void vg_diag_free(struct vg_diag *d);

/*
 * Append one message. file may be NULL. Running out of memory drops the message but still
 * counts it, so a failed load is never reported as a success.
 */
void vg_diag_add(struct vg_diag *d, enum vg_severity sev, const char *file, unsigned line,
		unsigned col, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void vg_diag_vadd(struct vg_diag *d, enum vg_severity sev, const char *file, unsigned line,
		unsigned col, const char *fmt, va_list ap);

/* Print "file:line:col: error: message" lines, one per entry, in insertion order. */
void vg_diag_print(const struct vg_diag *d, FILE *out);

/* Move every entry of src to the end of dst; src is left empty. */
void vg_diag_move(struct vg_diag *dst, struct vg_diag *src);

static inline bool
vg_diag_has_errors(const struct vg_diag *d)
{
	return d->errors > 0;
}

#endif /* VG_DIAG_H */

/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "vg_diag.h"
#include "vg_text.h"

void
vg_diag_init(struct vg_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void
vg_diag_free(struct vg_diag *d)
{
	if (d == NULL)
		return;
	for (unsigned i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	vg_diag_init(d);
}

void
vg_diag_vadd(struct vg_diag *d, enum vg_severity sev, const char *file, unsigned line, unsigned col,
		const char *fmt, va_list ap)
{
	struct vg_diag_entry *e;
	char *msg = NULL;

	if (sev == VG_SEV_ERROR)
		d->errors++;
	else
		d->warnings++;

	if (d->n == d->cap) {
		unsigned cap = d->cap ? d->cap * 2 : 8;
		struct vg_diag_entry *v = realloc(d->v, cap * sizeof(*v));

		if (v == NULL)
			return;
		d->v = v;
		d->cap = cap;
	}
	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	e = &d->v[d->n];
	e->file = strdup(file != NULL ? file : "<input>");
	if (e->file == NULL) {
		free(msg);
		return;
	}
	e->sev = sev;
	e->line = line;
	e->col = col;
	e->msg = msg;
	d->n++;
}

void
vg_diag_add(struct vg_diag *d, enum vg_severity sev, const char *file, unsigned line, unsigned col,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vg_diag_vadd(d, sev, file, line, col, fmt, ap);
	va_end(ap);
}

/* s escaped for one line of output (vg_text_escape); the caller frees it. NULL: no memory. */
static char *
escaped(const char *s)
{
	size_t n = strlen(s) * 4 + 1;
	char *out = malloc(n);

	if (out != NULL)
		vg_text_escape(out, n, s);
	return out;
}

void
vg_diag_print(const struct vg_diag *d, FILE *out)
{
	for (unsigned i = 0; i < d->n; i++) {
		const struct vg_diag_entry *e = &d->v[i];
		const char *sev = e->sev == VG_SEV_ERROR ? "error" : "warning";
		char *file = escaped(e->file), *msg = escaped(e->msg);

		if (file == NULL || msg == NULL)
			fprintf(out, "%s: (out of memory)\n", sev);
		else if (e->line == 0)
			fprintf(out, "%s: %s: %s\n", file, sev, msg);
		else if (e->col == 0)
			fprintf(out, "%s:%u: %s: %s\n", file, e->line, sev, msg);
		else
			fprintf(out, "%s:%u:%u: %s: %s\n", file, e->line, e->col, sev, msg);
		free(file);
		free(msg);
	}
}

void
vg_diag_move(struct vg_diag *dst, struct vg_diag *src)
{
	unsigned errors = dst->errors + src->errors;
	unsigned warnings = dst->warnings + src->warnings;

	for (unsigned i = 0; i < src->n; i++) {
		struct vg_diag_entry *e = &src->v[i];

		vg_diag_add(dst, e->sev, e->file, e->line, e->col, "%s", e->msg);
	}
	/* Counts include messages that could not be stored. */
	dst->errors = errors;
	dst->warnings = warnings;
	vg_diag_free(src);
}

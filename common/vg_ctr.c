/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vg_ctr.h"

void
vg_ctr_add(const struct vg_ctr_set *s, void *dst, const void *src)
{
	for (unsigned r = 0; r < s->n; r++) {
		const struct vg_ctr *c = &s->ctr[r];
		unsigned n = c->n ? c->n : 1;

		for (unsigned i = 0; i < n; i++)
			*vg_ctr_ptr(dst, c, i) += vg_ctr_read(src, c, i);
	}
}

char *
vg_ctr_stat_line(const struct vg_ctr_set *s, const void *base, char *buf, size_t len)
{
	size_t n = 0;

	if (len > 0)
		buf[0] = '\0';
	for (unsigned r = 0; r < s->n && n < len; r++)
		if (s->ctr[r].stat != NULL)
			n += (size_t)snprintf(buf + n, len - n, " %s %" PRIu64, s->ctr[r].stat,
					vg_ctr_read(base, &s->ctr[r], 0));
	return buf;
}

const struct vg_ctr *
vg_ctr_find(const struct vg_ctr_set *s, const char *name)
{
	for (unsigned r = 0; r < s->n; r++)
		if (strcmp(s->ctr[r].name, name) == 0)
			return &s->ctr[r];
	return NULL;
}

static bool
ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && strcmp(s + n - t, tail) == 0;
}

const char *
vg_ctr_prom_name(const struct vg_ctr_set *s, const struct vg_ctr *c, char *buf, size_t len)
{
	if (c->prom != NULL) {
		snprintf(buf, len, "%s", c->prom);
		return buf;
	}
	snprintf(buf, len, "vigil_%s_%s%s%s%s", s->name, c->name,
			c->unit != NULL && !ends_with(c->name, c->unit) ? "_" : "",
			c->unit != NULL && !ends_with(c->name, c->unit) ? c->unit : "",
			c->type == VG_CTR_COUNTER ? "_total" : "");
	return buf;
}

int
vg_ctr_check(const struct vg_ctr_set *s, size_t size, char *err, size_t errlen)
{
	unsigned char seen[1024] = { 0 };
	size_t words;

	if (size == 0)
		size = s->size;
	words = size / sizeof(uint64_t);
	if (size % sizeof(uint64_t) != 0 || words > sizeof(seen)) {
		snprintf(err, errlen, "%s: %zu bytes is not a struct of at most %zu uint64_t",
				s->name, size, sizeof(seen));
		return -EINVAL;
	}
	for (unsigned r = 0; r < s->n; r++) {
		const struct vg_ctr *c = &s->ctr[r];
		unsigned n = c->n ? c->n : 1;

		if (c->offset % sizeof(uint64_t) != 0 || c->offset / sizeof(uint64_t) + n > words) {
			snprintf(err, errlen,
					"%s.%s: offset %zu is not of a uint64_t in the struct",
					s->name, c->name, c->offset);
			return -EINVAL;
		}
		for (unsigned i = 0; c->head_unused && i < c->first; i++) {
			size_t w = c->offset / sizeof(uint64_t) - c->first + i;

			if (c->offset / sizeof(uint64_t) < c->first || seen[w]++) {
				snprintf(err, errlen, "%s.%s: an unused element has another row",
						s->name, c->name);
				return -EINVAL;
			}
		}
		for (unsigned i = 0; i < n; i++) {
			size_t w = c->offset / sizeof(uint64_t) + i;

			if (seen[w]++) {
				snprintf(err, errlen, "%s.%s: the field at byte %zu has two rows",
						s->name, c->name, w * sizeof(uint64_t));
				return -EINVAL;
			}
			if (c->n > 0 && vg_ctr_elem_name(c, i) == NULL) {
				snprintf(err, errlen, "%s.%s: element %u has no name", s->name,
						c->name, i);
				return -EINVAL;
			}
		}
		if (c->n > 0 && c->label == NULL) {
			snprintf(err, errlen, "%s.%s: an array row needs a label", s->name,
					c->name);
			return -EINVAL;
		}
		if (c->help == NULL || c->unit == NULL) {
			snprintf(err, errlen, "%s.%s: no help or no unit", s->name, c->name);
			return -EINVAL;
		}
	}
	for (size_t w = 0; w < words; w++)
		if (!seen[w]) {
			snprintf(err, errlen, "%s: the field at byte %zu has no row", s->name,
					w * sizeof(uint64_t));
			return -EINVAL;
		}
	return 0;
}

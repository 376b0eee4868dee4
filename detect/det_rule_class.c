/* SPDX-License-Identifier: BSD-3-Clause */
/* Rule parser: classification.config. */
#include "det_rule_impl.h"

/* ---- classification.config ---- */

const struct det_class *
det_classes_find(const struct det_classes *c, const char *name)
{
	for (unsigned i = 0; c != NULL && i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0)
			return &c->v[i];
	return NULL;
}

void
det_classes_free(struct det_classes *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->n; i++) {
		free(c->v[i].name);
		free(c->v[i].desc);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

char *
det_strip(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
classes_add(struct det_classes *c, const char *name, const char *desc, unsigned prio)
{
	struct det_class *e = (struct det_class *)det_classes_find(c, name);

	if (e == NULL) {
		if (c->n == c->cap) {
			unsigned cap = c->cap ? c->cap * 2 : 32;
			struct det_class *v = realloc(c->v, cap * sizeof(*v));

			if (v == NULL)
				return -ENOMEM;
			c->v = v;
			c->cap = cap;
		}
		e = &c->v[c->n];
		e->name = strdup(name);
		e->desc = NULL;
		if (e->name == NULL)
			return -ENOMEM;
		c->n++;
	}
	free(e->desc);
	e->desc = strdup(desc);
	if (e->desc == NULL)
		return -ENOMEM;
	e->priority = (uint8_t)prio;
	return 0;
}

int
det_classes_load_buf(struct det_classes *c, const char *name, const char *buf, size_t len,
		struct vg_diag *diag)
{
	size_t pos = 0;
	unsigned line = 0;
	int rc = 0;

	while (pos < len) {
		size_t end = pos;
		char tmp[1024], *s, *f1, *f2, *f3, *endp;
		long prio;

		while (end < len && buf[end] != '\n')
			end++;
		line++;
		if (end - pos >= sizeof(tmp)) {
			vg_diag_add(diag, VG_SEV_ERROR, name, line, 0,
					"line longer than %zu characters", sizeof(tmp) - 1);
			rc = -EINVAL;
			pos = end + 1;
			continue;
		}
		memcpy(tmp, buf + pos, end - pos);
		tmp[end - pos] = '\0';
		pos = end + 1;
		s = det_strip(tmp);
		if (*s == '\0' || *s == '#')
			continue;
		if (strncmp(s, "config classification:", 22) != 0) {
			vg_diag_add(diag, VG_SEV_ERROR, name, line, 1,
					"expected 'config classification: name,description,priority'");
			rc = -EINVAL;
			continue;
		}
		f1 = s + 22;
		f2 = strchr(f1, ',');
		f3 = f2 != NULL ? strrchr(f2 + 1, ',') : NULL;
		if (f2 == NULL || f3 == NULL) {
			vg_diag_add(diag, VG_SEV_ERROR, name, line, 1,
					"expected three comma-separated fields: name,description,priority");
			rc = -EINVAL;
			continue;
		}
		*f2++ = '\0';
		*f3++ = '\0';
		f1 = det_strip(f1);
		f2 = det_strip(f2);
		f3 = det_strip(f3);
		prio = strtol(f3, &endp, 10);
		if (*f1 == '\0' || *f3 == '\0' || *endp != '\0' || prio < 1 || prio > 255) {
			vg_diag_add(diag, VG_SEV_ERROR, name, line, (unsigned)(f3 - tmp) + 1,
					"priority '%s' is not a number from 1 to 255", f3);
			rc = -EINVAL;
			continue;
		}
		if (classes_add(c, f1, f2, (unsigned)prio) != 0)
			return -ENOMEM;
	}
	return rc;
}

int
det_classes_load(struct det_classes *c, const char *path, struct vg_diag *diag)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (f == NULL) {
		rc = -errno;
		vg_diag_add(diag, VG_SEV_ERROR, path, 0, 0, "cannot open: %s", strerror(errno));
		return rc;
	}
	{
		FILE *m = open_memstream(&buf, &len);
		char chunk[4096];
		size_t n;

		if (m == NULL) {
			fclose(f);
			return -ENOMEM;
		}
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, n, m);
		fclose(m);
	}
	fclose(f);
	rc = det_classes_load_buf(c, path, buf, len, diag);
	free(buf);
	return rc;
}

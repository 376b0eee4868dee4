/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vg_yaml.h"

static const char *
node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

static void
report_parser_error(struct vg_yaml *y, const yaml_parser_t *p)
{
	const char *what = p->problem != NULL ? p->problem : "malformed YAML";
	const yaml_mark_t *m = &p->problem_mark;

	if (p->context != NULL)
		vg_diag_add(y->diag, VG_SEV_ERROR, y->file, (unsigned)m->line + 1,
				(unsigned)m->column + 1, "YAML syntax: %s %s", what, p->context);
	else
		vg_diag_add(y->diag, VG_SEV_ERROR, y->file, (unsigned)m->line + 1,
				(unsigned)m->column + 1, "YAML syntax: %s", what);
	y->errors++;
}

static int
load(struct vg_yaml *y, yaml_parser_t *p)
{
	if (!yaml_parser_load(p, &y->doc)) {
		report_parser_error(y, p);
		return -EINVAL;
	}
	y->loaded = true;
	/* A second document in the same stream is almost always a mistake. */
	yaml_document_t extra;
	if (!yaml_parser_load(p, &extra)) {
		report_parser_error(y, p);
		return -EINVAL;
	}
	bool more = yaml_document_get_root_node(&extra) != NULL;
	yaml_document_delete(&extra);
	if (more) {
		vg_diag_add(y->diag, VG_SEV_ERROR, y->file, 0, 0,
				"more than one YAML document; expected exactly one");
		y->errors++;
		return -EINVAL;
	}
	return 0;
}

/*
 * libyaml's cost grows with the square of the nesting (a 100 KiB "- - - - ..." takes tens of
 * seconds to load), so the nesting is counted on libyaml's events first and the document is
 * refused at the first node deeper than max_depth, having cost no more than that many levels.
 */
static int
check_depth(struct vg_yaml *y, yaml_parser_t *p, unsigned max_depth)
{
	unsigned depth = 0;
	yaml_event_t ev;

	for (;;) {
		yaml_event_type_t t;

		if (!yaml_parser_parse(p, &ev)) {
			report_parser_error(y, p);
			return -EINVAL;
		}
		t = ev.type;
		if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
			if (++depth > max_depth) {
				vg_diag_add(y->diag, VG_SEV_ERROR, y->file,
						(unsigned)ev.start_mark.line + 1,
						(unsigned)ev.start_mark.column + 1,
						"lists and mappings nested more than %u deep "
						"(the limit; the policy's is policy.max_depth)",
						max_depth);
				y->errors++;
				yaml_event_delete(&ev);
				return -EINVAL;
			}
		} else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
			depth--;
		}
		yaml_event_delete(&ev);
		if (t == YAML_STREAM_END_EVENT)
			return 0;
	}
}

int
vg_yaml_load_file(struct vg_yaml *y, const char *path, struct vg_diag *diag)
{
	return vg_yaml_load_file_depth(y, path, VG_YAML_MAX_DEPTH, diag);
}

int
vg_yaml_load_file_depth(
		struct vg_yaml *y, const char *path, unsigned max_depth, struct vg_diag *diag)
{
	yaml_parser_t p;
	FILE *f;
	int rc;

	memset(y, 0, sizeof(*y));
	y->diag = diag;
	y->file = strdup(path);
	if (y->file == NULL)
		return -ENOMEM;
	f = fopen(path, "rb");
	if (f == NULL) {
		rc = -errno;
		vg_diag_add(diag, VG_SEV_ERROR, path, 0, 0, "cannot open: %s", strerror(-rc));
		y->errors++;
		return rc;
	}
	if (!yaml_parser_initialize(&p)) {
		fclose(f);
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&p, f);
	rc = check_depth(y, &p, max_depth);
	yaml_parser_delete(&p);
	if (rc == 0 && fseek(f, 0, SEEK_SET) != 0) {
		rc = -errno;
		vg_diag_add(diag, VG_SEV_ERROR, path, 0, 0, "cannot read: %s", strerror(-rc));
		y->errors++;
	}
	if (rc == 0 && !yaml_parser_initialize(&p))
		rc = -ENOMEM;
	if (rc == 0) {
		yaml_parser_set_input_file(&p, f);
		rc = load(y, &p);
		yaml_parser_delete(&p);
	}
	fclose(f);
	return rc;
}

int
vg_yaml_load_buf(struct vg_yaml *y, const char *name, const void *buf, size_t len,
		struct vg_diag *diag)
{
	return vg_yaml_load_buf_depth(y, name, buf, len, VG_YAML_MAX_DEPTH, diag);
}

int
vg_yaml_load_buf_depth(struct vg_yaml *y, const char *name, const void *buf, size_t len,
		unsigned max_depth, struct vg_diag *diag)
{
	yaml_parser_t p;
	int rc;

	memset(y, 0, sizeof(*y));
	y->diag = diag;
	y->file = strdup(name != NULL ? name : "<input>");
	if (y->file == NULL)
		return -ENOMEM;
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, buf, len);
	rc = check_depth(y, &p, max_depth);
	yaml_parser_delete(&p);
	if (rc != 0)
		return rc;
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, buf, len);
	rc = load(y, &p);
	yaml_parser_delete(&p);
	return rc;
}

void
vg_yaml_free(struct vg_yaml *y)
{
	if (y == NULL)
		return;
	if (y->loaded)
		yaml_document_delete(&y->doc);
	y->loaded = false;
	free(y->file);
	y->file = NULL;
}

yaml_node_t *
vg_yaml_root(struct vg_yaml *y)
{
	if (!y->loaded)
		return NULL;
	yaml_node_t *n = yaml_document_get_root_node(&y->doc);
	if (n != NULL && vg_yaml_is_null(n))
		return NULL;
	return n;
}

yaml_node_t *
vg_yaml_node(struct vg_yaml *y, int id)
{
	return yaml_document_get_node(&y->doc, id);
}

static void
vreport(struct vg_yaml *y, enum vg_severity sev, const yaml_node_t *n, const char *fmt, va_list ap)
{
	unsigned line = n != NULL ? vg_yaml_line(n) : 0;
	unsigned col = n != NULL ? vg_yaml_col(n) : 0;

	if (sev == VG_SEV_ERROR)
		y->errors++;
	vg_diag_vadd(y->diag, sev, y->file, line, col, fmt, ap);
}

void
vg_yaml_err(struct vg_yaml *y, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(y, VG_SEV_ERROR, n, fmt, ap);
	va_end(ap);
}

void
vg_yaml_warn(struct vg_yaml *y, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(y, VG_SEV_WARNING, n, fmt, ap);
	va_end(ap);
}

bool
vg_yaml_is_null(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *s = (const char *)n->data.scalar.value;
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

const char *
vg_yaml_scalar(struct vg_yaml *y, yaml_node_t *n, const char *key)
{
	if (n->type != YAML_SCALAR_NODE) {
		vg_yaml_err(y, n, "'%s': expected a single value, found %s", key, node_kind(n));
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

/* Parse an unsigned decimal (or 0x hex) number; returns the end pointer or NULL. */
static const char *
parse_num(const char *s, uint64_t *out)
{
	char *end;

	if (*s == '\0' || *s == '-' || *s == '+' || *s == ' ')
		return NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno != 0 || end == s)
		return NULL;
	*out = v;
	return end;
}

int
vg_yaml_u64(struct vg_yaml *y, yaml_node_t *n, const char *key, uint64_t min, uint64_t max,
		uint64_t *out)
{
	const char *s = vg_yaml_scalar(y, n, key);
	const char *end;
	uint64_t v;

	if (s == NULL)
		return -EINVAL;
	end = parse_num(s, &v);
	if (end == NULL || *end != '\0') {
		vg_yaml_err(y, n, "'%s': '%s' is not a whole number", key, s);
		return -EINVAL;
	}
	if (v < min || v > max) {
		vg_yaml_err(y, n, "'%s': %" PRIu64 " is out of range (%" PRIu64 "..%" PRIu64 ")",
				key, v, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int
vg_yaml_size(struct vg_yaml *y, yaml_node_t *n, const char *key, uint64_t min, uint64_t max,
		uint64_t *out)
{
	const char *s = vg_yaml_scalar(y, n, key);
	const char *end;
	uint64_t v, mult = 1;

	if (s == NULL)
		return -EINVAL;
	end = parse_num(s, &v);
	if (end != NULL && *end != '\0') {
		if (strcasecmp(end, "k") == 0 || strcasecmp(end, "kb") == 0 ||
				strcasecmp(end, "kib") == 0)
			mult = 1ULL << 10;
		else if (strcasecmp(end, "m") == 0 || strcasecmp(end, "mb") == 0 ||
				strcasecmp(end, "mib") == 0)
			mult = 1ULL << 20;
		else if (strcasecmp(end, "g") == 0 || strcasecmp(end, "gb") == 0 ||
				strcasecmp(end, "gib") == 0)
			mult = 1ULL << 30;
		else
			end = NULL;
	}
	if (end == NULL || (mult > 1 && v > UINT64_MAX / mult)) {
		vg_yaml_err(y, n,
				"'%s': '%s' is not a size (a whole number, optionally with k, M or "
				"G)",
				key, s);
		return -EINVAL;
	}
	v *= mult;
	if (v < min || v > max) {
		vg_yaml_err(y, n, "'%s': %" PRIu64 " is out of range (%" PRIu64 "..%" PRIu64 ")",
				key, v, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int
vg_yaml_duration_ms(struct vg_yaml *y, yaml_node_t *n, const char *key, uint64_t unit_ms,
		uint64_t min_ms, uint64_t max_ms, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t ms;
	} units[] = {
		{ "ms", 1 },
		{ "s", 1000 },
		{ "m", 60 * 1000 },
		{ "h", 3600 * 1000 },
		{ "d", 24 * 3600 * 1000ULL },
	};
	const char *s = vg_yaml_scalar(y, n, key);
	const char *end;
	uint64_t v, mult = unit_ms;

	if (s == NULL)
		return -EINVAL;
	end = parse_num(s, &v);
	if (end != NULL && *end != '\0') {
		mult = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(end, units[i].suffix) == 0)
				mult = units[i].ms;
		if (mult == 0)
			end = NULL;
	}
	if (end == NULL || v > UINT64_MAX / mult) {
		vg_yaml_err(y, n, "'%s': '%s' is not a duration (like 500ms, 30s, 5m, 1h)", key, s);
		return -EINVAL;
	}
	v *= mult;
	if (v < min_ms || v > max_ms) {
		vg_yaml_err(y, n, "'%s': %s is out of range (%" PRIu64 "ms..%" PRIu64 "ms)", key, s,
				min_ms, max_ms);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int
vg_yaml_bool(struct vg_yaml *y, yaml_node_t *n, const char *key, bool *out)
{
	const char *s = vg_yaml_scalar(y, n, key);

	if (s == NULL)
		return -EINVAL;
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "on") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "off") == 0) {
		*out = false;
		return 0;
	}
	vg_yaml_err(y, n, "'%s': '%s' is not a boolean (true or false)", key, s);
	return -EINVAL;
}

int
vg_yaml_enum(struct vg_yaml *y, yaml_node_t *n, const char *key, const char *const *names, int *out)
{
	const char *s = vg_yaml_scalar(y, n, key);
	char accepted[256] = "";
	size_t used = 0;

	if (s == NULL)
		return -EINVAL;
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return 0;
		}
		int w = snprintf(accepted + used, sizeof(accepted) - used, "%s%s", i ? ", " : "",
				names[i]);
		if (w > 0 && (size_t)w < sizeof(accepted) - used)
			used += (size_t)w;
	}
	vg_yaml_err(y, n, "'%s': '%s' is not one of: %s", key, s, accepted);
	return -EINVAL;
}

int
vg_yaml_seq_len(const yaml_node_t *n)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return 0;
	return (int)(n->data.sequence.items.top - n->data.sequence.items.start);
}

yaml_node_t *
vg_yaml_seq_item(struct vg_yaml *y, yaml_node_t *n, int i)
{
	return vg_yaml_node(y, n->data.sequence.items.start[i]);
}

bool
vg_yaml_expect_seq(struct vg_yaml *y, yaml_node_t *n, const char *key)
{
	if (n->type == YAML_SEQUENCE_NODE)
		return true;
	vg_yaml_err(y, n, "'%s': expected a list, found %s", key, node_kind(n));
	return false;
}

bool
vg_yaml_expect_map(struct vg_yaml *y, yaml_node_t *n, const char *key)
{
	if (n->type == YAML_MAPPING_NODE)
		return true;
	vg_yaml_err(y, n, "'%s': expected a mapping of keys to values, found %s", key,
			node_kind(n));
	return false;
}

static int
parse_field(struct vg_yaml *y, const struct vg_yaml_field *f, yaml_node_t *v, void *obj)
{
	void *dst = (char *)obj + f->off;
	uint64_t u;
	int rc;

	switch (f->type) {
	case VG_YT_U8:
	case VG_YT_U16:
	case VG_YT_U32:
	case VG_YT_U64: {
		static const uint64_t lim[] = { UINT8_MAX, UINT16_MAX, UINT32_MAX, UINT64_MAX };
		uint64_t max = f->max ? f->max : lim[f->type - VG_YT_U8];

		rc = vg_yaml_u64(y, v, f->name, f->min, max, &u);
		if (rc != 0)
			return rc;
		if (f->type == VG_YT_U8)
			*(uint8_t *)dst = (uint8_t)u;
		else if (f->type == VG_YT_U16)
			*(uint16_t *)dst = (uint16_t)u;
		else if (f->type == VG_YT_U32)
			*(uint32_t *)dst = (uint32_t)u;
		else
			*(uint64_t *)dst = u;
		return 0;
	}
	case VG_YT_SIZE32:
	case VG_YT_SIZE64:
		rc = vg_yaml_size(y, v, f->name, f->min,
				f->max ? f->max
				       : (f->type == VG_YT_SIZE32 ? UINT32_MAX : UINT64_MAX),
				&u);
		if (rc != 0)
			return rc;
		if (f->type == VG_YT_SIZE32)
			*(uint32_t *)dst = (uint32_t)u;
		else
			*(uint64_t *)dst = u;
		return 0;
	case VG_YT_BOOL:
		return vg_yaml_bool(y, v, f->name, dst);
	case VG_YT_STR: {
		const char *s = vg_yaml_scalar(y, v, f->name);
		char *copy;

		if (s == NULL)
			return -EINVAL;
		if (f->min > 0 && strlen(s) < f->min) {
			vg_yaml_err(y, v, "'%s': must not be empty", f->name);
			return -EINVAL;
		}
		copy = strdup(s);
		if (copy == NULL)
			return -ENOMEM;
		free(*(char **)dst);
		*(char **)dst = copy;
		return 0;
	}
	case VG_YT_STRBUF: {
		const char *s = vg_yaml_scalar(y, v, f->name);

		if (s == NULL)
			return -EINVAL;
		if (strlen(s) >= f->max) {
			vg_yaml_err(y, v, "'%s': '%s' is too long (at most %" PRIu64 " characters)",
					f->name, s, f->max - 1);
			return -EINVAL;
		}
		if (f->min > 0 && strlen(s) < f->min) {
			vg_yaml_err(y, v, "'%s': must not be empty", f->name);
			return -EINVAL;
		}
		strcpy(dst, s);
		return 0;
	}
	case VG_YT_ENUM:
		return vg_yaml_enum(y, v, f->name, f->names, dst);
	case VG_YT_MS:
		return vg_yaml_duration_ms(
				y, v, f->name, 1000, f->min, f->max ? f->max : UINT64_MAX, dst);
	case VG_YT_CUSTOM:
		return f->parse(y, v, f->name, obj);
	}
	return -EINVAL;
}

int
vg_yaml_map(struct vg_yaml *y, yaml_node_t *n, const char *what, const struct vg_yaml_field *fields,
		void *obj)
{
	unsigned before = y->errors;
	size_t nfields = 0;

	while (fields[nfields].name != NULL)
		nfields++;

	if (n->type != YAML_MAPPING_NODE) {
		vg_yaml_err(y, n, "%s: expected a mapping of keys to values, found %s", what,
				node_kind(n));
		return -EINVAL;
	}

	bool seen[nfields + 1];
	memset(seen, 0, sizeof(seen));

	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
			p++) {
		yaml_node_t *k = vg_yaml_node(y, p->key);
		yaml_node_t *v = vg_yaml_node(y, p->value);
		const char *key;
		size_t i;

		if (k->type != YAML_SCALAR_NODE) {
			vg_yaml_err(y, k, "%s: keys must be plain names", what);
			continue;
		}
		key = (const char *)k->data.scalar.value;
		for (i = 0; i < nfields; i++)
			if (strcmp(key, fields[i].name) == 0)
				break;
		if (i == nfields) {
			char accepted[512] = "";
			size_t used = 0;

			for (size_t j = 0; j < nfields; j++) {
				int w = snprintf(accepted + used, sizeof(accepted) - used, "%s%s",
						j ? ", " : "", fields[j].name);
				if (w > 0 && (size_t)w < sizeof(accepted) - used)
					used += (size_t)w;
			}
			vg_yaml_err(y, k, "%s: unknown key '%s' (accepted: %s)", what, key,
					accepted);
			continue;
		}
		if (seen[i]) {
			vg_yaml_err(y, k, "%s: key '%s' appears more than once", what, key);
			continue;
		}
		seen[i] = true;
		(void)parse_field(y, &fields[i], v, obj);
	}

	for (size_t i = 0; i < nfields; i++)
		if (fields[i].required && !seen[i])
			vg_yaml_err(y, n, "%s: required key '%s' is missing", what, fields[i].name);

	return y->errors > before ? -EINVAL : 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The public-suffix list (publicsuffix.org, Debian package `publicsuffix`): which part of a
 * name is a registry's suffix ("com", "co.uk", "github.io"), so that the registered domain,
 * one label more, is where the DNS detector counts a domain's names. Parsed once when the
 * detector starts. Rules are kept as 64-bit hashes of their text in a sorted array with the
 * kinds of rule that text has (normal, wildcard "*.x", exception "!x"); lookups walk the
 * name's suffixes from the right, as the list's algorithm says: the longest matching rule
 * wins, an exception beats everything, and with no rule the last label is the suffix.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_anomaly_impl.h"

enum { PSL_NORMAL = 1, PSL_WILDCARD = 2, PSL_EXCEPTION = 4 };

struct psl_rule {
	uint64_t hash;
	uint8_t kinds;
};

struct ctl_psl {
	struct psl_rule *rules;
	size_t n;
};

uint64_t
ctl_anomaly_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static int
cmp_rule(const void *a, const void *b)
{
	const struct psl_rule *x = a, *y = b;

	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

struct ctl_psl *
ctl_psl_load(const char *path, char *err, size_t errlen)
{
	struct ctl_psl *p;
	size_t cap = 16384, lineno = 0;
	char line[512];
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen,
				"public-suffix list %s: %s (install the Debian package publicsuffix, or "
				"set detectors.dns_tunnel.public_suffix_list)",
				path, strerror(errno));
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p != NULL)
		p->rules = malloc(cap * sizeof(*p->rules));
	if (p == NULL || p->rules == NULL)
		goto nomem;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s = line, *e;
		uint8_t kind = PSL_NORMAL;
		bool ascii = true;

		lineno++;
		/* A rule is the line's first word; comments start with "//". */
		while (*s == ' ' || *s == '\t')
			s++;
		for (e = s; *e != '\0' && *e != ' ' && *e != '\t' && *e != '\r' && *e != '\n'; e++)
			if ((unsigned char)*e >= 0x80)
				ascii = false;
		*e = '\0';
		if (*s == '\0' || (s[0] == '/' && s[1] == '/'))
			continue;
		/* Rules in Unicode: query names come in their ASCII (punycode) form, which the
		 * list does not give; such names fall back to the default rule. */
		if (!ascii)
			continue;
		if (s[0] == '!') {
			kind = PSL_EXCEPTION;
			s++;
		} else if (s[0] == '*' && s[1] == '.') {
			kind = PSL_WILDCARD;
			s += 2;
		} else if (strchr(s, '*') != NULL) {
			snprintf(err, errlen,
					"public-suffix list %s:%zu: '%s' has a wildcard that is not the "
					"whole leftmost label",
					path, lineno, s);
			goto fail;
		}
		for (char *c = s; *c != '\0'; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		if (p->n == cap) {
			struct psl_rule *r = realloc(p->rules, 2 * cap * sizeof(*r));

			if (r == NULL)
				goto nomem;
			p->rules = r;
			cap *= 2;
		}
		p->rules[p->n++] = (struct psl_rule){ .hash = ctl_anomaly_hash(s, strlen(s)),
			.kinds = kind };
	}
	fclose(f);
	if (p->n == 0) {
		snprintf(err, errlen, "public-suffix list %s: no rules in it", path);
		ctl_psl_free(p);
		return NULL;
	}
	qsort(p->rules, p->n, sizeof(*p->rules), cmp_rule);
	/* One entry per text, with all its kinds. */
	size_t w = 0;

	for (size_t i = 0; i < p->n; i++) {
		if (w > 0 && p->rules[w - 1].hash == p->rules[i].hash)
			p->rules[w - 1].kinds |= p->rules[i].kinds;
		else
			p->rules[w++] = p->rules[i];
	}
	p->n = w;
	return p;
nomem:
	snprintf(err, errlen, "public-suffix list %s: out of memory", path);
fail:
	fclose(f);
	ctl_psl_free(p);
	return NULL;
}

void
ctl_psl_free(struct ctl_psl *p)
{
	if (p == NULL)
		return;
	free(p->rules);
	free(p);
}

size_t
ctl_psl_rules(const struct ctl_psl *p)
{
	return p->n;
}

static uint8_t
kinds_of(const struct ctl_psl *p, const char *s, size_t n)
{
	struct psl_rule key = { .hash = ctl_anomaly_hash(s, n) };
	const struct psl_rule *r = bsearch(&key, p->rules, p->n, sizeof(key), cmp_rule);

	return r != NULL ? r->kinds : 0;
}

size_t
ctl_psl_registered(const struct ctl_psl *p, const char *name, size_t len)
{
	size_t starts[128];
	unsigned nl = 0, ps = 1;

	if (len == 0)
		return len;
	/* starts[k - 1]: where the last k labels begin. */
	for (size_t i = len; i-- > 0 && nl < 127;)
		if (i == 0 || name[i - 1] == '.')
			starts[nl++] = i;
	for (unsigned k = 1; k <= nl; k++) {
		const char *suf = name + starts[k - 1];
		uint8_t kinds = kinds_of(p, suf, len - starts[k - 1]);

		if (kinds & PSL_EXCEPTION) {
			ps = k - 1;
			break;
		}
		if (kinds & PSL_NORMAL)
			ps = k;
		/* "*.ck" makes every "x.ck" a suffix. */
		if (k >= 2 && (kinds_of(p, name + starts[k - 2], len - starts[k - 2]) &
					      PSL_WILDCARD))
			ps = k;
	}
	if (ps >= nl)
		return len; /* the name is a public suffix: no registered domain */
	return starts[ps];
}

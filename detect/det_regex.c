/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The required literal of a pcre: a small recursive reader of PCRE2 syntax that knows atoms,
 * classes, groups, alternation and quantifiers. It only decides which engine runs a pcre, so
 * when in doubt it answers 0 (no literal): the pcre then runs in PCRE2, which matches the
 * same either way.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "det_regex.h"
#include "det_rule.h"

#define RX_MAX_DEPTH 32

struct rx {
	const char *s;
	size_t i, n;
	bool fail;
};

enum atom { A_LIT, A_GROUP, A_OTHER, A_NONE };

static unsigned rx_alt(struct rx *x, int depth);

static int
peek(const struct rx *x, size_t k)
{
	return x->i + k < x->n ? (unsigned char)x->s[x->i + k] : -1;
}

static unsigned
max_u(unsigned a, unsigned b)
{
	return a > b ? a : b;
}

/* A bracketed class from '[' to its ']'. */
static void
skip_class(struct rx *x)
{
	x->i++; /* '[' */
	if (peek(x, 0) == '^')
		x->i++;
	if (peek(x, 0) == ']')
		x->i++; /* a leading ']' is a member */
	while (x->i < x->n) {
		int c = peek(x, 0);

		if (c == ']') {
			x->i++;
			return;
		}
		if (c == '\\') {
			if (peek(x, 1) == 'Q' || peek(x, 1) < 0) {
				x->fail = true;
				return;
			}
			x->i += 2;
			continue;
		}
		if (c == '[' && peek(x, 1) == ':') {
			const char *end = strstr(x->s + x->i + 2, ":]");

			if (end == NULL || (size_t)(end - x->s) >= x->n) {
				x->fail = true;
				return;
			}
			x->i = (size_t)(end - x->s) + 2;
			continue;
		}
		x->i++;
	}
	x->fail = true; /* no closing ']' */
}

static void
skip_braced(struct rx *x)
{
	while (x->i < x->n && x->s[x->i] != '}')
		x->i++;
	if (x->i >= x->n)
		x->fail = true;
	else
		x->i++;
}

/* After '\': one escape. A_LIT for a fixed byte, A_OTHER for a class or assertion. */
static enum atom
escape(struct rx *x)
{
	int e = peek(x, 1);

	x->i += 2;
	if (e < 0) {
		x->fail = true;
		return A_NONE;
	}
	if (!isalnum(e))
		return A_LIT; /* an escaped punctuation or space is itself */
	switch (e) {
	case 'x':
		if (peek(x, 0) == '{') {
			size_t start = x->i + 1;
			unsigned v = 0;

			skip_braced(x);
			if (x->fail)
				return A_NONE;
			for (size_t k = start; k + 1 < x->i; k++) {
				if (!isxdigit((unsigned char)x->s[k])) {
					x->fail = true;
					return A_NONE;
				}
				v = v * 16 +
				    (unsigned)(isdigit((unsigned char)x->s[k])
								    ? x->s[k] - '0'
								    : (tolower((unsigned char)x->s[k]) -
										      'a' + 10));
				if (v > 0xff) {
					x->fail = true;
					return A_NONE;
				}
			}
			return A_LIT;
		}
		for (int k = 0; k < 2 && peek(x, 0) >= 0 && isxdigit(peek(x, 0)); k++)
			x->i++;
		return A_LIT;
	case 'n':
	case 'r':
	case 't':
	case 'f':
	case 'e':
	case 'a':
		return A_LIT;
	case '0':
		for (int k = 0; k < 2 && peek(x, 0) >= '0' && peek(x, 0) <= '7'; k++)
			x->i++;
		return A_LIT;
	case 'c':
		if (peek(x, 0) < 0) {
			x->fail = true;
			return A_NONE;
		}
		x->i++;
		return A_LIT;
	case 'd':
	case 'D':
	case 'w':
	case 'W':
	case 's':
	case 'S':
	case 'h':
	case 'H':
	case 'v':
	case 'V':
	case 'R':
	case 'X':
	case 'C':
	case 'b':
	case 'B':
	case 'A':
	case 'z':
	case 'Z':
	case 'G':
	case 'K':
		return A_OTHER;
	case 'N':
		if (peek(x, 0) == '{')
			x->fail = true;
		return A_OTHER;
	case 'p':
	case 'P':
		if (peek(x, 0) == '{')
			skip_braced(x);
		else if (peek(x, 0) >= 0)
			x->i++;
		else
			x->fail = true;
		return A_OTHER;
	default:
		if (e >= '1' && e <= '9') {
			/* a back reference (or an octal escape): not a fixed byte either way */
			while (peek(x, 0) >= '0' && peek(x, 0) <= '9')
				x->i++;
			return A_OTHER;
		}
		/* \Q, \E, \k, \g, \o and the rest: not followed */
		x->fail = true;
		return A_NONE;
	}
}

/* After '(': a group; *inner is the literal its content requires (A_GROUP). */
static enum atom
group(struct rx *x, int depth, unsigned *inner)
{
	x->i++; /* '(' */
	*inner = 0;
	if (peek(x, 0) == '*') {
		x->fail = true; /* (*VERB) */
		return A_NONE;
	}
	if (peek(x, 0) == '?') {
		int c = peek(x, 1);

		if (c == '#') {
			while (x->i < x->n && x->s[x->i] != ')')
				x->i++;
			if (x->i >= x->n) {
				x->fail = true;
				return A_NONE;
			}
			x->i++;
			return A_NONE;
		}
		if (c == ':' || c == '>' || c == '|') {
			x->i += 2;
		} else if (c == '=' || c == '!' ||
				(c == '<' && (peek(x, 2) == '=' || peek(x, 2) == '!'))) {
			/* a lookaround consumes nothing: read it, keep nothing */
			x->i += c == '<' ? 3 : 2;
			(void)rx_alt(x, depth + 1);
			if (x->fail || peek(x, 0) != ')') {
				x->fail = true;
				return A_NONE;
			}
			x->i++;
			return A_OTHER;
		} else if (c == '<' || c == '\'' || (c == 'P' && peek(x, 2) == '<')) {
			/* a named group */
			char close = c == '\'' ? '\'' : '>';

			x->i += c == 'P' ? 3 : 2;
			while (x->i < x->n && x->s[x->i] != close)
				x->i++;
			if (x->i >= x->n) {
				x->fail = true;
				return A_NONE;
			}
			x->i++;
		} else {
			/* option letters, then ')' (set for the rest) or ':' (a group with them) */
			size_t k = x->i + 1;

			while (k < x->n && x->s[k] != '\0' &&
					strchr("imnsxJU-^", x->s[k]) != NULL) {
				if (x->s[k] == 'x') {
					x->fail = true; /* extended: spaces stop being literals */
					return A_NONE;
				}
				k++;
			}
			if (k == x->i + 1 || k >= x->n || (x->s[k] != ')' && x->s[k] != ':')) {
				x->fail = true; /* conditions, recursion, references */
				return A_NONE;
			}
			x->i = k + 1;
			if (x->s[k] == ')')
				return A_NONE;
		}
	}
	*inner = rx_alt(x, depth + 1);
	if (x->fail || peek(x, 0) != ')') {
		x->fail = true;
		return A_NONE;
	}
	x->i++;
	return A_GROUP;
}

/* A quantifier after an atom: true when there is one, with its minimum in *min. */
static bool
quantifier(struct rx *x, unsigned long *min)
{
	int c = peek(x, 0);
	bool q = false;

	if (c == '*' || c == '?') {
		*min = 0;
		x->i++;
		q = true;
	} else if (c == '+') {
		*min = 1;
		x->i++;
		q = true;
	} else if (c == '{') {
		/* {n} {n,} {n,m} {,m}; anything else is a literal '{' */
		size_t k = x->i + 1;
		unsigned long lo = 0;
		bool digits = false, comma = false, hi_digits = false;

		while (k < x->n && isdigit((unsigned char)x->s[k])) {
			lo = lo * 10 + (unsigned long)(x->s[k] - '0');
			if (lo > 65535)
				lo = 65535;
			digits = true;
			k++;
		}
		if (k < x->n && x->s[k] == ',') {
			comma = true;
			k++;
			while (k < x->n && isdigit((unsigned char)x->s[k])) {
				hi_digits = true;
				k++;
			}
		}
		if (k < x->n && x->s[k] == '}' && (digits || (comma && hi_digits))) {
			*min = digits ? lo : 0;
			x->i = k + 1;
			q = true;
		}
	}
	if (q && (peek(x, 0) == '?' || peek(x, 0) == '+'))
		x->i++; /* lazy or possessive: the same bytes are required */
	return q;
}

/* A sequence up to '|', ')' or the end: the longest literal it requires. */
static unsigned
rx_seq(struct rx *x, int depth)
{
	unsigned best = 0, run = 0;

	if (depth > RX_MAX_DEPTH) {
		x->fail = true;
		return 0;
	}
	while (!x->fail && x->i < x->n && x->s[x->i] != '|' && x->s[x->i] != ')') {
		unsigned inner = 0;
		unsigned long min = 1;
		enum atom a;
		bool q;

		switch (x->s[x->i]) {
		case '(':
			a = group(x, depth, &inner);
			break;
		case '[':
			skip_class(x);
			a = A_OTHER;
			break;
		case '\\':
			a = escape(x);
			break;
		case '.':
		case '^':
		case '$':
			x->i++;
			a = A_OTHER;
			break;
		case '*':
		case '+':
		case '?':
			x->fail = true; /* a quantifier without an atom */
			return 0;
		default:
			x->i++;
			a = A_LIT;
			break;
		}
		if (x->fail)
			return 0;
		if (a == A_NONE)
			continue;
		q = quantifier(x, &min);
		if (a == A_LIT && !q) {
			run++;
			continue;
		}
		if (a == A_LIT && min > 0)
			run++; /* required once, but what follows need not touch it */
		best = max_u(best, run);
		run = 0;
		if (a == A_GROUP && min > 0)
			best = max_u(best, inner);
	}
	return max_u(best, run);
}

/* Alternatives up to ')' or the end: the shortest of their literals. */
static unsigned
rx_alt(struct rx *x, int depth)
{
	unsigned m = rx_seq(x, depth);

	while (!x->fail && peek(x, 0) == '|') {
		unsigned v;

		x->i++;
		v = rx_seq(x, depth);
		if (v < m)
			m = v;
	}
	return x->fail ? 0 : m;
}

unsigned
det_regex_literal_len(const char *expr, uint32_t flags)
{
	struct rx x = { .s = expr, .i = 0, .n = expr != NULL ? strlen(expr) : 0 };
	unsigned v;

	if (expr == NULL || (flags & DET_P_EXTENDED))
		return 0;
	v = rx_alt(&x, 0);
	if (x.fail || x.i != x.n)
		return 0; /* an unbalanced ')' or a construct not followed */
	return v;
}

/* ---- patterns whose cost is not bounded by their length ---- */

/* Length of the quantifier at s (0: none); *unbounded when it has no upper bound. */
static size_t
repeat_len(const char *s, bool *unbounded)
{
	const char *p = s;

	*unbounded = false;
	if (*p == '*' || *p == '+') {
		*unbounded = true;
		p++;
	} else if (*p == '?') {
		p++;
	} else if (*p == '{' && isdigit((unsigned char)p[1])) {
		p++;
		while (isdigit((unsigned char)*p))
			p++;
		if (*p == ',') {
			p++;
			*unbounded = !isdigit((unsigned char)*p);
			while (isdigit((unsigned char)*p))
				p++;
		}
		if (*p != '}')
			return 0; /* a literal brace */
		p++;
	} else {
		return 0;
	}
	if (*p == '+') /* possessive: gives nothing back, so it cannot backtrack */
		*unbounded = false, p++;
	else if (*p == '?') /* lazy: backtracks as much */
		p++;
	return (size_t)(p - s);
}

const char *
det_regex_unbounded(const char *expr, unsigned *off)
{
	/* per open group: whether its content repeats without bound, and where it opened */
	bool inner[64];
	unsigned open[64];
	unsigned depth = 0;
	size_t i = 0, n = strlen(expr);

	inner[0] = false;
	while (i < n) {
		char c = expr[i];
		bool group_closed = false, unb;
		size_t q;

		if (c == '\\') {
			if (expr[i + 1] == 'g' && (expr[i + 2] == '<' || expr[i + 2] == '\'')) {
				*off = (unsigned)i;
				return "a subroutine call";
			}
			i += i + 1 < n ? 2 : 1;
		} else if (c == '[') {
			/* a class is one atom: skip to its end ("]" first in it is a literal) */
			i++;
			if (expr[i] == '^')
				i++;
			if (expr[i] == ']')
				i++;
			while (i < n && expr[i] != ']')
				i += expr[i] == '\\' && i + 1 < n ? 2 : 1;
			i++;
		} else if (c == '(') {
			if (expr[i + 1] == '?' && expr[i + 2] == '#') {
				while (i < n && expr[i] != ')')
					i++;
				i++;
				continue;
			}
			if (expr[i + 1] == '?' &&
					(expr[i + 2] == 'R' ||
							isdigit((unsigned char)expr[i + 2]) ||
							expr[i + 2] == '&' ||
							((expr[i + 2] == '+' ||
									 expr[i + 2] == '-') &&
									isdigit((unsigned char)expr[i +
												    3])) ||
							(expr[i + 2] == 'P' &&
									expr[i + 3] == '>'))) {
				*off = (unsigned)i;
				return "a recursion or subroutine call";
			}
			if (depth + 1 >= sizeof(inner) / sizeof(inner[0]))
				return NULL; /* PCRE2 has its own nesting limit */
			depth++;
			inner[depth] = false;
			open[depth] = (unsigned)i;
			i++;
			continue;
		} else if (c == ')' && depth > 0) {
			group_closed = true;
			i++;
		} else {
			i++;
		}
		q = repeat_len(expr + i, &unb);
		if (group_closed) {
			bool held = inner[depth];
			unsigned at = open[depth];

			depth--;
			if (q > 0 && unb && held) {
				*off = at;
				return "nested unbounded quantifiers (a group repeated without "
				       "bound around a repetition without bound)";
			}
			inner[depth] = inner[depth] || held || (q > 0 && unb);
		} else if (q > 0 && unb) {
			inner[depth] = true;
		}
		i += q;
	}
	return NULL;
}

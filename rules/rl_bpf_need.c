/* SPDX-License-Identifier: BSD-3-Clause */
/* Which parts of the context a program may read: a forward analysis of its registers. */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <bpf_def.h>

#include "rl_bpf_need.h"
#include "vigil_bpf.h"

_Static_assert(offsetof(struct vg_bpf_ctx, mark) == 14, "the parts' bounds follow the layout");
_Static_assert(offsetof(struct vg_bpf_ctx, rule_id) == 16, "the parts' bounds follow the layout");
_Static_assert(offsetof(struct vg_bpf_ctx, flow_pkts) == 36, "the parts' bounds follow the layout");
_Static_assert(offsetof(struct vg_bpf_ctx, flow_age_ns) == 40,
		"the parts' bounds follow the layout");
_Static_assert(offsetof(struct vg_bpf_ctx, now_ns) == 48, "the parts' bounds follow the layout");
_Static_assert(offsetof(struct vg_bpf_ctx, src) == 56, "the parts' bounds follow the layout");
_Static_assert(offsetof(struct vg_bpf_ctx, dst) == 72, "the parts' bounds follow the layout");
_Static_assert(sizeof(struct vg_bpf_ctx) == 88, "the parts' bounds follow the layout");

static const struct {
	uint8_t lo, hi; /* bytes [lo, hi) */
	uint32_t part;
} parts[] = {
	{ 0, 14, RL_BPF_NEED_HDR },
	{ 14, 16, RL_BPF_NEED_MARK },
	{ 16, 36, RL_BPF_NEED_META },
	{ 36, 40, RL_BPF_NEED_PKTS },
	{ 40, 48, RL_BPF_NEED_AGE },
	{ 48, 56, RL_BPF_NEED_NOW },
	{ 56, 72, RL_BPF_NEED_SRC },
	{ 72, 88, RL_BPF_NEED_DST },
};

uint32_t
rl_bpf_need_bytes(int64_t off, int64_t len)
{
	uint32_t need = 0;

	if (off < 0 || len <= 0 || off + len > (int64_t)sizeof(struct vg_bpf_ctx))
		return RL_BPF_NEED_ALL;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (off < parts[i].hi && off + len > parts[i].lo)
			need |= parts[i].part;
	return need;
}

/*
 * What a register holds: nothing known (a scalar), one of a few constants, a pointer into the
 * context at one of a few offsets, or a value that may be a context pointer at an offset not
 * known (every use of which gives the whole context).
 */
enum kind { K_NONE = 0, K_SCALAR, K_CONST, K_CTX, K_ANYCTX };

#define MAXV 4
#define NREG 11

struct val {
	uint8_t kind;
	uint8_t n; /* K_CONST, K_CTX: values in v */
	int64_t v[MAXV];
};

struct state {
	bool reached;
	struct val r[NREG];
};

static bool
ctxish(const struct val *a)
{
	return a->kind == K_CTX || a->kind == K_ANYCTX;
}

static void
set_kind(struct val *a, uint8_t k)
{
	a->kind = k;
	a->n = 0;
}

static void
set_const(struct val *a, int64_t c)
{
	a->kind = K_CONST;
	a->n = 1;
	a->v[0] = c;
}

/* Add c to a's set (kept unique); false when the set is full. */
static bool
add_value(struct val *a, int64_t c)
{
	for (unsigned i = 0; i < a->n; i++)
		if (a->v[i] == c)
			return true;
	if (a->n == MAXV)
		return false;
	a->v[a->n++] = c;
	return true;
}

/* a becomes what either a or b may hold. */
static void
merge(struct val *a, const struct val *b)
{
	if (b->kind == K_NONE)
		return;
	if (a->kind == K_NONE) {
		*a = *b;
		return;
	}
	if (ctxish(a) || ctxish(b)) {
		if (a->kind == K_CTX && b->kind == K_CTX) {
			for (unsigned i = 0; i < b->n; i++)
				if (!add_value(a, b->v[i])) {
					set_kind(a, K_ANYCTX);
					return;
				}
			return;
		}
		set_kind(a, K_ANYCTX);
		return;
	}
	if (a->kind == K_CONST && b->kind == K_CONST) {
		for (unsigned i = 0; i < b->n; i++)
			if (!add_value(a, b->v[i])) {
				set_kind(a, K_SCALAR);
				return;
			}
		return;
	}
	set_kind(a, K_SCALAR);
}

static void
flow_into(struct state *to, const struct state *from)
{
	if (!to->reached) {
		*to = *from;
		return;
	}
	for (unsigned r = 0; r < NREG; r++)
		merge(&to->r[r], &from->r[r]);
}

/* Every value of a plus (sign 1) or minus (sign -1) every value of b, into out. */
static bool
combine(struct val *out, uint8_t kind, const struct val *a, const struct val *b, int sign)
{
	struct val res = { .kind = kind };

	for (unsigned i = 0; i < a->n; i++)
		for (unsigned k = 0; k < b->n; k++)
			if (!add_value(&res, a->v[i] + sign * b->v[k]))
				return false;
	*out = res;
	return true;
}

/* dst = dst op src for ALU64 ADD/SUB (the only arithmetic a context pointer survives). */
static void
add_sub(struct val *d, const struct val *s, bool sub)
{
	if (d->kind == K_ANYCTX || s->kind == K_ANYCTX) {
		set_kind(d, K_ANYCTX);
	} else if (d->kind == K_CTX && s->kind == K_CONST) {
		if (!combine(d, K_CTX, d, s, sub ? -1 : 1))
			set_kind(d, K_ANYCTX);
	} else if (!sub && d->kind == K_CONST && s->kind == K_CTX) {
		if (!combine(d, K_CTX, s, d, 1))
			set_kind(d, K_ANYCTX);
	} else if (d->kind == K_CONST && s->kind == K_CONST) {
		if (!combine(d, K_CONST, d, s, sub ? -1 : 1))
			set_kind(d, K_SCALAR);
	} else if (ctxish(d) || ctxish(s)) {
		/* A pointer plus or minus an unknown amount, or a difference of pointers. */
		set_kind(d, K_ANYCTX);
	} else {
		set_kind(d, K_SCALAR);
	}
}

/* A memory access of len bytes at r + off: the parts it reaches, 0 when r is not the context. */
static uint32_t
access_need(const struct val *r, int64_t off, int64_t len)
{
	uint32_t need = 0;

	if (r->kind == K_ANYCTX)
		return RL_BPF_NEED_ALL;
	if (r->kind != K_CTX)
		return 0;
	for (unsigned i = 0; i < r->n; i++)
		need |= rl_bpf_need_bytes(r->v[i] + off, len);
	return need;
}

static int64_t
size_bytes(uint8_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_B:
		return 1;
	case BPF_H:
		return 2;
	case BPF_W:
		return 4;
	default:
		return 8;
	}
}

static const char *
call_name(const struct rl_bpf_call *calls, size_t n_calls, uint32_t insn)
{
	for (size_t i = 0; i < n_calls; i++)
		if (calls[i].insn == insn)
			return calls[i].name;
	return NULL;
}

/*
 * One instruction on state s (in place). Returns the parts it reads; sets *width to the slots
 * it takes (2 for a 64-bit immediate), *jump to its jump's target (-1: none) and *falls to
 * whether control goes on to the next instruction.
 */
static uint32_t
step(const struct ebpf_insn *in, uint32_t i, struct state *s, const struct rl_bpf_call *calls,
		size_t n_calls, rl_bpf_helper_need_fn helper_need, int64_t *jump, bool *falls,
		uint32_t *width, bool *blind)
{
	const uint8_t code = in->code, cls = BPF_CLASS(code);
	const unsigned dr = in->dst_reg, sr = in->src_reg;
	struct val *d = &s->r[dr < NREG ? dr : 0];
	const struct val *sv = &s->r[sr < NREG ? sr : 0];
	uint32_t need = 0;

	*jump = -1;
	*falls = true;
	*width = 1;
	*blind = false;
	if (dr >= NREG || sr >= NREG)
		return RL_BPF_NEED_ALL;
	switch (cls) {
	case BPF_ALU:
	case EBPF_ALU64: {
		const uint8_t op = BPF_OP(code);
		const bool x = BPF_SRC(code) == BPF_X, wide = cls == EBPF_ALU64;
		struct val k;

		set_const(&k, wide ? (int64_t)in->imm : (int64_t)(uint32_t)in->imm);
		if (op == EBPF_MOV) {
			if (!x)
				*d = k;
			else if (wide)
				*d = *sv;
			else if (ctxish(sv))
				set_kind(d, K_ANYCTX);
			else
				set_kind(d, K_SCALAR);
		} else if (wide && (op == BPF_ADD || op == BPF_SUB)) {
			add_sub(d, x ? sv : &k, op == BPF_SUB);
		} else if (ctxish(d) || (x && ctxish(sv))) {
			set_kind(d, K_ANYCTX);
		} else {
			set_kind(d, K_SCALAR);
		}
		return 0;
	}
	case BPF_LDX:
		if (BPF_MODE(code) != BPF_MEM)
			return RL_BPF_NEED_ALL;
		*blind = sv->kind == K_ANYCTX;
		need = access_need(sv, in->off, size_bytes(code));
		set_kind(d, K_SCALAR);
		return need;
	case BPF_ST:
		if (BPF_MODE(code) != BPF_MEM)
			return RL_BPF_NEED_ALL;
		/* A write is counted as a read: a narrower write and a wider read of the same
		 * field must still find the rest filled. */
		*blind = d->kind == K_ANYCTX;
		return access_need(d, in->off, size_bytes(code));
	case BPF_STX:
		if (BPF_MODE(code) != BPF_MEM && BPF_MODE(code) != EBPF_XADD)
			return RL_BPF_NEED_ALL;
		*blind = d->kind == K_ANYCTX;
		if (ctxish(sv))
			return RL_BPF_NEED_ALL; /* the pointer is stored: not followed further */
		return access_need(d, in->off, size_bytes(code));
	case BPF_LD:
		if (code != (BPF_LD | BPF_IMM | EBPF_DW))
			return RL_BPF_NEED_ALL; /* packet loads of classic BPF */
		set_kind(d, K_SCALAR);
		*width = 2;
		return 0;
	case BPF_JMP: {
		const uint8_t op = BPF_OP(code);

		if (op == EBPF_EXIT) {
			*falls = false;
			return 0;
		}
		if (op == EBPF_CALL) {
			const char *name = call_name(calls, n_calls, i);
			uint32_t hn;

			/* A helper is named by the call's relocation (clang marks such calls
			 * with src_reg 1, as calls of the program's own functions, which name
			 * no helper and so give the whole context). */
			if (name == NULL)
				return RL_BPF_NEED_ALL;
			for (unsigned r = EBPF_REG_2; r <= EBPF_REG_5; r++)
				if (ctxish(&s->r[r]))
					return RL_BPF_NEED_ALL;
			hn = helper_need(name);
			if (ctxish(&s->r[EBPF_REG_1]) &&
					!(s->r[EBPF_REG_1].kind == K_CTX &&
							s->r[EBPF_REG_1].n == 1 &&
							s->r[EBPF_REG_1].v[0] == 0))
				return RL_BPF_NEED_ALL;
			for (unsigned r = EBPF_REG_0; r <= EBPF_REG_5; r++)
				set_kind(&s->r[r], K_SCALAR);
			return hn;
		}
		*jump = (int64_t)i + 1 + in->off;
		if (op == BPF_JA)
			*falls = false;
		return 0;
	}
	default:
		return RL_BPF_NEED_ALL; /* 32-bit jumps and whatever else rte_bpf may learn */
	}
}

uint32_t
rl_bpf_need(const void *insns, uint32_t n, const struct rl_bpf_call *calls, size_t n_calls,
		rl_bpf_helper_need_fn helper_need, int64_t *blind)
{
	struct state *st;
	uint32_t need = 0;

	if (blind != NULL)
		*blind = -1;
	if (n == 0)
		return 0;
	st = calloc(n + 1, sizeof(*st));
	if (st == NULL)
		return RL_BPF_NEED_ALL;
	st[0].reached = true;
	set_kind(&st[0].r[EBPF_REG_1], K_CTX);
	st[0].r[EBPF_REG_1].n = 1;
	st[0].r[EBPF_REG_1].v[0] = 0;
	for (unsigned r = 0; r < NREG; r++)
		if (r != EBPF_REG_1)
			set_kind(&st[0].r[r], K_SCALAR); /* r10, the frame, is never the context */
	/* On past the whole context too: an access through a pointer it cannot follow may come
	 * later. */
	for (uint32_t i = 0; i < n; i++) {
		struct ebpf_insn in;
		struct state s;
		int64_t jump;
		bool falls, bl;
		uint32_t width;

		if (!st[i].reached)
			continue;
		memcpy(&in, (const uint8_t *)insns + (size_t)i * sizeof(in), sizeof(in));
		s = st[i];
		need |= step(&in, i, &s, calls, n_calls, helper_need, &jump, &falls, &width, &bl);
		if (bl && blind != NULL && *blind < 0)
			*blind = i;
		if (jump >= 0) {
			/* Forward only: rte_bpf refuses loops; anything else is not followed. */
			if (jump <= (int64_t)i || jump >= (int64_t)n) {
				need = RL_BPF_NEED_ALL;
				break;
			}
			flow_into(&st[jump], &s);
		}
		if (falls) {
			if (i + width >= n) {
				need = RL_BPF_NEED_ALL; /* runs off the end */
				break;
			}
			flow_into(&st[i + width], &s);
		}
	}
	free(st);
	return need;
}

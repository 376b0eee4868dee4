/* SPDX-License-Identifier: BSD-3-Clause */
/* User eBPF programs: vigild's limits (libelf), rte_bpf's validator and JIT, the helpers. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_bpf.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_log.h>

#include "rl_bpf.h"
#include "rl_bpf_need.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif

bool rl_bpf_jit = true;

struct rl_bpf_prog {
	struct rl_bpf_prog_run run; /* first: rl_bpf_exec() and rl_bpf_counters() read it */
	char *path;
	uint32_t n_insns;
};

/* ---------------------------------------------------------------------------------------- */
/* Helpers: what a program may call. Each gets the context pointer rte_bpf validated.       */

__thread const struct rl_bpf_run *rl_bpf_current __attribute__((tls_model("initial-exec")));

/*
 * The run whose context ctx is, or NULL when ctx is anything else (a buffer of the program's
 * own, which the validator lets pass as a pointer of the context's size): the helper then
 * answers VG_BPF_OOB (= VG_BPF_MAP_NONE) and reads nothing. The run's frame and maps lie past
 * the context, out of the program's reach.
 */
static inline const struct rl_bpf_run *
run_of(uint64_t ctx)
{
	const struct rl_bpf_run *r = rl_bpf_current;

	return likely(r != NULL && (uintptr_t)&r->ctx == ctx) ? r : NULL;
}

static uint64_t
h_pkt_u8(uint64_t ctx, uint64_t off, uint64_t a3, uint64_t a4, uint64_t a5)
{
	const struct rl_bpf_run *r = run_of(ctx);

	RTE_SET_USED(a3), RTE_SET_USED(a4), RTE_SET_USED(a5);
	return r != NULL && off < r->len ? r->data[off] : VG_BPF_OOB;
}

static uint64_t
h_pkt_u16(uint64_t ctx, uint64_t off, uint64_t a3, uint64_t a4, uint64_t a5)
{
	const struct rl_bpf_run *r = run_of(ctx);

	RTE_SET_USED(a3), RTE_SET_USED(a4), RTE_SET_USED(a5);
	if (r == NULL || off >= r->len || r->len - off < 2)
		return VG_BPF_OOB;
	return (uint64_t)r->data[off] << 8 | r->data[off + 1];
}

static uint64_t
h_pkt_u32(uint64_t ctx, uint64_t off, uint64_t a3, uint64_t a4, uint64_t a5)
{
	const struct rl_bpf_run *r = run_of(ctx);
	uint32_t v;

	RTE_SET_USED(a3), RTE_SET_USED(a4), RTE_SET_USED(a5);
	if (r == NULL || off >= r->len || r->len - off < 4)
		return VG_BPF_OOB;
	memcpy(&v, r->data + off, 4);
	return rte_be_to_cpu_32(v);
}

static uint64_t
h_flow_hash(uint64_t ctx, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	const struct rl_bpf_run *r = run_of(ctx);
	const struct vg_bpf_ctx *c;

	RTE_SET_USED(a2), RTE_SET_USED(a3), RTE_SET_USED(a4), RTE_SET_USED(a5);
	if (r == NULL)
		return VG_BPF_OOB;
	c = &r->ctx;
	/* Each endpoint hashed alone and the two combined by xor: the same both ways. */
	return rte_hash_crc(c->src, 16, c->sport) ^ rte_hash_crc(c->dst, 16, c->dport);
}

static uint64_t
h_map_lpm4(uint64_t ctx, uint64_t map, uint64_t addr, uint64_t a4, uint64_t a5)
{
	const struct rl_bpf_run *r = run_of(ctx);
	uint8_t a[4] = { (uint8_t)(addr >> 24), (uint8_t)(addr >> 16), (uint8_t)(addr >> 8),
		(uint8_t)addr };

	RTE_SET_USED(a4), RTE_SET_USED(a5);
	if (r == NULL)
		return VG_BPF_MAP_NONE;
	return rl_bpf_map_lpm(r->maps, r->worker, map, 4, a);
}

static uint64_t
h_map_lpm(uint64_t ctx, uint64_t map, uint64_t which, uint64_t a4, uint64_t a5)
{
	const struct rl_bpf_run *r = run_of(ctx);

	RTE_SET_USED(a4), RTE_SET_USED(a5);
	if (r == NULL || which > VG_BPF_MAP_DST)
		return VG_BPF_MAP_NONE;
	return rl_bpf_map_lpm(r->maps, r->worker, map, r->ctx.family,
			which == VG_BPF_MAP_SRC ? r->ctx.src : r->ctx.dst);
}

static uint64_t
h_map_lookup(uint64_t ctx, uint64_t map, uint64_t k0, uint64_t k1, uint64_t a5)
{
	const struct rl_bpf_run *r = run_of(ctx);

	RTE_SET_USED(a5);
	if (r == NULL)
		return VG_BPF_MAP_NONE;
	return rl_bpf_map_lookup(r->maps, r->worker, map, k0, k1);
}

static uint64_t
h_map_update(uint64_t ctx, uint64_t map, uint64_t k0, uint64_t k1, uint64_t value)
{
	const struct rl_bpf_run *r = run_of(ctx);

	if (r == NULL)
		return VG_BPF_MAP_NONE;
	return rl_bpf_map_update(r->maps, r->worker, map, k0, k1, value);
}

static uint64_t
h_map_delete(uint64_t ctx, uint64_t map, uint64_t k0, uint64_t k1, uint64_t a5)
{
	const struct rl_bpf_run *r = run_of(ctx);

	RTE_SET_USED(a5);
	if (r == NULL)
		return VG_BPF_MAP_NONE;
	return rl_bpf_map_delete(r->maps, r->worker, map, k0, k1);
}

#define ARG_CTX                                                            \
	{                                                                  \
		.type = RTE_BPF_ARG_PTR, .size = sizeof(struct vg_bpf_ctx) \
	}
#define ARG_U64                                                   \
	{                                                         \
		.type = RTE_BPF_ARG_RAW, .size = sizeof(uint64_t) \
	}
#define HELPER(nm, fn, n, ...)                                                                \
	{                                                                                     \
		.name = nm, .type = RTE_BPF_XTYPE_FUNC,                                       \
		.func = { .val = fn, .nb_args = n, .args = { __VA_ARGS__ }, .ret = ARG_U64 }, \
	}

static const struct rte_bpf_xsym helpers[] = {
	HELPER("vg_pkt_u8", h_pkt_u8, 2, ARG_CTX, ARG_U64),
	HELPER("vg_pkt_u16", h_pkt_u16, 2, ARG_CTX, ARG_U64),
	HELPER("vg_pkt_u32", h_pkt_u32, 2, ARG_CTX, ARG_U64),
	HELPER("vg_flow_hash", h_flow_hash, 1, ARG_CTX),
	/* VG_BPF_HELPERS_VERSION 2: maps. */
	HELPER("vg_map_lpm4", h_map_lpm4, 3, ARG_CTX, ARG_U64, ARG_U64),
	HELPER("vg_map_lpm", h_map_lpm, 3, ARG_CTX, ARG_U64, ARG_U64),
	HELPER("vg_map_lookup", h_map_lookup, 4, ARG_CTX, ARG_U64, ARG_U64, ARG_U64),
	HELPER("vg_map_update", h_map_update, 5, ARG_CTX, ARG_U64, ARG_U64, ARG_U64, ARG_U64),
	HELPER("vg_map_delete", h_map_delete, 4, ARG_CTX, ARG_U64, ARG_U64, ARG_U64),
};

/* ---------------------------------------------------------------------------------------- */
/* Loading                                                                                   */

static bool
is_helper(const char *name)
{
	for (size_t i = 0; i < RTE_DIM(helpers); i++)
		if (strcmp(helpers[i].name, name) == 0)
			return true;
	return false;
}

static void
helper_list(char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < RTE_DIM(helpers) && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", helpers[i].name);
}

/*
 * The program's section (VG_BPF_SECTION), or NULL; *n how many sections have that name (an
 * object with two is refused: which one runs would be the loader's choice).
 */
static Elf_Scn *
vigil_section(Elf *e, size_t shstrndx, unsigned *n)
{
	Elf_Scn *scn = NULL, *found = NULL;

	*n = 0;
	while ((scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh;
		const char *name;

		if (gelf_getshdr(scn, &sh) == NULL)
			continue;
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (name != NULL && strcmp(name, VG_BPF_SECTION) == 0) {
			found = scn;
			(*n)++;
		}
	}
	return found;
}

/*
 * vigild's checks, from the ELF itself: an eBPF object, a "vigil" section of at most
 * RL_BPF_MAX_INSNS instructions, and no external symbol but the helpers. Returns 0 or -errno
 * with err filled.
 */
static int
elf_check(const char *path, uint32_t *n_insns, bool *uses_maps, char *err, size_t errlen)
{
	char list[256];
	Elf *e = NULL;
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	size_t shstrndx;
	bool found = false;
	unsigned n_sec;
	int rc = 0;
	int fd;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(err, errlen, "%s: libelf cannot be initialised", path);
		return -ENOTSUP;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (e == NULL || elf_kind(e) != ELF_K_ELF || gelf_getehdr(e, &eh) == NULL) {
		snprintf(err, errlen, "%s: not an ELF object (%s)", path, elf_errmsg(-1));
		rc = -EINVAL;
		goto out;
	}
	if (eh.e_machine != EM_BPF) {
		snprintf(err, errlen,
				"%s: an ELF object for machine %u, not eBPF (%u): build it with clang -target bpf",
				path, eh.e_machine, EM_BPF);
		rc = -EINVAL;
		goto out;
	}
	if (elf_getshdrstrndx(e, &shstrndx) != 0) {
		snprintf(err, errlen, "%s: no section names (%s)", path, elf_errmsg(-1));
		rc = -EINVAL;
		goto out;
	}
	scn = vigil_section(e, shstrndx, &n_sec);
	if (n_sec > 1) {
		snprintf(err, errlen,
				"%s: %u sections \"%s\"; a program is one function in one section",
				path, n_sec, VG_BPF_SECTION);
		rc = -EINVAL;
		goto out;
	}
	if (scn != NULL) {
		GElf_Shdr sh;

		found = gelf_getshdr(scn, &sh) != NULL;
		if (found)
			*n_insns = (uint32_t)RTE_MIN(sh.sh_size / 8, (uint64_t)UINT32_MAX);
	}
	scn = NULL;
	while ((scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_SYMTAB)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;

		for (size_t k = 1; d != NULL && k < n; k++) {
			GElf_Sym sym;
			const char *sn;

			if (gelf_getsym(d, (int)k, &sym) == NULL || sym.st_shndx != SHN_UNDEF)
				continue;
			sn = elf_strptr(e, sh.sh_link, sym.st_name);
			if (sn != NULL && strncmp(sn, "vg_map_", 7) == 0 && is_helper(sn))
				*uses_maps = true;
			if (sn == NULL || sn[0] == '\0' || is_helper(sn))
				continue;
			helper_list(list, sizeof(list));
			snprintf(err, errlen,
					"%s: calls '%s', which is not a vigild helper (helpers: %s)",
					path, sn, list);
			rc = -EINVAL;
			goto out;
		}
	}
	if (!found) {
		snprintf(err, errlen,
				"%s: no section \"%s\" (declare the program with VG_BPF_PROGRAM from vigil_bpf.h)",
				path, VG_BPF_SECTION);
		rc = -EINVAL;
	} else if (*n_insns == 0 || *n_insns > RL_BPF_MAX_INSNS) {
		snprintf(err, errlen, "%s: %u instructions; vigild runs 1 to %u", path, *n_insns,
				RL_BPF_MAX_INSNS);
		rc = -E2BIG;
	}
out:
	elf_end(e);
	close(fd);
	return rc;
}

/* What each helper reads of the context, besides the frame and the maps (rl_bpf_need.h). */
static uint32_t
helper_need(const char *name)
{
	if (strcmp(name, "vg_flow_hash") == 0)
		return RL_BPF_NEED_HDR | RL_BPF_NEED_SRC | RL_BPF_NEED_DST; /* ports, addresses */
	if (strcmp(name, "vg_map_lpm") == 0)
		return RL_BPF_NEED_HDR | RL_BPF_NEED_SRC | RL_BPF_NEED_DST; /* family, addresses */
	if (is_helper(name))
		return 0; /* the frame through data and len, the maps */
	return RL_BPF_NEED_ALL;
}

/*
 * The first instruction that shifts by a constant of at least the operand's width (64 bits, 32
 * for the 32-bit operations), or -1. rte_bpf's validator lets such a shift through, and its
 * x86 JIT turns `r5 >>= 240` into code that faults (tests/fuzz/found/rte_bpf_jit_fault.bin);
 * the kernel's verifier refuses it too.
 */
static int64_t
bad_shift(const void *insns, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct ebpf_insn in;
		uint8_t cls, op;

		memcpy(&in, (const uint8_t *)insns + (size_t)i * sizeof(in), sizeof(in));
		cls = BPF_CLASS(in.code);
		op = BPF_OP(in.code);
		if ((cls == BPF_ALU || cls == EBPF_ALU64) && BPF_SRC(in.code) == BPF_K &&
				(op == BPF_LSH || op == BPF_RSH || op == EBPF_ARSH) &&
				(in.imm < 0 || in.imm >= (cls == EBPF_ALU64 ? 64 : 32)))
			return i;
		if (in.code == (BPF_LD | BPF_IMM | EBPF_DW))
			i++; /* the second half of a 64-bit immediate */
	}
	return -1;
}

/*
 * The parts of the context the program in path may read (rl_bpf_need()): its section's
 * instructions, and the helper each call names through the section's relocations.
 * RL_BPF_NEED_ALL when the object cannot be read so (it loaded: this is only a narrowing).
 * *blind: rl_bpf_need()'s; *shift: bad_shift()'s.
 */
static uint32_t
ctx_need_of(const char *path, int64_t *blind, int64_t *shift)
{
	uint32_t need = RL_BPF_NEED_ALL;
	struct rl_bpf_call *calls = NULL;
	size_t n_calls = 0, shstrndx, sec = 0;
	unsigned n_sec = 0;
	Elf_Data *code = NULL;
	Elf_Scn *scn = NULL;
	Elf *e;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*blind = -1;
	*shift = -1;
	if (fd < 0)
		return need;
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (e == NULL || elf_getshdrstrndx(e, &shstrndx) != 0)
		goto out;
	scn = vigil_section(e, shstrndx, &n_sec);
	if (scn != NULL && n_sec == 1) {
		sec = elf_ndxscn(scn);
		code = elf_getdata(scn, NULL);
	}
	if (code == NULL || code->d_size % 8 != 0 || code->d_size / 8 > RL_BPF_MAX_INSNS)
		goto out;
	scn = NULL;
	while ((scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh, symsh;
		Elf_Data *rel, *syms;
		Elf_Scn *symscn;

		if (gelf_getshdr(scn, &sh) == NULL || sh.sh_info != sec)
			continue;
		if (sh.sh_type == SHT_RELA)
			goto out; /* not what clang -target bpf makes: not followed */
		if (sh.sh_type != SHT_REL || sh.sh_entsize == 0)
			continue;
		rel = elf_getdata(scn, NULL);
		symscn = elf_getscn(e, sh.sh_link);
		syms = symscn != NULL ? elf_getdata(symscn, NULL) : NULL;
		if (rel == NULL || syms == NULL || gelf_getshdr(symscn, &symsh) == NULL)
			goto out;
		for (size_t k = 0; k < sh.sh_size / sh.sh_entsize; k++) {
			struct rl_bpf_call *c;
			GElf_Rel r;
			GElf_Sym sym;

			if (gelf_getrel(rel, (int)k, &r) == NULL ||
					gelf_getsym(syms, (int)GELF_R_SYM(r.r_info), &sym) == NULL)
				goto out;
			c = realloc(calls, (n_calls + 1) * sizeof(*calls));
			if (c == NULL)
				goto out;
			calls = c;
			calls[n_calls].insn = (uint32_t)(r.r_offset / 8);
			calls[n_calls].name = elf_strptr(e, symsh.sh_link, sym.st_name);
			if (calls[n_calls].name == NULL)
				goto out;
			n_calls++;
		}
	}
	need = rl_bpf_need(code->d_buf, (uint32_t)(code->d_size / 8), calls, n_calls, helper_need,
			blind);
	*shift = bad_shift(code->d_buf, (uint32_t)(code->d_size / 8));
out:
	free(calls);
	elf_end(e);
	close(fd);
	return need;
}

/*
 * rte_bpf reports why it refused a program only through rte_log: while loading, the log goes to
 * a buffer that stays open for the process's life (a line another thread logs meanwhile lands
 * there too, never in freed memory).
 */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_buf[4096];
static FILE *log_mem;

/* Append to out (len bytes), never past its end. */
static void
append(char *out, size_t len, size_t *o, const char *s, size_t n)
{
	if (*o + 1 >= len)
		return;
	n = RTE_MIN(n, len - 1 - *o);
	memcpy(out + *o, s, n);
	*o += n;
	out[*o] = '\0';
}

/* The captured log's lines, joined with "; ", without rte_bpf's success and symbol notes. */
static void
log_reason(const char *log, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	while (*log != '\0') {
		const char *eol = strchr(log, '\n');
		size_t k = eol ? (size_t)(eol - log) : strlen(log);
		const char *l = log;
		const char *rp;

		log += k + (eol != NULL);
		/* The validator's lines end in ';' and some name a stack address: neither helps. */
		while (k > 0 && (l[k - 1] == ';' || l[k - 1] == ' '))
			k--;
		if (k == 0 || strncmp(l, "resolve_xsym", 12) == 0 ||
				strncmp(l, "rte_bpf_elf_load", 16) == 0)
			continue;
		if (o > 0)
			append(out, len, &o, "; ", 2);
		rp = memchr(l, ')', k);
		if (strncmp(l, "validate(0x", 11) == 0 && rp != NULL) {
			append(out, len, &o, "validate:", 9);
			k -= (size_t)(rp + 1 - l);
			l = rp + 1;
		}
		append(out, len, &o, l, k);
	}
}

/*
 * vigild's refusal of what rte_bpf's validator accepts: a program that reaches into its context
 * where the analysis cannot tell (blind), or shifts out of range (shift); -1: not that one.
 */
static void
own_refusal(char *err, size_t errlen, const char *what, int64_t blind, int64_t shift)
{
	if (shift >= 0)
		snprintf(err, errlen,
				"%s: instruction %lld shifts by a constant of at least the operand's "
				"width (64 bits, 32 for 32-bit operations)",
				what, (long long)shift);
	else
		snprintf(err, errlen,
				"%s: instruction %lld reaches into the context through a pointer whose "
				"offset vigild cannot tell (the context pointer combined with something "
				"else than a constant); read the context's fields by name",
				what, (long long)blind);
}

/*
 * rte_bpf's load of prm (from the ELF file path, or prm's instructions when path is NULL) with
 * its validator's log captured into reason; NULL with *rc the rte_errno when refused.
 */
static struct rte_bpf *
validated_load(const struct rte_bpf_prm *prm, const char *path, char *reason, size_t len, int *rc)
{
	struct rte_bpf *bpf;

	pthread_mutex_lock(&load_lock);
	FILE *prev = rte_log_get_stream();

	if (log_mem == NULL)
		log_mem = fmemopen(log_buf, sizeof(log_buf), "w+");
	if (log_mem != NULL) {
		rewind(log_mem);
		memset(log_buf, 0, sizeof(log_buf));
		rte_openlog_stream(log_mem);
	}
	bpf = path != NULL ? rte_bpf_elf_load(prm, path, VG_BPF_SECTION) : rte_bpf_load(prm);
	*rc = rte_errno;
	if (log_mem != NULL) {
		fflush(log_mem);
		rte_openlog_stream(prev);
		log_buf[sizeof(log_buf) - 1] = '\0';
		log_reason(log_buf, reason, len);
	} else {
		snprintf(reason, len, "(the validator's log could not be captured)");
	}
	pthread_mutex_unlock(&load_lock);
	return bpf;
}

/* A program's record for n_workers, named what (its path), before it is compiled; NULL: no
 * memory. */
static struct rl_bpf_prog *
prog_new(const char *what, unsigned n_workers, uint32_t n_insns)
{
	struct rl_bpf_prog *p = calloc(1, sizeof(*p));

	if (p == NULL || n_workers == 0)
		goto fail;
	p->path = strdup(what);
	p->run.n_workers = n_workers;
	p->n_insns = n_insns;
	p->run.ctr = aligned_alloc(64, n_workers * sizeof(*p->run.ctr));
	if (p->path == NULL || p->run.ctr == NULL)
		goto fail;
	memset(p->run.ctr, 0, n_workers * sizeof(*p->run.ctr));
	return p;
fail:
	rl_bpf_free(p);
	return NULL;
}

/*
 * Give p its code: rte_bpf's validator on prm (the ELF file path, or prm's instructions when
 * path is NULL), the JIT unless !jit, then vigild's own refusals (blind, shift: -1 for none) and
 * the parts of the context it needs. p, or NULL with err and errno (p freed).
 */
static struct rl_bpf_prog *
prog_compile(struct rl_bpf_prog *p, const struct rte_bpf_prm *prm, const char *path, bool jit,
		uint32_t need, int64_t blind, int64_t shift, char *err, size_t errlen)
{
	struct rte_bpf_jit j;
	char reason[1024];
	int rc;

	p->run.bpf = validated_load(prm, path, reason, sizeof(reason), &rc);
	if (p->run.bpf == NULL) {
		snprintf(err, errlen, "%s: refused by rte_bpf (%s)%s%s", p->path, strerror(rc),
				reason[0] ? ": " : "", reason);
		rl_bpf_free(p);
		errno = rc ? rc : EINVAL;
		return NULL;
	}
	if (blind >= 0 || shift >= 0) {
		own_refusal(err, errlen, p->path, blind, shift);
		rl_bpf_free(p);
		errno = EINVAL;
		return NULL;
	}
	if (jit && rte_bpf_get_jit(p->run.bpf, &j) == 0 && j.func != NULL)
		p->run.jit = j.func;
	p->run.need = need;
	return p;
}

static struct rl_bpf_prog *
load(const char *path, unsigned n_workers, bool jit, bool check, char *err, size_t errlen)
{
	const struct rte_bpf_prm prm = {
		.xsym = helpers,
		.nb_xsym = RTE_DIM(helpers),
		.prog_arg = { .type = RTE_BPF_ARG_PTR, .size = sizeof(struct vg_bpf_ctx) },
	};
	struct rl_bpf_prog *p;
	uint32_t n_insns = 0, need;
	bool uses_maps = false;
	char reason[1024], mpath[1024];
	int64_t blind, shift;
	int rc;

	rc = elf_check(path, &n_insns, &uses_maps, err, errlen);
	if (rc != 0) {
		errno = -rc;
		return NULL;
	}
	p = prog_new(path, n_workers, n_insns);
	if (p == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		errno = ENOMEM;
		return NULL;
	}
	rc = rl_bpf_maps_load(path, n_workers, check, &p->run.maps, reason, sizeof(reason));
	rl_bpf_maps_path(path, mpath, sizeof(mpath));
	if (rc == 0 && uses_maps && access(mpath, F_OK) != 0) {
		snprintf(reason, sizeof(reason), "%s", mpath);
		snprintf(err, errlen, "%s: calls the map helpers but declares no map (no %s)", path,
				reason);
		rl_bpf_free(p);
		errno = EINVAL;
		return NULL;
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s: maps: %s", path, reason);
		rl_bpf_free(p);
		errno = -rc;
		return NULL;
	}

	need = ctx_need_of(path, &blind, &shift);
	return prog_compile(p, &prm, path, jit, need, blind, shift, err, errlen);
}

struct rl_bpf_prog *
rl_bpf_load(const char *path, unsigned n_workers, bool jit, char *err, size_t errlen)
{
	return load(path, n_workers, jit, false, err, errlen);
}

/* The helpers a program given as instructions may call: those without maps, by index. */
#define N_INSN_HELPERS 4

struct rl_bpf_prog *
rl_bpf_load_insns(const void *insns, uint32_t n, bool jit, char *err, size_t errlen)
{
	const struct rte_bpf_prm prm = {
		.ins = insns,
		.nb_ins = n,
		.xsym = helpers,
		.nb_xsym = N_INSN_HELPERS,
		.prog_arg = { .type = RTE_BPF_ARG_PTR, .size = sizeof(struct vg_bpf_ctx) },
	};
	struct rl_bpf_call *calls;
	size_t n_calls = 0;
	struct rl_bpf_prog *p;
	int64_t blind = -1;
	uint32_t need;

	_Static_assert(N_INSN_HELPERS <= RTE_DIM(helpers), "the first helpers");
	if (n == 0 || n > RL_BPF_MAX_INSNS) {
		snprintf(err, errlen, "%u instructions; vigild runs 1 to %u", n, RL_BPF_MAX_INSNS);
		errno = E2BIG;
		return NULL;
	}
	p = prog_new("(instructions)", 1, n);
	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	/* A call names its helper by index here, not by relocation. */
	calls = calloc(n, sizeof(*calls));
	for (uint32_t i = 0; calls != NULL && i < n; i++) {
		struct ebpf_insn in;

		memcpy(&in, (const uint8_t *)insns + (size_t)i * sizeof(in), sizeof(in));
		if (in.code == (BPF_JMP | EBPF_CALL) && in.imm >= 0 && in.imm < N_INSN_HELPERS)
			calls[n_calls++] = (struct rl_bpf_call){ i, helpers[in.imm].name };
	}
	need = calls != NULL ? rl_bpf_need(insns, n, calls, n_calls, helper_need, &blind)
			     : RL_BPF_NEED_ALL;
	free(calls);
	return prog_compile(p, &prm, NULL, jit, need, blind, bad_shift(insns, n), err, errlen);
}

void
rl_bpf_free(struct rl_bpf_prog *p)
{
	if (p == NULL)
		return;
	rte_bpf_destroy(p->run.bpf);
	rl_bpf_maps_free(p->run.maps);
	free(p->path);
	free(p->run.ctr);
	free(p);
}

const char *
rl_bpf_path(const struct rl_bpf_prog *p)
{
	return p->path;
}

uint32_t
rl_bpf_n_insns(const struct rl_bpf_prog *p)
{
	return p->n_insns;
}

uint32_t
rl_bpf_ctx_need(const struct rl_bpf_prog *p)
{
	return p->run.need;
}

bool
rl_bpf_jitted(const struct rl_bpf_prog *p)
{
	return p->run.jit != NULL;
}

struct rl_bpf_maps *
rl_bpf_maps(const struct rl_bpf_prog *p)
{
	return p->run.maps;
}

void
rl_bpf_counters_sum(const struct rl_bpf_prog *p, struct rl_bpf_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned w = 0; w < p->run.n_workers; w++) {
		const struct rl_bpf_counters *c = &p->run.ctr[w];
		uint64_t other = 0, runs;

		/* The other answers first, runs after: a worker counts a run before its answer,
		 * so the passes derived here never go below zero. */
		for (unsigned v = VG_BPF_DROP; v < RTE_DIM(c->verdict); v++) {
			uint64_t n = __atomic_load_n(&c->verdict[v], __ATOMIC_ACQUIRE);

			out->verdict[v] += n;
			other += n;
		}
		other += __atomic_load_n(&c->invalid, __ATOMIC_ACQUIRE);
		runs = __atomic_load_n(&c->runs, __ATOMIC_ACQUIRE);
		out->runs += runs;
		out->verdict[VG_BPF_PASS] += runs > other ? runs - other : 0;
		out->invalid += c->invalid;
		out->cached += c->cached;
		out->alerts += c->alerts;
		out->marks += c->marks;
		out->timed_runs += c->timed_runs;
		out->cycles += c->cycles;
	}
}

int
rl_bpf_check(const char *path, FILE *out)
{
	char err[1536];
	/* Maps: their declarations and files are checked, no table is made (no EAL here). */
	struct rl_bpf_prog *p = load(path, 1, true, true, err, sizeof(err));

	if (p == NULL) {
		fprintf(out, "%s\n", err);
		return 1;
	}
	fprintf(out, "%s: ok: %u instructions, %s, context version %u (%zu bytes)", path,
			p->n_insns, p->run.jit ? "JIT" : "interpreter", VG_BPF_CTX_VERSION,
			sizeof(struct vg_bpf_ctx));
	for (unsigned i = 0; p->run.maps != NULL && i < p->run.maps->n; i++) {
		const struct rl_bpf_map *m = p->run.maps->m[i];

		fprintf(out, "%s map %u %s (%s, at most %u entries%s%s)", i ? "," : ";", i,
				rl_bpf_map_name(m),
				rl_bpf_map_kind(m) == RL_BPF_MAP_HASH ? "hash"
				: rl_bpf_map_family(m) == 4	      ? "lpm IPv4"
								      : "lpm IPv6",
				rl_bpf_map_max_entries(m), rl_bpf_map_file(m) ? " from " : "",
				rl_bpf_map_file(m) ? rl_bpf_map_file(m) : "");
	}
	fputc('\n', out);
	rl_bpf_free(p);
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * User eBPF programs on policy rules (docs/BPF.md): loading, vigild's own limits, running.
 *
 * rl_bpf_load() reads the ELF object with libelf first (section "vigil", its size, the external
 * functions it calls) to apply vigild's limits with a precise message, then hands it to
 * rte_bpf_elf_load(), whose validator runs (no loops, no out-of-bounds context access, no
 * uninitialised reads); what the validator logs through rte_log is captured into the error.
 * The program is JIT-compiled where rte_bpf has a JIT (x86-64, arm64), interpreted elsewhere.
 *
 * A loaded program is immutable and shared by every worker; each worker writes only its own
 * counters (one cache-aligned struct per worker).
 */
#ifndef RL_BPF_H
#define RL_BPF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_bpf.h>
#include <rte_branch_prediction.h>

#include "rl_bpf_map.h"
#include "rl_bpf_need.h"
#include "vigil_bpf.h"

/* vigild's limits, on top of rte_bpf's validator. */
#define RL_BPF_MAX_INSNS 4096u /* eBPF instructions in the program's section */

/*
 * One run's input: the program sees ctx only; the helpers read the frame through data/len and
 * the program's maps through maps (rl_bpf_exec() sets both).
 */
struct rl_bpf_run {
	struct vg_bpf_ctx ctx;
	const uint8_t *data;
	uint32_t len;
	struct rl_bpf_maps *maps;
	unsigned worker; /* whose map counters the helpers count in */
};

/* Per program, per worker. */
struct rl_bpf_counters {
	uint64_t runs;
	/* VG_BPF_PASS .. VG_BPF_ALLOW. A worker does not count passes (the commonest answer,
	 * one write fewer per run): rl_bpf_counters_sum() derives them from runs. */
	uint64_t verdict[4];
	uint64_t invalid; /* verdicts out of range (dropped) */
	uint64_t cached;  /* runs whose answer became the flow's */
	uint64_t alerts;
	uint64_t marks;
	uint64_t timed_runs; /* one run in RL_BPF_TIME_EVERY is timed */
	uint64_t cycles;     /* TSC cycles of the timed runs */
} __attribute__((aligned(64)));

#define RL_BPF_TIME_EVERY 1024u

struct rl_bpf_prog;

/* Whether rl_compile() JIT-compiles programs (policy.bpf_jit; default true). Set before EAL
 * workers start. */
extern bool rl_bpf_jit;

/*
 * Load and validate path (section VG_BPF_SECTION) for n_workers workers, with its maps when a
 * companion file declares them (rl_bpf_map.h); jit false forces the interpreter. Returns the
 * program, or NULL with errno set and err (errlen bytes) filled with the reason: vigild's limit
 * that was exceeded, or the validator's messages. Serialised internally (the validator's log is
 * captured process-wide for the duration).
 */
struct rl_bpf_prog *rl_bpf_load(
		const char *path, unsigned n_workers, bool jit, char *err, size_t errlen);

/*
 * Load n eBPF instructions (8 bytes each) as a program for one worker, without maps: the
 * validator and vigild's analysis of the context as for an object, the helpers without maps
 * (vg_pkt_u8, vg_pkt_u16, vg_pkt_u32, vg_flow_hash) named by a call's index in that order. For
 * the fuzzer of the analysis (tests/fuzz/fuzz_bpf_need.c). NULL with errno and err when refused.
 */
struct rl_bpf_prog *rl_bpf_load_insns(
		const void *insns, uint32_t n, bool jit, char *err, size_t errlen);

/* Free a program no worker runs any more. NULL is a no-op. */
void rl_bpf_free(struct rl_bpf_prog *p);

const char *rl_bpf_path(const struct rl_bpf_prog *p);
uint32_t rl_bpf_n_insns(const struct rl_bpf_prog *p);
bool rl_bpf_jitted(const struct rl_bpf_prog *p);
/* The parts of the context the program may read (enum rl_bpf_need): what a run fills. */
uint32_t rl_bpf_ctx_need(const struct rl_bpf_prog *p);

/* The program's maps (NULL: it declares none). Their entries change; the set does not. */
struct rl_bpf_maps *rl_bpf_maps(const struct rl_bpf_prog *p);

/*
 * What a run of a program reads, the first member of every struct rl_bpf_prog (the rest of
 * which is rl_bpf.c's): the two calls a worker makes per packet, below, are inline.
 */
struct rl_bpf_prog_run {
	uint64_t (*jit)(void *); /* NULL: the interpreter */
	struct rte_bpf *bpf;
	struct rl_bpf_maps *maps;    /* NULL: none declared */
	struct rl_bpf_counters *ctr; /* n_workers */
	unsigned n_workers;
	uint32_t need; /* the parts of the context it may read (enum rl_bpf_need) */
};

static inline const struct rl_bpf_prog_run *
rl_bpf_prog_run(const struct rl_bpf_prog *p)
{
	return (const struct rl_bpf_prog_run *)(const void *)p;
}

/* Worker w's counters (only worker w writes them). */
static inline struct rl_bpf_counters *
rl_bpf_counters(const struct rl_bpf_prog *p, unsigned w)
{
	return &rl_bpf_prog_run(p)->ctr[w];
}

/* Sum over the workers. */
void rl_bpf_counters_sum(const struct rl_bpf_prog *p, struct rl_bpf_counters *out);

/*
 * The run this thread is in (rl_bpf_exec() sets it). A helper acts only when the context
 * pointer it was given is this run's: a program could hand a helper another buffer of the
 * context's size (its stack), which the helper must not take for a run. Initial-exec: no call
 * to reach it.
 */
extern __thread const struct rl_bpf_run *rl_bpf_current __attribute__((tls_model("initial-exec")));

/*
 * Run the program once (JIT or interpreter) as worker w (whose map counters its helper calls
 * count in; one thread per w at a time; a w past the program's workers counts as 0); the raw
 * return value.
 */
static inline uint64_t
rl_bpf_exec(const struct rl_bpf_prog *p, struct rl_bpf_run *r, unsigned w)
{
	const struct rl_bpf_prog_run *run = rl_bpf_prog_run(p);

	r->maps = run->maps;
	r->worker = likely(w < run->n_workers) ? w : 0;
	rl_bpf_current = r;
	if (likely(run->jit != NULL))
		return run->jit(&r->ctx);
	return rte_bpf_exec(run->bpf, &r->ctx);
}

/*
 * For `vigild --check-bpf FILE`: load path with the JIT, print "ok" with its size or the
 * reason to out. Returns 0 when vigild would run it, 1 if not.
 */
int rl_bpf_check(const char *path, FILE *out);

#endif /* RL_BPF_H */

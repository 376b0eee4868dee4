/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Which parts of the context (struct vg_bpf_ctx) a program can read, found from its
 * instructions when it loads, so that the worker fills only those (docs/BPF.md, "What a run
 * costs"). Plain C without DPDK: the unit tests and the fuzzer run it as vigild does.
 *
 * The analysis follows every register that may hold a pointer into the context, from r1 at the
 * entry, through moves and constant offsets (a pointer plus one of a few known constants stays
 * known), along every path of the program (rte_bpf refuses loops, so jumps go forward). A load
 * or store through such a pointer marks the bytes it reaches; a helper call marks what that
 * helper reads of the context. Anything it cannot follow (a pointer stored to memory, passed
 * in another argument, offset by an unknown amount, an instruction it does not know) gives the
 * whole context: never less than the program may read.
 */
#ifndef RL_BPF_NEED_H
#define RL_BPF_NEED_H

#include <stddef.h>
#include <stdint.h>

/* Parts of struct vg_bpf_ctx, by the cost of filling them. */
enum rl_bpf_need {
	RL_BPF_NEED_HDR = 0x01,	 /* version .. dport (bytes 0-13): from the parsed packet */
	RL_BPF_NEED_MARK = 0x02, /* mark: the flow's cold record */
	RL_BPF_NEED_META = 0x04, /* rule_id .. payload_len (bytes 16-35) */
	RL_BPF_NEED_PKTS = 0x08, /* flow_pkts: the flow's hot line */
	RL_BPF_NEED_AGE = 0x10,	 /* flow_age_ns: the flow's cold record */
	RL_BPF_NEED_NOW = 0x20,	 /* now_ns */
	RL_BPF_NEED_SRC = 0x40,	 /* src */
	RL_BPF_NEED_DST = 0x80,	 /* dst */
	RL_BPF_NEED_ALL = 0xff,
};

/* The parts a range of context bytes [off, off + len) falls in (RL_BPF_NEED_ALL past its end). */
uint32_t rl_bpf_need_bytes(int64_t off, int64_t len);

/* A helper call found in the program: the instruction's index and the helper's name. */
struct rl_bpf_call {
	uint32_t insn;
	const char *name;
};

/* What a helper reads of the context, by name; RL_BPF_NEED_ALL for a name it does not know. */
typedef uint32_t (*rl_bpf_helper_need_fn)(const char *name);

/*
 * The parts of the context the n instructions (8 bytes each, as in the ELF section) may read,
 * with the calls' helpers named by calls (n_calls, any order). RL_BPF_NEED_ALL when the
 * analysis cannot tell (or runs out of memory). *blind (when not NULL) is the first
 * instruction that reads or writes memory through a pointer into the context whose offset the
 * analysis cannot tell (the pointer added to another pointer, multiplied, ...: nothing clang
 * makes, and rte_bpf's validator lets some of it through to fault at run time), else -1;
 * rl_bpf_load() refuses such a program.
 */
uint32_t rl_bpf_need(const void *insns, uint32_t n, const struct rl_bpf_call *calls, size_t n_calls,
		rl_bpf_helper_need_fn helper_need, int64_t *blind);

#endif /* RL_BPF_NEED_H */

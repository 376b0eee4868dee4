/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker lcore: its queues, TX buffers, parser, flow table, event queue, counters, and the
 * poll loop.
 *
 * Everything a worker writes on the fast path lives in its own cache-aligned structs; it shares
 * nothing writable with other workers and never takes a lock, allocates or makes a system call
 * while packets flow (the optional idle sleep happens only when a whole loop found no packet).
 * Two exceptions take a lock per burst: TX queues that the software dispatch shares among
 * workers, and under watchdog.failure: open the queues a fallback may poll (dp_failopen.h).
 */
#ifndef DP_WORKER_H
#define DP_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_ring.h>
#include <rte_spinlock.h>

#include "dp_clock.h"
#include "dp_evq.h"
#include "dp_flow.h"
#include "dp_frag.h"
#include "dp_inspect.h"
#include "dp_parse.h"
#include "dp_shared.h"
#include "dp_stats.h"
#include "rl_compile.h"
#include "rl_ratelimit.h"
#include "vg_config.h"

#define DP_MAX_BURST 64

/* One RX queue a worker polls, and where its packets go. */
struct dp_rx_source {
	uint16_t port;	  /* config index */
	uint16_t port_id; /* ethdev */
	uint16_t queue;
	uint16_t peer; /* config index of the egress port */
	bool dispatch; /* software dispatch: hand other workers' frames to them */
	/* Fail-open (dp_failopen.h): the queue's lock, taken around each RX burst; else NULL. */
	rte_spinlock_t *rxlock;
};

/*
 * Software dispatch (dataplane/dp_dispatch.h), set up by dp.c when a pair's devices cannot
 * steer and several workers share it: the rings to and from every other worker (SP/SC: one
 * ring per direction of each pair of workers keeps each receiver's order), and the source a
 * handed-off frame is processed as, by its ingress port.
 */
struct dp_handoff {
	unsigned n_workers; /* 0: this worker takes part in no dispatch */
	bool wait;	    /* a full ring: wait for room (the packet clock), not lose the frames */
	struct dp_worker *const *workers;     /* all of them, for the drain at the end */
	struct rte_ring *out[VG_MAX_WORKERS]; /* to worker j (NULL for this worker) */
	struct rte_ring *in[VG_MAX_WORKERS];  /* from worker j (NULL for this worker) */
	struct dp_rx_source src[VG_MAX_PORTS];
	unsigned n_src;
};

/* Packets polled but not yet processed, per RX queue (replay in time order). */
struct dp_stage {
	struct rte_mbuf *pkts[VG_MAX_PORTS][DP_MAX_BURST];
	uint16_t head[VG_MAX_PORTS];
	uint16_t len[VG_MAX_PORTS];
};

/* What becomes of a packet when its burst is done. Every packet starts as DP_DISP_DROP. */
enum dp_disp {
	DP_DISP_DROP = 0, /* freed */
	DP_DISP_FORWARD,  /* sent on to the pair's other port */
	DP_DISP_ANSWERED, /* rewritten into a reject answer and sent back: neither sent on nor freed
			   */
};

/*
 * One burst on its way through the stages of dp_worker.c, in the worker so that nothing of it
 * lives on the stack. Arrays by arrival index i, or by key index j for the packets that have a
 * flow key (idx[j] is the arrival index of key j).
 */
struct dp_burst {
	/* The burst and what it reads from the shared state, once. */
	const struct dp_rx_source *src;
	struct rte_mbuf **pkts;
	uint16_t n;
	bool dry_all;
	const struct rl_snapshot *pol;
	struct rl_counters *rc; /* this worker's rule counters (NULL without a policy) */
	uint32_t epoch;
	unsigned n_rules;
	const struct rl_bpf_prog *pre; /* the ingress port's pre-filter (NULL: none) */
	uint32_t pre_idx;	       /* its index in the snapshot */
	uint8_t bpf_cold; /* DP_FF_BPF when a rule's program reads its flow's cold record, else 0 */

	/* Per packet. */
	struct dp_pkt meta[DP_MAX_BURST];
	uint64_t when[DP_MAX_BURST];
	uint8_t disp[DP_MAX_BURST]; /* enum dp_disp */

	/* Packets with a flow key, in arrival order. */
	unsigned m;
	uint16_t idx[DP_MAX_BURST];
	struct dp_flow_lkey keys[DP_MAX_BURST];
	int32_t pos[DP_MAX_BURST];	       /* the flow's entry, or DP_NO_FLOW */
	struct dp_flow_hot *hot[DP_MAX_BURST]; /* its hot line (NULL: no flow) */
	uint64_t rm[DP_MAX_BURST];	       /* the table's removals when pos was found */
	uint32_t sl_rule[DP_MAX_BURST];	       /* stateless rule matched, or RL_RULE_DEFAULT */

	/* Later fragments (arrival indices): decided among the others, in arrival order. */
	unsigned nl;
	uint16_t later[DP_MAX_BURST];

	/* Flows to classify, and when each was queued. */
	unsigned nc;
	int32_t cls[DP_MAX_BURST];
	uint64_t cls_when[DP_MAX_BURST];
};

/* A packet without a flow: untracked (no 5-tuple), or the table was full. */
#define DP_NO_FLOW (-1)

struct dp_worker {
	unsigned id;
	unsigned lcore;
	uint32_t burst;
	uint32_t idle_sleep_us;
	uint64_t drain_tsc;
	bool orphan_forward;
	bool overflow_open;
	uint8_t exc[VG_EXC__COUNT]; /* exception policies (enum vg_exc_action) */

	struct dp_rx_source rx[VG_MAX_PORTS];
	unsigned n_rx;

	/* Per config port index: this worker's TX queue and its buffer (NULL if unused). */
	uint16_t tx_port_id[VG_MAX_PORTS];
	uint16_t txq[VG_MAX_PORTS];
	struct rte_eth_dev_tx_buffer *txb[VG_MAX_PORTS];
	/* The TX queue's lock when workers share it (software dispatch) or a fail-open fallback
	 * may use it (dp_failopen.h), else NULL. */
	rte_spinlock_t *txlock[VG_MAX_PORTS];
	struct dp_failopen *fo; /* fail-open's locks and counters (NULL: failure closed) */
	uint16_t n_ports;
	struct dp_handoff ho;

	bool quit;	   /* set by control, read with __atomic */
	bool stopped;	   /* set by the worker: no more polling, its events are on the ring */
	bool flush_go;	   /* set by control: end the open flows now */
	bool done;	   /* set by the worker when its loop has returned */
	bool rx_stopped;   /* set by the worker: it polls its queues no more (dispatch drain) */
	uint64_t clock_ns; /* the dataplane clock, published after each loop's events */
	uint64_t loop_tsc; /* the TSC when this loop began: its bursts' live time */

	const struct dp_shared *shared; /* policy snapshot and mode, from control */
	const struct dp_blocklist *block;
	struct rte_rcu_qsbr *qsbr;
	struct rl_src_table *rate_src; /* per-source rate-limit buckets */
	struct dp_inspect *inspect;    /* signature scanning */
	const struct det_engine *eng;  /* engine for this loop (NULL: no inspection) */
	bool sigs_pending;	       /* no engine yet, one is coming (signatures.delayed) */
	bool inspect_all;
	bool stages;		/* bench mode: count cycles per stage (ctr.stage_cycles) */
	uint64_t tsc_read_cost; /* one rte_rdtsc(), measured at start */
	struct rl_tb reject_tb; /* answers to rejected packets, per second */
	struct rl_tb_params reject_tb_params;

	struct dp_clock clock;
	struct dp_stage *stage; /* packet clock only */
	int ts_offset;		/* RX timestamp dynfield, for the packet clock */
	uint64_t ts_flag;
	struct dp_parse_policy parse_pol;
	struct dp_flow_table *flows;
	const struct dp_flow_counters *flow_ctr; /* its counters (removals move entries) */
	struct dp_frag_table *frags;
	struct dp_reasm *reasm;	 /* fragments of inspected flows, reassembled for scanning */
	struct rte_ring *events; /* to control */

	struct dp_burst cur __rte_cache_aligned; /* the burst being processed */
	struct dp_worker_counters ctr __rte_cache_aligned;
	struct dp_parse_counters parse_ctr __rte_cache_aligned;
	struct dp_evq evq __rte_cache_aligned;
} __rte_cache_aligned;

/*
 * Allocate a worker for lcore: TX buffers, flow and fragment tables, its event ring to
 * control. Returns NULL and sets rte_errno on failure.
 */
struct rte_rcu_qsbr;
struct dp_blocklist;

struct al_config;

/* alc: the application layer's settings (NULL: off). */
struct dp_worker *dp_worker_create(unsigned id, unsigned lcore, const struct vg_config *cfg,
		const struct al_config *alc, const struct dp_shared *shared,
		struct rte_rcu_qsbr *qsbr, const struct dp_blocklist *block);

/* Free a worker and what it owns; NULL is a no-op. Unsent packets are freed. */
void dp_worker_free(struct dp_worker *w);

/* Serve RX queue q of port (config index) and use TX queue q of every port it sends to. */
int dp_worker_add_rx(struct dp_worker *w, uint16_t port, uint16_t port_id, uint16_t queue,
		uint16_t peer, uint16_t peer_port_id);

/*
 * Software dispatch: frames of port (config index) that other workers hand to this one are
 * processed as if received there, and this worker sends on TX queue 0 of the port and its peer
 * (shared: w->txlock guards them).
 */
int dp_worker_add_handoff_source(struct dp_worker *w, uint16_t port, uint16_t port_id,
		uint16_t peer, uint16_t peer_port_id);

/*
 * The lcore entry point (arg is the worker). When quit is set it polls no more, drains, puts
 * its last events on the ring and sets stopped; once flush_go is set it ends every open flow
 * (their end events follow) and returns.
 */
int dp_worker_main(void *arg);

/* Ask the worker to stop; safe from any thread. */
static inline void
dp_worker_request_quit(struct dp_worker *w)
{
	__atomic_store_n(&w->quit, true, __ATOMIC_RELEASE);
}

/* Let a stopped worker end its open flows. */
static inline void
dp_worker_release_flush(struct dp_worker *w)
{
	__atomic_store_n(&w->flush_go, true, __ATOMIC_RELEASE);
}

#endif /* DP_WORKER_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane as a whole: mempool, ports, workers. Created and driven by vigild's main
 * (control) lcore; workers run dp_worker_main() on their own lcores.
 */
#ifndef DP_H
#define DP_H

#include <stdbool.h>
#include <stdint.h>

#include "dp_port.h"
#include "dp_shared.h"
#include "dp_stats.h"
#include "vg_config.h"

struct dp;

/*
 * Create the mempool, find and start the ports, and lay out the workers' queues. Call after
 * rte_eal_init(). alc: the application layer's settings (NULL: no parsing). Returns NULL with
 * rte_errno set; what was started is undone.
 */
struct al_config;
struct dp *dp_create(const struct vg_config *cfg, const struct al_config *alc);

/* The action (enum vg_exc_action) of an exception condition (enum vg_exc_cond). */
unsigned dp_exception_action(const struct dp *dp, unsigned cond);

/* Launch every worker on its lcore. Returns 0 or -errno. */
int dp_launch(struct dp *dp);

/*
 * Ask every worker to stop, without waiting. Workers stop polling, drain their TX buffers and
 * put their last events on the ring (dp_workers_stopped()); they then wait for
 * dp_release_flush() to end every open flow (end events go to control, which should keep
 * draining until dp_workers_done()).
 */
void dp_request_stop(struct dp *dp);

/* True once every launched worker has stopped polling and queued its last events. */
bool dp_workers_stopped(const struct dp *dp);

/* Let stopped workers end their open flows and return. */
void dp_release_flush(struct dp *dp);

/* True once every launched worker has returned from its loop. */
bool dp_workers_done(const struct dp *dp);

/* Ask every worker to stop, let them end their flows, and wait for them. */
void dp_stop(struct dp *dp);

/*
 * The dataplane clock (ns since the epoch; the capture's time in a replay): the latest any
 * worker has published. 0 before the first loop.
 */
uint64_t dp_clock_now(const struct dp *dp);

/*
 * The time up to which every worker's events are on its ring: the earliest clock among the
 * workers that have input (0 until each has its first packet, on the capture's clock).
 * Control closes its intervals up to it: a worker behind the others (an owner still working
 * through frames handed to it, a queue whose capture is further back) may still make events
 * older than the latest clock.
 */
uint64_t dp_clock_settled(const struct dp *dp);

/* Stop ports and free everything; NULL is a no-op. Calls dp_stop() if needed. */
void dp_free(struct dp *dp);

unsigned dp_n_ports(const struct dp *dp);
const struct dp_port *dp_port(const struct dp *dp, unsigned i);
unsigned dp_n_workers(const struct dp *dp);
const struct dp_worker_counters *dp_worker_counters(const struct dp *dp, unsigned w);
unsigned dp_worker_lcore(const struct dp *dp, unsigned w);

/* Bench mode (stats.stages): the workers count cycles per stage (dp_stats.h). */
bool dp_stages_enabled(const struct dp *dp);

/* Packets worker w has received (over every port it polls). */
uint64_t dp_worker_rx(const struct dp *dp, unsigned w);

struct rte_ring;
struct dp_flow_counters;
struct dp_frag_counters;
struct dp_parse_counters;
struct dp_inspect_counters;

/* Worker w's event ring to control (single consumer: the control lcore). */
struct rte_ring *dp_worker_events(const struct dp *dp, unsigned w);

/*
 * Read before taking worker w's events off its ring, a time its later events cannot precede:
 * everything it made up to its published clock is on the ring already (0 until its first
 * packet, on the capture's clock). UINT64_MAX when it has stopped polling (all its events are
 * on the ring) or has no input at all.
 */
uint64_t dp_worker_event_bound(const struct dp *dp, unsigned w);

/* Worker w's flow, fragment and parser counters, and its event queue's sent/lost counts. */
const struct dp_flow_counters *dp_worker_flow_counters(const struct dp *dp, unsigned w);
const struct dp_frag_counters *dp_worker_frag_counters(const struct dp *dp, unsigned w);
const struct dp_parse_counters *dp_worker_parse_counters(const struct dp *dp, unsigned w);
const struct dp_inspect_counters *dp_worker_inspect_counters(const struct dp *dp, unsigned w);
/* Worker w's application-layer context (its counters, al.h), NULL when the layer is off. */
struct al_ctx;
const struct al_ctx *dp_worker_al(const struct dp *dp, unsigned w);
struct dp_reasm_counters;
const struct dp_reasm_counters *dp_worker_reasm_counters(const struct dp *dp, unsigned w);
struct dp_evq_counters;
const struct dp_evq_counters *dp_worker_event_counters(const struct dp *dp, unsigned w);
size_t dp_worker_flow_memory(const struct dp *dp, unsigned w);
/* Entries of worker w's flow table (an IPv4 flow takes one, an IPv6 flow two). */
uint32_t dp_worker_flow_entries(const struct dp *dp, unsigned w);

/*
 * Publish a policy snapshot (NULL: none) to every worker and return the previous one, which no
 * worker uses any more when this returns (it waits for every running worker to pass a
 * quiescent state). Control lcore only. The caller frees what it gets back.
 */
struct rl_snapshot *dp_policy_publish(struct dp *dp, struct rl_snapshot *s);

/* The workers' quiescent-state variable (for structures that others reclaim after a grace
 * period on it, as the eBPF maps do: rl_bpf_maps_set_qsbr). */
struct rte_rcu_qsbr;
struct rte_rcu_qsbr *dp_qsbr(struct dp *dp);

/* Addresses dropped whatever the policy says (dp_block.h): control adds and removes. */
#define DP_BLOCKLIST_MAX 65536
struct dp_blocklist *dp_blocklist(struct dp *dp);

/*
 * Publish a signature engine (NULL: none), like dp_policy_publish(): returns the previous one
 * once no worker scans with it any more. Workers move their scratch to the new engine at the
 * top of their next loop.
 */
struct det_engine;
struct det_engine *dp_sigs_publish(struct dp *dp, struct det_engine *e);

/*
 * Signatures are configured but not built yet (signatures.delayed): until an engine is
 * published, packets of inspected flows meet the signatures_loading exception. Publishing an
 * engine clears it.
 */
void dp_set_sigs_pending(struct dp *dp, bool pending);
bool dp_sigs_pending(const struct dp *dp);

/* The snapshot in force (control lcore only: it is the one that changes it). */
struct rl_snapshot *dp_policy(const struct dp *dp);

void dp_set_mode(struct dp *dp, enum dp_mode mode);
enum dp_mode dp_mode(const struct dp *dp);

/*
 * Ports (bit i: config index i) whose packets are forwarded and counted as in dry-run whatever
 * the mode: the pairs in dry-run or learning on their own. Control sets both ports of a pair.
 * Workers see it from their next burst.
 */
void dp_set_dry_ports(struct dp *dp, uint32_t ports);
uint32_t dp_dry_ports(const struct dp *dp);

/* Sum of one port's counters over all workers. */
void dp_port_counters(const struct dp *dp, unsigned port, struct dp_port_counters *out);

/* Packets received over all ports and workers (for idle detection). */
uint64_t dp_total_rx(const struct dp *dp);

/*
 * The RX queues worker w polls, at most max of them: queue[i] of the port whose config index is
 * port[i] (a worker polls at most one queue of each port, so (w, port) names the queue and
 * dp_worker_counters(dp, w)->port[port] holds its counters). Returns how many there are (may be
 * more than max). Set before the workers start; any thread.
 */
unsigned dp_worker_queues(
		const struct dp *dp, unsigned w, uint16_t *port, uint16_t *queue, unsigned max);

/*
 * Fail-open (watchdog.failure: open; dataplane/dp_failopen.h): give every worker's RX and TX
 * queues the locks a fallback needs to poll them while the worker is stalled. Before
 * dp_launch(); returns 0, -EBUSY once launched, or -ENOMEM.
 */
int dp_failopen_enable(struct dp *dp);

/*
 * One pass of the fallback over worker w's RX queues: each burst goes unchanged to the pair's
 * other port, on w's TX queue of it. One thread at a time (control's lcore), and only while w
 * is stalled; a no-op without dp_failopen_enable(). Returns the frames received.
 */
unsigned dp_failopen_poll(struct dp *dp, unsigned w);

/* What the fallback did for worker w (NULL without fail-open). Any thread (dp_read_u64). */
struct dp_failopen_counters;
const struct dp_failopen_counters *dp_failopen_counters(const struct dp *dp, unsigned w);

/* Add the fallback's frames of port (config index) to out (dp_port_counters() does). */
void dp_failopen_add_port_counters(
		const struct dp *dp, unsigned port, struct dp_port_counters *out);

/*
 * True while a queue lock of the worker on lcore is taken. Async-signal-safe: the test stall
 * hook (app/vigild.c) stalls a worker only outside its queue calls.
 */
bool dp_failopen_lcore_locked(const struct dp *dp, unsigned lcore);

#endif /* DP_H */

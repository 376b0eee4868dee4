/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_spinlock.h>

#include "dp.h"
#include "dp_block.h"
#include "dp_failopen.h"
#include "dp_reasm.h"
#include "dp_worker.h"
#include "vg_log.h"

struct dp {
	struct dp_shared shared; /* read by every worker */
	struct rte_rcu_qsbr *qsbr;
	struct dp_blocklist *block;
	const struct vg_config *cfg;
	struct rte_mempool *pool;
	struct dp_port ports[VG_MAX_PORTS];
	unsigned n_ports;
	struct dp_worker *workers[VG_MAX_WORKERS];
	unsigned n_workers;
	bool launched;
	/* Software dispatch: handoff[i][j] carries frames from worker i to worker j, and the
	 * shared TX queue of each port whose pair uses it has its lock. */
	bool dispatch;
	struct rte_ring *handoff[VG_MAX_WORKERS][VG_MAX_WORKERS];
	rte_spinlock_t txlock[VG_MAX_PORTS];
};

/* Frames in flight from one worker to another; a full ring loses them (counted). */
#define DP_HANDOFF_RING 1024

/*
 * Enough mbufs for every RX and TX ring to be full at once, plus what the workers hold in
 * bursts, TX buffers and mempool caches, with a margin; rounded to 2^n - 1 as the mempool likes.
 */
static uint32_t
pool_size(const struct dp *dp)
{
	const struct vg_config *cfg = dp->cfg;
	uint64_t n = 0;

	for (unsigned i = 0; i < dp->n_ports; i++)
		n += (uint64_t)dp->ports[i].n_queues *
		     (cfg->ports[i].rx_desc + cfg->ports[i].tx_desc);
	n += (uint64_t)dp->n_workers * (cfg->mbuf_cache * 3 / 2 + DP_MAX_BURST * (dp->n_ports + 1));
	n += 4096;
	if (dp->dispatch)
		n += (uint64_t)dp->n_workers * (dp->n_workers - 1) * DP_HANDOFF_RING;
	for (unsigned i = 0; i < dp->n_ports; i++)
		n += dp_port_held_mbufs(cfg->ports[i].device);
	uint32_t p = 1;
	while (p - 1 < n && p < (1u << 31))
		p <<= 1;
	return p - 1;
}

static int
create_pool(struct dp *dp)
{
	const struct vg_config *cfg = dp->cfg;
	uint32_t n = cfg->mbufs ? cfg->mbufs : pool_size(dp);

	dp->pool = rte_pktmbuf_pool_create("vg_mbufs", n, cfg->mbuf_cache, 0,
			(uint16_t)cfg->mbuf_data_room, (int)rte_socket_id());
	if (dp->pool == NULL) {
		DP_LOG(ERR, "mbuf pool of %u x %u bytes: %s", n, cfg->mbuf_data_room,
				rte_strerror(rte_errno));
		return -rte_errno;
	}
	DP_LOG(INFO, "mbuf pool: %u mbufs of %u bytes (%.1f MiB)", n, cfg->mbuf_data_room,
			(double)n * (cfg->mbuf_data_room + sizeof(struct rte_mbuf)) / (1 << 20));
	return 0;
}

/*
 * A pair whose devices cannot steer (one queue each) while several workers run: its worker
 * receives and hands each frame to the owner of its address pair (dp_dispatch.h).
 */
static bool
pair_dispatches(const struct dp *dp, unsigned k)
{
	return dp->ports[dp->cfg->pairs[k].a].steering == DP_STEER_SOFTWARE;
}

/*
 * The rings between every two workers, the handed-off frames' sources at every worker, and the
 * locks of the TX queues the workers now share.
 */
static int
setup_dispatch(struct dp *dp)
{
	const struct vg_config *cfg = dp->cfg;
	const unsigned nw = dp->n_workers;
	char name[RTE_RING_NAMESIZE];
	int rc = 0;

	for (unsigned i = 0; i < nw; i++)
		for (unsigned j = 0; j < nw; j++) {
			if (i == j)
				continue;
			snprintf(name, sizeof(name), "vg_ho_%u_%u", i % 100, j % 100);
			dp->handoff[i][j] = rte_ring_create(name, DP_HANDOFF_RING,
					(int)rte_lcore_to_socket_id(dp->workers[j]->lcore),
					RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (dp->handoff[i][j] == NULL) {
				DP_LOG(ERR, "handoff ring %u to %u: %s", i, j,
						rte_strerror(rte_errno));
				return -ENOMEM;
			}
		}
	for (unsigned i = 0; i < nw; i++) {
		struct dp_handoff *ho = &dp->workers[i]->ho;

		ho->n_workers = nw;
		ho->workers = dp->workers;
		/* Live, a full ring means an overloaded owner: waiting would hold up every other
		 * flow of the receiver, so the frames are lost (and counted). */
		ho->wait = cfg->clock == VG_CLOCK_PACKET;
		for (unsigned j = 0; j < nw; j++) {
			ho->out[j] = dp->handoff[i][j];
			ho->in[j] = dp->handoff[j][i];
		}
	}
	for (unsigned k = 0; k < cfg->n_pairs; k++) {
		const struct dp_port *pa = &dp->ports[cfg->pairs[k].a];
		const struct dp_port *pb = &dp->ports[cfg->pairs[k].b];
		struct dp_worker *rx = dp->workers[k % nw];

		if (!pair_dispatches(dp, k))
			continue;
		rte_spinlock_init(&dp->txlock[pa->index]);
		rte_spinlock_init(&dp->txlock[pb->index]);
		for (unsigned r = 0; r < rx->n_rx; r++)
			if (rx->rx[r].port == pa->index || rx->rx[r].port == pb->index)
				rx->rx[r].dispatch = true;
		for (unsigned i = 0; i < nw; i++) {
			struct dp_worker *w = dp->workers[i];

			rc |= dp_worker_add_handoff_source(
					w, pa->index, pa->port_id, pb->index, pb->port_id);
			rc |= dp_worker_add_handoff_source(
					w, pb->index, pb->port_id, pa->index, pa->port_id);
			w->txlock[pa->index] = &dp->txlock[pa->index];
			w->txlock[pb->index] = &dp->txlock[pb->index];
		}
		DP_LOG(INFO,
				"pair %s-%s: one queue per port and %u workers: worker %u receives "
				"and hands each frame to the worker that owns its address pair",
				pa->cfg->name, pb->cfg->name, nw, k % nw);
	}
	return rc;
}

/* Queue q of pair k goes to worker (k + q) % n_workers; see dp_port.h. */
static int
assign_queues(struct dp *dp)
{
	int rc = 0;

	const struct vg_config *cfg = dp->cfg;

	for (unsigned k = 0; k < cfg->n_pairs; k++) {
		struct dp_port *pa = &dp->ports[cfg->pairs[k].a], *pb = &dp->ports[cfg->pairs[k].b];

		for (uint16_t q = 0; q < pa->n_queues; q++) {
			struct dp_worker *w = dp->workers[(k + q) % dp->n_workers];

			rc |= dp_worker_add_rx(
					w, pa->index, pa->port_id, q, pb->index, pb->port_id);
			rc |= dp_worker_add_rx(
					w, pb->index, pb->port_id, q, pa->index, pa->port_id);
		}
	}
	for (unsigned i = 0; i < dp->n_workers && !dp->dispatch; i++)
		if (dp->workers[i]->n_rx == 0)
			DP_LOG(WARNING,
					"worker %u (lcore %u) has no queue to poll: the ports "
					"offer fewer queues than there are workers",
					i, dp->workers[i]->lcore);
	return rc;
}

struct dp *
dp_create(const struct vg_config *cfg, const struct al_config *alc)
{
	struct dp *dp;
	int rc;

	dp = rte_zmalloc("dp", sizeof(*dp), RTE_CACHE_LINE_SIZE);
	if (dp == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	dp->cfg = cfg;
	dp->n_ports = cfg->n_ports;
	dp->n_workers = cfg->n_workers;

	rc = dp_ports_probe(dp->ports, cfg);
	if (rc == 0)
		rc = dp_ports_plan_queues(dp->ports, cfg, dp->n_workers);
	for (unsigned k = 0; rc == 0 && k < cfg->n_pairs; k++)
		dp->dispatch |= pair_dispatches(dp, k);
	if (rc == 0)
		rc = create_pool(dp);
	for (unsigned i = 0; rc == 0 && i < dp->n_ports; i++) {
		/* net_pcap stamps every packet with its capture time whether or not the offload
		 * is asked for (and does not list it); other devices need it turned on. */
		rc = dp_port_start(&dp->ports[i], dp->pool, cfg->clock == VG_CLOCK_PACKET);
		if (rc == 0)
			dp_port_log_link(&dp->ports[i]);
	}
	if (rc == 0) {
		size_t sz = rte_rcu_qsbr_get_memsize(dp->n_workers);

		dp->qsbr = rte_zmalloc("dp_qsbr", sz, RTE_CACHE_LINE_SIZE);
		if (dp->qsbr == NULL || rte_rcu_qsbr_init(dp->qsbr, dp->n_workers) != 0)
			rc = -ENOMEM;
	}
	dp->shared.mode = cfg->dry_run ? DP_MODE_DRY_RUN : DP_MODE_ENFORCE;
	if (rc == 0) {
		dp->block = dp_blocklist_create(DP_BLOCKLIST_MAX, dp->qsbr, (int)rte_socket_id());
		if (dp->block == NULL)
			rc = -ENOMEM;
	}
	for (unsigned i = 0; rc == 0 && i < dp->n_workers; i++) {
		dp->workers[i] = dp_worker_create(
				i, cfg->workers[i], cfg, alc, &dp->shared, dp->qsbr, dp->block);
		if (dp->workers[i] == NULL)
			rc = -rte_errno;
	}
	if (rc != 0) {
		dp_free(dp);
		rte_errno = -rc;
		return NULL;
	}
	if (assign_queues(dp) != 0 || (dp->dispatch && setup_dispatch(dp) != 0)) {
		dp_free(dp);
		rte_errno = ENOMEM;
		return NULL;
	}
	return dp;
}

int
dp_launch(struct dp *dp)
{
	for (unsigned i = 0; i < dp->n_workers; i++) {
		unsigned lcore = dp->workers[i]->lcore;
		int rc;

		if (!rte_lcore_is_enabled(lcore)) {
			DP_LOG(ERR, "worker lcore %u is not enabled in EAL", lcore);
			dp_stop(dp);
			return -EINVAL;
		}
		rc = rte_eal_remote_launch(dp_worker_main, dp->workers[i], lcore);
		if (rc != 0) {
			DP_LOG(ERR, "cannot launch worker %u on lcore %u: %s", i, lcore,
					strerror(-rc));
			dp_stop(dp);
			return rc;
		}
		dp->launched = true;
	}
	return 0;
}

void
dp_request_stop(struct dp *dp)
{
	for (unsigned i = 0; i < dp->n_workers; i++)
		dp_worker_request_quit(dp->workers[i]);
}

bool
dp_workers_stopped(const struct dp *dp)
{
	if (!dp->launched)
		return true;
	for (unsigned i = 0; i < dp->n_workers; i++)
		if (!__atomic_load_n(&dp->workers[i]->stopped, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

void
dp_release_flush(struct dp *dp)
{
	for (unsigned i = 0; i < dp->n_workers; i++)
		dp_worker_release_flush(dp->workers[i]);
}

uint64_t
dp_clock_now(const struct dp *dp)
{
	uint64_t now = 0;

	for (unsigned i = 0; i < dp->n_workers; i++) {
		uint64_t c = __atomic_load_n(&dp->workers[i]->clock_ns, __ATOMIC_ACQUIRE);

		if (c > now)
			now = c;
	}
	return now;
}

/* A worker that polls no queue and takes no handed-off frame makes no event. */
static bool
has_input(const struct dp_worker *w)
{
	return w->n_rx > 0 || w->ho.n_workers > 0;
}

uint64_t
dp_clock_settled(const struct dp *dp)
{
	uint64_t settled = UINT64_MAX;

	for (unsigned i = 0; i < dp->n_workers; i++) {
		uint64_t c = __atomic_load_n(&dp->workers[i]->clock_ns, __ATOMIC_ACQUIRE);

		if (has_input(dp->workers[i]) && c < settled)
			settled = c;
	}
	return settled == UINT64_MAX ? dp_clock_now(dp) : settled;
}

bool
dp_workers_done(const struct dp *dp)
{
	if (!dp->launched)
		return true;
	for (unsigned i = 0; i < dp->n_workers; i++)
		if (!__atomic_load_n(&dp->workers[i]->done, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

void
dp_stop(struct dp *dp)
{
	if (!dp->launched)
		return;
	dp_request_stop(dp);
	dp_release_flush(dp);
	for (unsigned i = 0; i < dp->n_workers; i++)
		rte_eal_wait_lcore(dp->workers[i]->lcore);
	dp->launched = false;
}

struct rl_snapshot *
dp_policy_publish(struct dp *dp, struct rl_snapshot *s)
{
	struct rl_snapshot *old = __atomic_exchange_n(&dp->shared.policy, s, __ATOMIC_ACQ_REL);

	/* Workers that are offline (not launched, or stopped) hold no reference. */
	rte_rcu_qsbr_synchronize(dp->qsbr, RTE_QSBR_THRID_INVALID);
	return old;
}

struct det_engine *
dp_sigs_publish(struct dp *dp, struct det_engine *e)
{
	struct det_engine *old = __atomic_exchange_n(&dp->shared.sigs, e, __ATOMIC_ACQ_REL);

	if (e != NULL)
		__atomic_store_n(&dp->shared.sigs_pending, 0, __ATOMIC_RELEASE);
	rte_rcu_qsbr_synchronize(dp->qsbr, RTE_QSBR_THRID_INVALID);
	return old;
}

void
dp_set_sigs_pending(struct dp *dp, bool pending)
{
	__atomic_store_n(&dp->shared.sigs_pending, pending ? 1u : 0u, __ATOMIC_RELEASE);
}

bool
dp_sigs_pending(const struct dp *dp)
{
	return __atomic_load_n(&dp->shared.sigs_pending, __ATOMIC_ACQUIRE) != 0;
}

struct rte_rcu_qsbr *
dp_qsbr(struct dp *dp)
{
	return dp->qsbr;
}

struct dp_blocklist *
dp_blocklist(struct dp *dp)
{
	return dp->block;
}

struct rl_snapshot *
dp_policy(const struct dp *dp)
{
	return __atomic_load_n(&dp->shared.policy, __ATOMIC_ACQUIRE);
}

void
dp_set_mode(struct dp *dp, enum dp_mode mode)
{
	__atomic_store_n(&dp->shared.mode, (uint32_t)mode, __ATOMIC_RELEASE);
}

void
dp_set_dry_ports(struct dp *dp, uint32_t ports)
{
	__atomic_store_n(&dp->shared.dry_ports, ports, __ATOMIC_RELEASE);
}

uint32_t
dp_dry_ports(const struct dp *dp)
{
	return __atomic_load_n(&dp->shared.dry_ports, __ATOMIC_ACQUIRE);
}

enum dp_mode
dp_mode(const struct dp *dp)
{
	return (enum dp_mode)__atomic_load_n(&dp->shared.mode, __ATOMIC_ACQUIRE);
}

unsigned
dp_exception_action(const struct dp *dp, unsigned cond)
{
	return cond < VG_EXC__COUNT ? dp->cfg->exceptions[cond] : VG_EXC_PASS;
}

struct rte_ring *
dp_worker_events(const struct dp *dp, unsigned w)
{
	return dp->workers[w]->events;
}

uint64_t
dp_worker_event_bound(const struct dp *dp, unsigned w)
{
	const struct dp_worker *wk = dp->workers[w];
	uint64_t c;

	if (__atomic_load_n(&wk->stopped, __ATOMIC_ACQUIRE))
		return UINT64_MAX;
	c = __atomic_load_n(&wk->clock_ns, __ATOMIC_ACQUIRE);
	return !has_input(wk) ? UINT64_MAX : c;
}

const struct dp_flow_counters *
dp_worker_flow_counters(const struct dp *dp, unsigned w)
{
	return dp_flow_counters(dp->workers[w]->flows);
}

const struct dp_frag_counters *
dp_worker_frag_counters(const struct dp *dp, unsigned w)
{
	return dp_frag_counters(dp->workers[w]->frags);
}

const struct dp_parse_counters *
dp_worker_parse_counters(const struct dp *dp, unsigned w)
{
	return &dp->workers[w]->parse_ctr;
}

const struct dp_reasm_counters *
dp_worker_reasm_counters(const struct dp *dp, unsigned w)
{
	return dp_reasm_counters(dp->workers[w]->reasm);
}

const struct dp_inspect_counters *
dp_worker_inspect_counters(const struct dp *dp, unsigned w)
{
	return dp_inspect_counters(dp->workers[w]->inspect);
}

const struct al_ctx *
dp_worker_al(const struct dp *dp, unsigned w)
{
	return dp_inspect_al(dp->workers[w]->inspect);
}

const struct dp_evq_counters *
dp_worker_event_counters(const struct dp *dp, unsigned w)
{
	return &dp->workers[w]->evq.ctr;
}

size_t
dp_worker_flow_memory(const struct dp *dp, unsigned w)
{
	return dp_flow_table_memory(dp->workers[w]->flows);
}

uint32_t
dp_worker_flow_entries(const struct dp *dp, unsigned w)
{
	return dp_flow_table_entries(dp->workers[w]->flows);
}

void
dp_free(struct dp *dp)
{
	if (dp == NULL)
		return;
	dp_stop(dp);
	for (unsigned i = 0; i < dp->n_ports; i++)
		dp_port_stop(&dp->ports[i]);
	for (unsigned i = 0; i < dp->n_workers; i++)
		dp_worker_free(dp->workers[i]);
	for (unsigned i = 0; i < dp->n_workers; i++)
		for (unsigned j = 0; j < dp->n_workers; j++) {
			struct rte_mbuf *m;

			if (dp->handoff[i][j] == NULL)
				continue;
			while (rte_ring_dequeue(dp->handoff[i][j], (void **)&m) == 0)
				rte_pktmbuf_free(m);
			rte_ring_free(dp->handoff[i][j]);
		}
	rte_mempool_free(dp->pool);
	dp_blocklist_free(dp->block);
	rte_free(dp->qsbr);
	rte_free(dp);
}

unsigned
dp_n_ports(const struct dp *dp)
{
	return dp->n_ports;
}

const struct dp_port *
dp_port(const struct dp *dp, unsigned i)
{
	return &dp->ports[i];
}

unsigned
dp_n_workers(const struct dp *dp)
{
	return dp->n_workers;
}

const struct dp_worker_counters *
dp_worker_counters(const struct dp *dp, unsigned w)
{
	return &dp->workers[w]->ctr;
}

unsigned
dp_worker_lcore(const struct dp *dp, unsigned w)
{
	return dp->workers[w]->lcore;
}

bool
dp_stages_enabled(const struct dp *dp)
{
	return dp->cfg->stats_stages;
}

uint64_t
dp_worker_rx(const struct dp *dp, unsigned w)
{
	const struct dp_worker_counters *c = dp_worker_counters(dp, w);
	uint64_t n = 0;

	for (unsigned p = 0; p < dp->n_ports; p++)
		n += dp_read_u64(&c->port[p].rx_pkts);
	return n;
}

void
dp_port_counters(const struct dp *dp, unsigned port, struct dp_port_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned w = 0; w < dp->n_workers; w++)
		vg_ctr_add(&dp_port_ctr_set, out, &dp->workers[w]->ctr.port[port]);
	dp_failopen_add_port_counters(dp, port, out);
}

uint64_t
dp_total_rx(const struct dp *dp)
{
	uint64_t n = 0;

	for (unsigned w = 0; w < dp->n_workers; w++)
		for (unsigned p = 0; p < dp->n_ports; p++)
			n += dp_read_u64(&dp->workers[w]->ctr.port[p].rx_pkts);
	return n;
}

unsigned
dp_worker_queues(const struct dp *dp, unsigned w, uint16_t *port, uint16_t *queue, unsigned max)
{
	const struct dp_worker *wk = dp->workers[w];

	for (unsigned i = 0; i < wk->n_rx && i < max; i++) {
		port[i] = wk->rx[i].port;
		queue[i] = wk->rx[i].queue;
	}
	return wk->n_rx;
}

int
dp_failopen_enable(struct dp *dp)
{
	if (dp->launched)
		return -EBUSY;
	for (unsigned i = 0; i < dp->n_workers; i++) {
		int rc = dp_failopen_attach(dp->workers[i]);

		if (rc != 0)
			return rc;
	}
	return 0;
}

unsigned
dp_failopen_poll(struct dp *dp, unsigned w)
{
	return w < dp->n_workers ? dp_failopen_poll_worker(dp->workers[w]) : 0;
}

const struct dp_failopen_counters *
dp_failopen_counters(const struct dp *dp, unsigned w)
{
	return w < dp->n_workers && dp->workers[w]->fo != NULL ? &dp->workers[w]->fo->ctr : NULL;
}

void
dp_failopen_add_port_counters(const struct dp *dp, unsigned port, struct dp_port_counters *out)
{
	/* Fail-open forwards unchanged: its dropped stays 0. */
	for (unsigned w = 0; w < dp->n_workers; w++)
		if (dp->workers[w]->fo != NULL)
			vg_ctr_add(&dp_port_ctr_set, out, &dp->workers[w]->fo->ctr.port[port]);
}

bool
dp_failopen_lcore_locked(const struct dp *dp, unsigned lcore)
{
	for (unsigned w = 0; w < dp->n_workers; w++)
		if (dp->workers[w]->lcore == lcore)
			return dp_failopen_locked(dp->workers[w]);
	return false;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/* Link state as an appliance: watch, propagate across pairs, report (ctl_link.h). */
#include "ctl_link.h"

#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include "ctl_call.h"
#include "ctl_ctx.h"
#include "ctl_store.h"
#include "dp.h"
#include "dp_port.h"
#include "vg_log.h"

#define LINK_EVENTS 32

enum link_state { LINK_UNKNOWN, LINK_DOWN, LINK_UP };

static const char *const state_names[] = { "unknown", "down", "up" };

struct port_link {
	char name[VG_NAME_LEN];
	char iface[IF_NAMESIZE]; /* kernel interface; "" when the driver is asked */
	uint16_t port_id;
	uint16_t peer_index;
	enum link_state state;
	bool held;	 /* set down by propagation, because its peer lost its link */
	bool set_failed; /* setting it down failed once (logged once) */
	uint32_t speed_mbps;
	bool full_duplex;
	uint64_t changes;
	uint64_t since_ms; /* wall clock of the last change; 0 before the first poll */
	char why[96];	   /* why the state is what it is, for the API */
	bool lsc;	   /* told by link-state-change interrupts (and polled as well) */
	char lsc_why[96];  /* why not, when not */
	atomic_uint_fast64_t interrupts; /* LSC interrupts seen (the driver's thread) */
	atomic_bool pending;		 /* an interrupt came: read the link at once */
};

struct link_event {
	uint64_t ts_ms;
	char port[VG_NAME_LEN];
	char event[16];
	char detail[160];
};

struct ctl_link {
	struct ctl_ctx *ctx;
	struct ctl_link_opts o;
	int sock; /* for SIOCGIFFLAGS and SIOCSIFFLAGS */
	uint64_t next_ms;
	bool first_done;
	unsigned n;
	pthread_mutex_t mu; /* ports and events: control writes, API threads read */
	struct port_link *ports;
	struct link_event events[LINK_EVENTS];
	unsigned n_events;	     /* total ever; the ring holds the last LINK_EVENTS */
	struct ctl_mailbox *mailbox; /* woken by the interrupt callback */
	atomic_bool any_pending;     /* some port's pending is set */
};

void
ctl_link_opts_defaults(struct ctl_link_opts *o)
{
	o->propagate = false;
	o->poll_interval_ms = 100;
}

static const struct vg_yaml_field link_fields[] = {
	{ .name = "propagate",
			.type = VG_YT_BOOL,
			.off = offsetof(struct ctl_link_opts, propagate) },
	{ .name = "poll_interval",
			.type = VG_YT_MS,
			.off = offsetof(struct ctl_link_opts, poll_interval_ms),
			.min = 10,
			.max = 10000 },
	{ 0 },
};

int
ctl_link_parse(struct vg_yaml *y, yaml_node_t *n, void *obj)
{
	if (!vg_yaml_expect_map(y, n, "link"))
		return -EINVAL;
	return vg_yaml_map(y, n, "link", link_fields, obj);
}

static uint64_t
wall_ms(void)
{
	return ctl_wall_ns() / 1000000ULL;
}

/* The kernel interface behind a port, when its driver reports a fixed link. */
static void
kernel_iface(const struct vg_port_config *pc, char *out, size_t len)
{
	out[0] = '\0';
	if (pc->is_pci)
		return;
	if (strncmp(pc->device, "net_tap", 7) == 0 || strncmp(pc->device, "net_af_packet", 13) == 0)
		(void)dp_port_devarg(pc->device, "iface", out, len);
}

bool
ctl_link_needs_net_admin(const struct ctl_link_opts *o, const struct ctl_ctx *ctx)
{
	char iface[IF_NAMESIZE];

	if (!o->propagate)
		return false;
	for (unsigned i = 0; i < ctx->cfg->n_ports; i++) {
		kernel_iface(&ctx->cfg->ports[i], iface, sizeof(iface));
		if (iface[0] != '\0')
			return true;
	}
	return false;
}

/*
 * On the thread the driver raises a link-state-change interrupt on (EAL's interrupt thread;
 * vhost's own for net_vhost): no work here (the link is read and acted on by control, under its
 * lock); count, mark the port and wake control.
 */
static int
lsc_callback(uint16_t port_id, enum rte_eth_event_type type, void *arg, void *ret_param)
{
	struct ctl_link *l = arg;

	(void)type;
	(void)ret_param;
	for (unsigned i = 0; i < l->n; i++)
		if (l->ports[i].port_id == port_id) {
			atomic_fetch_add(&l->ports[i].interrupts, 1);
			atomic_store(&l->ports[i].pending, true);
		}
	atomic_store(&l->any_pending, true);
	ctl_mailbox_wake(l->mailbox);
	return 0;
}

struct ctl_link *
ctl_link_create(struct ctl_ctx *ctx, const struct ctl_link_opts *o)
{
	struct ctl_link *l = calloc(1, sizeof(*l));
	unsigned n = ctx->cfg->n_ports;

	if (l == NULL || (l->ports = calloc(n ? n : 1, sizeof(*l->ports))) == NULL) {
		free(l);
		return NULL;
	}
	l->ctx = ctx;
	l->o = *o;
	l->n = n;
	l->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	pthread_mutex_init(&l->mu, NULL);
	for (unsigned i = 0; i < n; i++) {
		const struct dp_port *dp_p = dp_port(ctx->dp, i);
		struct port_link *p = &l->ports[i];

		snprintf(p->name, sizeof(p->name), "%s", dp_p->cfg->name);
		p->port_id = dp_p->port_id;
		p->peer_index = dp_p->peer;
		kernel_iface(dp_p->cfg, p->iface, sizeof(p->iface));
		atomic_init(&p->interrupts, 0);
		atomic_init(&p->pending, false);
		snprintf(p->lsc_why, sizeof(p->lsc_why), "%s", dp_p->lsc_why);
	}
	l->mailbox = ctx->mailbox;
	atomic_init(&l->any_pending, false);
	/* Registered once every port is known: the callback looks ports up in l->ports. */
	for (unsigned i = 0; i < n; i++) {
		struct port_link *p = &l->ports[i];
		int rc;

		if (!dp_port(ctx->dp, i)->lsc)
			continue;
		/* net_tap advertises LSC and takes intr_conf.lsc, but its netlink handler updates
		 * the link without calling the application's callbacks (DPDK 22.11): say so. */
		if (strcmp(dp_port(ctx->dp, i)->driver, "net_tap") == 0) {
			snprintf(p->lsc_why, sizeof(p->lsc_why),
					"net_tap advertises link-state-change interrupts but does "
					"not raise them");
			continue;
		}
		rc = rte_eth_dev_callback_register(
				p->port_id, RTE_ETH_EVENT_INTR_LSC, lsc_callback, l);
		p->lsc = rc == 0;
		if (rc != 0) {
			snprintf(p->lsc_why, sizeof(p->lsc_why),
					"the link-state-change callback was refused: %s",
					strerror(-rc));
			CTL_LOG(WARNING, "link: port %s: %s; its link is polled", p->name,
					p->lsc_why);
		}
	}
	return l;
}

void
ctl_link_free(struct ctl_link *l)
{
	if (l == NULL)
		return;
	for (unsigned i = 0; i < l->n; i++) {
		if (!l->ports[i].lsc)
			continue;
		/* -EAGAIN while the callback runs on the interrupt thread: wait for it. */
		for (int k = 0; k < 1000 &&
				rte_eth_dev_callback_unregister(l->ports[i].port_id,
						RTE_ETH_EVENT_INTR_LSC, lsc_callback, l) == -EAGAIN;
				k++)
			usleep(1000);
	}
	if (l->sock >= 0)
		close(l->sock);
	pthread_mutex_destroy(&l->mu);
	free(l->ports);
	free(l);
}

/* Read the link of one port into state, speed and why. */
static enum link_state
observe(struct ctl_link *l, struct port_link *p, uint32_t *speed, bool *fdx, char *why, size_t wlen)
{
	struct rte_eth_link link;

	*speed = 0;
	*fdx = false;
	if (p->iface[0] != '\0') {
		struct ifreq ifr;

		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", p->iface);
		if (l->sock < 0 || ioctl(l->sock, SIOCGIFFLAGS, &ifr) != 0) {
			snprintf(why, wlen,
					"interface %s is not in vigild's network namespace (%s): "
					"its link cannot be seen",
					p->iface, strerror(errno));
			return LINK_UNKNOWN;
		}
		if (!(ifr.ifr_flags & IFF_UP)) {
			snprintf(why, wlen, "interface %s is administratively down", p->iface);
			return LINK_DOWN;
		}
		if (!(ifr.ifr_flags & IFF_RUNNING)) {
			snprintf(why, wlen, "interface %s has no carrier", p->iface);
			return LINK_DOWN;
		}
		snprintf(why, wlen, "interface %s is up with carrier", p->iface);
		return LINK_UP;
	}
	memset(&link, 0, sizeof(link));
	if (rte_eth_link_get_nowait(p->port_id, &link) != 0) {
		snprintf(why, wlen, "the driver does not report the link");
		return LINK_UNKNOWN;
	}
	*speed = link.link_speed;
	*fdx = link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX;
	snprintf(why, wlen, "reported by the driver");
	return link.link_status == RTE_ETH_LINK_UP ? LINK_UP : LINK_DOWN;
}

/* Set a port's link down or up: the kernel interface's IFF_UP, or the driver's call. */
static int
set_link(struct ctl_link *l, struct port_link *p, bool up)
{
	if (p->iface[0] != '\0') {
		struct ifreq ifr;

		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", p->iface);
		if (l->sock < 0 || ioctl(l->sock, SIOCGIFFLAGS, &ifr) != 0)
			return -errno;
		if (up)
			ifr.ifr_flags |= IFF_UP;
		else
			ifr.ifr_flags &= ~IFF_UP;
		return ioctl(l->sock, SIOCSIFFLAGS, &ifr) == 0 ? 0 : -errno;
	}
	return up ? rte_eth_dev_set_link_up(p->port_id) : rte_eth_dev_set_link_down(p->port_id);
}

/* Record an event: the log, the ring for the API, and the store's audit table. */
static void event(struct ctl_link *l, struct port_link *p, const char *what, const char *fmt, ...)
		__attribute__((format(printf, 4, 5)));

static void
event(struct ctl_link *l, struct port_link *p, const char *what, const char *fmt, ...)
{
	struct link_event *e = &l->events[l->n_events % LINK_EVENTS];
	va_list ap;

	e->ts_ms = wall_ms();
	snprintf(e->port, sizeof(e->port), "%s", p->name);
	snprintf(e->event, sizeof(e->event), "%s", what);
	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
	l->n_events++;
	CTL_LOG(NOTICE, "link: port %s %s: %s", p->name, what, e->detail);
	if (l->ctx->store != NULL) {
		char action[32];
		struct ctl_audit a = {
			.ts_ms = e->ts_ms,
			.actor = "link",
			.action = action,
			.target = p->name,
			.detail = e->detail,
			.result = "ok",
		};

		snprintf(action, sizeof(action), "link %s", what);
		(void)ctl_store_audit(l->ctx->store, &a);
	}
}

/* Propagation for one direction: from's state decides whether to hold or release to. */
static void
propagate(struct ctl_link *l, struct port_link *from, struct port_link *to)
{
	int rc;

	if (from->state == LINK_DOWN && !from->held && !to->held) {
		rc = set_link(l, to, false);
		if (rc != 0) {
			if (!to->set_failed)
				event(l, to, "hold-failed",
						"could not be set down after %s lost its link: %s; "
						"link propagation does not work on this port",
						from->name, strerror(-rc));
			to->set_failed = true;
			return;
		}
		to->held = true;
		event(l, to, "held-down", "set down because %s lost its link (link propagation)",
				from->name);
	} else if (to->held && from->state == LINK_UP) {
		rc = set_link(l, to, true);
		if (rc != 0) {
			event(l, to, "release-failed", "could not be set up again: %s",
					strerror(-rc));
			return;
		}
		to->held = false;
		event(l, to, "released", "set up again: %s has its link back", from->name);
	}
}

void
ctl_link_tick(struct ctl_link *l, uint64_t now_ms)
{
	bool due, irq;

	if (l == NULL)
		return;
	due = now_ms >= l->next_ms || !l->first_done;
	irq = atomic_load_explicit(&l->any_pending, memory_order_relaxed) &&
	      atomic_exchange(&l->any_pending, false);
	if (!due && !irq)
		return;
	if (due)
		l->next_ms = now_ms + l->o.poll_interval_ms;
	pthread_mutex_lock(&l->mu);
	for (unsigned i = 0; i < l->n; i++) {
		struct port_link *p = &l->ports[i];
		/* An interrupt's port is read now; the others at the poll (every port is polled:
		 * the safety net for an interrupt lost or never sent). */
		bool hit = atomic_exchange(&p->pending, false);

		if (!due && !hit)
			continue;

		char why[sizeof(p->why)];
		uint32_t speed;
		bool fdx;
		enum link_state s = observe(l, p, &speed, &fdx, why, sizeof(why));

		p->speed_mbps = speed;
		p->full_duplex = fdx;
		memcpy(p->why, why, sizeof(why));
		if (s == p->state && l->first_done)
			continue;
		if (l->first_done || s != LINK_UP) {
			event(l, p, state_names[s], "%s%s (seen by %s)", why,
					p->held ? " (held down by link propagation)" : "",
					hit ? "interrupt" : "poll");
			p->changes += l->first_done;
		}
		p->state = s;
		p->since_ms = wall_ms();
	}
	l->first_done = true;
	if (l->o.propagate)
		for (unsigned i = 0; i < l->n; i++) {
			struct port_link *p = &l->ports[i];

			if (p->peer_index < l->n && p->peer_index != i)
				propagate(l, p, &l->ports[p->peer_index]);
		}
	pthread_mutex_unlock(&l->mu);
}

json_t *
ctl_link_port_json(struct ctl_link *l, unsigned i)
{
	json_t *j;
	char since[40] = "";

	if (l == NULL || i >= l->n)
		return json_null();
	pthread_mutex_lock(&l->mu);
	const struct port_link *p = &l->ports[i];
	if (p->since_ms > 0) {
		time_t t = (time_t)(p->since_ms / 1000);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	j = json_pack("{s:o, s:s, s:s, s:s, s:I, s:s, s:I, s:s?, s:b, s:s, s:s?, s:I}", "up",
			p->state == LINK_UNKNOWN ? json_null() : json_boolean(p->state == LINK_UP),
			"state", state_names[p->state], "source",
			p->iface[0] != '\0' ? "kernel" : "driver", "reason", p->why, "speed_mbps",
			(json_int_t)p->speed_mbps, "duplex", p->full_duplex ? "full" : "half",
			"changes", (json_int_t)p->changes, "since", since[0] ? since : NULL,
			"held_down", p->held, "notify", p->lsc ? "interrupt" : "poll",
			"notify_reason", p->lsc ? NULL : p->lsc_why, "interrupts",
			(json_int_t)atomic_load(&p->interrupts));
	pthread_mutex_unlock(&l->mu);
	return j;
}

int
ctl_link_port_state(struct ctl_link *l, unsigned i)
{
	int s;

	if (l == NULL || i >= l->n)
		return -2;
	pthread_mutex_lock(&l->mu);
	s = !l->first_done		     ? -2
	    : l->ports[i].state == LINK_UP   ? 1
	    : l->ports[i].state == LINK_DOWN ? 0
					     : -1;
	pthread_mutex_unlock(&l->mu);
	return s;
}

json_t *
ctl_link_events_json(struct ctl_link *l)
{
	json_t *a = json_array();
	unsigned first;

	if (l == NULL || a == NULL)
		return a;
	pthread_mutex_lock(&l->mu);
	first = l->n_events > LINK_EVENTS ? l->n_events - LINK_EVENTS : 0;
	for (unsigned k = first; k < l->n_events; k++) {
		const struct link_event *e = &l->events[k % LINK_EVENTS];

		json_array_append_new(a, json_pack("{s:I, s:s, s:s, s:s}", "ts_ms",
							 (json_int_t)e->ts_ms, "port", e->port,
							 "event", e->event, "detail", e->detail));
	}
	pthread_mutex_unlock(&l->mu);
	return a;
}

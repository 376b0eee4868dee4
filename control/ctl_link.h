/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Link state as an appliance: control watches every port's link and, with `link: {propagate:
 * true}`, carries a failure across each pair like a wire would: when one side loses its link
 * the other side is set down, so that the routers and switches on both sides fail over, and it
 * is set up again when the first comes back. Every change is logged, counted, kept for the API
 * (status and the last events) and written to the store's audit table (actor "link").
 *
 * Where the state comes from, per port: a port backed by a kernel interface in vigild's network
 * namespace (net_tap, net_af_packet: the `iface=` of the device) is read from the kernel
 * (IFF_UP and IFF_RUNNING, the carrier), since those drivers report a fixed "up"; a tap whose
 * interface has been moved to another namespace cannot be seen and is "unknown"; every other
 * port asks its driver (rte_eth_link_get_nowait). Polled every `link.poll_interval` on the
 * control lcore; a port whose device raises link-state-change interrupts (configured by
 * dp_port_start) is also read at once when one comes: the callback, on the driver's thread,
 * only marks the port and wakes control (ctl_mailbox_wake).
 */
#ifndef CTL_LINK_H
#define CTL_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "vg_yaml.h"

struct ctl_ctx;
struct ctl_link;

struct ctl_link_opts {
	bool propagate;		   /* carry a link failure across each pair */
	uint64_t poll_interval_ms; /* default 100 */
};

void ctl_link_opts_defaults(struct ctl_link_opts *o);

/* The `link:` section (a vg_config_section callback). */
int ctl_link_parse(struct vg_yaml *y, yaml_node_t *n, void *obj);

/* Whether some port would need CAP_NET_ADMIN to be set down (a kernel interface). */
bool ctl_link_needs_net_admin(const struct ctl_link_opts *o, const struct ctl_ctx *ctx);

struct ctl_link *ctl_link_create(struct ctl_ctx *ctx, const struct ctl_link_opts *o);
void ctl_link_free(struct ctl_link *l);

/* On the control lcore: poll when the interval has passed, read the ports an interrupt marked;
 * act on changes. */
void ctl_link_tick(struct ctl_link *l, uint64_t now_ms);

/*
 * Port i's link for the API: {up (null when unknown), state, source, speed_mbps, duplex,
 * changes, since, held_down, notify (interrupt|poll), notify_reason (poll only), interrupts}. Any
 * thread: reads a snapshot control publishes.
 */
json_t *ctl_link_port_json(struct ctl_link *l, unsigned port);

/* Port i's link as last polled: 1 up, 0 down, -1 cannot be seen, -2 not polled yet. */
int ctl_link_port_state(struct ctl_link *l, unsigned port);

/* The last link events, newest last: [{time, port, event, detail}]. Any thread. */
json_t *ctl_link_events_json(struct ctl_link *l);

#endif /* CTL_LINK_H */

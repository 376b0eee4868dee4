/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPFIX (RFC 7011) flow records to a collector over UDP or TCP: the `export: {ipfix: ...}`
 * section. libfixbuf encodes (information model, templates, message headers, sequence
 * numbers); a sender thread of the exporter's own owns the socket, so that a slow, full or
 * absent collector never holds the control loop.
 *
 * What is exported: one record per flow end, and for a long-lived flow one at the first update
 * from its worker at least active_timeout after its previous record (flowEndReason
 * activeTimeout), each with the packets and octets since the flow's previous record, so that the
 * records of a flow add up to its totals. Each record is biflow (RFC 5103): the initiator's
 * side as octet/packetDeltaCount, the responder's as reverseOctet/reversePacketDeltaCount.
 * Vigil's verdict, rule and application protocol are enterprise elements under
 * CTL_IPFIX_PEN (ctl_ipfix.c lists them).
 *
 * Why not fixbuf's own network exporter: it connects and writes with blocking calls and no
 * timeout (a stalled TCP collector would hold the caller for ever) and a reset connection
 * raises SIGPIPE. fixbuf writes each message into a buffer instead (fbExporterAllocBuffer) and
 * the sender thread sends it: UDP without waiting, TCP with a send timeout, reconnecting with a
 * growing delay (100 ms to 2 s) and sending the templates again on each new connection.
 *
 * The queue from control to the sender holds at most queue_len records; beyond that the newest
 * is dropped and counted (records_lost, lost_queue_full). A message whose send fails is lost
 * with its records (lost_send). Templates go again every template_refresh over UDP (RFC 7011
 * 8.4), and once per connection over TCP.
 */
#ifndef CTL_IPFIX_H
#define CTL_IPFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vg_yaml.h"

struct dp_event;
struct vg_config;

enum ctl_ipfix_transport {
	CTL_IPFIX_UDP = 0,
	CTL_IPFIX_TCP = 1,
};

/*
 * Private enterprise number of Vigil's own information elements. 32473 is the number IANA
 * reserves for documentation (RFC 5612): a placeholder until Vigil registers one of its own.
 */
#define CTL_IPFIX_PEN 32473

#define CTL_IPFIX_ADDR_LEN 108

struct ctl_ipfix_opts {
	char collector[CTL_IPFIX_ADDR_LEN]; /* host:port or [v6]:port; empty: no export */
	int transport;			    /* enum ctl_ipfix_transport */
	uint64_t template_refresh_ms;	    /* UDP: templates sent again this often */
	uint64_t active_timeout_ms;	    /* a long flow's record at most this often */
	uint32_t observation_domain;
	uint32_t queue_len; /* records waiting for the sender */
};

struct ctl_ipfix_counters {
	uint64_t records_sent;	    /* in messages sent whole */
	uint64_t records_lost;	    /* lost_queue_full + lost_send + left unsent at close */
	uint64_t lost_queue_full;   /* dropped: the queue was full */
	uint64_t lost_send;	    /* in a message whose send failed */
	uint64_t messages_sent;	    /* IPFIX messages sent whole */
	uint64_t templates_sent;    /* template exports (connection, refresh) */
	uint64_t errors;	    /* failed connects and sends (each attempt) */
	uint64_t connects;	    /* connections made (UDP: the socket opened) */
	uint64_t reconnects;	    /* connects after the first */
	uint64_t updates_untracked; /* updates not exported: no room to remember the flow */
	/* Not in ctl_ipfix_ctr_set: */
	uint32_t queued; /* records waiting */
	bool connected;	 /* a socket to the collector is open */
	bool failing;	 /* the last connect or send failed */
	int last_errno;
};

/* The table of its counters, written to queued (ctl_ipfix.c): the report's ipfix. */
struct vg_ctr_set;
extern const struct vg_ctr_set ctl_ipfix_ctr_set;

struct ctl_ipfix;

/*
 * Defaults: no collector, udp, templates every 60 s, active timeout 60 s, observation domain 0,
 * 65536 records.
 */
void ctl_ipfix_opts_defaults(struct ctl_ipfix_opts *o);

/*
 * Parse the `export:` section ({ipfix: {collector, transport, template_refresh,
 * active_timeout, observation_domain, queue}}) into obj (struct ctl_ipfix_opts). Errors name the
 * key and the value. Returns 0 or -EINVAL.
 */
int ctl_ipfix_parse(struct vg_yaml *y, yaml_node_t *n, void *obj);

/*
 * Build the templates and start the sender (it connects on its own: a collector may come
 * later). cfg gives each port's peer (egressInterface); NULL: egress unknown. NULL + errno.
 */
struct ctl_ipfix *ctl_ipfix_open(const struct ctl_ipfix_opts *o, const struct vg_config *cfg);

/* Send what is queued (bounded: about 2 s), stop the sender, close. NULL is a no-op. */
void ctl_ipfix_close(struct ctl_ipfix *x);

/*
 * A ctl_events subscriber (control lcore): flow updates and ends become records. Never waits:
 * a full queue drops the record and counts it.
 */
void ctl_ipfix_on_event(void *arg, const struct dp_event *ev);

/*
 * Wait up to timeout_ms until every queued record is sent (or lost). Returns 0, -EIO while
 * failing, or -ETIMEDOUT.
 */
int ctl_ipfix_sync(struct ctl_ipfix *x, unsigned timeout_ms);

/* Any thread. */
void ctl_ipfix_counters(const struct ctl_ipfix *x, struct ctl_ipfix_counters *c);

/* The collector and transport as configured ("udp", "tcp"). */
const char *ctl_ipfix_collector(const struct ctl_ipfix *x);
const char *ctl_ipfix_transport_name(const struct ctl_ipfix *x);

#endif /* CTL_IPFIX_H */

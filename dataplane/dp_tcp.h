/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP connection state machine, as a pure function of (state, segment flags, direction).
 *
 * Directions are relative to the initiator (whoever sent the first segment the worker saw):
 * 0 = initiator -> responder, 1 = responder -> initiator. The machine follows both sides at
 * once, like a middlebox: it sees the handshake, the closing handshake in either order
 * (including simultaneous open and close), and RST. A segment that makes no sense in the
 * current state (a SYN-ACK before any SYN, data from the responder in SYN_SENT, ...) leaves
 * the state unchanged and is reported as invalid; the caller counts it and applies its policy.
 */
#ifndef DP_TCP_H
#define DP_TCP_H

#include <stdbool.h>
#include <stdint.h>

enum dp_tcp_state {
	DP_TCP_NONE = 0, /* no segment yet */
	DP_TCP_SYN_SENT,
	DP_TCP_SYN_RECV,
	DP_TCP_ESTABLISHED,
	DP_TCP_FIN_WAIT,   /* one side sent FIN */
	DP_TCP_CLOSE_WAIT, /* the FIN was acknowledged; the other side may still send */
	DP_TCP_LAST_ACK,   /* both sides sent FIN; waiting for the last ACK */
	DP_TCP_TIME_WAIT,  /* closed by FIN; lingers to absorb retransmissions */
	DP_TCP_CLOSED,	   /* closed by RST */
	DP_TCP__COUNT
};

#define DP_TCPF_FIN 0x01
#define DP_TCPF_SYN 0x02
#define DP_TCPF_RST 0x04
#define DP_TCPF_PSH 0x08
#define DP_TCPF_ACK 0x10
#define DP_TCPF_URG 0x20

/* Per-flow TCP tracking state beyond the state enum. */
struct dp_tcp_track {
	uint8_t state;	 /* enum dp_tcp_state */
	uint8_t fin_dir; /* direction of the first FIN: 0 or 1 */
	uint8_t simopen; /* both sides sent a bare SYN (simultaneous open) */
};

/*
 * Feed one segment. dir: 0 from the initiator, 1 from the responder. midstream_ok: accept a
 * first segment with ACK (and without SYN) as an established connection picked up
 * mid-stream, and a first SYN-ACK from the responder as a handshake picked up at SYN_RECV
 * (whoever creates the flow makes a SYN-ACK's receiver the initiator). A first segment
 * without ACK or SYN is never picked up. Returns true when the segment was a valid step
 * (possibly a no-op), false when invalid.
 */
bool dp_tcp_step(struct dp_tcp_track *t, uint8_t flags, unsigned dir, bool midstream_ok);

/* "syn_sent", "established", ... as used in counters and events. */
const char *dp_tcp_state_name(enum dp_tcp_state s);

#endif /* DP_TCP_H */

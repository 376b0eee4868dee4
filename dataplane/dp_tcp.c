/* SPDX-License-Identifier: BSD-3-Clause */
#include "dp_tcp.h"

static const char *const state_names[DP_TCP__COUNT] = {
	[DP_TCP_NONE] = "none",
	[DP_TCP_SYN_SENT] = "syn_sent",
	[DP_TCP_SYN_RECV] = "syn_recv",
	[DP_TCP_ESTABLISHED] = "established",
	[DP_TCP_FIN_WAIT] = "fin_wait",
	[DP_TCP_CLOSE_WAIT] = "close_wait",
	[DP_TCP_LAST_ACK] = "last_ack",
	[DP_TCP_TIME_WAIT] = "time_wait",
	[DP_TCP_CLOSED] = "closed",
};

const char *
dp_tcp_state_name(enum dp_tcp_state s)
{
	return (unsigned)s < DP_TCP__COUNT ? state_names[s] : "?";
}

bool
dp_tcp_step(struct dp_tcp_track *t, uint8_t flags, unsigned dir, bool midstream_ok)
{
	const bool syn = flags & DP_TCPF_SYN, ack = flags & DP_TCPF_ACK;
	const bool fin = flags & DP_TCPF_FIN, rst = flags & DP_TCPF_RST;

	/* RST ends the connection from any state (window checks are not tracked). */
	if (rst) {
		if (t->state == DP_TCP_NONE)
			return false;
		t->state = DP_TCP_CLOSED;
		return true;
	}

	switch (t->state) {
	case DP_TCP_NONE:
		if (syn && !ack && dir == 0) {
			t->state = DP_TCP_SYN_SENT;
			return true;
		}
		/*
		 * Mid-stream pick-up, as Suricata's stream.midstream: only a segment that could
		 * belong to an established connection, that is one with ACK. A NULL, FIN, PSH or
		 * URG segment without ACK on an unknown tuple is a probe, not a connection.
		 */
		if (!syn && ack && midstream_ok) {
			t->state = fin ? DP_TCP_FIN_WAIT : DP_TCP_ESTABLISHED;
			t->fin_dir = (uint8_t)dir;
			return true;
		}
		/* A SYN-ACK before any SYN: the handshake is picked up from the server's answer
		 * (the caller made its receiver the initiator). */
		if (syn && ack && dir == 1 && midstream_ok) {
			t->state = DP_TCP_SYN_RECV;
			return true;
		}
		return false;

	case DP_TCP_SYN_SENT:
		if (syn && !ack && dir == 0)
			return true; /* retransmitted SYN */
		if (syn && dir == 1) {
			/* SYN-ACK, or a bare SYN crossing ours (simultaneous open). */
			t->simopen = !ack;
			t->state = DP_TCP_SYN_RECV;
			return true;
		}
		return false;

	case DP_TCP_SYN_RECV:
		if (syn)
			/* Retransmitted SYN or SYN-ACK, or the SYN-ACKs of a simultaneous open. */
			return true;
		if (fin) {
			t->fin_dir = (uint8_t)dir;
			t->state = DP_TCP_FIN_WAIT;
			return true;
		}
		/* The initiator's ACK completes the handshake; in a simultaneous open, either's. */
		if (ack && (dir == 0 || t->simopen)) {
			t->state = DP_TCP_ESTABLISHED;
			return true;
		}
		return false;

	case DP_TCP_ESTABLISHED:
		if (syn)
			return false;
		if (fin) {
			t->fin_dir = (uint8_t)dir;
			t->state = DP_TCP_FIN_WAIT;
		}
		return true;

	case DP_TCP_FIN_WAIT:
		if (syn)
			return false;
		if (dir != t->fin_dir) {
			if (fin)
				t->state = DP_TCP_LAST_ACK; /* both sides have sent FIN */
			else if (ack)
				t->state = DP_TCP_CLOSE_WAIT;
		}
		return true;

	case DP_TCP_CLOSE_WAIT:
		if (syn)
			return false;
		if (fin && dir != t->fin_dir)
			t->state = DP_TCP_LAST_ACK;
		return true;

	case DP_TCP_LAST_ACK:
		if (syn)
			return false;
		/* The final ACK comes from the side that closed first, acknowledging the other
		 * FIN (in a simultaneous close too, since fin_dir is whoever's FIN we saw first).
		 */
		if (ack && !fin && dir == t->fin_dir)
			t->state = DP_TCP_TIME_WAIT;
		return true;

	case DP_TCP_TIME_WAIT:
	case DP_TCP_CLOSED:
		/* A new SYN is the caller's business (port reuse starts a new flow). */
		return !syn;
	}
	return false;
}

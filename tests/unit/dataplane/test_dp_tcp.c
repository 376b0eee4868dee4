/* SPDX-License-Identifier: BSD-3-Clause */
/* The TCP state machine: handshakes, closes in every order, RST from every state, and the
 * segments that make no sense. */
#include "vg_test.h"

#include "dp_tcp.h"

#define S DP_TCPF_SYN
#define A DP_TCPF_ACK
#define F DP_TCPF_FIN
#define R DP_TCPF_RST
#define P DP_TCPF_PSH
#define U DP_TCPF_URG

struct step {
	uint8_t flags;
	unsigned dir;
	bool valid;
	enum dp_tcp_state after;
};

static void
run(const char *name, const struct step *steps, size_t n, bool midstream)
{
	struct dp_tcp_track t = { 0 };

	for (size_t i = 0; i < n; i++) {
		bool ok = dp_tcp_step(&t, steps[i].flags, steps[i].dir, midstream);

		if (ok != steps[i].valid || t.state != steps[i].after)
			fail_msg("%s, step %zu (flags 0x%02x dir %u): got %s/%s, want %s/%s", name,
					i, steps[i].flags, steps[i].dir, ok ? "valid" : "invalid",
					dp_tcp_state_name(t.state),
					steps[i].valid ? "valid" : "invalid",
					dp_tcp_state_name(steps[i].after));
	}
}

#define RUN(name, steps, mid) run(name, steps, sizeof(steps) / sizeof(steps[0]), mid)

static void
test_handshake_and_close_by_initiator(void **state)
{
	static const struct step s[] = {
		{ S, 0, true, DP_TCP_SYN_SENT },
		{ S | A, 1, true, DP_TCP_SYN_RECV },
		{ A, 0, true, DP_TCP_ESTABLISHED },
		{ P | A, 0, true, DP_TCP_ESTABLISHED },
		{ P | A, 1, true, DP_TCP_ESTABLISHED },
		{ F | A, 0, true, DP_TCP_FIN_WAIT },
		{ A, 1, true, DP_TCP_CLOSE_WAIT },
		{ F | A, 1, true, DP_TCP_LAST_ACK },
		{ A, 0, true, DP_TCP_TIME_WAIT },
	};
	(void)state;
	RUN("close by initiator", s, false);
}

static void
test_close_by_responder_combined_fin_ack(void **state)
{
	static const struct step s[] = {
		{ S, 0, true, DP_TCP_SYN_SENT },
		{ S | A, 1, true, DP_TCP_SYN_RECV },
		{ A, 0, true, DP_TCP_ESTABLISHED },
		{ F | A, 1, true, DP_TCP_FIN_WAIT },
		{ F | A, 0, true, DP_TCP_LAST_ACK }, /* ACK of the FIN and own FIN together */
		{ A, 1, true, DP_TCP_TIME_WAIT },
	};
	(void)state;
	RUN("close by responder", s, false);
}

static void
test_half_close(void **state)
{
	/* The initiator closes its side; the responder keeps sending before it closes too. */
	static const struct step s[] = {
		{ S, 0, true, DP_TCP_SYN_SENT },
		{ S | A, 1, true, DP_TCP_SYN_RECV },
		{ A, 0, true, DP_TCP_ESTABLISHED },
		{ F | A, 0, true, DP_TCP_FIN_WAIT },
		{ A, 1, true, DP_TCP_CLOSE_WAIT },
		{ P | A, 1, true, DP_TCP_CLOSE_WAIT },
		{ P | A, 1, true, DP_TCP_CLOSE_WAIT },
		{ A, 0, true, DP_TCP_CLOSE_WAIT },
		{ F | A, 1, true, DP_TCP_LAST_ACK },
		{ A, 1, true, DP_TCP_LAST_ACK }, /* not the closing ACK: wrong side */
		{ A, 0, true, DP_TCP_TIME_WAIT },
	};
	(void)state;
	RUN("half close", s, false);
}

static void
test_simultaneous_open(void **state)
{
	static const struct step s[] = {
		{ S, 0, true, DP_TCP_SYN_SENT },
		{ S, 1, true, DP_TCP_SYN_RECV }, /* SYNs cross */
		{ S | A, 0, true, DP_TCP_SYN_RECV },
		{ S | A, 1, true, DP_TCP_SYN_RECV },
		{ A, 1, true, DP_TCP_ESTABLISHED },
	};
	(void)state;
	RUN("simultaneous open", s, false);
}

static void
test_simultaneous_close(void **state)
{
	static const struct step s[] = {
		{ S, 0, true, DP_TCP_SYN_SENT },
		{ S | A, 1, true, DP_TCP_SYN_RECV },
		{ A, 0, true, DP_TCP_ESTABLISHED },
		{ F | A, 0, true, DP_TCP_FIN_WAIT },
		{ F | A, 1, true, DP_TCP_LAST_ACK }, /* FINs cross */
		{ A, 0, true, DP_TCP_TIME_WAIT },
		{ A, 1, true, DP_TCP_TIME_WAIT },
	};
	(void)state;
	RUN("simultaneous close", s, false);
}

static void
test_retransmitted_syn(void **state)
{
	static const struct step s[] = {
		{ S, 0, true, DP_TCP_SYN_SENT },
		{ S, 0, true, DP_TCP_SYN_SENT },
		{ S, 0, true, DP_TCP_SYN_SENT },
		{ S | A, 1, true, DP_TCP_SYN_RECV },
		{ S | A, 1, true, DP_TCP_SYN_RECV }, /* retransmitted SYN-ACK */
		{ A, 0, true, DP_TCP_ESTABLISHED },
	};
	(void)state;
	RUN("retransmitted SYN", s, false);
}

static void
test_rst_in_every_state(void **state)
{
	/* Drive a fresh connection to each state, then RST from either side closes it. */
	static const struct step path[] = {
		{ S, 0, true, DP_TCP_SYN_SENT },
		{ S | A, 1, true, DP_TCP_SYN_RECV },
		{ A, 0, true, DP_TCP_ESTABLISHED },
		{ F | A, 0, true, DP_TCP_FIN_WAIT },
		{ A, 1, true, DP_TCP_CLOSE_WAIT },
		{ F | A, 1, true, DP_TCP_LAST_ACK },
		{ A, 0, true, DP_TCP_TIME_WAIT },
	};
	(void)state;
	for (size_t depth = 1; depth <= sizeof(path) / sizeof(path[0]); depth++) {
		for (unsigned dir = 0; dir < 2; dir++) {
			struct dp_tcp_track t = { 0 };

			for (size_t i = 0; i < depth; i++)
				assert_true(dp_tcp_step(&t, path[i].flags, path[i].dir, false));
			assert_int_equal(t.state, path[depth - 1].after);
			assert_true(dp_tcp_step(&t, R | A, dir, false));
			assert_int_equal(t.state, DP_TCP_CLOSED);
			/* Anything after RST but a new SYN is absorbed. */
			assert_true(dp_tcp_step(&t, A, 0, false));
			assert_int_equal(t.state, DP_TCP_CLOSED);
		}
	}
}

static void
test_invalid_segments(void **state)
{
	(void)state;
	static const struct step synack_first[] = { { S | A, 0, false, DP_TCP_NONE } };
	RUN("SYN-ACK with no SYN", synack_first, false);
	static const struct step rst_first[] = { { R, 0, false, DP_TCP_NONE } };
	RUN("RST first", rst_first, true);
	static const struct step data_in_syn_sent[] = {
		{ S, 0, true, DP_TCP_SYN_SENT },
		{ P | A, 1, false, DP_TCP_SYN_SENT },
		{ A, 0, false, DP_TCP_SYN_SENT },
	};
	RUN("data before the SYN-ACK", data_in_syn_sent, false);
	static const struct step syn_in_established[] = {
		{ S, 0, true, DP_TCP_SYN_SENT },
		{ S | A, 1, true, DP_TCP_SYN_RECV },
		{ A, 0, true, DP_TCP_ESTABLISHED },
		{ S, 0, false, DP_TCP_ESTABLISHED },
	};
	RUN("SYN in ESTABLISHED", syn_in_established, false);
	static const struct step ack_in_syn_recv_wrong_side[] = {
		{ S, 0, true, DP_TCP_SYN_SENT },
		{ S | A, 1, true, DP_TCP_SYN_RECV },
		{ A, 1, false, DP_TCP_SYN_RECV },
	};
	RUN("responder ACK completing its own handshake", ack_in_syn_recv_wrong_side, false);
}

static void
test_midstream(void **state)
{
	(void)state;
	static const struct step picked_up[] = {
		{ P | A, 1, true, DP_TCP_ESTABLISHED },
		{ A, 0, true, DP_TCP_ESTABLISHED },
	};
	RUN("mid-stream accepted", picked_up, true);
	static const struct step refused[] = { { P | A, 0, false, DP_TCP_NONE } };
	RUN("mid-stream refused", refused, false);
	static const struct step fin_first[] = { { F | A, 0, true, DP_TCP_FIN_WAIT },
		{ F | A, 1, true, DP_TCP_LAST_ACK }, { A, 0, true, DP_TCP_TIME_WAIT } };
	RUN("mid-stream pick-up of a closing connection", fin_first, true);
	/* Segments without ACK could not belong to an established connection: scans and
	 * probes are never picked up, whatever their other flags. */
	static const uint8_t probes[] = { 0, F, P, U, F | P | U, P | U };
	for (size_t i = 0; i < sizeof(probes); i++) {
		const struct step probe[] = { { probes[i], 0, false, DP_TCP_NONE } };
		RUN("no pick-up without ACK", probe, true);
	}
	/* A SYN-ACK first: the handshake is picked up from the server's answer (the flow's
	 * creator makes its receiver the initiator, so it comes from direction 1). */
	static const struct step synack_first[] = {
		{ S | A, 1, true, DP_TCP_SYN_RECV },
		{ A, 0, true, DP_TCP_ESTABLISHED },
		{ P | A, 0, true, DP_TCP_ESTABLISHED },
	};
	RUN("SYN-ACK first", synack_first, true);
	static const struct step synack_refused[] = { { S | A, 1, false, DP_TCP_NONE } };
	RUN("SYN-ACK first without mid-stream pick-up", synack_refused, false);
}

static void
test_state_names(void **state)
{
	(void)state;
	for (int s = 0; s < DP_TCP__COUNT; s++)
		assert_string_not_equal(dp_tcp_state_name(s), "?");
	assert_string_equal(dp_tcp_state_name(DP_TCP_TIME_WAIT), "time_wait");
	assert_string_equal(dp_tcp_state_name(DP_TCP__COUNT), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_and_close_by_initiator),
		cmocka_unit_test(test_close_by_responder_combined_fin_ack),
		cmocka_unit_test(test_half_close),
		cmocka_unit_test(test_simultaneous_open),
		cmocka_unit_test(test_simultaneous_close),
		cmocka_unit_test(test_retransmitted_syn),
		cmocka_unit_test(test_rst_in_every_state),
		cmocka_unit_test(test_invalid_segments),
		cmocka_unit_test(test_midstream),
		cmocka_unit_test(test_state_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Learning from the store, for all ports and for one pair (ctl_learn.c's reading side): flows
 * stored with their ingress port by a real store; a pair's session learns only the flows that
 * came in on its ports, says which port each candidate's flows came in on, and proposes rules
 * with `in:` and learned-rest that the check finds covering every observed key of the pair; a
 * pair whose ports left the config learns nothing (an error, not everything).
 */
#define VG_TEST_WITH_EAL
#include "vg_test.h"

#include <sqlite3.h>

#include "ctl_learn.h"
#include "ctl_preview.h"
#include "ctl_store.h"
#include "ctl_test_util.h"

#define T0_NS (1709251200ULL * NS_PER_S)

static const char *const names[] = { "outside", "inside", "dmz", "lan" };

struct fixture {
	char *dir;
	char path[512];
};

static void
add_flow(struct ctl_store *s, const char *src, const char *dst, uint16_t dport, uint16_t in_port,
		uint32_t id)
{
	struct dp_event ev = ctl_test_ev4(
			DP_EV_FLOW_START, T0_NS + id * NS_PER_S, src, 40000, dst, dport, 6, id);

	ev.flow.in_port = in_port;
	ctl_test_counts(&ev, 3, 2, 300, 200);
	assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
	ev.type = DP_EV_FLOW_END;
	assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ctl_store_opts o;
	struct ctl_store *s;
	char err[256] = "";

	if (f == NULL || (f->dir = ctl_test_tmpdir()) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/vigil.db", f->dir);
	ctl_store_opts_defaults(&o);
	snprintf(o.path, sizeof(o.path), "%.200s", f->path);
	o.max_age_ms = 0;
	for (unsigned i = 0; i < 4; i++)
		snprintf(o.port_names[i], sizeof(o.port_names[i]), "%s", names[i]);
	o.n_ports = 4;
	s = ctl_store_open(&o, err, sizeof(err));
	if (s == NULL)
		fail_msg("ctl_store_open: %s", err);
	/* Pair outside-inside: a web flow in each direction; pair dmz-lan: ssh; and a flow whose
	 * port the store cannot name (index 9: stored as '', as rows before schema 4). */
	add_flow(s, "10.0.0.1", "192.0.2.80", 80, 0, 1);
	add_flow(s, "10.0.0.2", "192.0.2.80", 80, 0, 2);
	add_flow(s, "192.0.2.80", "10.0.0.1", 8080, 1, 3);
	add_flow(s, "172.16.0.5", "172.16.1.5", 22, 2, 4);
	add_flow(s, "172.16.1.6", "172.16.0.5", 22, 3, 5);
	add_flow(s, "10.9.9.9", "192.0.2.80", 443, 9, 6);
	while (ctl_store_flush(s) > 0)
		;
	ctl_store_close(s);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	ctl_test_rmdir(f->dir);
	free(f);
	return 0;
}

static json_t *
session(const char *pair_a, const char *pair_b)
{
	json_t *s = json_pack("{s:b, s:I, s:n, s:s, s:[], s:s, s:n}", "active", 1, "since",
			(json_int_t)(T0_NS / NS_PER_S), "until", "previous_mode", "enforce",
			"exclude", "by", "test", "changed");

	json_object_set_new(s, "pair",
			pair_a != NULL ? json_pack("[s, s]", pair_a, pair_b) : json_null());
	return s;
}

static void
test_state_ports(void **state)
{
	struct ctl_ports ports = { .n = 4 };
	json_t *s;

	(void)state;
	for (unsigned i = 0; i < 4; i++)
		ports.name[i] = names[i];
	s = session("inside", "outside");
	assert_int_equal(ctl_learn_state_ports(s, &ports), 0x3);
	json_decref(s);
	s = session("dmz", "lan");
	assert_int_equal(ctl_learn_state_ports(s, &ports), 0xc);
	json_decref(s);
	s = session(NULL, NULL);
	assert_int_equal(ctl_learn_state_ports(s, &ports), 0);
	json_decref(s);
	s = session("gone1", "gone2");
	assert_int_equal(ctl_learn_state_ports(s, &ports), CTL_IN_NONE);
	json_decref(s);
}

/* The candidates' (in_port, to) pairs, as "port>to:ports" strings in a sorted JSON array. */
static char *
cand_summary(const json_t *out)
{
	json_t *c, *a = json_array();
	size_t i;
	char buf[128], *s;

	json_array_foreach(json_object_get(out, "candidates"), i, c)
	{
		const json_t *in = json_object_get(c, "in_port");

		snprintf(buf, sizeof(buf), "%s>%s:%s",
				json_is_string(in) ? json_string_value(in) : "-",
				json_string_value(json_array_get(json_object_get(c, "to"), 0)),
				json_string_value(json_array_get(json_object_get(c, "ports"), 0)));
		json_array_append_new(a, json_string(buf));
	}
	/* sort: the candidates' order is the learner's */
	for (size_t x = 0; x < json_array_size(a); x++)
		for (size_t y = x + 1; y < json_array_size(a); y++)
			if (strcmp(json_string_value(json_array_get(a, x)),
					    json_string_value(json_array_get(a, y))) > 0) {
				json_t *t = json_incref(json_array_get(a, x));

				json_array_set(a, x, json_array_get(a, y));
				json_array_set_new(a, y, t);
			}
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static void
test_candidates_per_pair(void **state)
{
	struct fixture *f = *state;
	struct ctl_ports ports = { .n = 4 };
	char err[256] = "", *sum;
	struct ctl_store_reader *rd;
	json_t *s, *out;

	for (unsigned i = 0; i < 4; i++)
		ports.name[i] = names[i];
	rd = ctl_store_reader_open(f->path, err, sizeof(err));
	assert_non_null(rd);

	/* Global: every flow, the one of no known port with in_port null. */
	s = session(NULL, NULL);
	out = ctl_learn_candidates(rd, &ports, s, NULL, 100, err, sizeof(err));
	if (out == NULL)
		fail_msg("candidates: %s", err);
	sum = cand_summary(out);
	assert_string_equal(sum, "[\"->192.0.2.80:443\",\"dmz>172.16.1.5:22\","
				 "\"inside>10.0.0.1:8080\",\"lan>172.16.0.5:22\","
				 "\"outside>192.0.2.80:80\"]");
	free(sum);
	json_decref(out);
	json_decref(s);

	/* The pair outside-inside: its two ports' flows only; the two web clients are one
	 * candidate. */
	s = session("outside", "inside");
	out = ctl_learn_candidates(rd, &ports, s, NULL, 100, err, sizeof(err));
	assert_non_null(out);
	sum = cand_summary(out);
	assert_string_equal(sum, "[\"inside>10.0.0.1:8080\",\"outside>192.0.2.80:80\"]");
	free(sum);
	json_decref(out);

	/* Its proposal: rules with in:, learned-rest for the pair, the other ports' default. */
	out = ctl_learn_proposal(rd, &ports, s, NULL, NULL, err, sizeof(err));
	if (out == NULL)
		fail_msg("proposal: %s", err);
	const char *text = json_string_value(json_object_get(out, "text"));

	assert_non_null(strstr(text, "    in: \"outside\"\n"));
	assert_non_null(strstr(text, "    in: \"inside\"\n"));
	assert_non_null(strstr(text, "  - name: learned-rest\n"));
	assert_non_null(strstr(text, "    in: [\"outside\", \"inside\"]\n    action: drop\n"));
	/* no policy in force: everything was allowed, and stays so on the other ports */
	assert_non_null(strstr(text, "\ndefault: allow\n"));
	json_t *chk = json_object_get(out, "check");

	assert_int_equal(json_integer_value(json_object_get(chk, "observed")), 3);
	assert_int_equal(json_integer_value(json_object_get(chk, "allowed")), 3);
	assert_int_equal(json_integer_value(json_object_get(chk, "not_allowed")), 0);
	json_decref(out);
	json_decref(s);

	/* A pair the config no longer has: nothing learnt, and said so. */
	s = session("gone1", "gone2");
	errno = 0;
	assert_null(ctl_learn_candidates(rd, &ports, s, NULL, 100, err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, "gone1-gone2"));
	errno = 0;
	assert_null(ctl_learn_proposal(rd, &ports, s, NULL, NULL, err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
	json_decref(s);
	ctl_store_reader_close(rd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_ports),
		cmocka_unit_test_setup_teardown(test_candidates_per_pair, setup, teardown),
	};

	if (vg_test_eal_init() != 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	ctl_test_eal_fini();
	return rc;
}

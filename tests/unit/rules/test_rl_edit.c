/* SPDX-License-Identifier: BSD-3-Clause */
/* Promotion's text edit: one rule's dry_run changes, every other byte stays. */
#include "vg_test.h"

#include "rl_edit.h"
#include "rl_policy.h"

static const char policy[] = "# the operator's comment stays\n"
			     "version: 1\n"
			     "default: drop\n"
			     "rules:\n"
			     "  - name: web          # café, naïve: UTF-8 before the edits\n"
			     "    description: \"accès web\"\n"
			     "    proto: tcp\n"
			     "    dport: [80, 443]\n"
			     "    action: allow\n"
			     "  - name: no-telnet\n"
			     "    proto: tcp\n"
			     "    dport: 23\n"
			     "    action: drop\n"
			     "    dry_run: true   # trying it\n"
			     "  - {name: no-smb, proto: tcp, dport: 445, action: reject}\n"
			     "  - name: last\n"
			     "    proto: udp\n"
			     "    action: drop";

static struct rl_policy *
load(const char *text, size_t len)
{
	struct vg_diag d;
	struct rl_policy *p;

	vg_diag_init(&d);
	p = rl_policy_load_buf("edited", text, len, NULL, &d);
	if (p == NULL) {
		vg_diag_print(&d, stderr);
		fprintf(stderr, "%s\n", text);
	}
	vg_diag_free(&d);
	return p;
}

static bool
dry(const struct rl_policy *p, const char *name)
{
	for (unsigned i = 0; i < rl_policy_n_rules(p); i++)
		if (strcmp(rl_policy_rule(p, i)->name, name) == 0)
			return rl_policy_rule(p, i)->dry_run;
	fail_msg("no rule %s", name);
	return false;
}

/* policy with the first `from` replaced by `to`: the only change an edit may make. */
static char *
replaced(const char *from, const char *to)
{
	const char *at = strstr(policy, from);
	size_t n = strlen(policy) - strlen(from) + strlen(to);
	char *o = malloc(n + 1);

	assert_non_null(at);
	assert_non_null(o);
	snprintf(o, n + 1, "%.*s%s%s", (int)(at - policy), policy, to, at + strlen(from));
	return o;
}

static void
test_edits(void **state)
{
	struct {
		const char *rule;
		bool v, changed;
		const char *from, *to;
	} cases[] = {
		{ "web", true, true, "    action: allow\n",
				"    action: allow\n    dry_run: true\n" },
		{ "no-telnet", false, true, "dry_run: true   #", "dry_run: false   #" },
		{ "no-telnet", true, false, "dry_run: true", "dry_run: true" },
		{ "no-smb", true, true, "action: reject}", "action: reject, dry_run: true}" },
		{ "last", true, true, "udp\n    action: drop",
				"udp\n    action: drop\n    dry_run: true\n" },
	};
	char err[128];

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rl_policy *before = load(policy, strlen(policy)), *after;
		size_t n;
		bool changed;
		char *t = rl_edit_dry_run(policy, strlen(policy), cases[i].rule, cases[i].v, &n,
				&changed, err, sizeof(err));

		if (t == NULL)
			fail_msg("%s: %s", cases[i].rule, err);
		assert_int_equal(changed, cases[i].changed);
		assert_int_equal(strlen(t), n);
		after = load(t, n);
		assert_non_null(after);
		assert_int_equal(dry(after, cases[i].rule), cases[i].v);
		/* every other rule as it was */
		assert_int_equal(rl_policy_n_rules(after), rl_policy_n_rules(before));
		for (unsigned r = 0; r < rl_policy_n_rules(before); r++) {
			const char *name = rl_policy_rule(before, r)->name;

			if (strcmp(name, cases[i].rule) != 0)
				assert_int_equal(dry(after, name), dry(before, name));
		}
		char *want = replaced(cases[i].from, cases[i].to);

		assert_string_equal(t, want);
		free(want);
		assert_non_null(strstr(t, "# the operator's comment stays\n"));
		assert_non_null(strstr(t, "# trying it"));
		rl_policy_free(before);
		rl_policy_free(after);
		free(t);
	}
}

static void
test_refusals(void **state)
{
	char err[128];
	size_t n;
	bool changed;

	(void)state;
	assert_null(rl_edit_dry_run(
			policy, strlen(policy), "nope", true, &n, &changed, err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, "'nope'"));
	assert_null(rl_edit_dry_run("- a\n", 4, "web", true, &n, &changed, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edits),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

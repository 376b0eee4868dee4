/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_bpf_state: the eBPF maps' entries across a restart. Real policies with the example
 * programs (allow_list, port_knock; VG_BPF_DIR) are compiled, their maps changed as the API and
 * the programs change them, saved, the files edited, and a new run's first version restored:
 * each map holds what a reload's carry would give (compared entry by entry with one), and the
 * programs answer accordingly. A malformed state file (bad JSON, a bad key) is set aside as
 * .bad with its position in the log and its map starts from its file; a map whose declaration
 * changed or no longer fits starts from its file and keeps the state; a map no longer in force
 * loses its state at the next save; without a folder nothing is written and nothing is said to
 * be kept.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Four lpm maps alive at once at most (64 MiB each: rte_lpm's and rte_lpm6's tbl24). */
#define VG_TEST_WITH_EAL
#define VG_TEST_EAL_MEM_MB "768"
#include "vg_test.h"

#include "ctl_bpf_state.h"
#include "rl_bpf.h"
#include "rl_bpf_map.h"
#include "rl_compile.h"
#include "rl_policy.h"

static char dir[] = "/tmp/vg-bpf-state-XXXXXX";
static char state_dir[600];
static FILE *logf; /* the DPDK log, read back by logged() */

static void
write_file(const char *name, const char *text)
{
	char path[700];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static bool
exists(const char *name)
{
	char path[700];

	snprintf(path, sizeof(path), "%s/%s", state_dir, name);
	return access(path, F_OK) == 0;
}

/* Whether the log since the last call has a line with every one of the texts (NULL-ended). */
static bool
logged(const char *first, ...)
{
	static long from;
	char line[4096];
	bool found = false;

	fflush(logf);
	fseek(logf, from, SEEK_SET);
	while (!found && fgets(line, sizeof(line), logf) != NULL) {
		va_list ap;
		const char *t = first;

		found = true;
		va_start(ap, first);
		for (; t != NULL && found; t = va_arg(ap, const char *))
			found = strstr(line, t) != NULL;
		va_end(ap);
	}
	fseek(logf, 0, SEEK_END);
	from = ftell(logf);
	return found;
}

static const char *const ports[] = { "a", "b" };

static struct rl_snapshot *
compile(bool knock)
{
	char text[2048];
	const struct rl_env env = { .ports = ports, .n_ports = 2 };
	struct vg_diag d;
	struct rl_policy *pol;
	struct rl_snapshot *s;

	snprintf(text, sizeof(text),
			"version: 1\ndefault: allow\nrules:\n"
			"  - {name: lan, proto: udp, action: allow, bpf: %s/allow_list.o}\n"
			"%s%s%s",
			dir, knock ? "  - {name: knock, proto: tcp, action: allow, bpf: " : "",
			knock ? dir : "", knock ? "/knock.o}\n" : "");
	vg_diag_init(&d);
	pol = rl_policy_load_buf("p.yaml", text, strlen(text), &env, &d);
	assert_non_null(pol);
	s = rl_compile(pol, 1, 2, SOCKET_ID_ANY, &d);
	if (s == NULL) {
		vg_diag_print(&d, stderr);
		fail_msg("the policy does not compile");
	}
	rl_policy_free(pol);
	vg_diag_free(&d);
	return s;
}

static struct rl_bpf_map *
map_of(const struct rl_snapshot *s, const char *name, struct rl_bpf_prog **prog)
{
	for (unsigned i = 0; i < rl_snapshot_n_rules(s); i++) {
		const char *owner;
		bool pre;
		struct rl_bpf_prog *p = rl_snapshot_program(s, i, &owner, &pre);
		struct rl_bpf_maps *ms = p != NULL ? rl_bpf_maps(p) : NULL;

		for (unsigned k = 0; ms != NULL && k < ms->n; k++)
			if (strcmp(rl_bpf_map_name(ms->m[k]), name) == 0) {
				if (prog != NULL)
					*prog = p;
				return ms->m[k];
			}
	}
	fail_msg("no map %s", name);
	return NULL;
}

static void
put(struct rl_bpf_map *m, const char *key, uint64_t value, bool del)
{
	struct rl_bpf_map_entry e;
	char err[512];

	assert_int_equal(rl_bpf_map_parse(m, key, value, &e, err, sizeof(err)), 0);
	if (rl_bpf_map_change(m, &e, 1, del, err, sizeof(err)) != 0)
		fail_msg("%s %s: %s", del ? "delete" : "put", key, err);
}

/* allow_list's answer for a packet from src (IPv4). */
static uint64_t
run_src(const struct rl_snapshot *s, const char *src)
{
	struct rl_bpf_prog *p;
	struct rl_bpf_run r;

	map_of(s, "allowed4", &p);
	memset(&r, 0, sizeof(r));
	r.ctx.version = VG_BPF_CTX_VERSION;
	r.ctx.size = sizeof(r.ctx);
	r.ctx.family = 4;
	r.ctx.proto = 17;
	assert_int_equal(inet_pton(AF_INET, src, r.ctx.src), 1);
	assert_int_equal(inet_pton(AF_INET, "10.2.2.2", r.ctx.dst), 1);
	return rl_bpf_exec(p, &r, 0);
}

/* port_knock's answer for a SYN from src to dport at t_s seconds. */
static uint64_t
knock(const struct rl_snapshot *s, const char *src, uint16_t dport, uint64_t t_s)
{
	struct rl_bpf_prog *p;
	struct rl_bpf_run r;

	map_of(s, "knock_state", &p);
	memset(&r, 0, sizeof(r));
	r.ctx.version = VG_BPF_CTX_VERSION;
	r.ctx.size = sizeof(r.ctx);
	r.ctx.family = 4;
	r.ctx.proto = 6;
	r.ctx.sport = 40000;
	r.ctx.dport = dport;
	r.ctx.tcp_flags = 0x02;
	r.ctx.now_ns = 1700000000ull * 1000000000ull + t_s * 1000000000ull;
	assert_int_equal(inet_pton(AF_INET, src, r.ctx.src), 1);
	assert_int_equal(inet_pton(AF_INET, "10.2.2.2", r.ctx.dst), 1);
	return rl_bpf_exec(p, &r, 0);
}

/* The map's entries as text, "key=value" in key order. */
static void
entries_text(struct rl_bpf_map *m, char *buf, size_t len)
{
	struct rl_bpf_map_entry *v;
	uint32_t n;
	size_t o = 0;

	assert_int_equal(rl_bpf_map_copy(m, &v, &n), 0);
	buf[0] = '\0';
	for (uint32_t i = 0; i < n && o < len; i++) {
		char k[64];

		rl_bpf_map_key_text(m, &v[i], k, sizeof(k));
		o += (size_t)snprintf(buf + o, len - o, "%s=%" PRIu64 " ", k, v[i].value);
	}
	free(v);
}

static void
same_entries(struct rl_bpf_map *a, struct rl_bpf_map *b)
{
	char x[4096], y[4096];

	entries_text(a, x, sizeof(x));
	entries_text(b, y, sizeof(y));
	assert_string_equal(x, y);
}

static const char *const names[] = { "allowed4", "allowed6", "knock_config", "knock_state" };

static void
setup_files(void)
{
	char cmd[1400];

	snprintf(cmd, sizeof(cmd), "cp %s/allow_list.o %s/ && cp %s/port_knock.o %s/knock.o",
			VG_BPF_DIR, dir, VG_BPF_DIR, dir);
	assert_int_equal(system(cmd), 0);
	write_file("allow_list.maps.yaml",
			"maps:\n"
			"  - {name: allowed4, kind: lpm, family: 4, max_entries: 8, file: v4.yaml}\n"
			"  - {name: allowed6, kind: lpm, family: 6, max_entries: 8, file: v6.yaml}\n");
	write_file("v4.yaml", "entries:\n"
			      "  - {key: 10.1.0.0/16, value: 1}\n"
			      "  - {key: 10.1.2.0/24, value: 2}\n"
			      "  - {key: 192.0.2.7, value: 3}\n");
	write_file("v6.yaml", "entries:\n  - {key: \"fd00:1::/32\", value: 6}\n");
	write_file("knock.maps.yaml",
			"maps:\n"
			"  - {name: knock_config, kind: hash, key: u64, max_entries: 8, file: knock.yaml}\n"
			"  - {name: knock_state, kind: hash, key: addr, max_entries: 64}\n");
	write_file("knock.yaml", "entries:\n"
				 "  - {key: 0, value: 7001}\n"
				 "  - {key: 1, value: 7002}\n"
				 "  - {key: 2, value: 7003}\n"
				 "  - {key: 3, value: 22}\n"
				 "  - {key: 4, value: 10}\n");
}

/*
 * Changes through the API and a program's writes, saved at a stop; the files edited; the next
 * run's first version restored: what a reload's carry gives, and the programs answer so.
 */
static void
test_round_trip(void **state)
{
	const uint64_t pass = VG_BPF_PASS | VG_BPF_CACHE, allow = VG_BPF_ALLOW | VG_BPF_CACHE;
	struct ctl_bpf_state *st = ctl_bpf_state_create(state_dir);
	struct rl_snapshot *s1, *s2, *carried;
	char err[1024];

	(void)state;
	setup_files();
	s1 = compile(true);
	assert_int_equal(ctl_bpf_state_restore(st, s1), 0); /* nothing saved yet */
	assert_true(ctl_bpf_state_persisted(st, "allowed4"));
	/* The API: a /24 added, one of the file's deleted, knock port 22 -> 2222; a knock. */
	put(map_of(s1, "allowed4", NULL), "192.0.2.0/24", 9, false);
	put(map_of(s1, "allowed4", NULL), "10.1.2.0/24", 0, true);
	put(map_of(s1, "knock_config", NULL), "3", 2222, false);
	assert_int_equal(ctl_bpf_state_save(st, s1, "allowed4", err, sizeof(err)), 0);
	assert_true(exists("allowed4.json"));
	assert_int_equal(knock(s1, "10.1.1.1", 7001, 1), pass);
	assert_int_equal(knock(s1, "10.1.1.1", 7002, 2), pass);
	assert_int_equal(knock(s1, "10.1.1.1", 7003, 3), pass);
	/* A clean stop writes every map. */
	assert_int_equal(ctl_bpf_state_save_all(st, s1), 4);
	for (unsigned i = 0; i < 4; i++) {
		char f[64];

		snprintf(f, sizeof(f), "%s.json", names[i]);
		assert_true(exists(f));
	}
	ctl_bpf_state_free(st);

	/* Meanwhile the file: 192.0.2.7 removed, 10.1.0.0/16 changed, 172.16.0.0/12 added. */
	write_file("v4.yaml", "entries:\n"
			      "  - {key: 10.1.0.0/16, value: 4}\n"
			      "  - {key: 10.1.2.0/24, value: 2}\n"
			      "  - {key: 172.16.0.0/12, value: 8}\n");
	/* The next run. */
	st = ctl_bpf_state_create(state_dir);
	s2 = compile(true);
	assert_int_equal(run_src(s2, "192.0.2.9"), VG_BPF_DROP | VG_BPF_CACHE); /* its file alone */
	assert_int_equal(ctl_bpf_state_restore(st, s2), 4);
	assert_true(logged("map allowed4 restored from", state_dir, "allowed4.json", NULL));
	assert_int_equal(ctl_bpf_state_restore(st, s2), 0); /* once per run */
	assert_int_equal(rl_bpf_map_count(map_of(s2, "allowed4", NULL)), 3);
	assert_int_equal(run_src(s2, "10.1.2.9"), pass | VG_BPF_MARK(4));   /* stays deleted */
	assert_int_equal(run_src(s2, "10.1.5.5"), pass | VG_BPF_MARK(4));   /* the file's change */
	assert_int_equal(run_src(s2, "192.0.2.7"), pass | VG_BPF_MARK(9));  /* the API's /24 */
	assert_int_equal(run_src(s2, "172.16.1.1"), pass | VG_BPF_MARK(8)); /* the file's new */
	/* The knock state and the API's port came back: 2222 opens for 10.1.1.1 alone. */
	assert_int_equal(knock(s2, "10.1.1.1", 2222, 4), allow);
	assert_int_equal(knock(s2, "10.1.1.2", 2222, 4), VG_BPF_REJECT | VG_BPF_CACHE);
	/* Exactly what a reload from the first run's maps would have made. */
	carried = compile(true);
	assert_int_equal(rl_snapshot_carry_maps(carried, s1, NULL, NULL), 4);
	for (unsigned i = 0; i < 4; i++) {
		if (strcmp(names[i], "knock_state") == 0)
			continue; /* s2's program ran once more since */
		same_entries(map_of(s2, names[i], NULL), map_of(carried, names[i], NULL));
	}
	rl_snapshot_free(carried);
	rl_snapshot_free(s1);
	rl_snapshot_free(s2);
	ctl_bpf_state_free(st);
}

/* A state file that cannot be read: set aside, said where and why, its map from its file. */
static void
test_malformed(void **state)
{
	struct ctl_bpf_state *st;
	struct rl_snapshot *s;
	char path[700], text[8192];
	FILE *f;
	size_t n;

	(void)state;
	/* Truncated JSON: jansson's line and column. */
	snprintf(path, sizeof(path), "%s/allowed4.json", state_dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("{\"format\": 1, \"name\": \"allowed4\",\n \"maps\": [{\"rule\": \"lan\",", f);
	fclose(f);
	st = ctl_bpf_state_create(state_dir);
	s = compile(true);
	assert_int_equal(ctl_bpf_state_restore(st, s), 3); /* the other three */
	assert_true(logged(path, "line 2, column", "set aside as", "allowed4.json.bad",
			"map allowed4 starts from its file", NULL));
	assert_false(exists("allowed4.json"));
	assert_true(exists("allowed4.json.bad"));
	assert_int_equal(rl_bpf_map_count(map_of(s, "allowed4", NULL)), 3); /* v4.yaml's */
	assert_int_equal(run_src(s, "192.0.2.7"), VG_BPF_DROP | VG_BPF_CACHE);
	/* The next save writes it afresh. */
	assert_int_equal(ctl_bpf_state_save_all(st, s), 4);
	assert_true(exists("allowed4.json"));
	rl_snapshot_free(s);
	ctl_bpf_state_free(st);

	/* Well-formed JSON with a key the map refuses: the member is named. */
	assert_non_null(f = fopen(path, "r"));
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	char *at = strstr(text, "\"10.1.0.0/16\"");

	assert_non_null(at);
	memcpy(at, "\"10.1.0.1/16\"", 13);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	st = ctl_bpf_state_create(state_dir);
	s = compile(true);
	assert_int_equal(ctl_bpf_state_restore(st, s), 3);
	assert_true(logged("maps[0].", "'10.1.0.1/16' has bits set past its /16",
			"allowed4.json.bad", NULL));
	assert_true(exists("allowed4.json.bad"));
	rl_snapshot_free(s);
	ctl_bpf_state_free(st);
}

/* A map whose declaration changed, or whose state no longer fits: from its file, state kept. */
static void
test_declaration_changed(void **state)
{
	struct ctl_bpf_state *st = ctl_bpf_state_create(state_dir);
	struct rl_snapshot *s = compile(true);

	(void)state;
	put(map_of(s, "knock_config", NULL), "5", 1, false);
	put(map_of(s, "allowed4", NULL), "198.51.100.0/24", 5, false);
	put(map_of(s, "allowed4", NULL), "203.0.113.0/24", 5, false);
	assert_int_equal(ctl_bpf_state_save_all(st, s), 4);
	rl_snapshot_free(s);
	ctl_bpf_state_free(st);
	/* knock_config's keys become addresses; allowed4 holds at most 3. */
	write_file("knock.maps.yaml",
			"maps:\n"
			"  - {name: knock_config, kind: hash, key: addr, max_entries: 8}\n"
			"  - {name: knock_state, kind: hash, key: addr, max_entries: 64}\n");
	write_file("allow_list.maps.yaml",
			"maps:\n"
			"  - {name: allowed4, kind: lpm, family: 4, max_entries: 3, file: v4.yaml}\n"
			"  - {name: allowed6, kind: lpm, family: 6, max_entries: 8, file: v6.yaml}\n");
	st = ctl_bpf_state_create(state_dir);
	s = compile(true);
	assert_int_equal(ctl_bpf_state_restore(st, s), 2);
	assert_true(logged("rule 'knock': map knock_config not restored from",
			"was hash, key u64 and is now hash, key addr", "it starts from its file",
			NULL));
	assert_int_equal(rl_bpf_map_count(map_of(s, "knock_config", NULL)), 0);
	assert_int_equal(rl_bpf_map_count(map_of(s, "allowed4", NULL)), 3);
	assert_true(exists("knock_config.json")); /* not malformed: kept */
	assert_false(exists("knock_config.json.bad"));
	rl_snapshot_free(s);
	ctl_bpf_state_free(st);
	setup_files();
}

/* A map no longer in force loses its state at the next save; without a folder nothing is kept. */
static void
test_gone_and_none(void **state)
{
	struct ctl_bpf_state *st = ctl_bpf_state_create(state_dir), *none;
	struct rl_snapshot *s = compile(false);
	char err[1024], bad[700];

	(void)state;
	assert_true(exists("knock_state.json"));
	assert_int_equal(ctl_bpf_state_save_all(st, s), 2);
	assert_false(exists("knock_state.json"));
	assert_false(exists("knock_config.json"));
	assert_true(exists("allowed4.json"));
	/* No folder: not kept, and said so. */
	none = ctl_bpf_state_create(NULL);
	assert_int_equal(ctl_bpf_state_save(none, s, "allowed4", err, sizeof(err)), -ENOTSUP);
	assert_false(ctl_bpf_state_persisted(none, "allowed4"));
	assert_false(ctl_bpf_state_persisted(NULL, "allowed4"));
	ctl_bpf_state_note_unsaved(none);
	assert_true(logged("not kept across a restart", NULL));
	ctl_bpf_state_note_unsaved(none);
	assert_false(logged("not kept across a restart", NULL)); /* once */
	ctl_bpf_state_free(none);
	/* No policy in force (vigild started without one): nothing saved, nothing removed. */
	assert_int_equal(ctl_bpf_state_save_all(st, NULL), 0);
	assert_true(exists("allowed4.json"));
	/* A folder that cannot be made: the write fails, and the map is not said to be kept
	 * until a write succeeds. */
	snprintf(bad, sizeof(bad), "%s/v4.yaml/bpf-maps", dir);
	none = ctl_bpf_state_create(bad);
	assert_int_not_equal(ctl_bpf_state_save(none, s, "allowed4", err, sizeof(err)), 0);
	assert_non_null(strstr(err, bad));
	assert_false(ctl_bpf_state_persisted(none, "allowed4"));
	assert_true(ctl_bpf_state_persisted(none, "allowed6"));
	ctl_bpf_state_free(none);
	rl_snapshot_free(s);
	ctl_bpf_state_free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_declaration_changed),
		cmocka_unit_test(test_gone_and_none),
	};
	char cmd[700];
	int rc;

	if (vg_test_eal_init() != 0)
		return 1;
	assert_non_null(mkdtemp(dir));
	snprintf(state_dir, sizeof(state_dir), "%s/bpf-maps", dir);
	logf = tmpfile();
	if (logf == NULL || rte_openlog_stream(logf) != 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rte_openlog_stream(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/* The appliance config loader: good files load with the right values, and every kind of bad
 * file is refused with a message at the right line and column. */
#include "vg_test.h"

#include "vg_config.h"
#include "vg_priv.h"
#include "vg_yaml.h"

#define PORTS                     \
	"ports:\n"                \
	"  - name: a\n"           \
	"    device: net_null0\n" \
	"  - name: b\n"           \
	"    device: net_null1\n" \
	"pairs:\n"                \
	"  - [a, b]\n"

static int
load(const char *text, struct vg_config *cfg, struct vg_diag *d)
{
	vg_diag_init(d);
	return vg_config_load_buf(cfg, "t.yaml", text, strlen(text), d);
}

static void
test_minimal_gets_defaults(void **state)
{
	struct vg_config cfg;
	struct vg_diag d;

	(void)state;
	assert_int_equal(load(PORTS, &cfg, &d), 0);
	assert_int_equal(d.errors, 0);
	assert_int_equal(cfg.n_ports, 2);
	assert_string_equal(cfg.ports[0].name, "a");
	assert_string_equal(cfg.ports[1].device, "net_null1");
	assert_false(cfg.ports[0].is_pci);
	assert_int_equal(cfg.ports[0].rx_desc, 1024);
	assert_true(cfg.ports[0].promiscuous);
	assert_int_equal(cfg.n_pairs, 1);
	assert_int_equal(cfg.pairs[0].a, 0);
	assert_int_equal(cfg.pairs[0].b, 1);
	assert_int_equal(vg_config_peer(&cfg, 0), 1);
	assert_int_equal(vg_config_peer(&cfg, 1), 0);
	assert_int_equal(cfg.n_workers, 1);
	assert_int_equal(cfg.workers[0], 1);
	assert_int_equal(cfg.hugepages, VG_HUGE_AUTO);
	assert_int_equal(cfg.burst, 32);
	assert_int_equal(cfg.log_level, VG_LOG_INFO);
	assert_string_equal(cfg.file_prefix, "vigil");
	vg_config_free(&cfg);
	vg_diag_free(&d);
}

static void
test_full_file(void **state)
{
	const char *text = "eal:\n"
			   "  args: [\"--log-level=lib.eal:debug\", \"--socket-mem=512\"]\n"
			   "  file_prefix: test-1\n"
			   "  hugepages: off\n"
			   "  no_huge_memory: 2G\n"
			   "lcores:\n"
			   "  control: 2\n"
			   "  workers: [4, 5, 6]\n"
			   "  cpus: [0, 1]\n"
			   "ports:\n"
			   "  - name: up\n"
			   "    device: \"0000:03:00.0\"\n"
			   "    rx_desc: 4096\n"
			   "    tx_desc: 2048\n"
			   "    promiscuous: false\n"
			   "    mtu: 9000\n"
			   "  - name: down\n"
			   "    device: \"03:00.1\"\n"
			   "  - name: t1\n"
			   "    device: net_tap0,iface=x\n"
			   "  - name: t2\n"
			   "    device: net_tap1,iface=y\n"
			   "pairs: [[up, down], [t2, t1]]\n"
			   "mempool: {mbufs: 64k, cache: 128, data_room: 4k}\n"
			   "dataplane: {burst: 64, tx_drain_us: 50, idle_sleep_us: 10}\n"
			   "rings: {events: 8192, commands: 64}\n"
			   "log: {level: debug}\n"
			   "stats: {interval: 5s}\n";
	struct vg_config cfg;
	struct vg_diag d;

	(void)state;
	assert_int_equal(load(text, &cfg, &d), 0);
	assert_int_equal(cfg.n_eal_args, 2);
	assert_string_equal(cfg.eal_args[1], "--socket-mem=512");
	assert_string_equal(cfg.file_prefix, "test-1");
	assert_int_equal(cfg.hugepages, VG_HUGE_OFF);
	assert_int_equal(cfg.no_huge_mem_mb, 2048);
	assert_int_equal(cfg.control_lcore, 2);
	assert_int_equal(cfg.n_workers, 3);
	assert_int_equal(cfg.workers[2], 6);
	assert_int_equal(cfg.n_lcore_cpus, 2);
	assert_int_equal(cfg.lcore_cpus[1], 1);
	assert_true(cfg.ports[0].is_pci);
	assert_true(cfg.ports[1].is_pci);
	assert_false(cfg.ports[2].is_pci);
	assert_int_equal(cfg.ports[0].rx_desc, 4096);
	assert_false(cfg.ports[0].promiscuous);
	assert_int_equal(cfg.ports[0].mtu, 9000);
	assert_int_equal(cfg.n_pairs, 2);
	assert_int_equal(cfg.pairs[1].a, 3);
	assert_int_equal(cfg.pairs[1].b, 2);
	assert_int_equal(cfg.mbufs, 65536);
	assert_int_equal(cfg.mbuf_data_room, 4096);
	assert_int_equal(cfg.burst, 64);
	assert_int_equal(cfg.idle_sleep_us, 10);
	assert_int_equal(cfg.event_ring_size, 8192);
	assert_int_equal(cfg.log_level, VG_LOG_DEBUG);
	assert_int_equal(cfg.stats_interval_ms, 5000);
	vg_config_free(&cfg);
	vg_diag_free(&d);
}

/* A section another module owns and checks (vigild --check-config runs them all). */
static int
owned_elsewhere(struct vg_yaml *y, yaml_node_t *n, void *obj)
{
	(void)y;
	(void)n;
	(*(unsigned *)obj)++;
	return 0;
}

/* Exception policies: each condition's own setting, else the default, else (the table full)
 * flows.overflow, else pass. */
static void
test_exceptions(void **state)
{
	struct vg_config cfg;
	struct vg_diag d;

	(void)state;
	assert_int_equal(load(PORTS, &cfg, &d), 0);
	assert_int_equal(cfg.exceptions[VG_EXC_FLOW_TABLE_FULL], VG_EXC_DROP_PACKET);
	assert_int_equal(cfg.exceptions[VG_EXC_MIDSTREAM], VG_EXC_PASS);
	assert_int_equal(cfg.exceptions[VG_EXC_STREAM_MEMCAP], VG_EXC_PASS);
	assert_int_equal(cfg.exceptions[VG_EXC_APP_LAYER_MEMCAP], VG_EXC_PASS);
	assert_false(cfg.flows_overflow_open);
	vg_config_free(&cfg);
	vg_diag_free(&d);
	/* flows.overflow: open is the table's pass. */
	assert_int_equal(load(PORTS "flows: {overflow: open}\n", &cfg, &d), 0);
	assert_int_equal(cfg.exceptions[VG_EXC_FLOW_TABLE_FULL], VG_EXC_PASS);
	vg_config_free(&cfg);
	vg_diag_free(&d);
	/* A default for every condition, one of them set on its own. */
	assert_int_equal(load(PORTS "exceptions: {default: drop-flow, midstream: reject}\n", &cfg,
					 &d),
			0);
	assert_int_equal(cfg.exceptions[VG_EXC_FLOW_TABLE_FULL], VG_EXC_DROP_FLOW);
	assert_int_equal(cfg.exceptions[VG_EXC_MIDSTREAM], VG_EXC_REJECT);
	assert_int_equal(cfg.exceptions[VG_EXC_STREAM_MEMCAP], VG_EXC_DROP_FLOW);
	assert_int_equal(cfg.exceptions[VG_EXC_APP_LAYER_MEMCAP], VG_EXC_DROP_FLOW);
	assert_int_equal(cfg.exceptions[VG_EXC_STREAM_DEPTH], VG_EXC_DROP_FLOW);
	assert_int_equal(cfg.exceptions[VG_EXC_PACKET_BUDGET], VG_EXC_DROP_FLOW);
	assert_int_equal(cfg.exceptions[VG_EXC_EVENT_RING_FULL], VG_EXC_DROP_FLOW);
	assert_int_equal(cfg.exceptions[VG_EXC_SIGS_LOADING], VG_EXC_DROP_FLOW);
	assert_false(cfg.flows_overflow_open);
	vg_config_free(&cfg);
	vg_diag_free(&d);
	/* The conditions added with the inspection budget and the delayed signatures. */
	assert_int_equal(
			load(PORTS "inspection: {packet_budget_ns: 20000}\n"
				   "exceptions: {stream_depth: drop-flow, packet_budget: drop-packet, "
				   "event_ring_full: pass, signatures_loading: drop-packet}\n",
					&cfg, &d),
			0);
	assert_int_equal(cfg.inspect_budget_ns, 20000);
	assert_int_equal(cfg.exceptions[VG_EXC_STREAM_DEPTH], VG_EXC_DROP_FLOW);
	assert_int_equal(cfg.exceptions[VG_EXC_PACKET_BUDGET], VG_EXC_DROP_PACKET);
	assert_int_equal(cfg.exceptions[VG_EXC_EVENT_RING_FULL], VG_EXC_PASS);
	assert_int_equal(cfg.exceptions[VG_EXC_SIGS_LOADING], VG_EXC_DROP_PACKET);
	assert_int_equal(cfg.exceptions[VG_EXC_MIDSTREAM], VG_EXC_PASS);
	vg_config_free(&cfg);
	vg_diag_free(&d);
	/* Agreeing settings of the alias and the exception are fine. */
	assert_int_equal(
			load(PORTS "flows: {overflow: open}\nexceptions: {flow_table_full: pass}\n",
					&cfg, &d),
			0);
	assert_true(cfg.flows_overflow_open);
	vg_config_free(&cfg);
	vg_diag_free(&d);
}

static void
test_shipped_config_is_valid(void **state)
{
	struct vg_config cfg;
	struct vg_diag d;
	struct vg_priv_config priv;
	unsigned seen = 0;
	const struct vg_config_section others[] = {
		{ "signatures", owned_elsewhere, &seen },
		{ "store", owned_elsewhere, &seen },
		{ "detectors", owned_elsewhere, &seen },
		{ "alerts", owned_elsewhere, &seen },
		{ "mgmt", owned_elsewhere, &seen },
		{ "applayer", owned_elsewhere, &seen },
		{ "link", owned_elsewhere, &seen },
		{ "watchdog", owned_elsewhere, &seen },
		/* Parsed for real: the shipped user must be one deps.sh creates. */
		{ "privileges", vg_priv_yaml_parse, &priv },
	};

	(void)state;
	vg_priv_defaults(&priv);
	vg_diag_init(&d);
	int rc = vg_config_load_sections(&cfg, VIGIL_SOURCE_ROOT "/conf/vigil.yaml", others,
			sizeof(others) / sizeof(others[0]), &d);
	if (rc != 0)
		vg_diag_print(&d, stderr);
	assert_int_equal(rc, 0);
	assert_int_equal(d.warnings, 0);
	assert_true(cfg.n_pairs >= 1);
	vg_config_free(&cfg);
	vg_diag_free(&d);
}

/* One bad file, the position its error must carry, and a piece of the message. */
struct bad_case {
	const char *name;
	const char *text;
	unsigned line;
	unsigned col;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{ "unknown top-level key", PORTS "colour: blue\n", 8, 1, "unknown key 'colour'" },
	{ "unknown nested key", "dataplane:\n  brust: 32\n" PORTS, 2, 3, "unknown key 'brust'" },
	{ "duplicate key", PORTS "log: {level: info}\nlog: {level: debug}\n", 9, 1,
			"appears more than once" },
	{ "ports is not a list", "ports: {a: 1}\npairs: []\n", 1, 8, "expected a list" },
	{ "section is not a mapping", PORTS "log: debug\n", 8, 6, "expected a mapping" },
	{ "number is text", PORTS "dataplane: {burst: lots}\n", 8, 20, "not a whole number" },
	{ "number out of range", PORTS "dataplane: {burst: 500}\n", 8, 20, "out of range" },
	{ "negative number", PORTS "dataplane: {burst: -1}\n", 8, 20, "not a whole number" },
	{ "bad enum", PORTS "log: {level: loud}\n", 8, 14, "not one of: emerg" },
	{ "bad bool",
			"ports:\n  - name: a\n    device: net_null0\n    promiscuous: maybe\n"
			"  - name: b\n    device: net_null1\npairs: [[a, b]]\n",
			4, 18, "not a boolean" },
	{ "bad duration", PORTS "stats: {interval: soon}\n", 8, 19, "not a duration" },
	{ "bad size", PORTS "mempool: {mbufs: 12q}\n", 8, 18, "not a size" },
	{ "too few mbufs", PORTS "mempool: {mbufs: 100}\n", 8, 18, "too few" },
	{ "ring not power of two", PORTS "rings: {events: 1000}\n", 1, 1, "not a power of two" },
	{ "missing device",
			"ports:\n  - name: a\n  - name: b\n    device: net_null1\npairs: [[a, b]]\n",
			2, 5, "required key 'device' is missing" },
	{ "missing ports", "pairs: []\n", 1, 1, "required key 'ports' is missing" },
	{ "bad device",
			"ports:\n  - name: a\n    device: eth0\n  - name: b\n    device: net_null1\n"
			"pairs: [[a, b]]\n",
			2, 5, "neither a PCI address" },
	{ "bad port name", "ports:\n  - name: 9a\n    device: net_null0\n", 2, 5,
			"must start with a letter" },
	{ "duplicate port name",
			"ports:\n  - name: a\n    device: net_null0\n  - name: a\n"
			"    device: net_null1\npairs: []\n",
			4, 5, "used by an earlier port" },
	{ "same device twice",
			"ports:\n  - name: a\n    device: net_null0\n  - name: b\n"
			"    device: net_null0,size=64\npairs: []\n",
			4, 5, "is also port 'a'" },
	{ "pair names unknown port",
			"ports:\n  - name: a\n    device: net_null0\n  - name: b\n"
			"    device: net_null1\npairs:\n  - [a, c]\n",
			7, 9, "no port is named 'c'" },
	{ "port in two pairs",
			"ports:\n  - {name: a, device: net_null0}\n"
			"  - {name: b, device: net_null1}\n  - {name: c, device: net_null2}\n"
			"pairs:\n  - [a, b]\n  - [c, a]\n",
			7, 9, "already in pair 1" },
	{ "pair with itself", "ports:\n  - {name: a, device: net_null0}\npairs:\n  - [a, a]\n", 4,
			5, "paired with itself" },
	{ "pair of three", PORTS "  - [a, b, a]\n", 8, 5, "list of two port names" },
	{ "unpaired port",
			"ports:\n  - {name: a, device: net_null0}\n"
			"  - {name: b, device: net_null1}\n  - {name: c, device: net_null2}\n"
			"pairs:\n  - [a, b]\n",
			6, 3, "port 'c' is not in any pair" },
	{ "worker is control", PORTS "lcores: {control: 1, workers: [1]}\n", 1, 1,
			"both the control lcore and a worker" },
	{ "worker twice", PORTS "lcores: {workers: [1, 1]}\n", 8, 23, "listed twice" },
	{ "no workers", PORTS "lcores: {workers: []}\n", 8, 19, "list 1 to" },
	{ "no lcore CPUs", PORTS "lcores: {cpus: []}\n", 8, 16, "list 1 to" },
	{ "lcore CPU out of range", PORTS "lcores: {cpus: [0, 5000]}\n", 8, 20, "out of range" },
	{ "EAL option owned by config", PORTS "eal: {args: [\"-l\", \"0-3\"]}\n", 8, 14,
			"'-l' is set by the config" },
	{ "EAL vdev owned by config", PORTS "eal:\n  args: [\"--vdev=net_null5\"]\n", 9, 10,
			"use a ports entry" },
	{ "bad file prefix", PORTS "eal: {file_prefix: \"a/b\"}\n", 8, 20, "not a usable prefix" },
	{ "YAML syntax", "ports:\n  - name: [a\n", 3, 1, "YAML syntax" },
	{ "tab indentation", "ports:\n\t- name: a\n", 2, 1, "YAML syntax" },
	{ "empty file", "", 0, 0, "the file is empty" },
	{ "two documents", PORTS "---\nlog: {}\n", 0, 0, "more than one YAML document" },
	{ "top level is a list", "- a\n- b\n", 1, 1, "expected a mapping" },
	{ "bad exception action", PORTS "exceptions: {midstream: ignore}\n", 8, 25,
			"not one of: pass, bypass, drop-packet, drop-flow, reject" },
	{ "unknown exception condition", PORTS "exceptions: {memcap: pass}\n", 8, 14,
			"unknown key 'memcap'" },
	{ "overflow and exception disagree",
			PORTS "flows: {overflow: open}\nexceptions: {flow_table_full: drop-flow}\n",
			1, 1,
			"'flows.overflow: open' and 'exceptions.flow_table_full: drop-flow' disagree" },
};

static void
test_bad_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct vg_config cfg;
		struct vg_diag d;
		int rc = load(c->text, &cfg, &d);

		if (rc == 0 || !vg_test_diag_has(&d, c->line, c->col, c->msg)) {
			vg_diag_print(&d, stderr);
			fail_msg("case '%s': expected an error at %u:%u containing \"%s\" (rc %d)",
					c->name, c->line, c->col, c->msg, rc);
		}
		/* Messages name the file they came from. */
		assert_string_equal(d.v[0].file, "t.yaml");
		vg_config_free(&cfg);
		vg_diag_free(&d);
	}
}

static void
test_missing_file(void **state)
{
	struct vg_config cfg;
	struct vg_diag d;

	(void)state;
	vg_diag_init(&d);
	assert_int_equal(vg_config_load(&cfg, "/nonexistent/vigil.yaml", &d), -ENOENT);
	assert_diag(&d, 0, 0, "cannot open");
	vg_diag_free(&d);
}

static void
test_all_errors_reported(void **state)
{
	/* Three independent mistakes: one run reports them all. */
	const char *text = PORTS "log: {level: loud}\ndataplane: {burst: 0}\nfoo: 1\n";
	struct vg_config cfg;
	struct vg_diag d;

	(void)state;
	assert_int_equal(load(text, &cfg, &d), -EINVAL);
	assert_int_equal(d.errors, 3);
	assert_diag(&d, 8, 14, "loud");
	assert_diag(&d, 9, 20, "out of range");
	assert_diag(&d, 10, 1, "unknown key 'foo'");
	vg_diag_free(&d);
}

struct extra {
	uint32_t depth;
	bool on;
};

static const struct vg_yaml_field extra_fields[] = {
	{ .name = "depth", .type = VG_YT_U32, .off = offsetof(struct extra, depth), .max = 100 },
	{ .name = "on", .type = VG_YT_BOOL, .off = offsetof(struct extra, on) },
	{ 0 },
};

static int
parse_extra(struct vg_yaml *y, yaml_node_t *n, void *obj)
{
	return vg_yaml_map(y, n, "extra", extra_fields, obj);
}

static void
test_sections_of_other_subsystems(void **state)
{
	struct extra ex = { .depth = 7 };
	struct vg_config_section sec[] = { { "extra", parse_extra, &ex } };
	struct vg_config cfg;
	struct vg_diag d;
	const char *good = PORTS "extra: {depth: 42, on: true}\n";
	const char *bad = PORTS "extra: {depth: 420, colour: red}\n";

	(void)state;
	vg_diag_init(&d);
	assert_int_equal(
			vg_config_load_buf_sections(&cfg, "t.yaml", good, strlen(good), sec, 1, &d),
			0);
	assert_int_equal(ex.depth, 42);
	assert_true(ex.on);
	vg_config_free(&cfg);
	vg_diag_free(&d);

	assert_int_equal(vg_config_load_buf_sections(&cfg, "t.yaml", bad, strlen(bad), sec, 1, &d),
			-EINVAL);
	assert_diag(&d, 8, 16, "out of range");
	assert_diag(&d, 8, 21, "unknown key 'colour'");
	vg_diag_free(&d);

	/* Without the section registered, the key is unknown, and the message lists it not. */
	assert_int_equal(load(good, &cfg, &d), -EINVAL);
	assert_diag(&d, 8, 1, "unknown key 'extra'");
	vg_diag_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_gets_defaults),
		cmocka_unit_test(test_exceptions),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_shipped_config_is_valid),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_sections_of_other_subsystems),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vigild: the Vigil appliance daemon.
 *
 * Start-up runs in a fixed order, and shut-down in the reverse order: config (before EAL, so a
 * bad file touches no port), EAL, dataplane (mempool, ports, workers), control loop.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_version.h>

#include "al_config.h"
#include "ctl_alert.h"
#include "ctl_analysis.h"
#include "ctl_bpf.h"
#include "ctl_bpf_prog.h"
#include "ctl_bpf_state.h"
#include "ctl_call.h"
#include "ctl_ctx.h"
#include "ctl_ipfix.h"
#include "ctl_learn.h"
#include "ctl_link.h"
#include "ctl_loop.h"
#include "ctl_rates.h"
#include "ctl_watchdog.h"
#include "ctl_policy.h"
#include "ctl_store.h"
#include "rl_compile.h"
#include "rl_policy.h"
#include "ctl_status.h"
#include "ctl_sigs.h"
#include "det_config.h"
#include "dp.h"
#include "dp_bpf.h"
#include "dp_parse.h"
#include "dp_port.h"
#include "mg_config.h"
#include "mg_server.h"
#include "vg_config.h"
#include "vg_eal.h"
#include "vg_eal_cleanup.h"
#include "vg_log.h"
#include "vg_notify.h"
#include "vg_priv.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "unknown"
#endif
#ifndef VIGIL_DEFAULT_CONFIG
#define VIGIL_DEFAULT_CONFIG "/etc/vigil/vigil.yaml"
#endif

enum exit_code {
	EXIT_OK = 0,
	EXIT_CONFIG = 1,  /* the config (or a file it names) is wrong */
	EXIT_USAGE = 2,	  /* bad command line */
	EXIT_RUNTIME = 3, /* EAL, memory or a port failed */
};

/* Sections of vigil.yaml that other subsystems own. */
struct sections {
	struct ctl_store_opts store;
	bool store_present;    /* no store section: no store (history, versions, audit) */
	struct mg_config mgmt; /* mgmt.enabled: a mgmt section is present (REST API) */
	struct ctl_analysis_opts analysis;
	struct det_config sigs;
	struct al_config applayer;
	struct vg_priv_config priv; /* priv.enabled: drop to priv.user once the ports are up */
	struct ctl_link_opts link;
	struct ctl_watchdog_opts watchdog;
	struct ctl_ipfix_opts ipfix; /* export.ipfix; collector empty: none */
};

static struct sections sections;

static int
parse_store_section(struct vg_yaml *y, yaml_node_t *n, void *obj)
{
	struct sections *s = obj;

	s->store_present = true;
	return ctl_store_yaml_parse(y, n, &s->store);
}

static volatile sig_atomic_t quit_requested;
static volatile sig_atomic_t reload_requested;
static volatile sig_atomic_t reopen_requested;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else if (sig == SIGUSR2)
		reopen_requested = 1;
	else
		quit_requested = 1;
}

/*
 * Each pass of the control loop: the service manager's watchdog, and SIGUSR2's reopening of the
 * EVE log after logrotate moved it. SIGUSR2 rather than SIGHUP, which rebuilds the policy and
 * the signatures (and replaces texts applied through the API): a rotation must not do that.
 */
static void
service_tick(void *arg, uint64_t now_ms)
{
	struct ctl_ctx *ctx = arg;

	vg_notify_tick(now_ms);
	if (reopen_requested) {
		struct ctl_eve *eve = ctl_analysis_eve(ctx->analysis);

		reopen_requested = 0;
		if (eve != NULL) {
			MAIN_LOG(NOTICE, "SIGUSR2: reopening %s", sections.analysis.alerts.eve_log);
			ctl_eve_reopen(eve);
		} else {
			MAIN_LOG(NOTICE, "SIGUSR2: no EVE log is configured (alerts.eve_log); "
					 "nothing to reopen");
		}
	}
}

/*
 * Tests only: with VIGIL_TEST_STALL_MS=N in the environment, SIGUSR1 sent to one thread
 * (tgkill) holds that thread N ms in the handler, to stall a worker on purpose for the
 * watchdog's test (tests/e2e/test_watchdog.sh). Without the variable SIGUSR1 keeps its default.
 * Under failure: open, a worker the signal finds inside a queue call (holding a queue's lock:
 * its queue could not fail over, docs/OPERATIONS.md) is not stalled: the handler says so on
 * stderr and returns, and the test signals again.
 */
static long test_stall_ms;
static struct dp *volatile test_stall_dp;

static void
test_stall_say(const char *m)
{
	ssize_t rc = write(STDERR_FILENO, m, strlen(m));

	(void)rc;
}

static void
on_test_stall(int sig)
{
	struct timespec ts = { test_stall_ms / 1000, (test_stall_ms % 1000) * 1000000L };
	struct dp *dp = test_stall_dp;
	int saved = errno;

	(void)sig;
	if (dp != NULL && dp_failopen_lcore_locked(dp, rte_lcore_id())) {
		test_stall_say("vigild: test stall: not now, the thread holds a queue lock\n");
		errno = saved;
		return;
	}
	test_stall_say("vigild: test stall: the thread stops now\n");
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	errno = saved;
}

struct options {
	const char *config;
	bool check_config;
	bool config_given;
	const char *check_policy;
	const char *check_bpf;
	long stats_secs; /* -1: from the config */
	uint64_t stop_after_idle_ms;
	const char *stats_json;
	const char *events_file;
	bool bench; /* stats.stages on, the live view every stats_secs */
};

static void
usage(FILE *out)
{
	fprintf(out,
			"Usage: vigild [options]\n"
			"\n"
			"Vigil inline firewall appliance (DPDK).\n"
			"\n"
			"Options:\n"
			"  -c, --config FILE        appliance config (default %s)\n"
			"      --check-policy FILE  validate and compile a policy file, print problems and\n"
			"                           a summary, and exit: 0 usable, 1 not (port names\n"
			"                           come from the config when it loads)\n"
			"      --check-bpf FILE     validate an eBPF program for policy rules' bpf:\n"
			"                           (vigild's limits and rte_bpf's validator), print\n"
			"                           ok or the reason, and exit: 0 usable, 1 not\n"
			"      --check-config       validate the config, print problems, and "
			"exit:\n"
			"                           0 when it is valid, 1 when it is not\n"
			"  -s, --stats SECONDS      print port and worker rates every SECONDS\n"
			"                           (overrides stats.interval; 0 turns it off)\n"
			"      --stop-after-idle MS exit once no packet has arrived for MS "
			"milliseconds\n"
			"                           (for replaying captures through net_pcap)\n"
			"      --stats-json FILE    on exit, write the final counters to FILE as "
			"JSON\n"
			"      --bench SECONDS      bench mode: count cycles per pipeline stage and print\n"
			"                           rates and cycles per packet by stage every SECONDS\n"
			"                           (with --stats-json, the totals on exit)\n"
			"      --events FILE        write every flow and alert event of the workers to\n"
			"                           FILE as JSON lines (- for stdout), for debugging\n"
			"  -V, --version            print the version and exit\n"
			"  -h, --help               print this help and exit\n"
			"\n"
			"EAL arguments come from the config (eal.args), not the command line.\n"
			"Signals: SIGINT or SIGTERM stop cleanly and print the final counters;\n"
			"SIGHUP reloads the policy and signature files; SIGUSR2 reopens the EVE\n"
			"log (after logrotate moved it).\n"
			"Exit status: 0 ok, 1 bad config, 2 bad command line, 3 runtime failure.\n",
			VIGIL_DEFAULT_CONFIG);
}

static int
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "check-policy", required_argument, NULL, 'P' },
		{ "check-bpf", required_argument, NULL, 'F' },
		{ "stats", required_argument, NULL, 's' },
		{ "stop-after-idle", required_argument, NULL, 'I' },
		{ "stats-json", required_argument, NULL, 'J' },
		{ "events", required_argument, NULL, 'E' },
		{ "bench", required_argument, NULL, 'B' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	o->config = VIGIL_DEFAULT_CONFIG;
	o->stats_secs = -1;
	while ((c = getopt_long(argc, argv, "c:s:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			o->config_given = true;
			break;
		case 'C':
			o->check_config = true;
			break;
		case 'P':
			o->check_policy = optarg;
			break;
		case 'F':
			o->check_bpf = optarg;
			break;
		case 's':
			o->stats_secs = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || o->stats_secs < 0 ||
					o->stats_secs > 86400) {
				fprintf(stderr, "vigild: --stats: '%s' is not 0..86400 seconds\n",
						optarg);
				return EXIT_USAGE;
			}
			break;
		case 'B':
			o->stats_secs = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || o->stats_secs < 1 ||
					o->stats_secs > 86400) {
				fprintf(stderr, "vigild: --bench: '%s' is not 1..86400 seconds\n",
						optarg);
				return EXIT_USAGE;
			}
			o->bench = true;
			break;
		case 'I':
			o->stop_after_idle_ms = strtoull(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || o->stop_after_idle_ms == 0) {
				fprintf(stderr,
						"vigild: --stop-after-idle: '%s' is not a positive "
						"number of milliseconds\n",
						optarg);
				return EXIT_USAGE;
			}
			break;
		case 'J':
			o->stats_json = optarg;
			break;
		case 'E':
			o->events_file = optarg;
			break;
		case 'V':
			printf("vigild %s (DPDK %s)\n", VIGIL_VERSION, rte_version());
			exit(EXIT_OK);
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vigild: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Memory the dataplane will want from EAL, in MiB, with room for tables and rings. */
static unsigned long
memory_needed_mb(const struct vg_config *cfg)
{
	uint64_t mbufs = cfg->mbufs;

	if (mbufs == 0) {
		/* The same estimate dp_create() makes, rounded up generously. */
		mbufs = 4096;
		for (unsigned i = 0; i < cfg->n_ports; i++)
			mbufs += (uint64_t)cfg->n_workers *
				 (cfg->ports[i].rx_desc + cfg->ports[i].tx_desc);
		mbufs *= 2;
		for (unsigned i = 0; i < cfg->n_ports; i++)
			mbufs += dp_port_held_mbufs(cfg->ports[i].device);
	}
	uint64_t bytes = mbufs * (cfg->mbuf_data_room + 256);

	/* Per worker: flow table (~210 B a flow), fragments, rate-limit sources, inspection
	 * slots (a few KiB each, when signatures are configured). */
	bytes += (uint64_t)cfg->n_workers *
		 ((uint64_t)cfg->flows_max * 210 + (uint64_t)cfg->frag_max * 100 +
				 (uint64_t)cfg->rate_sources * 100 +
				 (sections.sigs.n_paths > 0 ? (uint64_t)cfg->inspect_max_flows *
										 6144
							    : 0));
	/* Control: the live flows it lists (~200 B a flow), detectors, dedup, blocklist. */
	bytes += (uint64_t)cfg->n_workers * cfg->flows_max * 200 + (96ULL << 20);
	return (unsigned long)(bytes >> 20) + 128;
}

/* A path relative to the config file's directory, made absolute. */
static int
resolve_relative(char **path, const char *config)
{
	const char *slash;
	char *full;

	if (*path == NULL || (*path)[0] == '/')
		return 0;
	slash = strrchr(config, '/');
	if (slash == NULL)
		return 0;
	if (asprintf(&full, "%.*s/%s", (int)(slash - config), config, *path) < 0)
		return -ENOMEM;
	free(*path);
	*path = full;
	return 0;
}

/* The same for a path held in a fixed buffer; -ENAMETOOLONG when the result does not fit. */
static int
resolve_relative_buf(char *buf, size_t len, const char *config)
{
	char *path;
	int rc;

	if (buf[0] == '\0' || buf[0] == '/')
		return 0;
	path = strdup(buf);
	if (path == NULL)
		return -ENOMEM;
	rc = resolve_relative(&path, config);
	if (rc == 0 && strlen(path) >= len)
		rc = -ENAMETOOLONG;
	if (rc == 0)
		memcpy(buf, path, strlen(path) + 1);
	free(path);
	return rc;
}

/*
 * Create the missing directories above a file vigild writes (the store, the EVE log), as a
 * package's state directory would be: mode 0750. An existing directory is left as it is.
 */
static int
make_parent_dirs(const char *file)
{
	char dir[VG_PATH_LEN];
	size_t n = strlen(file);

	if (n >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, file, n + 1);
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0750) == 0) {
			/* A directory vigild made for its own files belongs to its user. */
			int rc = vg_priv_hand_over(&sections.priv, dir);

			if (rc != 0)
				return rc;
		} else if (errno != EEXIST) {
			return -errno;
		}
		*p = '/';
	}
	return 0;
}

/* Hand a file vigild writes after the drop, and its SQLite companions, over to the user. */
static int
hand_over_file(const char *key, const char *path, bool sqlite)
{
	const char *suffix[] = { "", "-wal", "-shm", "-journal" };
	char p[VG_PATH_LEN + 16];

	if (!sections.priv.enabled || path[0] == '\0')
		return 0;
	for (size_t i = 0; i < (sqlite ? 4 : 1); i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		if (access(p, F_OK) == 0 && vg_priv_hand_over(&sections.priv, p) != 0) {
			MAIN_LOG(ERR, "%s: cannot hand %s over to user %s: %s", key, p,
					sections.priv.user, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/*
 * After the drop, vigild still creates files next to the store's database (SQLite's -wal and
 * -shm) and the EVE log (after a rotation): a directory the user cannot write is an error that
 * says how to fix it, before any port is touched. It reads the policy, the signatures and the
 * dashboard again at each reload or request: a file the user cannot read is a warning.
 */
static int
check_user_access(const struct vg_config *cfg)
{
	enum { MAX = 8 + DET_CONFIG_MAX_PATHS };
	const char *paths[MAX], *keys[MAX];
	char dirs[2][VG_PATH_LEN];
	int modes[MAX];
	bool ok[MAX], need[MAX];
	unsigned n = 0, bad = 0;

#define ADD(k, p, m, required)                                  \
	do {                                                    \
		if ((p) != NULL && (p)[0] != '\0' && n < MAX) { \
			keys[n] = (k);                          \
			paths[n] = (p);                         \
			modes[n] = (m);                         \
			need[n++] = (required);                 \
		}                                               \
	} while (0)
	const char *files[2] = { sections.store_present ? sections.store.path : "",
		sections.analysis.alerts.eve_log };
	for (int i = 0; i < 2; i++) {
		char *slash;

		snprintf(dirs[i], sizeof(dirs[i]), "%s", files[i]);
		slash = strrchr(dirs[i], '/');
		if (slash != NULL)
			slash[slash == dirs[i] ? 1 : 0] = '\0';
		else if (dirs[i][0] != '\0')
			snprintf(dirs[i], sizeof(dirs[i]), ".");
	}
	ADD("store.path", dirs[0], W_OK | X_OK, true);
	ADD("alerts.eve_log", dirs[1], W_OK | X_OK, true);
	ADD("policy.file", cfg->policy_file, R_OK, false);
	for (unsigned i = 0; i < sections.sigs.n_paths; i++)
		ADD("signatures.paths", sections.sigs.paths[i], R_OK, false);
	ADD("signatures.classification", sections.sigs.classification, R_OK, false);
	ADD("signatures.threshold_file", sections.sigs.threshold_file, R_OK, false);
	ADD("mgmt.www", sections.mgmt.enabled ? sections.mgmt.www : NULL, R_OK | X_OK, false);
#undef ADD
	if (vg_priv_check_access(&sections.priv, paths, modes, n, ok) != 0) {
		fprintf(stderr, "vigild: privileges: cannot check what user %s may access\n",
				sections.priv.user);
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		if (ok[i])
			continue;
		if (need[i]) {
			fprintf(stderr,
					"vigild: %s: user %s (privileges.user) cannot create files in "
					"%s, where %s: chown %s %s, or name a directory it owns\n",
					keys[i], sections.priv.user, paths[i],
					strcmp(keys[i], "store.path") == 0
							? "SQLite keeps the database's -wal and -shm files"
							: "the log is created again after a rotation",
					sections.priv.user, paths[i]);
			bad++;
		} else {
			fprintf(stderr,
					"vigild: warning: %s: user %s (privileges.user) cannot read "
					"%s; it is read now, as root, but a reload or request after "
					"the drop will fail\n",
					keys[i], sections.priv.user, paths[i]);
		}
	}
	return bad == 0 ? 0 : -1;
}

/* Paths in the config are relative to its directory; report one that cannot be resolved. */
static int
resolve_section_paths(const char *config)
{
	char none[CTL_EVE_OUT_ADDR_LEN] = ""; /* a host:port is not a path */
	struct {
		const char *key;
		char *buf;
		size_t len;
	} bufs[] = {
		{ "store.path", sections.store.path, sizeof(sections.store.path) },
		{ "alerts.eve_log", sections.analysis.alerts.eve_log,
				sizeof(sections.analysis.alerts.eve_log) },
		{ "alerts.eve_socket", sections.analysis.alerts.eve_socket.address,
				sizeof(sections.analysis.alerts.eve_socket.address) },
		{ "alerts.eve_syslog.address",
				sections.analysis.alerts.eve_syslog.transport == CTL_EVE_OUT_UNIX
						? sections.analysis.alerts.eve_syslog.address
						: none,
				sizeof(sections.analysis.alerts.eve_syslog.address) },
		{ "mgmt.www", sections.mgmt.www, sizeof(sections.mgmt.www) },
		{ "mgmt.tls.cert", sections.mgmt.tls_cert, sizeof(sections.mgmt.tls_cert) },
		{ "mgmt.tls.key", sections.mgmt.tls_key, sizeof(sections.mgmt.tls_key) },
	};
	int rc;

	for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++) {
		rc = resolve_relative_buf(bufs[i].buf, bufs[i].len, config);
		if (rc != 0) {
			fprintf(stderr, "vigild: %s: %s relative to %s: %s\n", config, bufs[i].key,
					config, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

#define MAX_SIG_GROUPS 64

/*
 * The names a policy may use: the config's ports, and the signature groups (rule files) of the
 * configured signature paths, so that `inspect` is checked before anything starts. Free the
 * group names with policy_env_free().
 */
static void
policy_env(const struct vg_config *cfg, const char **names, char **groups, struct rl_env *env)
{
	unsigned n_groups = 0;

	for (unsigned i = 0; i < cfg->n_ports; i++)
		names[i] = cfg->ports[i].name;
	memset(env, 0, sizeof(*env));
	env->ports = names;
	env->n_ports = cfg->n_ports;
	if (sections.sigs.n_paths > 0)
		n_groups = ctl_sigs_config_groups(&sections.sigs, groups, MAX_SIG_GROUPS);
	if (n_groups > 0) {
		env->sig_groups = (const char *const *)groups;
		env->n_sig_groups = n_groups;
	}
}

static void
policy_env_free(struct rl_env *env)
{
	for (unsigned i = 0; i < env->n_sig_groups; i++)
		free((char *)(uintptr_t)env->sig_groups[i]);
}

/* Load and validate the configured policy (no EAL needed; compiling comes later). */
static int
validate_policy(const struct vg_config *cfg)
{
	const char *names[VG_MAX_PORTS];
	char *groups[MAX_SIG_GROUPS];
	struct rl_env env;
	struct vg_diag diag;
	struct rl_policy *p;

	policy_env(cfg, names, groups, &env);
	vg_diag_init(&diag);
	p = rl_policy_load_file(cfg->policy_file, &env, &diag);
	vg_diag_print(&diag, stderr);
	vg_diag_free(&diag);
	rl_policy_free(p);
	policy_env_free(&env);
	return p == NULL ? -EINVAL : 0;
}

/*
 * --check-policy FILE: load, validate and compile (rte_acl needs EAL: a minimal one, no
 * hugepages, no devices), print every problem and a summary. Port names come from the config
 * when it loaded.
 */
static int
check_policy(const char *file, const struct vg_config *cfg, const char *argv0)
{
	const char *names[VG_MAX_PORTS];
	char *groups[MAX_SIG_GROUPS];
	struct rl_env env;
	char prefix[64];
	int rc;

	snprintf(prefix, sizeof(prefix), "--file-prefix=vgcheck%d", (int)getpid());
	char *eal_argv[] = { (char *)argv0, "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
		"--no-telemetry", "-l", "0", "--log-level=lib.*:error", prefix, NULL };
	if (rte_eal_init((int)(sizeof(eal_argv) / sizeof(eal_argv[0])) - 1, eal_argv) < 0) {
		fprintf(stderr, "vigild: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		return EXIT_RUNTIME;
	}
	policy_env(cfg, names, groups, &env);
	rc = rl_policy_check(file, &env, stdout) == 0 ? EXIT_OK : EXIT_CONFIG;
	policy_env_free(&env);
	vg_eal_cleanup();
	return rc;
}

static void
store_flow_event(void *arg, const struct dp_event *ev)
{
	if (ev->type != DP_EV_ALERT)
		ctl_store_add_flow_event(arg, ev);
}

/*
 * Signature alerts from the workers become alerts with their rule's message and class, and
 * with the facts of the transaction they matched (the TXMETA event just before them).
 */
static void
route_signature_alert(void *arg, const struct dp_event *ev)
{
	struct ctl_ctx *ctx = arg;
	const uint32_t gid = ev->type == DP_EV_ALERT ? ev->alert.gid : 0;

	if (gid == DP_BPF_ALERT_GID || gid == DP_BPF_PREFILTER_GID)
		return; /* a program's: ctl_bpf_on_event */
	if (ev->type == DP_EV_ALERT || ev->type == DP_EV_TXMETA)
		ctl_sigs_on_alert(ctx->sigs, ev, ctx->analysis);
}

/* Build and publish the configured signature files (main, before the workers start). */
static int
load_signatures(struct ctl_ctx *ctx)
{
	struct ctl_sigs_build *b = NULL;
	struct vg_diag diag;
	int rc;

	vg_diag_init(&diag);
	rc = ctl_sigs_build_files(ctx->sigs, &diag, &b);
	/* Rejected rules are reported and skipped; only a set that cannot be used stops here. */
	ctl_sigs_log_diag(&diag, 50);
	vg_diag_free(&diag);
	if (rc != 0) {
		MAIN_LOG(ERR, "the signature set was not put in force (above); no packet was "
			      "forwarded");
		return rc;
	}
	return ctl_sigs_publish(ctx->sigs, b, "files", NULL, NULL);
}

/* Build and publish the configured policy file (main, before the workers start). */
static int
load_policy(struct ctl_ctx *ctx)
{
	struct ctl_policy_build *b = NULL;
	struct vg_diag diag;
	char source[VG_PATH_LEN + 8];
	int rc;

	vg_diag_init(&diag);
	rc = ctl_policy_build_file(ctx->policy, ctx->cfg->policy_file, &diag, &b);
	vg_diag_print(&diag, stderr);
	vg_diag_free(&diag);
	if (rc != 0) {
		MAIN_LOG(ERR, "policy %s is not usable; no packet was forwarded",
				ctx->cfg->policy_file);
		return rc;
	}
	snprintf(source, sizeof(source), "file:%s", ctx->cfg->policy_file);
	return ctl_policy_publish(ctx->policy, b, source, NULL, NULL);
}

/* The appliance proper, between EAL start and EAL cleanup. Returns an exit code. */
static int
run(const struct vg_config *cfg, const struct options *opts)
{
	struct ctl_events *events = NULL;
	struct ctl_mailbox *mailbox = NULL;
	struct ctl_policy *policy = NULL;
	struct ctl_learn *learn = NULL;
	struct ctl_link *link = NULL;
	struct ctl_watchdog *watchdog = NULL;
	struct ctl_rates *rates = NULL;
	struct ctl_store *store = NULL;
	struct mg_server *mgmt = NULL;
	struct ctl_analysis *analysis = NULL;
	struct ctl_sigs *sigs = NULL;
	struct ctl_ipfix *ipfix = NULL;
	struct ctl_bpf_state *bpf_state = NULL;
	FILE *dump = NULL;
	struct dp *dp;
	int rc = EXIT_OK;

	if (opts->events_file != NULL) {
		dump = strcmp(opts->events_file, "-") == 0 ? stdout : fopen(opts->events_file, "w");
		if (dump == NULL) {
			MAIN_LOG(ERR, "--events %s: %s", opts->events_file, strerror(errno));
			return EXIT_USAGE;
		}
	}
	dp = dp_create(cfg, &sections.applayer);
	if (dp == NULL) {
		MAIN_LOG(ERR, "dataplane start failed: %s", rte_strerror(rte_errno));
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (test_stall_ms > 0)
		test_stall_dp = dp;
	/* Before the first policy compiles: its programs' maps reclaim through the workers' RCU. */
	rl_bpf_maps_set_qsbr(dp_qsbr(dp));
	vg_notify_status("starting: signatures, policy, workers");
	events = ctl_events_create(dp, dump);
	mailbox = ctl_mailbox_create(256);
	struct ctl_ctx ctx = {
		.cfg = cfg,
		.dp = dp,
		.events = events,
		.mailbox = mailbox,
		.start_ns = ctl_wall_ns(),
	};
	policy = ctx.policy = ctl_policy_create(&ctx);
	link = ctx.link = ctl_link_create(&ctx, &sections.link);
	watchdog = ctx.watchdog = ctl_watchdog_create(&ctx, &sections.watchdog);
	rates = ctx.rates = ctl_rates_create(dp);
	if (events == NULL || mailbox == NULL || policy == NULL || link == NULL ||
			watchdog == NULL || rates == NULL) {
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (sections.store_present) {
		char err[256];

		for (unsigned i = 0; i < cfg->n_ports && i < CTL_STORE_MAX_PORTS; i++)
			snprintf(sections.store.port_names[i], sizeof(sections.store.port_names[i]),
					"%s", cfg->ports[i].name);
		sections.store.n_ports = cfg->n_ports < CTL_STORE_MAX_PORTS ? cfg->n_ports
									    : CTL_STORE_MAX_PORTS;
		store = ctx.store = ctl_store_open(&sections.store, err, sizeof(err));
		if (store == NULL) {
			MAIN_LOG(ERR, "store %s: %s", sections.store.path, err);
			rc = EXIT_RUNTIME;
			goto out;
		}
		if (ctl_store_moved_aside(store) != NULL)
			MAIN_LOG(WARNING,
					"store: %s was corrupt; moved aside to %s, started afresh",
					sections.store.path, ctl_store_moved_aside(store));
		MAIN_LOG(INFO, "store: %s", ctl_store_path(store));
		ctl_events_subscribe(events, store_flow_event, store);
	}
	/* The eBPF maps' state, kept next to the store: the first policy version starts from it. */
	{
		char dir[VG_PATH_LEN + 16];

		if (store != NULL)
			ctl_bpf_state_dir(ctl_store_path(store), dir, sizeof(dir));
		bpf_state = ctx.bpf_state = ctl_bpf_state_create(store != NULL ? dir : NULL);
		if (bpf_state == NULL) {
			rc = EXIT_RUNTIME;
			goto out;
		}
	}
	/*
	 * The sender thread starts here, before the privileges are dropped; it connects when it
	 * has records to send (socket and connect stay allowed after the drop).
	 */
	if (sections.ipfix.collector[0] != '\0') {
		ipfix = ctx.ipfix = ctl_ipfix_open(&sections.ipfix, cfg);
		if (ipfix == NULL) {
			MAIN_LOG(ERR, "export.ipfix %s: %s", sections.ipfix.collector,
					strerror(errno));
			rc = EXIT_RUNTIME;
			goto out;
		}
		MAIN_LOG(INFO, "ipfix: flow records to %s over %s", sections.ipfix.collector,
				ctl_ipfix_transport_name(ipfix));
		ctl_events_subscribe(events, ctl_ipfix_on_event, ipfix);
	}
	{
		char err[256];

		analysis = ctx.analysis =
				ctl_analysis_create(&ctx, &sections.analysis, err, sizeof(err));
		if (analysis == NULL) {
			MAIN_LOG(ERR, "detectors and alerts: %s", err);
			rc = EXIT_RUNTIME;
			goto out;
		}
	}
	ctl_events_subscribe(events, ctl_bpf_on_event, &ctx);
	if (sections.sigs.n_paths > 0) {
		sigs = ctx.sigs = ctl_sigs_create(&ctx, &sections.sigs);
		if (sigs == NULL || (!sections.sigs.delayed && load_signatures(&ctx) != 0)) {
			rc = EXIT_CONFIG;
			goto out;
		}
		/* signatures.delayed: built off control while the workers forward; put in force
		 * when built (exceptions.signatures_loading decides the packets until then). */
		if (sections.sigs.delayed) {
			if (ctl_sigs_load_delayed(sigs) != 0) {
				MAIN_LOG(ERR, "signatures: cannot start the delayed build: %s",
						strerror(errno));
				rc = EXIT_RUNTIME;
				goto out;
			}
			MAIN_LOG(NOTICE,
					"signatures: building in the background (signatures.delayed); "
					"until they are in force, flows to inspect are handled by "
					"exceptions.signatures_loading: %s",
					vg_exc_action_names[cfg->exceptions[VG_EXC_SIGS_LOADING]]);
		}
		ctl_events_subscribe(events, route_signature_alert, &ctx);
	}
	/* A learning session recorded in the store goes on (in dry-run) from the first packet. */
	learn = ctx.learn = ctl_learn_create(&ctx);
	if (learn == NULL) {
		rc = EXIT_RUNTIME;
		goto out;
	}
	/* The policy is in force before the first packet is polled. */
	if (cfg->policy_file != NULL && load_policy(&ctx) != 0) {
		rc = EXIT_CONFIG;
		goto out;
	}
	/*
	 * The versions just loaded get their ids from the store before the API answers, so that
	 * the first GET already names them. Bounded: a stalled disk leaves them pending (the
	 * control loop completes them) rather than holding the start.
	 */
	if (store != NULL && ctl_store_flush_wait(store, 3000) < 0)
		MAIN_LOG(WARNING,
				"store: the loaded versions are not written yet (%s); they show as "
				"pending until the store catches up",
				ctl_store_path(store));
	if (dp_launch(dp) != 0) {
		rc = EXIT_RUNTIME;
		goto out;
	}
	/* The API answers once the dataplane runs, and stops before control stops answering. */
	if (sections.mgmt.enabled) {
		char err[512];

		mgmt = mg_server_start(&sections.mgmt, &ctx, err, sizeof(err));
		if (mgmt == NULL) {
			MAIN_LOG(ERR, "mgmt: %s", err);
			rc = EXIT_RUNTIME;
			goto out;
		}
	}

	/* Everything that needs root is done: ports, files, the API's socket and key. */
	if (sections.priv.enabled) {
		char err[256], caps[128];

		/* What was created since the check (the database, its -wal and -shm, EVE). */
		char maps_dir[VG_PATH_LEN + 16] = "";

		if (store != NULL)
			ctl_bpf_state_dir(ctl_store_path(store), maps_dir, sizeof(maps_dir));
		if (hand_over_file("store.path", store != NULL ? sections.store.path : "", true) !=
						0 ||
				hand_over_file("store.path", maps_dir, false) != 0 ||
				hand_over_file("alerts.eve_log", sections.analysis.alerts.eve_log,
						false) != 0) {
			rc = EXIT_RUNTIME;
			goto out;
		}
		/* Link propagation sets a kernel interface down: CAP_NET_ADMIN, on control only. */
		if (ctl_link_needs_net_admin(&sections.link, &ctx) &&
				vg_priv_keep(&sections.priv, CAP_NET_ADMIN) != 0) {
			MAIN_LOG(ERR, "privileges: no room to keep net_admin for link propagation");
			rc = EXIT_RUNTIME;
			goto out;
		}
		if (vg_priv_drop(&sections.priv, err, sizeof(err)) != 0) {
			MAIN_LOG(ERR, "privileges: %s; stopping", err);
			rc = EXIT_RUNTIME;
			goto out;
		}
		vg_priv_caps_str(&sections.priv, caps, sizeof(caps));
		MAIN_LOG(NOTICE,
				"running as user %s (uid %u, gid %u), capabilities kept: %s, "
				"seccomp filter %s",
				sections.priv.user, (unsigned)sections.priv.uid,
				(unsigned)sections.priv.gid, caps,
				sections.priv.seccomp ? "on" : "off");
	}

	struct rte_malloc_socket_stats ms;
	if (rte_malloc_get_socket_stats((int)rte_socket_id(), &ms) == 0)
		MAIN_LOG(INFO, "memory: %.1f MiB of DPDK heap in use (%.1f MiB free)",
				(double)ms.heap_allocsz_bytes / (1 << 20),
				(double)ms.heap_freesz_bytes / (1 << 20));

	struct ctl_opts co = {
		.stats_interval_ms = cfg->stats_interval_ms,
		.stop_after_idle_ms = opts->stop_after_idle_ms,
		.quit = &quit_requested,
		.reload = &reload_requested,
		.tick = service_tick,
		.tick_arg = &ctx,
	};
	MAIN_LOG(NOTICE, "forwarding; SIGINT or SIGTERM stops");
	{
		char status[128];

		snprintf(status, sizeof(status), "forwarding: %u ports, %u worker%s%s%s",
				dp_n_ports(dp), dp_n_workers(dp), dp_n_workers(dp) == 1 ? "" : "s",
				sections.priv.enabled ? ", as user " : "",
				sections.priv.enabled ? sections.priv.user : "");
		vg_notify_ready(status);
	}
	ctl_run(&ctx, &co);
	MAIN_LOG(NOTICE, "stopping");
	vg_notify_stopping("stopping: draining the workers");
	mg_server_stop(mgmt);
	mgmt = NULL;
	/* The detectors judge the last intervals in there, before the flows are ended. */
	ctl_stop_dataplane(&ctx);
	/* The workers are done: the maps hold what the next start restores. */
	ctl_bpf_state_save_all(bpf_state, dp_policy(dp));
	ctl_print_counters(dp, stdout);
	fflush(stdout);
	if (opts->stats_json != NULL && ctl_status_write(dp, events, sigs, opts->stats_json) != 0) {
		MAIN_LOG(ERR, "cannot write %s", opts->stats_json);
		rc = EXIT_RUNTIME;
	}
out:
	mg_server_stop(mgmt);
	if (dp != NULL)
		dp_stop(dp);
	ctl_policy_free(policy);
	ctl_learn_free(learn);
	ctl_link_free(link);
	ctl_watchdog_free(watchdog);
	ctl_rates_free(rates);
	ctl_sigs_free(sigs);
	ctl_analysis_free(analysis);
	ctl_store_close(store);
	ctl_ipfix_close(ipfix);
	ctl_bpf_state_free(bpf_state);
	ctl_mailbox_free(mailbox);
	ctl_events_free(events);
	rl_bpf_maps_set_qsbr(NULL);
	test_stall_dp = NULL;
	dp_free(dp);
	if (dump != NULL && dump != stdout)
		fclose(dump);
	return rc;
}

int
main(int argc, char **argv)
{
	struct options opts = { 0 };
	struct vg_config cfg;
	struct vg_diag diag;
	struct vg_eal_args eal;
	struct vg_hugepage_info hi;
	int rc;

	rc = parse_options(argc, argv, &opts);
	if (rc != EXIT_OK)
		return rc;
	if (opts.check_bpf != NULL) /* needs neither the config nor EAL */
		return rl_bpf_check(opts.check_bpf, stdout) == 0 ? EXIT_OK : EXIT_CONFIG;

	ctl_store_opts_defaults(&sections.store);
	mg_config_defaults(&sections.mgmt);
	vg_priv_defaults(&sections.priv);
	ctl_link_opts_defaults(&sections.link);
	ctl_watchdog_opts_defaults(&sections.watchdog);
	ctl_analysis_opts_defaults(&sections.analysis);
	ctl_ipfix_opts_defaults(&sections.ipfix);
	if (det_config_init(&sections.sigs) != 0)
		return EXIT_RUNTIME;
	al_config_init(&sections.applayer);
	const struct vg_config_section extra[] = {
		{ "signatures", det_config_parse, &sections.sigs },
		{ "applayer", al_config_parse, &sections.applayer },
		{ "store", parse_store_section, &sections },
		{ "detectors", ctl_analysis_parse_detectors, &sections.analysis },
		{ "alerts", ctl_analysis_parse_alerts, &sections.analysis },
		{ "mgmt", mg_config_yaml_parse, &sections.mgmt },
		{ "privileges", vg_priv_yaml_parse, &sections.priv },
		{ "link", ctl_link_parse, &sections.link },
		{ "watchdog", ctl_watchdog_parse, &sections.watchdog },
		{ "export", ctl_ipfix_parse, &sections.ipfix },
	};
	vg_config_set_reason_check(dp_parse_reason_known);
	vg_diag_init(&diag);
	rc = vg_config_load_sections(
			&cfg, opts.config, extra, sizeof(extra) / sizeof(extra[0]), &diag);
	if (rc != 0 && opts.check_policy != NULL && !opts.config_given) {
		/* No usable default config: check the policy without port names. */
		vg_diag_free(&diag);
		vg_config_defaults(&cfg);
		rc = check_policy(opts.check_policy, &cfg, argv[0]);
		return rc;
	}
	vg_diag_print(&diag, stderr);
	vg_diag_free(&diag);
	if (rc != 0) {
		fprintf(stderr, "vigild: %s: configuration is not valid; no port was touched\n",
				opts.config);
		return EXIT_CONFIG;
	}
	if (resolve_relative(&cfg.policy_file, opts.config) != 0 ||
			resolve_relative(&sections.sigs.classification, opts.config) != 0 ||
			resolve_relative(&sections.sigs.threshold_file, opts.config) != 0) {
		vg_config_free(&cfg);
		return EXIT_RUNTIME;
	}
	for (unsigned i = 0; i < sections.sigs.n_paths; i++)
		if (resolve_relative(&sections.sigs.paths[i], opts.config) != 0) {
			vg_config_free(&cfg);
			return EXIT_RUNTIME;
		}
	if (resolve_section_paths(opts.config) != 0) {
		vg_config_free(&cfg);
		return EXIT_CONFIG;
	}
	rl_bpf_jit = cfg.bpf_jit;
	/* Programs uploaded through the API live next to the store: `bpf: sha256:HEX` names one. */
	if (sections.store_present) {
		char dir[1024];

		ctl_bpf_prog_dir(sections.store.path, dir, sizeof(dir));
		rl_policy_set_bpf_uploads(dir);
	}
	if (opts.check_policy != NULL) {
		rc = check_policy(opts.check_policy, &cfg, argv[0]);
		vg_config_free(&cfg);
		return rc;
	}
	/* The policy file is read and validated now, so that a bad one touches no port. */
	if (cfg.policy_file != NULL && validate_policy(&cfg) != 0) {
		fprintf(stderr, "vigild: %s: policy is not valid; no port was touched\n",
				cfg.policy_file);
		vg_config_free(&cfg);
		return EXIT_CONFIG;
	}
	if (opts.check_config) {
		printf("%s: configuration ok (%u ports in %u pairs, %u worker%s)\n", opts.config,
				cfg.n_ports, cfg.n_pairs, cfg.n_workers,
				cfg.n_workers == 1 ? "" : "s");
		vg_config_free(&cfg);
		return EXIT_OK;
	}
	const char *writes[] = { sections.store_present ? sections.store.path : "",
		sections.analysis.alerts.eve_log };
	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		rc = writes[i][0] != '\0' ? make_parent_dirs(writes[i]) : 0;
		if (rc != 0) {
			fprintf(stderr, "vigild: cannot create the directory of %s: %s\n",
					writes[i], strerror(-rc));
			vg_config_free(&cfg);
			return EXIT_RUNTIME;
		}
	}
	if (sections.priv.enabled && check_user_access(&cfg) != 0) {
		vg_config_free(&cfg);
		return EXIT_CONFIG;
	}
	if (opts.stats_secs >= 0)
		cfg.stats_interval_ms = (uint64_t)opts.stats_secs * 1000;
	if (opts.bench)
		cfg.stats_stages = true;

	uint64_t watchdog_ms = vg_notify_init();

	/* From now on: logrotate may signal a vigild that is still starting (its default kills). */
	signal(SIGUSR2, on_signal);
	if (getenv("VIGIL_TEST_STALL_MS") != NULL &&
			(test_stall_ms = strtol(getenv("VIGIL_TEST_STALL_MS"), NULL, 10)) > 0)
		signal(SIGUSR1, on_test_stall);

	vg_notify_status("starting: EAL and ports");
	vg_hugepage_probe(&hi);
	rc = vg_eal_args_build(
			&eal, &cfg, &hi, memory_needed_mb(&cfg), argv[0], sections.priv.enabled);
	if (rc != 0) {
		fprintf(stderr, "vigild: %s\n", eal.reason[0] ? eal.reason : strerror(-rc));
		vg_config_free(&cfg);
		return EXIT_CONFIG;
	}

	/* EAL may permute argv; hand it a copy of the pointers and keep ours to free. */
	char *eal_argv[VG_EAL_MAX_ARGV + 1];
	memcpy(eal_argv, eal.argv, sizeof(eal_argv));
	rc = rte_eal_init(eal.argc, eal_argv);
	if (rc < 0) {
		fprintf(stderr, "vigild: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		vg_eal_args_free(&eal);
		vg_config_free(&cfg);
		return EXIT_RUNTIME;
	}
	vg_log_set_level(RTE_LOG_EMERG + cfg.log_level);
	/*
	 * In memory (--in-memory, or --no-huge with --no-shconf), EAL leaves its runtime
	 * directory empty; remove it now: as the user, vigild could not at exit.
	 */
	if (sections.priv.enabled)
		(void)rmdir(rte_eal_get_runtime_dir());
	MAIN_LOG(NOTICE, "vigild %s starting with %s", VIGIL_VERSION, opts.config);
	MAIN_LOG(NOTICE, "%s", eal.reason);
	if (watchdog_ms > 0)
		MAIN_LOG(INFO, "service manager's watchdog: WATCHDOG=1 every %" PRIu64 " ms",
				watchdog_ms);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	rc = run(&cfg, &opts);
	vg_eal_cleanup();
	vg_eal_args_free(&eal);
	vg_config_free(&cfg);
	det_config_free(&sections.sigs);
	return rc;
}

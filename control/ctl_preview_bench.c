/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vigil-preview-bench: how long a policy preview takes over a day of stored history. Not a
 * test: it prints figures and one JSON line (and writes it to --json FILE), and never passes or
 * fails on speed.
 *
 * A store is created by ctl_store_open() (the real schema), then filled directly with --hours
 * of per-minute flow aggregates: --hosts internal hosts each talking to a few of --services
 * services (and a small share of one-off keys, as scans and new traffic make), --keys rows per
 * minute. Two policies of --rules rules (sets per service group; the candidate drops one group,
 * narrows another and adds a rule) are previewed against each other over the whole history and
 * over its last hour, --rounds times each; the median is reported, with the time the store's
 * scan alone takes (the rest is classification and grouping).
 *
 * Usage: vigil-preview-bench [--dir DIR] [--hours N] [--keys N] [--hosts N] [--services N]
 *                            [--rules N] [--rounds N] [--json FILE] [--db FILE]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <sqlite3.h>

#include "ctl_preview.h"
#include "ctl_store.h"
#include "rl_policy.h"
#include "vg_eal_cleanup.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* This thread's CPU time: on a loaded machine, what the preview itself costs. */
static double
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

static const uint16_t svc_ports[] = { 443, 80, 53, 22, 25, 123, 389, 445, 3306, 5432, 8080, 8443,
	6379, 9200, 5672, 1883 };
#define N_PORTS (sizeof(svc_ports) / sizeof(svc_ports[0]))

static void
host_addr(unsigned h, char *out, size_t len)
{
	snprintf(out, len, "10.%u.%u.%u", 1 + h / 65536 % 200, h / 256 % 256, h % 256);
}

/* Service s: an address in 192.168.0.0/16 and a port; services of one group share a port. */
static void
svc_addr(unsigned s, char *out, size_t len)
{
	snprintf(out, len, "192.168.%u.%u", s / 250, 1 + s % 250);
}

static uint8_t
svc_proto(unsigned s)
{
	uint16_t p = svc_ports[s % N_PORTS];

	return p == 53 || p == 123 ? 17 : 6;
}

static int
fill(const char *path, unsigned hours, unsigned keys, unsigned hosts, unsigned services, int64_t t0,
		uint64_t *rows)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char src[32], dst[32];
	int rc;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -EIO;
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; BEGIN", NULL, NULL,
			NULL);
	rc = sqlite3_prepare_v2(db,
			"INSERT OR IGNORE INTO flows (minute, src, dst, dport, proto, verdict, "
			"app_proto, packets, bytes, flows) VALUES (?, ?, ?, ?, ?, 1, '', ?, ?, ?)",
			-1, &st, NULL);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "vigil-preview-bench: %s\n", sqlite3_errmsg(db));
		sqlite3_close(db);
		return -EIO;
	}
	*rows = 0;
	for (unsigned m = 0; m < hours * 60; m++) {
		for (unsigned k = 0; k < keys; k++) {
			unsigned h = (unsigned)(rnd() % hosts), s;

			/* Each host uses five services of its own; 2% of keys are one-offs. */
			if (rnd() % 50 == 0)
				s = (unsigned)(rnd() % services);
			else
				s = (h * 7 + (unsigned)(rnd() % 5)) % services;
			host_addr(h, src, sizeof(src));
			svc_addr(s, dst, sizeof(dst));
			sqlite3_bind_int64(st, 1, t0 + 60 * (int64_t)m);
			sqlite3_bind_text(st, 2, src, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 3, dst, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int(st, 4, svc_ports[s % N_PORTS]);
			sqlite3_bind_int(st, 5, svc_proto(s));
			sqlite3_bind_int64(st, 6, 10 + (int64_t)(rnd() % 100));
			sqlite3_bind_int64(st, 7, 1000 + (int64_t)(rnd() % 100000));
			sqlite3_bind_int64(st, 8, 1 + (int64_t)(rnd() % 3));
			if (sqlite3_step(st) == SQLITE_DONE)
				(*rows) += (uint64_t)sqlite3_changes(db);
			sqlite3_reset(st);
		}
	}
	sqlite3_finalize(st);
	/* The hourly sums the store's writer keeps beside flows, in the same transaction. */
	rc = sqlite3_exec(db,
			"INSERT INTO flows_hour (hour, src, dst, dport, proto, in_port, packets, "
			"bytes, flows, first, last) SELECT minute / 3600 * 3600, src, dst, dport, "
			"proto, in_port, sum(packets), sum(bytes), sum(flows), min(minute), "
			"max(minute) FROM flows GROUP BY minute / 3600 * 3600, src, dst, dport, "
			"proto, in_port",
			NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		fprintf(stderr, "vigil-preview-bench: %s\n", sqlite3_errmsg(db));
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -EIO;
}

/*
 * A policy of n rules: one allow per group of services (a port set and an address set each),
 * then a few denies, default drop. The candidate (cand) drops group 0, narrows group 1 to half
 * its addresses and allows a new port.
 */
static char *
policy_text(unsigned n, unsigned services, bool cand)
{
	size_t cap = 4096 + (size_t)n * 512, len = 0;
	char *s = malloc(cap), a[32];
	unsigned groups = n > 4 ? n - 2 : 2;

	if (s == NULL)
		return NULL;
#define OUT(...) len += (size_t)snprintf(s + len, cap - len, __VA_ARGS__)
	OUT("version: 1\ndefault: drop\nsets:\n");
	for (unsigned g = 0; g < groups; g++) {
		OUT("  g%u: [", g);
		for (unsigned sv = g, k = 0; sv < services; sv += groups, k++) {
			if (cand && g == 1 && k % 2 == 1)
				continue;
			svc_addr(sv, a, sizeof(a));
			OUT("%s%s", k == 0 ? "" : ", ", a);
		}
		OUT("]\n");
	}
	OUT("rules:\n");
	OUT("  - name: no-telnet\n    proto: tcp\n    dport: 23\n    action: reject\n");
	if (cand)
		OUT("  - name: new-mqtt\n    proto: tcp\n    dport: 1883\n    action: allow\n");
	for (unsigned g = 0; g < groups; g++) {
		if (cand && g == 0)
			continue;
		OUT("  - name: group-%u\n    proto: [tcp, udp]\n    from: 10.0.0.0/8\n"
		    "    to: $g%u\n    action: allow\n",
				g, g);
	}
	OUT("  - name: no-smb-out\n    proto: tcp\n    dport: 445\n    action: drop\n");
#undef OUT
	return s;
}

static struct rl_policy *
load(const char *name, const char *text)
{
	struct vg_diag d;
	struct rl_policy *p;

	vg_diag_init(&d);
	p = rl_policy_load_buf(name, text, strlen(text), NULL, &d);
	if (p == NULL)
		vg_diag_print(&d, stderr);
	vg_diag_free(&d);
	return p;
}

static int
count_key(const struct ctl_flow_key_sum *k, void *arg)
{
	(void)k;
	(*(uint64_t *)arg)++;
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct run {
	double total_ms, scan_ms, cpu_ms, scan_cpu_ms;
	uint64_t aggregates, changed;
};

static int
measure(struct ctl_store_reader *r, const struct rl_policy *cur, const struct rl_policy *cand,
		int64_t since, unsigned rounds, struct run *out)
{
	double tot[32], scan[32], cpu[32], scpu[32];
	char err[256];

	for (unsigned i = 0; i < rounds; i++) {
		uint64_t n = 0;
		double t0 = now_ms(), c0 = cpu_ms();
		json_t *j = ctl_preview_run(r, NULL, 0, cur, cand, since, 0, 100, err, sizeof(err));

		if (j == NULL) {
			fprintf(stderr, "vigil-preview-bench: preview: %s\n", err);
			return -1;
		}
		tot[i] = now_ms() - t0;
		cpu[i] = cpu_ms() - c0;
		out->aggregates = (uint64_t)json_integer_value(
				json_object_get(json_object_get(j, "totals"), "aggregates"));
		out->changed = (uint64_t)json_integer_value(json_object_get(
				json_object_get(j, "totals"), "changed_aggregates"));
		json_decref(j);
		t0 = now_ms();
		c0 = cpu_ms();
		if (ctl_store_scan_flow_keys(
				    r, since, 0, NULL, 0, count_key, &n, err, sizeof(err)) < 0)
			return -1;
		scan[i] = now_ms() - t0;
		scpu[i] = cpu_ms() - c0;
	}
	qsort(tot, rounds, sizeof(double), cmp_double);
	qsort(scan, rounds, sizeof(double), cmp_double);
	qsort(cpu, rounds, sizeof(double), cmp_double);
	out->cpu_ms = cpu[rounds / 2];
	qsort(scpu, rounds, sizeof(double), cmp_double);
	out->scan_cpu_ms = scpu[rounds / 2];
	out->total_ms = tot[rounds / 2];
	out->scan_ms = scan[rounds / 2];
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "hours", required_argument, NULL, 'H' },
		{ "keys", required_argument, NULL, 'k' },
		{ "hosts", required_argument, NULL, 'h' },
		{ "services", required_argument, NULL, 's' },
		{ "rules", required_argument, NULL, 'r' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "json", required_argument, NULL, 'j' },
		{ "db", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = "/tmp", *json_path = NULL, *db = NULL;
	unsigned hours = 24, keys = 2000, hosts = 5000, services = 400, rules = 100, rounds = 3;
	char path[CTL_STORE_PATH_LEN - 8], prefix[64], err[256], line[1024];
	struct ctl_store_opts o;
	struct ctl_store *s;
	struct ctl_store_reader *rd;
	struct rl_policy *cur, *cand;
	struct run day, hour, off;
	uint64_t rows = 0;
	double fill_ms;
	int64_t t0 = 1709251200;
	struct stat sb;
	char *ct, *cc;
	int opt;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'd':
			dir = optarg;
			break;
		case 'H':
			hours = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'k':
			keys = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'h':
			hosts = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			services = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rules = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			rounds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'j':
			json_path = optarg;
			break;
		case 'D':
			db = optarg;
			break;
		default:
			fprintf(stderr,
					"usage: %s [--dir DIR] [--hours N] [--keys N] [--hosts N] "
					"[--services N] [--rules N] [--rounds N] [--json FILE] "
					"[--db FILE]\n",
					argv[0]);
			return 2;
		}
	}
	if (hours == 0 || keys == 0 || hosts == 0 || services < 4 || rules < 4 || rounds == 0 ||
			rounds > 32) {
		fprintf(stderr, "vigil-preview-bench: --hours, --keys, --hosts must be positive, "
				"--services and --rules at least 4, --rounds 1..32\n");
		return 2;
	}
	snprintf(prefix, sizeof(prefix), "--file-prefix=vgpvbench%d", (int)getpid());
	char *eal[] = { argv[0], "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
		"--no-telemetry", "-l", "0", "--log-level=lib.eal:error", prefix, NULL };
	if (rte_eal_init(11, eal) < 0) {
		fprintf(stderr, "vigil-preview-bench: EAL init failed\n");
		return 1;
	}
	atexit(vg_eal_cleanup);

	/* --db FILE: kept afterwards, and filled only when it does not exist yet (the same
	 * history measured again, as the fill takes minutes) */
	if (db != NULL)
		snprintf(path, sizeof(path), "%s", db);
	else
		snprintf(path, sizeof(path), "%s/vigil-preview-bench-%d.db", dir, (int)getpid());
	fill_ms = 0;
	bool fresh = db == NULL || stat(path, &sb) != 0;

	/* Opening creates the schema, or migrates a store an older build filled. */
	ctl_store_opts_defaults(&o);
	snprintf(o.path, sizeof(o.path), "%s", path);
	o.max_age_ms = 0;
	o.max_bytes = 0;
	s = ctl_store_open(&o, err, sizeof(err));
	if (s == NULL) {
		fprintf(stderr, "vigil-preview-bench: %s\n", err);
		return 1;
	}
	ctl_store_close(s);
	if (fresh) {
		double f0 = now_ms();
		if (fill(path, hours, keys, hosts, services, t0, &rows) != 0)
			return 1;
		fill_ms = now_ms() - f0;
	} else {
		sqlite3 *h;
		sqlite3_stmt *st;

		if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
				sqlite3_prepare_v2(h, "SELECT count(*) FROM flows", -1, &st,
						NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				rows = (uint64_t)sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
		sqlite3_close(h);
	}
	stat(path, &sb);

	ct = policy_text(rules, services, false);
	cc = policy_text(rules, services, true);
	cur = load("current", ct);
	cand = load("candidate", cc);
	if (cur == NULL || cand == NULL)
		return 1;
	rd = ctl_store_reader_open(path, err, sizeof(err));
	if (rd == NULL) {
		fprintf(stderr, "vigil-preview-bench: %s\n", err);
		return 1;
	}
	/* Windows on the hour, as the history starts; and one off the hour (the store reads its
	 * edges minute by minute): the last 23.5 hours. */
	if (measure(rd, cur, cand, t0, rounds, &day) != 0 ||
			measure(rd, cur, cand, t0 + 1800, rounds, &off) != 0 ||
			measure(rd, cur, cand, t0 + (int64_t)hours * 3600 - 3600, rounds, &hour) !=
					0)
		return 1;
	printf("history: %u h, %" PRIu64 " rows (%u keys/min, %u hosts, %u services), %.1f MiB, "
	       "filled in %.1f s\n",
			hours, rows, keys, hosts, services, (double)sb.st_size / 1048576.0,
			fill_ms / 1e3);
	printf("policies: %u rules in force, %u in the candidate\n", rl_policy_n_rules(cur),
			rl_policy_n_rules(cand));
	printf("preview of the whole history: %" PRIu64 " aggregates, %" PRIu64
	       " changed: %.0f ms (store scan %.0f ms, classify and group %.0f ms), median of "
	       "%u\n",
			day.aggregates, day.changed, day.total_ms, day.scan_ms,
			day.total_ms - day.scan_ms, rounds);
	printf("preview from the half hour (the last %.1f h): %" PRIu64
	       " aggregates: %.0f ms (store scan %.0f ms), CPU %.0f ms (the scan alone %.0f ms)\n",
			hours - 0.5, off.aggregates, off.total_ms, off.scan_ms, off.cpu_ms,
			off.scan_cpu_ms);
	printf("preview of the last hour: %" PRIu64 " aggregates, %" PRIu64
	       " changed: %.1f ms (store scan %.1f ms), median of %u\n",
			hour.aggregates, hour.changed, hour.total_ms, hour.scan_ms, rounds);
	printf("CPU time of one preview (median): whole history %.0f ms (the scan alone %.0f ms), "
	       "last hour %.1f ms (%.1f ms)\n",
			day.cpu_ms, day.scan_cpu_ms, hour.cpu_ms, hour.scan_cpu_ms);
	snprintf(line, sizeof(line),
			"{\"bench\":\"preview\",\"hours\":%u,\"rows\":%" PRIu64
			",\"db_bytes\":%lld,\"keys_per_minute\":%u,\"hosts\":%u,\"services\":%u,"
			"\"rules\":%u,\"rounds\":%u,\"day\":{\"aggregates\":%" PRIu64
			",\"changed\":%" PRIu64
			",\"ms\":%.1f,\"scan_ms\":%.1f,\"cpu_ms\":%.1f,\"scan_cpu_ms\":%.1f},"
			"\"off_hour\":{\"aggregates\":%" PRIu64 ",\"ms\":%.1f,\"scan_ms\":%.1f,"
			"\"cpu_ms\":%.1f,\"scan_cpu_ms\":%.1f},"
			"\"hour\":{\"aggregates\":%" PRIu64 ",\"changed\":%" PRIu64
			",\"ms\":%.2f,\"scan_ms\":%.2f,\"cpu_ms\":%.2f,\"scan_cpu_ms\":%.2f}}",
			hours, rows, (long long)sb.st_size, keys, hosts, services,
			rl_policy_n_rules(cur), rounds, day.aggregates, day.changed, day.total_ms,
			day.scan_ms, day.cpu_ms, day.scan_cpu_ms, off.aggregates, off.total_ms,
			off.scan_ms, off.cpu_ms, off.scan_cpu_ms, hour.aggregates, hour.changed,
			hour.total_ms, hour.scan_ms, hour.cpu_ms, hour.scan_cpu_ms);
	printf("%s\n", line);
	if (json_path != NULL) {
		FILE *f = fopen(json_path, "w");

		if (f == NULL || fprintf(f, "%s\n", line) < 0 || fclose(f) != 0) {
			fprintf(stderr, "vigil-preview-bench: %s: %s\n", json_path,
					strerror(errno));
			return 1;
		}
	}
	ctl_store_reader_close(rd);
	rl_policy_free(cur);
	rl_policy_free(cand);
	free(ct);
	free(cc);
	if (db == NULL) {
		unlink(path);
		snprintf(line, sizeof(line), "%s-wal", path);
		unlink(line);
		snprintf(line, sizeof(line), "%s-shm", path);
		unlink(line);
	}
	return 0;
}

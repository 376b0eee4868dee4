/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Workers: several threads scan one engine at once with their own det_worker and get the
 * same answers; a worker on a NUMA socket takes its memory from DPDK (EAL running).
 */
#define VG_TEST_WITH_EAL
#include <pthread.h>

#include "det_test.h"

#define THREADS 2
#define ROUNDS	2000

struct job {
	const struct det_engine *e;
	int socket;
	uint64_t alerts;
	uint64_t streamed;
	int failed;
};

static void *
worker_main(void *arg)
{
	struct job *j = arg;
	struct det_worker *w = det_worker_create(j->e, j->socket);
	size_t ssize = det_stream_state_size(j->e);
	void *st = aligned_alloc(64, (ssize + 63) & ~(size_t)63);
	static const char *const data[] = { "GET /?q=${jndi:ldap://x}", "nothing to see",
		"USER root\r\n", "xx needle xx" };

	if (w == NULL || st == NULL) {
		j->failed = 1;
		free(st);
		det_worker_free(w);
		return NULL;
	}
	for (int r = 0; r < ROUNDS; r++) {
		const char *d = data[r % 4];
		struct det_pkt p = tdet_pkt(IPPROTO_UDP, 53, d, strlen(d));
		struct det_match m[8];
		int n = det_scan_packet(w, &p, m, 8);

		j->alerts += (uint64_t)(n > 0 ? n : 0);
		p = tdet_pkt(IPPROTO_TCP, 80, d, strlen(d));
		if (det_stream_open(w, st, ssize, &p) != 0) {
			j->failed = 1;
			break;
		}
		n = det_stream_scan(w, st, &p, m, 8);
		j->streamed += (uint64_t)(n > 0 ? n : 0);
		det_stream_close(w, st, NULL, NULL, 0);
	}
	free(st);
	det_worker_free(w);
	return NULL;
}

static void
run(int socket)
{
	struct tdet t;
	struct job jobs[THREADS];
	pthread_t th[THREADS];

	tdet_open(&t, "alert udp any any -> any any (content:\"jndi\"; sid:1;)\n"
		      "alert udp any any -> any any (content:\"needle\"; pcre:\"/x+ needle/\"; "
		      "sid:2;)\n"
		      "alert tcp any any -> any any (content:\"USER\"; pcre:\"/^\\s*root/R\"; sid:3;)\n"
		      "alert tcp any any -> any any (content:\"needle\"; sid:4;)\n");
	for (int i = 0; i < THREADS; i++) {
		jobs[i] = (struct job){ .e = t.e, .socket = socket };
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &jobs[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(jobs[i].failed, 0);
		/* each round of four: jndi and needle match as packets, USER and needle as
		 * streams */
		assert_int_equal(jobs[i].alerts, ROUNDS / 2);
		assert_int_equal(jobs[i].streamed, ROUNDS / 2);
	}
	tdet_close(&t);
}

static void
test_threads_heap(void **state)
{
	(void)state;
	run(-1);
}

static void
test_threads_socket(void **state)
{
	(void)state;
	if (vg_test_eal_init() != 0)
		skip();
	run(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads_heap),
		cmocka_unit_test(test_threads_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

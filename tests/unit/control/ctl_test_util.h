/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers for control's unit tests: temporary directories and dp_event builders. Events are
 * built the way a worker fills them (initiator's side first, cumulative counters, dataplane
 * clock in nanoseconds).
 */
#ifndef CTL_TEST_UTIL_H
#define CTL_TEST_UTIL_H

#include <arpa/inet.h>
#include <inttypes.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dp_event.h"

#define NS_PER_S 1000000000ULL

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20

static inline int
ctl_test_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A fresh directory under /tmp; the caller removes it with ctl_test_rmdir(). */
static inline char *
ctl_test_tmpdir(void)
{
	char *d = strdup("/tmp/vgctl-XXXXXX");

	if (d == NULL || mkdtemp(d) == NULL) {
		free(d);
		return NULL;
	}
	return d;
}

static inline void
ctl_test_rmdir(char *d)
{
	if (d == NULL)
		return;
	nftw(d, ctl_test_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(d);
}

/* An IPv4 flow event; counters are cumulative as the worker reports them. */
static inline struct dp_event
ctl_test_ev4(uint8_t type, uint64_t t_ns, const char *src, uint16_t sport, const char *dst,
		uint16_t dport, uint8_t proto, uint32_t flow_id)
{
	struct dp_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.time_ns = t_ns;
	ev.flow.family = 4;
	ev.flow.proto = proto;
	ev.flow.verdict = DP_VERDICT_ALLOW;
	ev.flow.sport = sport;
	ev.flow.dport = dport;
	ev.flow.flow_id = flow_id;
	ev.flow.first_ns = t_ns;
	ev.flow.last_ns = t_ns;
	inet_pton(AF_INET, src, ev.flow.src);
	inet_pton(AF_INET, dst, ev.flow.dst);
	return ev;
}

static inline void
ctl_test_counts(struct dp_event *ev, uint64_t p0, uint64_t p1, uint64_t b0, uint64_t b1)
{
	ev->flow.pkts[0] = p0;
	ev->flow.pkts[1] = p1;
	ev->flow.bytes[0] = b0;
	ev->flow.bytes[1] = b1;
}

/* "10.<a>.<b>.<c>" for i, to make many distinct addresses. */
static inline void
ctl_test_addr(char *buf, size_t len, unsigned net, unsigned i)
{
	snprintf(buf, len, "%u.%u.%u.%u", net, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
}

#ifdef VG_TEST_WITH_EAL
/* vg_test_eal_init() registers the cleanup (EAL and its runtime directory) to run at exit. */
static inline void
ctl_test_eal_fini(void)
{
}
#endif

#endif /* CTL_TEST_UTIL_H */

/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_eve_out.h"
#include "vg_ctr.h"
#include "vg_log.h"
#include "vg_time.h"

#define CONNECT_TIMEOUT_MS 2000
#define RETRY_MIN_MS	   100
#define RETRY_MAX_MS	   2000

static const char *const facility_names[24] = { "kern", "user", "mail", "daemon", "auth", "syslog",
	"lpr", "news", "uucp", "cron", "authpriv", "ftp", NULL, NULL, NULL, NULL, "local0",
	"local1", "local2", "local3", "local4", "local5", "local6", "local7" };

int
ctl_syslog_facility(const char *name)
{
	for (int i = 0; i < 24; i++)
		if (facility_names[i] != NULL && strcmp(name, facility_names[i]) == 0)
			return i;
	return -EINVAL;
}

void
ctl_eve_out_opts_defaults(struct ctl_eve_out_opts *o, enum ctl_eve_out_format format)
{
	memset(o, 0, sizeof(*o));
	o->format = format;
	o->transport = format == CTL_EVE_OUT_LINES ? CTL_EVE_OUT_UNIX_STREAM : CTL_EVE_OUT_UDP;
	o->facility = 21; /* local5, as Suricata */
	snprintf(o->app_name, sizeof(o->app_name), "vigild");
	o->queue_len = 4096;
}

static bool
is_unix(int transport)
{
	return transport == CTL_EVE_OUT_UNIX || transport == CTL_EVE_OUT_UNIX_STREAM;
}

int
ctl_split_host_port(const char *address, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon, *h = address;
	size_t n;

	if (address[0] == '[') {
		const char *close = strchr(address, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		h = address + 1;
		n = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(address, ':');
		if (colon == NULL || strchr(address, ':') != colon)
			return -EINVAL;
		n = (size_t)(colon - address);
	}
	if (n == 0 || n >= hlen || strlen(colon + 1) >= plen)
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	snprintf(port, plen, "%s", colon + 1);
	return 0;
}

int
ctl_eve_out_check_address(int transport, const char *address, char *why, size_t len)
{
	char host[CTL_EVE_OUT_ADDR_LEN], port[16], *end;
	unsigned long p;

	if (address[0] == '\0') {
		snprintf(why, len, "the address is empty");
		return -EINVAL;
	}
	if (is_unix(transport)) {
		if (strlen(address) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			snprintf(why, len, "'%s' is longer than a unix socket path (%zu)", address,
					sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
			return -EINVAL;
		}
		return 0;
	}
	if (ctl_split_host_port(address, host, sizeof(host), port, sizeof(port)) != 0) {
		snprintf(why, len, "'%s' is not host:port (or [ipv6]:port)", address);
		return -EINVAL;
	}
	errno = 0;
	p = strtoul(port, &end, 10);
	if (errno != 0 || *end != '\0' || port[0] == '\0' || p == 0 || p > 65535) {
		snprintf(why, len, "'%s': the port '%s' is not a number from 1 to 65535", address,
				port);
		return -EINVAL;
	}
	return 0;
}

struct out_line {
	struct out_line *next;
	size_t len;
	size_t off; /* bytes of it sent on the current connection (streams) */
	char data[];
};

/* The queue and counters are guarded by mu; fd belongs to the writer thread. */
struct ctl_eve_out {
	struct ctl_eve_out_opts o;
	char name[24];
	char hostname[256];
	int pid;
	int fd;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	pthread_cond_t changed;
	pthread_t thread;
	bool stop;
	struct out_line *head, *tail;
	uint64_t fail_since_ms;
	struct ctl_eve_out_counters c;
};

static bool
is_stream(const struct ctl_eve_out *out)
{
	return out->o.transport == CTL_EVE_OUT_TCP || out->o.transport == CTL_EVE_OUT_UNIX_STREAM;
}

/* Connect with a bounded wait; a blocking socket with a send timeout afterwards. */
int
ctl_connect_bounded(int fd, const struct sockaddr *sa, socklen_t salen)
{
	int flags = fcntl(fd, F_GETFL), err = 0;
	socklen_t elen = sizeof(err);
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 500000 };

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	if (connect(fd, sa, salen) != 0) {
		if (errno != EINPROGRESS)
			return -errno;
		if (poll(&pfd, 1, CONNECT_TIMEOUT_MS) != 1)
			return -ETIMEDOUT;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
			return -errno;
		if (err != 0)
			return -err;
	}
	if (fcntl(fd, F_SETFL, flags) < 0)
		return -errno;
	/* A receiver that stops reading: send() returns now and then, so close() is not held. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return 0;
}

int
ctl_connect_host_port(const char *address, int type)
{
	struct addrinfo hints = { .ai_socktype = type, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	char host[CTL_EVE_OUT_ADDR_LEN], port[16];
	int fd = -1, rc;

	if (ctl_split_host_port(address, host, sizeof(host), port, sizeof(port)) != 0)
		return -EINVAL;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		return rc == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	rc = -EHOSTUNREACH;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			rc = -errno;
			continue;
		}
		rc = ctl_connect_bounded(fd, ai->ai_addr, ai->ai_addrlen);
		if (rc == 0)
			break;
		close(fd);
	}
	freeaddrinfo(res);
	return rc == 0 ? fd : rc;
}

/* Open a socket to the output's address. Returns the fd or -errno. Writer thread only. */
static int
out_connect(struct ctl_eve_out *out)
{
	int type = out->o.transport == CTL_EVE_OUT_UDP || out->o.transport == CTL_EVE_OUT_UNIX
				   ? SOCK_DGRAM
				   : SOCK_STREAM;
	int fd, rc;

	if (is_unix(out->o.transport)) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", out->o.address);
		fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		rc = ctl_connect_bounded(fd, (struct sockaddr *)&sun, sizeof(sun));
		if (rc != 0) {
			close(fd);
			return rc;
		}
		return fd;
	}

	return ctl_connect_host_port(out->o.address, type);
}

/* A stream whose receiver closed its end: recv() sees the end before send() would fail. */
static bool
peer_closed(int fd)
{
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Under mu. */
static void
out_failed(struct ctl_eve_out *out, int err, const char *what)
{
	out->c.errors++;
	out->c.last_errno = err;
	if (!out->c.failing) {
		out->c.failing = true;
		out->c.episodes++;
		out->fail_since_ms = vg_mono_ms();
		CTL_LOG(WARNING,
				"%s: cannot %s %s (%s); lines are queued (at most %u; beyond that the "
				"newest are dropped and counted) and retried; not logged again "
				"until sending works",
				out->name, what, out->o.address, strerror(err), out->o.queue_len);
	}
	pthread_cond_broadcast(&out->changed);
}

static void *
out_writer(void *arg)
{
	struct ctl_eve_out *out = arg;
	uint64_t delay = RETRY_MIN_MS, retry_at = 0;

	pthread_mutex_lock(&out->mu);
	for (;;) {
		struct out_line *l = out->head;
		ssize_t w;
		int err;

		if (out->stop && (l == NULL || out->c.failing))
			break;
		if (l == NULL) {
			pthread_cond_wait(&out->wake, &out->mu);
			continue;
		}
		if (out->fd < 0 && vg_mono_ms() < retry_at) {
			struct timespec ts;

			vg_mono_deadline(&ts, retry_at - vg_mono_ms());
			while (!out->stop && pthread_cond_timedwait(&out->wake, &out->mu, &ts) == 0)
				;
			continue;
		}
		pthread_mutex_unlock(&out->mu);
		if (out->fd >= 0 && is_stream(out) && peer_closed(out->fd)) {
			close(out->fd);
			out->fd = -1;
		}
		err = 0;
		if (out->fd < 0) {
			int fd = out_connect(out);

			if (fd < 0)
				err = -fd;
			else
				out->fd = fd;
		}
		pthread_mutex_lock(&out->mu);
		if (err != 0) {
			out->c.connected = false;
			out_failed(out, err, "connect to");
			retry_at = vg_mono_ms() + delay;
			delay = delay * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : delay * 2;
			continue;
		}
		if (!out->c.connected) {
			out->c.connected = true;
			out->c.connects++;
			l->off = 0; /* a new connection: the line again, whole */
		}
		pthread_mutex_unlock(&out->mu);
		w = send(out->fd, l->data + l->off, l->len - l->off, MSG_NOSIGNAL);
		err = w < 0 ? errno : 0;
		pthread_mutex_lock(&out->mu);
		if (w > 0)
			l->off += (size_t)w;
		if (l->off == l->len) {
			out->head = l->next;
			if (out->head == NULL)
				out->tail = NULL;
			out->c.queued--;
			out->c.sent++;
			free(l);
			if (out->c.failing) {
				CTL_LOG(NOTICE,
						"%s: sending to %s again after %" PRIu64
						" ms; %" PRIu64 " lines dropped in total",
						out->name, out->o.address,
						vg_mono_ms() - out->fail_since_ms, out->c.dropped);
				out->c.failing = false;
			}
			delay = RETRY_MIN_MS;
			pthread_cond_broadcast(&out->changed);
			continue;
		}
		if ((err == EAGAIN || err == EWOULDBLOCK) && is_stream(out) && out->stop)
			break; /* closing, and the receiver does not read: the rest is reported */
		if (w > 0 || err == EINTR ||
				((err == EAGAIN || err == EWOULDBLOCK) && is_stream(out)))
			continue; /* the rest of the line; a stalled receiver: try again */
		if (!is_stream(out) && err == EMSGSIZE) {
			/* Never fits a datagram: drop it, keep the socket. */
			out->head = l->next;
			if (out->head == NULL)
				out->tail = NULL;
			out->c.queued--;
			out->c.dropped++;
			free(l);
			out_failed(out, err, "send a line this long to");
			continue;
		}
		close(out->fd);
		out->fd = -1;
		out->c.connected = false;
		out_failed(out, err, "send to");
		retry_at = vg_mono_ms() + delay;
		delay = delay * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : delay * 2;
	}
	pthread_mutex_unlock(&out->mu);
	return NULL;
}

struct ctl_eve_out *
ctl_eve_out_open(const struct ctl_eve_out_opts *o, const char *name)
{
	struct ctl_eve_out *out;
	pthread_condattr_t ca;
	char why[256];
	int err;

	if (ctl_eve_out_check_address(o->transport, o->address, why, sizeof(why)) != 0 ||
			o->queue_len == 0) {
		errno = EINVAL;
		return NULL;
	}
	out = calloc(1, sizeof(*out));
	if (out == NULL)
		return NULL;
	out->o = *o;
	out->fd = -1;
	out->pid = (int)getpid();
	snprintf(out->name, sizeof(out->name), "%s", name);
	/* HOSTNAME: printable ASCII without spaces (RFC 5424 6.2.4), "-" when there is none. */
	if (gethostname(out->hostname, sizeof(out->hostname) - 1) != 0 || out->hostname[0] == '\0')
		snprintf(out->hostname, sizeof(out->hostname), "-");
	for (char *p = out->hostname; *p != '\0'; p++)
		if (*p <= 32 || *p >= 127)
			*p = '_';
	pthread_mutex_init(&out->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&out->wake, &ca);
	pthread_cond_init(&out->changed, &ca);
	pthread_condattr_destroy(&ca);
	err = pthread_create(&out->thread, NULL, out_writer, out);
	if (err != 0) {
		pthread_cond_destroy(&out->wake);
		pthread_cond_destroy(&out->changed);
		pthread_mutex_destroy(&out->mu);
		free(out);
		errno = err;
		return NULL;
	}
	return out;
}

void
ctl_eve_out_close(struct ctl_eve_out *out)
{
	struct timespec ts;

	if (out == NULL)
		return;
	(void)ctl_eve_out_sync(out, 2000);
	pthread_mutex_lock(&out->mu);
	out->stop = true;
	pthread_cond_broadcast(&out->wake);
	pthread_mutex_unlock(&out->mu);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 3;
	if (pthread_timedjoin_np(out->thread, NULL, &ts) != 0) {
		CTL_LOG(ERR, "%s: the writer is stuck sending to %s; %u lines not sent", out->name,
				out->o.address, out->c.queued);
		pthread_detach(out->thread);
		return;
	}
	if (out->c.queued > 0)
		CTL_LOG(ERR, "%s: closing with %u lines not sent to %s (%s)", out->name,
				out->c.queued, out->o.address, strerror(out->c.last_errno));
	while (out->head != NULL) {
		struct out_line *l = out->head;

		out->head = l->next;
		free(l);
	}
	if (out->fd >= 0)
		close(out->fd);
	pthread_cond_destroy(&out->wake);
	pthread_cond_destroy(&out->changed);
	pthread_mutex_destroy(&out->mu);
	free(out);
}

/* syslog severity of an alert severity (enum ctl_severity): critical 2 .. low 5, else info 6. */
static unsigned
syslog_severity(unsigned sev)
{
	return sev >= 1 && sev <= 4 ? 6 - sev : 6;
}

int
ctl_eve_out_write(struct ctl_eve_out *out, const char *line, size_t len, const char *event_type,
		unsigned severity)
{
	char hdr[512], len_prefix[24] = "";
	size_t hlen = 0, plen = 0, total;
	struct out_line *l;

	if (out->o.format == CTL_EVE_OUT_SYSLOG) {
		struct timespec ts;
		struct tm tm;
		char t[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
		/* <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG */
		hlen = (size_t)snprintf(hdr, sizeof(hdr), "<%u>1 %s.%06ldZ %s %s %d %.32s - ",
				out->o.facility * 8 + syslog_severity(severity), t,
				ts.tv_nsec / 1000, out->hostname, out->o.app_name, out->pid,
				event_type != NULL && event_type[0] != '\0' ? event_type : "-");
		if (hlen >= sizeof(hdr))
			hlen = sizeof(hdr) - 1;
		if (out->o.transport == CTL_EVE_OUT_TCP) /* RFC 6587 octet counting */
			plen = (size_t)snprintf(len_prefix, sizeof(len_prefix), "%zu ", hlen + len);
	}
	total = plen + hlen + len + (out->o.format == CTL_EVE_OUT_LINES ? 1 : 0);
	l = malloc(sizeof(*l) + total);
	if (l == NULL) {
		pthread_mutex_lock(&out->mu);
		out->c.dropped++;
		pthread_mutex_unlock(&out->mu);
		return -ENOMEM;
	}
	memcpy(l->data, len_prefix, plen);
	memcpy(l->data + plen, hdr, hlen);
	memcpy(l->data + plen + hlen, line, len);
	if (out->o.format == CTL_EVE_OUT_LINES)
		l->data[total - 1] = '\n';
	l->len = total;
	l->off = 0;
	l->next = NULL;
	pthread_mutex_lock(&out->mu);
	if (out->c.queued >= out->o.queue_len) {
		out->c.dropped++;
		pthread_mutex_unlock(&out->mu);
		free(l);
		return -ENOBUFS;
	}
	if (out->tail != NULL)
		out->tail->next = l;
	else
		out->head = l;
	out->tail = l;
	out->c.queued++;
	pthread_cond_signal(&out->wake);
	pthread_mutex_unlock(&out->mu);
	return 0;
}

int
ctl_eve_out_sync(struct ctl_eve_out *out, unsigned timeout_ms)
{
	struct timespec ts;
	int rc = 0;

	vg_mono_deadline(&ts, timeout_ms);
	pthread_mutex_lock(&out->mu);
	while (out->head != NULL && !out->c.failing &&
			pthread_cond_timedwait(&out->changed, &out->mu, &ts) == 0)
		;
	if (out->head != NULL)
		rc = out->c.failing ? -EIO : -ETIMEDOUT;
	pthread_mutex_unlock(&out->mu);
	return rc;
}

#define OUT_CTR(field, unit, prom_, help_)                                                 \
	VG_CTR(struct ctl_eve_out_counters, field, #field, COUNTER, unit, .prom = (prom_), \
			.help = (help_))

static const struct vg_ctr out_rows[] = {
	OUT_CTR(sent, "messages", "vigil_eve_output_sent_total",
			"EVE messages sent whole to a receiver (alerts.eve_syslog, "
			"alerts.eve_socket)."),
	OUT_CTR(dropped, "messages", "vigil_eve_output_dropped_total",
			"EVE messages dropped: the output's queue was full (or a line too big for "
			"a datagram)."),
	OUT_CTR(errors, "errors", "vigil_eve_output_errors_total",
			"Failed connects and sends to an EVE receiver (each attempt)."),
	OUT_CTR(episodes, "episodes", "vigil_eve_output_failure_episodes_total",
			"EVE output failure episodes (first failure to next success)."),
	OUT_CTR(connects, "connections", "vigil_eve_output_connects_total",
			"Connections made to an EVE receiver (stream transports: the first and each "
			"reconnection)."),
};
const struct vg_ctr_set ctl_eve_out_ctr_set =
		VG_CTR_SET_TO("eve_output", struct ctl_eve_out_counters, out_rows, queued);

void
ctl_eve_out_counters(const struct ctl_eve_out *out, struct ctl_eve_out_counters *c)
{
	struct ctl_eve_out *m = (struct ctl_eve_out *)out; /* the mutex, not the output, changes */

	pthread_mutex_lock(&m->mu);
	*c = m->c;
	pthread_mutex_unlock(&m->mu);
}

const char *
ctl_eve_out_name(const struct ctl_eve_out *out)
{
	return out->name;
}

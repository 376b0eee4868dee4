/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EVE lines to a receiver rather than a file: syslog (RFC 5424 over UDP, TCP with octet-counting
 * framing as RFC 6587, or a unix datagram socket such as /dev/log) and a unix stream socket that
 * gets one JSON line per event, as Suricata's unix_stream output. Siblings of the EVE file
 * (ctl_alert.h): control formats and queues, a thread of the output's own connects and sends, so
 * that a slow, full or absent receiver never holds control.
 *
 * The queue holds at most queue_len lines; beyond that the newest is dropped and counted. A line
 * stays at the head until it is sent whole; a stream connection that fails is closed, opened again
 * with a growing delay (100 ms to 2 s) and the line sent again whole (the receiver may have seen
 * part of it on the old connection). A failure episode is logged once at its start and once when
 * sending works again. A datagram bigger than the transport takes is dropped and counted.
 */
#ifndef CTL_EVE_OUT_H
#define CTL_EVE_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum ctl_eve_out_transport {
	CTL_EVE_OUT_UDP = 0,
	CTL_EVE_OUT_TCP = 1,
	CTL_EVE_OUT_UNIX = 2,	     /* unix datagram (syslog's /dev/log) */
	CTL_EVE_OUT_UNIX_STREAM = 3, /* unix stream (eve_socket) */
};

enum ctl_eve_out_format {
	CTL_EVE_OUT_SYSLOG = 0, /* RFC 5424 message, the EVE line as its MSG */
	CTL_EVE_OUT_LINES = 1,	/* the EVE line and a newline */
};

#define CTL_EVE_OUT_ADDR_LEN 108 /* sun_path */

struct ctl_eve_out_opts {
	int format;			    /* enum ctl_eve_out_format */
	int transport;			    /* enum ctl_eve_out_transport */
	char address[CTL_EVE_OUT_ADDR_LEN]; /* host:port, [v6]:port or a path; empty: off */
	uint32_t facility;		    /* syslog facility 0..23 */
	char app_name[49];		    /* syslog APP-NAME, 1..48 printable ASCII */
	uint32_t queue_len;
};

struct ctl_eve_out_counters {
	uint64_t sent;	   /* messages sent whole */
	uint64_t dropped;  /* lines dropped: the queue was full, or too big for a datagram */
	uint64_t errors;   /* failed connects and sends (each attempt) */
	uint64_t episodes; /* failure episodes: from a failure to the next success */
	uint64_t connects; /* connections made (stream transports: 1 + reconnections) */
	/* Not in ctl_eve_out_ctr_set: */
	uint32_t queued; /* lines waiting */
	bool connected;	 /* a socket is open */
	bool failing;	 /* the last attempt failed */
	int last_errno;
};

/* The table of its counters, written to queued (ctl_eve_out.c): the report's eve_syslog and
 * eve_socket, named by the outputs' keys in alerts: (the names given to ctl_eve_out_open()). */
struct vg_ctr_set;
extern const struct vg_ctr_set ctl_eve_out_ctr_set;
#define CTL_EVE_OUT_KEY_SYSLOG "eve_syslog"
#define CTL_EVE_OUT_KEY_SOCKET "eve_socket"

struct ctl_eve_out;

/* Syslog facility by name ("kern", "user", ..., "local7"); returns 0..23 or -EINVAL. */
int ctl_syslog_facility(const char *name);

/* Defaults for format: syslog udp 127.0.0.1:514, local5, "vigild", 4096 lines; no address. */
void ctl_eve_out_opts_defaults(struct ctl_eve_out_opts *o, enum ctl_eve_out_format format);

/*
 * Check address for transport (host:port with a port 1..65535, or a path that fits sun_path).
 * Returns 0, or -EINVAL with why.
 */
int ctl_eve_out_check_address(int transport, const char *address, char *why, size_t len);

/* Split "host:port" or "[v6]:port" into host and port. Returns 0 or -EINVAL. */
int ctl_split_host_port(const char *address, char *host, size_t hlen, char *port, size_t plen);

/*
 * Connect fd (a fresh socket) to sa within 2 s, then leave it blocking with a 500 ms send
 * timeout, so that a receiver that stops reading never holds the sender for long. 0 or -errno.
 */
int ctl_connect_bounded(int fd, const struct sockaddr *sa, socklen_t salen);

/*
 * A socket of type (SOCK_STREAM, SOCK_DGRAM) connected with ctl_connect_bounded() to address
 * ("host:port", "[v6]:port"; the host's addresses tried in turn). The fd, or -errno
 * (-EHOSTUNREACH when the host resolves to nothing reachable).
 */
int ctl_connect_host_port(const char *address, int type);

/* Start the output's writer; it connects on its own (a receiver may come later). NULL + errno. */
struct ctl_eve_out *ctl_eve_out_open(const struct ctl_eve_out_opts *o, const char *name);
/* Send what is queued (bounded: about 2 s), stop the writer, close. NULL is a no-op. */
void ctl_eve_out_close(struct ctl_eve_out *out);
/*
 * Queue one EVE line (JSON, no newline) of event_type (the syslog MSGID) at severity (enum
 * ctl_severity, 0: informational). Returns 0, -ENOMEM, or -ENOBUFS when the queue is full.
 */
int ctl_eve_out_write(struct ctl_eve_out *out, const char *line, size_t len, const char *event_type,
		unsigned severity);
/* Wait up to timeout_ms for the queue to empty. Returns 0, -EIO while failing, or -ETIMEDOUT. */
int ctl_eve_out_sync(struct ctl_eve_out *out, unsigned timeout_ms);
/* Any thread. */
void ctl_eve_out_counters(const struct ctl_eve_out *out, struct ctl_eve_out_counters *c);
/* The name given to ctl_eve_out_open() ("eve_syslog", "eve_socket"). */
const char *ctl_eve_out_name(const struct ctl_eve_out *out);

#endif /* CTL_EVE_OUT_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Protocol detection from a direction's first bytes, as Suricata's pattern and probing
 * parsers do: a request method and a space, a TLS record header, an SSH banner, a DNS header
 * that holds together, an SMTP or FTP greeting or command. Ports only break the tie where two
 * protocols greet alike (a bare "220 " banner is SMTP's and FTP's).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "al.h"

static bool
has_prefix(const uint8_t *d, uint32_t len, const char *pfx, bool *more, bool nocase)
{
	size_t n = strlen(pfx);
	size_t k = len < n ? len : n;

	if ((nocase ? strncasecmp((const char *)d, pfx, k) : memcmp(d, pfx, k)) != 0)
		return false;
	if (len < n) {
		*more = true;
		return false;
	}
	return true;
}

/* Methods of HTTP/1.x and WebDAV, each followed by a space. */
static const char *const http_methods[] = {
	"GET ",
	"POST ",
	"HEAD ",
	"PUT ",
	"DELETE ",
	"OPTIONS ",
	"CONNECT ",
	"TRACE ",
	"PATCH ",
	"PROPFIND ",
	"PROPPATCH ",
	"MKCOL ",
	"COPY ",
	"MOVE ",
	"LOCK ",
	"UNLOCK ",
	"SEARCH ",
	"CHECKOUT ",
	"CHECKIN ",
	"REPORT ",
	"MERGE ",
	"MKACTIVITY ",
	"VERSION-CONTROL ",
	"BASELINE-CONTROL ",
	"UPDATE ",
	"LABEL ",
	"ACL ",
	"SUBSCRIBE ",
	"UNSUBSCRIBE ",
	"NOTIFY ",
	"POLL ",
	"BMOVE ",
	"BDELETE ",
	"BPROPFIND ",
	"BPROPPATCH ",
	"BCOPY ",
	"MKWORKSPACE ",
	"MKCALENDAR ",
	"ORDERPATCH ",
};

static enum al_proto
probe_http(const uint8_t *d, uint32_t len, unsigned dir, bool *more)
{
	if (dir == AL_TO_CLIENT)
		return has_prefix(d, len, "HTTP/", more, false) ? AL_PROTO_HTTP : AL_PROTO_NONE;
	for (size_t i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++)
		if (has_prefix(d, len, http_methods[i], more, false))
			return AL_PROTO_HTTP;
	return AL_PROTO_NONE;
}

static enum al_proto
probe_tls(const uint8_t *d, uint32_t len, bool *more)
{
	if (len < 3) {
		if (len >= 1 && (d[0] == 0x16 || (d[0] & 0x80)))
			*more = true;
		return AL_PROTO_NONE;
	}
	/* A handshake record of SSL 3.0 .. TLS 1.3 (which still says 3.1 .. 3.3 here). */
	if (d[0] == 0x16 && d[1] == 3 && d[2] <= 4)
		return AL_PROTO_TLS;
	/* An SSLv2-framed ClientHello (two-byte length with the top bit, type 1, version 2 or
	 * 3.x), as old clients send to negotiate TLS. */
	if ((d[0] & 0x80) && len >= 5 && d[2] == 1 && (d[3] == 3 || (d[3] == 0 && d[4] == 2)))
		return AL_PROTO_TLS;
	if ((d[0] & 0x80) && len < 5)
		*more = true;
	return AL_PROTO_NONE;
}

/* A DNS name of questions: labels up to 63, no pointer (questions of a query have none). */
static bool
dns_question_ok(const uint8_t *d, uint32_t len, uint32_t off, bool strict, bool *more)
{
	unsigned labels = 0;

	for (;;) {
		if (off >= len) {
			*more = true;
			return false;
		}
		uint8_t l = d[off++];

		if (l == 0)
			break;
		if (l & 0xc0)
			return !strict && (l & 0xc0) == 0xc0;
		if (++labels > (strict ? 127u : 255u)) /* Suricata's bound on DNS's port */
			return false;
		if (strict) {
			for (uint32_t i = 0; i < l && off + i < len; i++) {
				uint8_t ch = d[off + i];

				if (ch < 0x21 || ch > 0x7e)
					return false;
			}
		}
		off += l;
	}
	if (len - off < 4) {
		*more = true;
		return false;
	}
	uint16_t qclass = (uint16_t)(d[off + 2] << 8 | d[off + 3]);

	/* IN, CH, HS, NONE, ANY; mDNS sets the top bit for unicast responses */
	qclass &= 0x7fff;
	return !strict || qclass == 1 || qclass == 3 || qclass == 4 || qclass == 254 ||
	       qclass == 255;
}

static bool
dns_port(uint16_t p)
{
	return p == 53 || p == 5353 || p == 5355;
}

/*
 * A DNS message header that holds together: record counts the message can hold and the first
 * question readable. On a port other than DNS's, also an opcode of 0-6 but 3, few records, a
 * printable name and a known class: random UDP should not pass for DNS.
 */
static enum al_proto
probe_dns(const uint8_t *d, uint32_t len, bool tcp, uint16_t sport, uint16_t dport, bool *more)
{
	bool strict = !dns_port(sport) && !dns_port(dport);
	bool m = false;
	uint32_t mlen = len;

	if (tcp) {
		if (len < 2) {
			*more = true;
			return AL_PROTO_NONE;
		}
		mlen = (uint16_t)(d[0] << 8 | d[1]);
		if (mlen < 12)
			return AL_PROTO_NONE;
		d += 2;
		len -= 2;
	}
	if (len < 12) {
		*more = tcp;
		return AL_PROTO_NONE;
	}
	uint16_t flags = (uint16_t)(d[2] << 8 | d[3]);
	uint16_t qd = (uint16_t)(d[4] << 8 | d[5]);
	uint16_t an = (uint16_t)(d[6] << 8 | d[7]);
	uint32_t records = (uint32_t)qd + an + (uint16_t)(d[8] << 8 | d[9]) +
			   (uint16_t)(d[10] << 8 | d[11]);
	unsigned opcode = flags >> 11 & 0xf;
	bool response = flags & 0x8000;

	/* On DNS's port any opcode and count the message can hold (two bytes a record at
	 * least) is DNS, as Suricata probes it; the parser flags what is odd. */
	if (strict && (opcode > 6 || opcode == 3))
		return AL_PROTO_NONE;
	if (strict ? qd > 32 || an > 256 : 2 * records > mlen)
		return AL_PROTO_NONE;
	if (qd == 0)
		return !strict && response ? AL_PROTO_DNS : AL_PROTO_NONE;
	if (strict && (flags & 0x0040)) /* the Z bit */
		return AL_PROTO_NONE;
	if (!dns_question_ok(d, len, 12, strict, &m)) {
		/* On DNS's port a header that holds is enough when the question is not all
		 * here yet (a datagram cut short, a long first name), as Suricata probes. */
		*more = tcp && m && strict;
		return !strict && m ? AL_PROTO_DNS : AL_PROTO_NONE;
	}
	return AL_PROTO_DNS;
}

static bool
mail_port(uint16_t p)
{
	return p == 25 || p == 587 || p == 465 || p == 2525;
}

static bool
contains_nocase(const uint8_t *d, uint32_t len, const char *word)
{
	size_t n = strlen(word);

	for (uint32_t i = 0; i + n <= len; i++)
		if (strncasecmp((const char *)d + i, word, n) == 0)
			return true;
	return false;
}

/* The first line of d, or all of it when no line end came yet. */
static uint32_t
line_len(const uint8_t *d, uint32_t len, bool *complete)
{
	const uint8_t *nl = memchr(d, '\n', len);

	*complete = nl != NULL;
	return nl != NULL ? (uint32_t)(nl - d) : len;
}

/*
 * The greeting names its service ("ESMTP", "vsFTPd"); a host name in it ("mail.example.com"
 * on an FTP server) must not decide, so only those words and the mail servers' names count.
 */
static enum al_proto
probe_server_greeting(const uint8_t *d, uint32_t len, uint16_t sport, uint16_t dport, bool *more)
{
	bool complete;
	uint32_t l;

	if (!has_prefix(d, len, "220", more, false))
		return AL_PROTO_NONE;
	if (len < 4) {
		*more = true;
		return AL_PROTO_NONE;
	}
	if (d[3] != ' ' && d[3] != '-')
		return AL_PROTO_NONE;
	l = line_len(d, len, &complete);
	if (contains_nocase(d, l, "SMTP"))
		return AL_PROTO_SMTP;
	if (contains_nocase(d, l, "FTP"))
		return AL_PROTO_FTP;
	if (contains_nocase(d, l, "Postfix") || contains_nocase(d, l, "Sendmail") ||
			contains_nocase(d, l, "Exim"))
		return AL_PROTO_SMTP;
	if (!complete) {
		*more = true;
		return AL_PROTO_NONE;
	}
	if (mail_port(sport) || mail_port(dport))
		return AL_PROTO_SMTP;
	if (sport == 21 || dport == 21)
		return AL_PROTO_FTP;
	/* A bare "220": the client's first command will tell. */
	*more = true;
	return AL_PROTO_NONE;
}

/* Lines a server may send before its SSH banner that detection looks through. */
#define SSH_PRE_LINES 4

static bool
text_line(const uint8_t *d, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if ((d[i] < 0x20 || d[i] > 0x7e) && d[i] != '\t' && d[i] != '\r')
			return false;
	return true;
}

/*
 * "SSH-" opens a banner. RFC 4253 §4.2 lets a server send lines of text before it: the
 * server's side stays open through a few of them for a line that starts with "SSH-".
 */
static enum al_proto
probe_ssh(const uint8_t *d, uint32_t len, unsigned dir, bool *more)
{
	uint32_t off = 0;

	for (unsigned lines = 0;; lines++) {
		bool m = false;
		const uint8_t *nl;

		if (has_prefix(d + off, len - off, "SSH-", &m, false))
			return AL_PROTO_SSH;
		if (dir != AL_TO_CLIENT || lines == SSH_PRE_LINES) {
			*more |= m && lines == 0;
			return AL_PROTO_NONE;
		}
		nl = memchr(d + off, '\n', len - off);
		if (!text_line(d + off, nl != NULL ? (uint32_t)(nl - (d + off)) : len - off))
			return AL_PROTO_NONE;
		if (nl == NULL || (uint32_t)(nl - d) + 1 == len) {
			*more = true;
			return AL_PROTO_NONE;
		}
		off = (uint32_t)(nl - d) + 1;
	}
}

static const char *const smtp_cmds[] = { "EHLO ", "HELO ", "EHLO\r", "HELO\r" };
static const char *const ftp_cmds[] = { "USER ", "AUTH TLS", "AUTH SSL", "FEAT\r", "SYST\r",
	"OPTS ", "PASV\r", "EPSV" };

enum al_proto
al_probe(const uint8_t *d, uint32_t len, bool tcp, unsigned dir, uint16_t sport, uint16_t dport,
		bool *more)
{
	enum al_proto p;
	bool m = false;

	*more = false;
	if (len == 0) {
		*more = true;
		return AL_PROTO_NONE;
	}
	if (!tcp) {
		p = probe_dns(d, len, false, sport, dport, &m);
		return p;
	}
	if ((p = probe_http(d, len, dir, &m)) != AL_PROTO_NONE)
		return p;
	if ((p = probe_tls(d, len, &m)) != AL_PROTO_NONE)
		return p;
	if (dir == AL_TO_CLIENT) {
		if ((p = probe_server_greeting(d, len, sport, dport, &m)) != AL_PROTO_NONE)
			return p;
	} else {
		for (size_t i = 0; i < sizeof(smtp_cmds) / sizeof(smtp_cmds[0]); i++)
			if (has_prefix(d, len, smtp_cmds[i], &m, true))
				return AL_PROTO_SMTP;
		for (size_t i = 0; i < sizeof(ftp_cmds) / sizeof(ftp_cmds[0]); i++)
			if (has_prefix(d, len, ftp_cmds[i], &m, true))
				return AL_PROTO_FTP;
	}
	/* After the greetings: a server's text before its SSH banner is only a maybe. */
	if ((p = probe_ssh(d, len, dir, &m)) != AL_PROTO_NONE)
		return p;
	/* DNS over TCP last: its two-byte length prefix is the weakest signal. Only where a
	 * DNS port is involved. */
	if (dns_port(sport) || dns_port(dport)) {
		if ((p = probe_dns(d, len, true, sport, dport, &m)) != AL_PROTO_NONE)
			return p;
	}
	*more = m;
	return AL_PROTO_NONE;
}

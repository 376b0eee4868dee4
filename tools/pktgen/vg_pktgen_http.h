/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.1 conversations of vg-pktgen (--app http): each TCP flow is a whole exchange between
 * a browser-like client and a web server, so that a stream reassembler and an HTTP parser see
 * clean streams, and a capture replayed in a loop opens a new connection on every pass.
 *
 * Per flow: SYN, SYN-ACK, ACK; then for each request, the request (one segment: every request
 * fits the MSS), the response cut at the MSS announced in the SYN (1460, IPv6 1440) and a pure
 * ACK from the client after every second segment and after the last one; then the teardown.
 * A keep-alive flow (--keepalive-share of the flows, an exact count, chosen by a seeded
 * permutation) makes 2 to --requests requests and its client closes (FIN, FIN, ACK); any other
 * flow makes one request with "Connection: close" and its server closes.
 *
 * Requests are GET (pages, static files, API calls) or POST (a small urlencoded form), with a
 * Host from a seeded list of names, a path and query, User-Agent, Accept, Accept-Language,
 * Accept-Encoding, a Cookie on some flows and a Referer on follow-up requests. Responses carry a
 * status line (200, 201, 301, 302, 404), Date, Server, Content-Type, Content-Length, Connection
 * and sometimes Location, Set-Cookie, Cache-Control or ETag; bodies are text (words and markup)
 * for text types and random bytes for images, their sizes drawn from four classes (under 256
 * bytes, under 1280, under 8 KiB, under 32 KiB) so that frames range from 60-byte ACKs to
 * full 1514-byte segments. Everything is a function of the seed and the flow index.
 */
#ifndef VG_PKTGEN_HTTP_H
#define VG_PKTGEN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vg_pktgen_filler.h"
#include "vg_pktgen_flow.h"
#include "vg_pktgen_frame.h"
#include "vg_pktgen_opt.h"

/* Bytes of the largest payload vg_pktgen_http_next() writes (the IPv4 MSS). */
#define VG_PKTGEN_HTTP_MSS_MAX 1460

struct vg_pktgen_http;

/* Where one flow stands in its conversation (8 bytes a flow). */
struct vg_pktgen_http_cursor {
	uint32_t off;	 /* bytes of the current response sent */
	uint16_t req;	 /* current exchange */
	uint8_t phase;	 /* handshake, request, response, teardown, done */
	uint8_t unacked; /* server segments since the client's last ACK */
};

/*
 * Prepare conversations for o (which must stay valid until vg_pktgen_http_free); bin is the
 * random filler that image bodies are read from (kept, not copied). Returns NULL with errno set
 * (ENOMEM).
 */
struct vg_pktgen_http *vg_pktgen_http_create(
		const struct vg_pktgen_opts *o, const struct vg_pktgen_filler *bin);

/* Free h. NULL is a no-op. */
void vg_pktgen_http_free(struct vg_pktgen_http *h);

/* Requests flow f makes (1 to o->requests). */
uint32_t vg_pktgen_http_requests(const struct vg_pktgen_http *h, const struct vg_pktgen_flow *f);

/* Whether flow f keeps its connection for several requests. */
bool vg_pktgen_http_keepalive(const struct vg_pktgen_http *h, const struct vg_pktgen_flow *f);

/* Packets of flow f's whole conversation, handshake and teardown included. */
uint32_t vg_pktgen_http_packets(const struct vg_pktgen_http *h, const struct vg_pktgen_flow *f);

/*
 * The next packet of flow f: fill s (direction, flags, MSS option, sequence and acknowledgement
 * numbers) and write its payload to payload (VG_PKTGEN_HTTP_MSS_MAX bytes); advance c (zeroed
 * before the flow's first packet) and sent (payload bytes per direction so far, zeroed too).
 * Returns the payload length. Call at most vg_pktgen_http_packets() times per flow.
 */
size_t vg_pktgen_http_next(const struct vg_pktgen_http *h, const struct vg_pktgen_flow *f,
		struct vg_pktgen_http_cursor *c, uint32_t sent[2], struct vg_pktgen_seg *s,
		uint8_t *payload);

#endif /* VG_PKTGEN_HTTP_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.x parser (al_http.c): the anomalies it reports and its URI normaliser.
 *
 * The anomalies are Suricata's `app-layer-event:http.<name>` events where Suricata has the
 * same event, Vigil's own names otherwise (marked below). al_anomaly_name(AL_PROTO_HTTP, id)
 * gives the name of each id.
 */
#ifndef AL_HTTP_H
#define AL_HTTP_H

#include <stddef.h>
#include <stdint.h>

enum al_http_anomaly {
	AL_HTTP_REQUEST_FIELD_MISSING_COLON,
	AL_HTTP_RESPONSE_FIELD_MISSING_COLON,
	AL_HTTP_INVALID_REQUEST_CHUNK_LEN,
	AL_HTTP_INVALID_RESPONSE_CHUNK_LEN,
	AL_HTTP_INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST,
	AL_HTTP_INVALID_TRANSFER_ENCODING_VALUE_IN_RESPONSE,
	AL_HTTP_INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST,
	AL_HTTP_INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE,
	AL_HTTP_100_CONTINUE_ALREADY_SEEN,
	AL_HTTP_UNABLE_TO_MATCH_RESPONSE_TO_REQUEST,
	AL_HTTP_REQUEST_HEADER_INVALID,
	AL_HTTP_RESPONSE_HEADER_INVALID,
	AL_HTTP_MISSING_HOST_HEADER,
	AL_HTTP_HOST_HEADER_AMBIGUOUS,
	AL_HTTP_INVALID_REQUEST_FIELD_FOLDING,
	AL_HTTP_INVALID_RESPONSE_FIELD_FOLDING,
	AL_HTTP_REQUEST_FIELD_TOO_LONG, /* line and headers past http_header_max */
	AL_HTTP_RESPONSE_FIELD_TOO_LONG,
	AL_HTTP_REQUEST_URI_HOST_INVALID,
	AL_HTTP_REQUEST_HEADER_HOST_INVALID,
	AL_HTTP_URI_DELIM_NON_COMPLIANT,
	AL_HTTP_METHOD_DELIM_NON_COMPLIANT,
	AL_HTTP_REQUEST_LINE_LEADING_WHITESPACE,
	AL_HTTP_TOO_MANY_ENCODING_LAYERS,
	AL_HTTP_ABNORMAL_CE_HEADER,
	AL_HTTP_REQUEST_AUTH_UNRECOGNIZED,
	AL_HTTP_REQUEST_HEADER_REPETITION,
	AL_HTTP_RESPONSE_HEADER_REPETITION,
	AL_HTTP_RESPONSE_ABNORMAL_TRANSFER_ENCODING,
	AL_HTTP_RESPONSE_CHUNKED_OLD_PROTO,
	AL_HTTP_RESPONSE_INVALID_PROTOCOL,
	AL_HTTP_RESPONSE_INVALID_STATUS,
	AL_HTTP_DOUBLE_ENCODED_URI,
	AL_HTTP_REQUEST_LINE_INVALID,
	AL_HTTP_REQUEST_BODY_UNEXPECTED,
	AL_HTTP_DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST,
	AL_HTTP_DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE,
	AL_HTTP_COMPRESSION_BOMB,		/* decoded/encoded beyond http_inflate_ratio */
	AL_HTTP_COMPRESSION_BOMB_LIMIT_REACHED, /* decoded bytes reached http_inflate_max */
	AL_HTTP_GZIP_DECOMPRESSION_FAILED,	/* a gzip/deflate body that does not inflate */
	AL_HTTP_REQUEST_CHUNK_EXTENSION,
	AL_HTTP_RESPONSE_CHUNK_EXTENSION,
	AL_HTTP_REQUEST_LINE_MISSING_PROTOCOL,
	AL_HTTP_REQUEST_TOO_MANY_HEADERS,
	AL_HTTP_RESPONSE_TOO_MANY_HEADERS,
	/* Vigil's own */
	AL_HTTP_TOO_MANY_TRANSACTIONS, /* http_max_tx pending: the oldest was dropped */
	AL_HTTP_STREAM_GAP,	       /* bytes missing where the parser could not skip them */
	AL_HTTP__COUNT
};

/*
 * Normalise a request URI as http.uri holds it (Suricata's default libhtp configuration, IDS
 * personality): the path percent- and %u-decoded, backslashes made slashes, runs of slashes
 * compressed, UTF-8 best-fitted to single bytes, dot segments removed; the query
 * percent-decoded ('+' kept); the fragment decoded; scheme and authority left out. out must
 * hold len bytes (the result is never longer). Returns the length written; *double_enc is set
 * when the decoded path or query still holds a percent-encoding (a double-encoded URI).
 * connect: the URI is a CONNECT authority (host:port), which has no path.
 */
size_t al_http_uri_normalize(
		const uint8_t *uri, size_t len, int connect, uint8_t *out, int *double_enc);

#endif /* AL_HTTP_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SMTP (al_smtp_parser): one transaction per mail. Commands go to the server, replies (one or
 * several "250-" lines ended by a "250 " line) come back in order, so every command waits in a
 * queue for its reply; a client may pipeline several commands in one segment.
 *
 * A transaction starts at the first command after the previous one ended (RSET and QUIT start
 * none) and ends when its message data ended, at RSET, QUIT or a rejected DATA, when STARTTLS
 * is accepted, or when the client's direction closes. Stages: ENVELOPE when DATA or the first
 * BDAT is sent (helo, mail from and rcpt to are final; a transaction that ends without data
 * gets it at its end), DATA when the message ended ("<CRLF>.<CRLF>", the LAST BDAT chunk, or
 * the close of the client's side).
 *
 * Buffers:
 *   AL_BUF_SMTP_HELO       the HELO/EHLO argument (the first word), the flow's first one;
 *                          absent when empty
 *   AL_BUF_SMTP_MAIL_FROM  the MAIL FROM argument as Suricata's smtp.mail_from: the first word
 *                          after "MAIL FROM:" and spaces, angle brackets kept ("<a@b.c>"), SIZE
 *                          and other parameters left out
 *   AL_BUF_SMTP_RCPT_TO    each RCPT TO argument alike, in order (multi; at most 100)
 *   AL_BUF_SMTP_DATA       the message as sent (after DATA: dot-stuffing kept, as Suricata
 *                          does not undo it either, without the final ".<CRLF>"; after BDAT:
 *                          the chunks joined), up to al_limits.http_req_body bytes. Raw: MIME
 *                          parts are not decoded.
 * After STARTTLS is accepted (220) the rest of the flow is TLS: parsing stops.
 */
#ifndef AL_SMTP_H
#define AL_SMTP_H

/* Anomalies: Suricata's SMTP event names, then Vigil's own. */
enum al_smtp_anomaly {
	AL_SMTP_INVALID_REPLY,			    /* no 3-digit code; a greeting not 220 */
	AL_SMTP_UNABLE_TO_MATCH_REPLY_WITH_REQUEST, /* a reply with no command waiting */
	AL_SMTP_MAX_COMMAND_LINE_LEN_EXCEEDED,	    /* command line over 510 bytes (RFC 5321) */
	AL_SMTP_MAX_REPLY_LINE_LEN_EXCEEDED,	    /* reply line over 510 bytes */
	AL_SMTP_INVALID_PIPELINED_SEQUENCE, /* a command after DATA or STARTTLS unanswered */
	AL_SMTP_BDAT_CHUNK_LEN_EXCEEDED,    /* a chunk ended inside a line not followed by a
					       command: the data went on past its size */
	AL_SMTP_NO_SERVER_WELCOME_MESSAGE,  /* a command before any reply */
	AL_SMTP_TLS_REJECTED,		    /* STARTTLS not answered with 220 */
	AL_SMTP_DATA_COMMAND_REJECTED,	    /* DATA not answered with 354 */
	AL_SMTP_DUPLICATE_FIELDS,	    /* a second HELO/EHLO, or MAIL FROM in a mail */
	AL_SMTP_INVALID_BDAT,		    /* BDAT without a chunk size */
	AL_SMTP_TRUNCATED_LINE,		    /* a line over al_limits.line_max: cut */
	AL_SMTP_RCPT_TO_LIMIT,		    /* more than 100 RCPT TO: the rest not kept */
	AL_SMTP_PENDING_COMMANDS_LIMIT,	    /* 256 commands unanswered: the oldest dropped */
	AL_SMTP_DATA_LIMIT,		    /* message over http_req_body: the rest not kept */
	AL_SMTP__ANOMALY_COUNT
};

#endif /* AL_SMTP_H */

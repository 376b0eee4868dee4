/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * FTP control channel (al_ftp_parser): one transaction per command and its reply. Every
 * client line is a command (RFC 959 §4.1), reported at once (COMMAND); replies come in the
 * order of the commands, so each command waits in a queue until its reply ends (REPLY). A
 * positive preliminary reply (1yz, "150 Opening data connection") does not end it: the next
 * reply does, as in Suricata. A reply with no command waiting (the "220" greeting, a "421"
 * before closing) is a transaction of its own with REPLY alone.
 *
 * Buffers:
 *   AL_BUF_FTP_COMMAND       the verb, up to the first space, upper-cased ("retr" gives
 *                            "RETR", as Suricata's ftp.command gives its table's name)
 *   AL_BUF_FTP_COMMAND_DATA  what follows the verb and one space, trailing spaces and tabs
 *                            removed; absent when empty
 *   AL_BUF_FTP_REPLY         the reply's lines (the preliminary one's too), each without its
 *                            CR LF and without a leading "ddd " code (Suricata's ftp.reply
 *                            drops it; "ddd-" lines stay whole), joined with CR LF; at most
 *                            al_limits.line_max bytes
 *   AL_NUM_FTP_REPLY_CODE    the final reply's code
 * After "AUTH TLS" (or SSL) is accepted with 234 the rest is TLS: parsing stops. The data
 * channel (PORT, PASV, EPSV: ftp-data) is not followed.
 */
#ifndef AL_FTP_H
#define AL_FTP_H

/* Anomalies: Suricata's FTP event names, then Vigil's own. */
enum al_ftp_anomaly {
	AL_FTP_REQUEST_COMMAND_TOO_LONG,  /* a command line over line_max: cut */
	AL_FTP_RESPONSE_COMMAND_TOO_LONG, /* a reply over line_max: cut */
	AL_FTP_TOO_MANY_TRANSACTIONS,	  /* 64 commands unanswered: the oldest dropped */
	AL_FTP_INVALID_REPLY,		  /* a reply line without a 3-digit code */
	AL_FTP__ANOMALY_COUNT
};

#endif /* AL_FTP_H */

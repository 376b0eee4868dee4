/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SSH (al_ssh_parser): one transaction per flow. Each side's identification banner
 * ("SSH-2.0-OpenSSH_8.4 comments", RFC 4253 §4.2; the server may send other lines first),
 * then its binary packets in clear up to NEWKEYS: the KEXINIT of each side gives HASSH as
 * Suricata computes it. After a side's NEWKEYS its bytes are encrypted and skipped.
 *
 * Buffers (stage):
 *   AL_BUF_SSH_PROTO_*        "2.0", "1.99": the banner's protoversion (CLIENT/SERVER_BANNER)
 *   AL_BUF_SSH_SOFTWARE_*     the softwareversion, up to the first space: comments are not in
 *                             it (Suricata's ssh.software); absent when empty
 *   AL_NUM_SSH_*_PROTO_MAJ    the protoversion's major number; "1.99" (RFC 4253 §5.1: a
 *                             server that also speaks 2.0) counts as 2; absent when not a
 *                             number
 *   AL_BUF_SSH_HASSH_STRING_CLIENT  "kex;enc_c2s;mac_c2s;cmp_c2s" name-lists of the client's
 *                                   KEXINIT (CLIENT_KEXINIT)
 *   AL_BUF_SSH_HASSH_CLIENT         its MD5, 32 lower-case hex digits
 *   AL_BUF_SSH_HASSH_STRING_SERVER  "kex;enc_s2c;mac_s2c;cmp_s2c" of the server's KEXINIT
 *                                   (SERVER_KEXINIT)
 *   AL_BUF_SSH_HASSH_SERVER         its MD5
 * A KEXINIT stage is set when that side's KEXINIT record ended, with the HASSH buffers absent
 * when the record did not parse or was too long.
 */
#ifndef AL_SSH_H
#define AL_SSH_H

/* Anomalies: Suricata's SSH event names, then Vigil's own. */
enum al_ssh_anomaly {
	AL_SSH_INVALID_BANNER,	/* a client's first line, or an "SSH-" line, is no banner */
	AL_SSH_LONG_BANNER,	/* banner line of 256 bytes or more, a line cut at line_max */
	AL_SSH_INVALID_RECORD,	/* packet length below 2 or above 256 KiB before NEWKEYS */
	AL_SSH_LONG_KEX_RECORD, /* a KEXINIT of 64 KiB or more: not reassembled, no HASSH */
	AL_SSH_INVALID_KEXINIT, /* a KEXINIT whose name-lists overrun it: no HASSH */
	AL_SSH__ANOMALY_COUNT
};

#endif /* AL_SSH_H */

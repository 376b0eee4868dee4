/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TLS parser (al_tls.c): SSL 3.0 to TLS 1.3 records and handshake messages, and SSLv2-framed
 * hellos. One transaction per flow's handshake: the ClientHello (SNI, ALPN, random, JA3), the
 * ServerHello (random, JA3S, negotiated version) and the server's Certificate (the chain, and
 * the first certificate's subject, issuer, serial, fingerprint and validity, as Suricata
 * renders them). Once a side's encrypted part starts its records are skipped by length.
 */
#ifndef AL_TLS_H
#define AL_TLS_H

/* Anomalies, by the event names of Suricata's tls-events.rules, then Vigil's own. */
enum al_tls_anomaly {
	AL_TLS_INVALID_SSLV2_HEADER,	    /* an SSLv2 record of length 0 */
	AL_TLS_INVALID_TLS_HEADER,	    /* (named for rules; the header always parses) */
	AL_TLS_INVALID_RECORD_VERSION,	    /* a record version that is no SSL 3.0 .. TLS 1.3 */
	AL_TLS_INVALID_RECORD_TYPE,	    /* a content type other than 20 .. 24 */
	AL_TLS_INVALID_RECORD_LENGTH,	    /* a record of length 0 or over 2^14 + 1024 */
	AL_TLS_INVALID_HANDSHAKE_MESSAGE,   /* a handshake type TLS does not define in clear */
	AL_TLS_HEARTBEAT_MESSAGE,	    /* a heartbeat record */
	AL_TLS_INVALID_HEARTBEAT_MESSAGE,   /* bad type, short padding, two in flight */
	AL_TLS_OVERFLOW_HEARTBEAT_MESSAGE,  /* payload length beyond the record (heartbleed) */
	AL_TLS_DATALEAK_HEARTBEAT_MISMATCH, /* encrypted response longer than its request */
	AL_TLS_HANDSHAKE_INVALID_LENGTH,    /* a hello field runs past its message */
	AL_TLS_MULTIPLE_SNI_EXTENSIONS,
	AL_TLS_INVALID_SNI_TYPE,
	AL_TLS_INVALID_SNI_LENGTH,
	AL_TLS_TOO_MANY_RECORDS_IN_PACKET,
	AL_TLS_INVALID_ALERT_MESSAGE,	   /* a clear alert that is not two bytes of level 1 or 2 */
	AL_TLS_INVALID_CERTIFICATE,	   /* the certificate list's lengths do not fit */
	AL_TLS_CERTIFICATE_INVALID_LENGTH, /* the first certificate is cut short */
	AL_TLS_CERTIFICATE_INVALID_VERSION,
	AL_TLS_CERTIFICATE_INVALID_SERIAL,
	AL_TLS_CERTIFICATE_INVALID_ALGORITHMIDENTIFIER,
	AL_TLS_CERTIFICATE_INVALID_X509NAME,
	AL_TLS_CERTIFICATE_INVALID_DATE,
	AL_TLS_CERTIFICATE_INVALID_EXTENSIONS,
	AL_TLS_CERTIFICATE_INVALID_DER, /* the first certificate does not decode */
	AL_TLS_CERTIFICATE_INVALID_SUBJECT,
	AL_TLS_CERTIFICATE_INVALID_ISSUER,
	AL_TLS_CERTIFICATE_INVALID_VALIDITY, /* its dates do not convert */
	AL_TLS_ERROR_MESSAGE_ENCOUNTERED,    /* an SSLv2 error message */
	AL_TLS_INVALID_SSL_RECORD,
	AL_TLS_RECORD_OVERFLOW, /* a handshake message over tls_max_record: the rest not kept */
	AL_TLS__COUNT
};

#endif /* AL_TLS_H */

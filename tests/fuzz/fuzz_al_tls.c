/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the TLS parser on conversations of records in any pieces, with gaps (see
 * fuzz_al_feed.h for the input's layout). Beyond "no crash, no read out of bounds, no leak":
 * hashes are 32 hex digits, randoms 32 bytes, the fingerprint 59 characters, the SNI at most
 * 255 bytes.
 */
#include "fuzz_al_feed.h"

static uint32_t
tls_max(enum al_buf b)
{
	switch (b) {
	case AL_BUF_TLS_JA3_HASH:
	case AL_BUF_TLS_JA3S_HASH:
	case AL_BUF_TLS_RANDOM_CLIENT:
	case AL_BUF_TLS_RANDOM_SERVER:
		return 32;
	case AL_BUF_TLS_CERT_FINGERPRINT:
		return 59;
	case AL_BUF_TLS_SNI:
		return 255;
	default:
		return 0;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_al_run(&al_tls_parser, tls_max, data, size);
}

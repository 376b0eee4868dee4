/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the DNS parser on conversations over UDP or TCP (see fuzz_al_feed.h for the
 * input's layout). Beyond "no crash, no read out of bounds, no leak": no name is longer than
 * AL_DNS_NAME_MAX.
 */
#include "al_dns.h"
#include "fuzz_al_feed.h"

static uint32_t
dns_max(enum al_buf b)
{
	(void)b;
	return AL_DNS_NAME_MAX;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_al_run(&al_dns_parser, dns_max, data, size);
}

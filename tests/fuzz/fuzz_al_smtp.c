/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the SMTP parser, both directions in arbitrary pieces with gaps and closes, under
 * small and full arenas (the input format is in fuzz_al_lines.h).
 */
#include "fuzz_al_lines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_al_parser(&al_smtp_parser, data, size);
}

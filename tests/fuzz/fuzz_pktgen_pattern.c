/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: vg-pktgen's content-pattern parser (--match-pattern, --match-file lines) on
 * arbitrary bytes. Besides memory errors it checks the parser's promises: a pattern is never
 * longer than its text, and an error points at a column inside the text (or just past it).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* The fuzz build's include path is the daemon's; the tool's header is found from here. */
#include "../../tools/pktgen/vg_pktgen_opt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_pktgen_pattern p;
	char msg[160];
	size_t col = 0;
	int rc;

	rc = vg_pktgen_pattern_parse((const char *)data, size, &p, &col, msg, sizeof(msg));
	if (rc == 0) {
		if (p.len == 0 || p.len > size || p.len > VG_PKTGEN_MAX_PATTERN)
			abort();
		free(p.bytes);
	} else if (rc == -EINVAL) {
		if (col < 1 || col > size + 1)
			abort();
	}
	return 0;
}

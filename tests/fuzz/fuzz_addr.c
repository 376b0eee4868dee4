/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: common/vg_addr's address and prefix parsers on arbitrary bytes, under every flag.
 * What parses must format and parse back to the same value; what is refused must say why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vg_addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct vg_addr a, b;
	char buf[VG_PREFIX_STRLEN];

	if (vg_addr_parse(s, size, &a) == 0) {
		if (vg_addr_format(&a, buf, sizeof(buf)) != 0 || vg_addr_parse_str(buf, &b) != 0 ||
				memcmp(&a, &b, sizeof(a)) != 0)
			abort();
	}
	for (unsigned flags = 0; flags < 4; flags++) {
		struct vg_prefix p, q;
		struct vg_addr_err err;
		vg_u128 lo, hi;
		int rc = vg_prefix_parse(s, size, flags, &p, &err);

		if (rc < 0) {
			if (err.why == VG_PREFIX_OK || err.msg[0] == '\0' || err.off > size)
				abort();
			continue;
		}
		if (rc == 1 && !(flags & VG_PREFIX_HOST_BITS))
			abort();
		if (p.plen > vg_addr_bits(p.addr.family))
			abort();
		/* The canonical text is a prefix without host bits, under no flag. */
		if (vg_prefix_format(&p, false, buf, sizeof(buf)) != 0 ||
				vg_prefix_parse(buf, strlen(buf), 0, &q, NULL) != 0 ||
				memcmp(&p, &q, sizeof(p)) != 0)
			abort();
		vg_prefix_range(&p, &lo, &hi);
		if (lo != vg_addr_value(&p.addr) || hi < lo || hi > vg_addr_max(p.addr.family) ||
				!vg_prefix_has(&p, &p.addr))
			abort();
	}
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz target: the appliance config loader on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "vg_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_config cfg;
	struct vg_diag d;

	vg_diag_init(&d);
	if (vg_config_load_buf(&cfg, "fuzz.yaml", (const char *)data, size, &d) == 0)
		vg_config_free(&cfg);
	vg_diag_free(&d);
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the policy loader and validator on arbitrary bytes, then the reference
 * classifier over every rule of a policy that loads, on a few keys derived from the input.
 * (The rte_acl compile needs EAL and is covered by the differential unit test.)
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rl_policy.h"
#include "rl_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ports[] = { "outside", "inside", "mgmt" };
	static const char *const groups[] = { "web-attacks", "dns" };
	const struct rl_env env = {
		.ports = ports, .n_ports = 3, .sig_groups = groups, .n_sig_groups = 2
	};
	struct rl_policy *p;
	struct vg_diag d;

	vg_diag_init(&d);
	p = rl_policy_load_buf("fuzz.yaml", (const char *)data, size, &env, &d);
	if (p != NULL) {
		struct rl_key k;

		/* Keys made of the input's bytes, in both families. */
		for (unsigned i = 0; i < 4; i++) {
			memset(&k, 0, sizeof(k));
			memcpy(&k, data + (size > sizeof(k) * (i + 1) ? sizeof(k) * i : 0),
					size < sizeof(k) ? size : sizeof(k));
			k.family = (i & 1) ? 6 : 4;
			(void)rl_ref_classify(p, &k);
			(void)rl_ref_classify_stateless(p, &k);
		}
		rl_policy_free(p);
	}
	vg_diag_free(&d);
	return 0;
}

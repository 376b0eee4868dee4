/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: arbitrary bytes as a worker's DP_EV_TXMETA (the first byte picks the protocol,
 * the second the length the event claims, the rest are its records) turned into the EVE object
 * of the transaction, and as the alert that follows it through the pairing. Records come from
 * packet data cut to fit: whatever their lengths, fields and bytes, control must read no byte
 * past the event and write valid JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_alert_app.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctl_app_pairing *pairing;
	struct dp_event tm, al;
	struct ctl_alert a;
	const char *name = NULL;
	json_t *cut = NULL, *o;
	char *s;

	if (size < 2)
		return 0;
	if (pairing == NULL && (pairing = ctl_app_pairing_create()) == NULL)
		abort();
	memset(&tm, 0, sizeof(tm));
	tm.type = DP_EV_TXMETA;
	tm.seq = 1;
	tm.txmeta.proto = data[0] % 9; /* every protocol, and values past the last */
	tm.txmeta.len = data[1];       /* may claim more than the 234 bytes there are */
	size -= 2;
	memcpy(tm.txmeta.data, data + 2, size < DP_TXMETA_DATA ? size : DP_TXMETA_DATA);

	o = ctl_app_json(&tm.txmeta, &name, &cut);
	s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	if (o != NULL && (s == NULL || name == NULL))
		abort();
	free(s);
	json_decref(o);
	json_decref(cut);

	memset(&al, 0, sizeof(al));
	al.type = DP_EV_ALERT;
	al.seq = 2;
	al.flow.family = 4;
	al.flow.app_proto = tm.txmeta.proto;
	al.alert.tx = 1;
	ctl_app_pairing_keep(pairing, &tm);
	ctl_alert_from_event(&al, "fuzz", "fuzz", CTL_SEV_LOW, &a);
	if (!ctl_app_pairing_attach(pairing, &al, &a))
		abort();
	o = ctl_alert_to_json(&a, NULL);
	s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	free(s);
	json_decref(o);
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The application layer of a signature alert: which protocol its flow speaks, and the facts of
 * the transaction it matched, shown the way Suricata's EVE alert shows them, so that tools
 * written for Suricata read them (field names and value formats of Suricata 8):
 *
 *   http  {hostname, url, http_user_agent, http_content_type, http_method, protocol, status,
 *          redirect, length}
 *   dns   {version: 3, type, id, flags, qr, aa, tc, rd, ra, z, opcode, rcode,
 *          queries: [{rrname, rrtype, rrname_truncated}]}   (the "v3" form Suricata 8 logs)
 *   tls   {subject, issuerdn, serial, fingerprint, sni, version, ja3: {hash}, ja3s: {hash}}
 *   ssh   {client: {proto_version, software_version}, server: {...}}
 *   smtp  {helo, mail_from, rcpt_to: [...]}
 *   ftp   {command, command_data, completion_code: [...], reply: [...], reply_received}
 *
 * The facts come from the worker's DP_EV_TXMETA event, which precedes the alert on the same
 * ring; a pairing (below) attaches it to the alert. Everything here runs on the control lcore
 * except the pure functions, which any thread may call.
 */
#ifndef CTL_ALERT_APP_H
#define CTL_ALERT_APP_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "ctl_alert.h"
#include "dp_event.h"

/*
 * Suricata's name of a detected protocol (enum al_proto): "http", "tls", "dns", "ssh", "smtp",
 * "ftp", "failed"; NULL for 0 (not detected yet) and for values out of range.
 */
const char *ctl_app_proto_name(uint8_t app_proto);

/*
 * The object Suricata's EVE alert has for tm's transaction (the value of its "http", "dns", ...
 * member), or NULL when tm holds nothing of a known protocol (or on allocation failure). *proto
 * gets the member's name. With cut != NULL, *cut gets a new array naming the values that were
 * cut to fit the event ("http.url"), or NULL when none was. Any thread.
 */
json_t *ctl_app_json(const struct dp_event_txmeta *tm, const char **proto, json_t **cut);

/* ctl_app_json() of an alert's transaction; NULL when the alert has none. */
json_t *ctl_alert_app_json(const struct ctl_alert *a, const char **proto, json_t **cut);

/*
 * TXMETA and alert pairing. A signature alert that matched a transaction (alert.tx) comes right
 * after its DP_EV_TXMETA on the same worker's ring. The pairing keeps each worker's last
 * TXMETA and gives it to the alert that follows when the worker, the sequence number (the next
 * one) and the flow agree. Anything else pairs nothing and is counted: an alert whose TXMETA
 * was lost on a full ring is reported without its object, never with another transaction's.
 */
struct ctl_app_pairing;

struct ctl_app_pairing_counters {
	uint64_t attached; /* alerts given their transaction's facts */
	uint64_t missing;  /* alerts of a transaction whose TXMETA did not match (lost) */
	uint64_t unpaired; /* TXMETA events no alert claimed (their alert was lost) */
};

/* Returns NULL with errno set. */
struct ctl_app_pairing *ctl_app_pairing_create(void);
/* NULL is a no-op. */
void ctl_app_pairing_free(struct ctl_app_pairing *p);

/* Keep a DP_EV_TXMETA event (other types are ignored). */
void ctl_app_pairing_keep(struct ctl_app_pairing *p, const struct dp_event *ev);

/*
 * For a DP_EV_ALERT event: when it matched a transaction and its worker's kept TXMETA is the
 * event just before it, of the same flow, copy that into a->app (a->has_app) and return true.
 * An alert without a transaction returns false and counts nothing.
 */
bool ctl_app_pairing_attach(
		struct ctl_app_pairing *p, const struct dp_event *ev, struct ctl_alert *a);

void ctl_app_pairing_counters(const struct ctl_app_pairing *p, struct ctl_app_pairing_counters *c);

#endif /* CTL_ALERT_APP_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/* Health, readiness, status, metrics, the OpenAPI document and the mode. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_api.h"
#include "mg_handlers.h"
#include "mg_openapi.h"
#include "mg_prom.h"
#include "mg_query.h"
#include "mg_server.h"

static const struct mg_qparam no_params[] = { { 0 } };

void
mg_h_health(struct mg_req *r)
{
	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	/* Alive means this thread could answer; nothing else is asked of the appliance. */
	mg_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

void
mg_h_ready(struct mg_req *r)
{
	char why[256] = "";

	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	if (ctl_api_ready(r->ctx, why, sizeof(why))) {
		mg_reply_json(r, 200, json_pack("{s:b, s:s}", "ready", 1, "reason", why));
		return;
	}
	mg_reply_error(r, 503, "not_ready", json_pack("{s:b}", "ready", 0), "not ready: %s", why);
	r->retry_after_s = 1;
}

static char *
build_status(struct mg_req *r, size_t *len)
{
	json_t *j = ctl_api_status(r->ctx);
	char *s;

	if (j == NULL) {
		errno = EIO;
		return NULL;
	}
	if (r->srv != NULL) {
		/* The API's own setup problems (a TLS key others may read), next to the rest. */
		const char *w = mg_server_warning(r->srv);
		json_t *warn = json_array();

		if (w != NULL)
			json_array_append_new(warn, json_string(w));
		json_object_set_new(j, "api",
				json_pack("{s:b, s:o}", "tls",
						mg_server_config(r->srv)->tls_cert[0] != '\0',
						"warnings", warn));
	}
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	*len = strlen(s);
	return s;
}

void
mg_h_status(struct mg_req *r)
{
	char *body;
	size_t len;

	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	body = mg_server_snapshot(r->srv, MG_SNAP_STATUS, build_status, r, &len);
	if (body == NULL) {
		mg_reply_error(r, 500, "internal", NULL, "the status could not be built");
		return;
	}
	mg_reply_text(r, 200, "application/json", body, len, false);
}

static char *
build_metrics(struct mg_req *r, size_t *len)
{
	json_t *j = ctl_api_metrics(r->ctx);
	char *text;

	if (j == NULL) {
		errno = EIO;
		return NULL;
	}
	if (r->srv != NULL)
		json_object_set_new(j, "api", mg_server_counters(r->srv));
	text = mg_prom_format(j, len);
	json_decref(j);
	return text;
}

void
mg_h_metrics(struct mg_req *r)
{
	char *text;
	size_t len;

	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	text = mg_server_snapshot(r->srv, MG_SNAP_METRICS, build_metrics, r, &len);
	if (text == NULL) {
		mg_reply_error(r, 500, "internal", NULL, "the metrics could not be built");
		return;
	}
	mg_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len, false);
}

void
mg_h_openapi(struct mg_req *r)
{
	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	mg_reply_text(r, 200, "application/json", (char *)mg_openapi_json, mg_openapi_json_len,
			true);
}

void
mg_h_mode_get(struct mg_req *r)
{
	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	mg_reply_json(r, 200,
			json_pack("{s:s, s:o}", "mode", ctl_api_mode(r->ctx), "pairs",
					ctl_api_pair_modes(r->ctx)));
}

/* A write whose outcome was unknown when it was answered (202): running, applied or failed. */
void
mg_h_operation(struct mg_req *r)
{
	unsigned long long id;
	char *end;
	json_t *j;

	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	errno = 0;
	id = strtoull(r->params[0], &end, 10);
	if (errno != 0 || *end != '\0' || id < 1 || !isdigit((unsigned char)r->params[0][0])) {
		mg_reply_error(r, 400, "invalid_path",
				json_pack("{s:s, s:o}", "parameter", "id", "value",
						mg_json_str(r->params[0])),
				"'%.32s' is not an operation id (a positive integer from a 202 "
				"reply)",
				r->params[0]);
		return;
	}
	j = ctl_api_operation(r->ctx, id);
	if (j == NULL) {
		mg_reply_error(r, 404, "not_found", NULL,
				"no operation %llu (only the latest %u are kept)", id,
				CTL_API_OPS_KEPT);
		return;
	}
	mg_reply_json(r, 200, j);
}

/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ctl_webhook.h"

struct ctl_webhook {
	struct ctl_webhook_opts o;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char **q; /* ring of JSON bodies */
	uint32_t head;
	uint32_t n;
	bool stop;
	struct ctl_webhook_counters c;
	CURL *curl;
	struct curl_slist *hdrs;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void
curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The answer's body is not used; reading it keeps the connection reusable. */
static size_t
discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
	(void)ptr;
	(void)arg;
	return size * nmemb;
}

static void
post_one(struct ctl_webhook *w, const char *body)
{
	CURLcode rc;
	long status = 0;

	curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	rc = curl_easy_perform(w->curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &status);
	pthread_mutex_lock(&w->mu);
	w->c.last_status = status;
	if (rc == CURLE_OK && status >= 200 && status < 300) {
		w->c.posted++;
	} else {
		w->c.failed++;
		if (rc != CURLE_OK)
			snprintf(w->c.last_error, sizeof(w->c.last_error), "%s",
					curl_easy_strerror(rc));
		else
			snprintf(w->c.last_error, sizeof(w->c.last_error), "HTTP status %ld",
					status);
	}
	pthread_mutex_unlock(&w->mu);
}

static void *
worker(void *arg)
{
	struct ctl_webhook *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		char *body;

		while (w->n == 0 && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stop)
			break;
		body = w->q[w->head];
		w->q[w->head] = NULL;
		w->head = (w->head + 1) % w->o.queue_len;
		w->n--;
		pthread_mutex_unlock(&w->mu);
		post_one(w, body);
		free(body);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct ctl_webhook *
ctl_webhook_create(const struct ctl_webhook_opts *o, char *err, size_t errlen)
{
	struct ctl_webhook *w;
	char ua[64];
	int rc;

	if (o->url[0] == '\0') {
		snprintf(err, errlen, "webhook: no URL configured");
		errno = EINVAL;
		return NULL;
	}
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		snprintf(err, errlen, "webhook: libcurl: %s", curl_easy_strerror(curl_init_rc));
		errno = EIO;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		goto nomem;
	w->o = *o;
	if (w->o.queue_len == 0)
		w->o.queue_len = 1;
	w->q = calloc(w->o.queue_len, sizeof(*w->q));
	w->curl = curl_easy_init();
	w->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (w->q == NULL || w->curl == NULL || w->hdrs == NULL)
		goto nomem;
	snprintf(ua, sizeof(ua), "vigil/%s", VIGIL_VERSION);
	curl_easy_setopt(w->curl, CURLOPT_URL, w->o.url);
	curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, w->hdrs);
	curl_easy_setopt(w->curl, CURLOPT_USERAGENT, ua);
	curl_easy_setopt(w->curl, CURLOPT_TIMEOUT_MS, (long)w->o.timeout_ms);
	curl_easy_setopt(w->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)w->o.timeout_ms);
	/* Timeouts by signal would hit whichever thread the signal lands on. */
	curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(w->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	rc = pthread_create(&w->th, NULL, worker, w);
	if (rc != 0) {
		snprintf(err, errlen, "webhook: cannot start its thread: %s", strerror(rc));
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		curl_slist_free_all(w->hdrs);
		curl_easy_cleanup(w->curl);
		free(w->q);
		free(w);
		errno = rc;
		return NULL;
	}
	pthread_setname_np(w->th, "vigil-webhook");
	return w;
nomem:
	snprintf(err, errlen, "webhook: out of memory");
	if (w != NULL) {
		curl_slist_free_all(w->hdrs);
		if (w->curl != NULL)
			curl_easy_cleanup(w->curl);
		free(w->q);
		free(w);
	}
	errno = ENOMEM;
	return NULL;
}

void
ctl_webhook_free(struct ctl_webhook *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	while (w->n > 0) {
		free(w->q[w->head]);
		w->head = (w->head + 1) % w->o.queue_len;
		w->n--;
	}
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	curl_slist_free_all(w->hdrs);
	curl_easy_cleanup(w->curl);
	free(w->q);
	free(w);
}

int
ctl_webhook_post(struct ctl_webhook *w, const struct ctl_alert *a, const char *in_iface)
{
	json_t *o = ctl_alert_to_json(a, in_iface);
	char *body;
	int rc = 0;

	if (o == NULL)
		return -ENOMEM;
	body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (body == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&w->mu);
	if (w->n >= w->o.queue_len) {
		w->c.dropped++;
		rc = -ENOSPC;
	} else {
		w->q[(w->head + w->n) % w->o.queue_len] = body;
		w->n++;
		body = NULL;
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	free(body);
	return rc;
}

void
ctl_webhook_counters(struct ctl_webhook *w, struct ctl_webhook_counters *c)
{
	pthread_mutex_lock(&w->mu);
	*c = w->c;
	c->queued = w->n;
	pthread_mutex_unlock(&w->mu);
}

/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_ring.h>

#include "ctl_call.h"

enum call_state {
	CALL_PENDING,
	CALL_RUNNING,
	CALL_DONE,
	CALL_ABANDONED,
};

struct call {
	ctl_call_fn fn;
	void *arg;
	void (*release)(void *arg);
	int rc;
	enum call_state state;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t op; /* the operation recording an abandoned running call's result, or 0 */
};

struct ctl_mailbox {
	struct rte_ring *ring;
	sem_t wake; /* posted with every call, so that an idle control loop runs it at once */
	/* operations: calls that ran past their caller's patience (ctl_call_op) */
	pthread_mutex_t ops_mu;
	uint64_t next_op;
	struct ctl_op ops[CTL_OPS_KEPT]; /* by id % CTL_OPS_KEPT */
};

static uint64_t
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t
op_start(struct ctl_mailbox *mb, const char *what)
{
	struct ctl_op *o;
	uint64_t id;

	pthread_mutex_lock(&mb->ops_mu);
	id = ++mb->next_op;
	o = &mb->ops[id % CTL_OPS_KEPT];
	memset(o, 0, sizeof(*o));
	o->id = id;
	o->started_ns = now_ns();
	snprintf(o->what, sizeof(o->what), "%s", what != NULL ? what : "");
	pthread_mutex_unlock(&mb->ops_mu);
	return id;
}

static void
op_finish(struct ctl_mailbox *mb, uint64_t id, int rc)
{
	struct ctl_op *o;

	pthread_mutex_lock(&mb->ops_mu);
	o = &mb->ops[id % CTL_OPS_KEPT];
	if (o->id == id) {
		o->done = true;
		o->rc = rc;
		o->finished_ns = now_ns();
	}
	pthread_mutex_unlock(&mb->ops_mu);
}

int
ctl_mailbox_op(struct ctl_mailbox *mb, uint64_t id, struct ctl_op *out)
{
	int rc = -ENOENT;

	pthread_mutex_lock(&mb->ops_mu);
	if (id != 0 && mb->ops[id % CTL_OPS_KEPT].id == id) {
		*out = mb->ops[id % CTL_OPS_KEPT];
		rc = 0;
	}
	pthread_mutex_unlock(&mb->ops_mu);
	return rc;
}

struct ctl_mailbox *
ctl_mailbox_create(unsigned size)
{
	static unsigned seq;
	char name[RTE_RING_NAMESIZE];
	struct ctl_mailbox *mb = calloc(1, sizeof(*mb));

	if (mb == NULL)
		return NULL;
	snprintf(name, sizeof(name), "vg_mailbox_%u",
			__atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	/* Many producers (management threads), one consumer (control). */
	mb->ring = rte_ring_create(name, size, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (mb->ring == NULL) {
		free(mb);
		errno = ENOMEM;
		return NULL;
	}
	sem_init(&mb->wake, 0, 0);
	pthread_mutex_init(&mb->ops_mu, NULL);
	return mb;
}

static void
call_free(struct call *c)
{
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}

static void
abandon_now(struct call *c)
{
	if (c->release != NULL)
		c->release(c->arg);
	call_free(c);
}

void
ctl_mailbox_free(struct ctl_mailbox *mb)
{
	void *p;

	if (mb == NULL)
		return;
	while (rte_ring_dequeue(mb->ring, &p) == 0) {
		struct call *c = p;
		bool waiter;

		pthread_mutex_lock(&c->mu);
		waiter = c->state == CALL_PENDING;
		c->rc = -ECANCELED;
		c->state = waiter ? CALL_DONE : c->state;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
		if (!waiter)
			abandon_now(c);
	}
	rte_ring_free(mb->ring);
	sem_destroy(&mb->wake);
	pthread_mutex_destroy(&mb->ops_mu);
	free(mb);
}

void
ctl_mailbox_wait(struct ctl_mailbox *mb, unsigned timeout_us)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_nsec += (long)timeout_us * 1000;
	t.tv_sec += t.tv_nsec / 1000000000;
	t.tv_nsec %= 1000000000;
	if (sem_clockwait(&mb->wake, CLOCK_MONOTONIC, &t) == 0)
		while (sem_trywait(&mb->wake) == 0)
			; /* one wake-up for every call queued meanwhile */
}

void
ctl_mailbox_wake(struct ctl_mailbox *mb)
{
	if (mb != NULL)
		(void)sem_post(&mb->wake);
}

int
ctl_call(struct ctl_mailbox *mb, ctl_call_fn fn, void *arg, void (*release)(void *arg),
		unsigned timeout_ms)
{
	int rc = ctl_call_op(mb, fn, arg, release, timeout_ms, NULL, NULL);

	return rc == -EINPROGRESS ? -ETIMEDOUT : rc;
}

int
ctl_call_op(struct ctl_mailbox *mb, ctl_call_fn fn, void *arg, void (*release)(void *arg),
		unsigned timeout_ms, const char *what, uint64_t *op)
{
	struct call *c = calloc(1, sizeof(*c));
	struct timespec deadline;
	int rc = 0;

	if (c == NULL)
		return -ENOMEM;
	c->fn = fn;
	c->arg = arg;
	c->release = release;
	c->state = CALL_PENDING;
	pthread_mutex_init(&c->mu, NULL);
	{
		pthread_condattr_t a;

		pthread_condattr_init(&a);
		pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
		pthread_cond_init(&c->cv, &a);
		pthread_condattr_destroy(&a);
	}
	if (rte_ring_mp_enqueue(mb->ring, c) != 0) {
		call_free(c);
		return -ENOSPC;
	}
	sem_post(&mb->wake);

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->mu);
	while (c->state != CALL_DONE && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&c->cv, &c->mu, &deadline);
	if (c->state == CALL_DONE) {
		rc = c->rc;
		pthread_mutex_unlock(&c->mu);
		call_free(c);
		return rc;
	}
	/* Too late: control releases the argument when (if) it gets to the call. A call not
	 * started never runs; one running finishes, and its result goes to an operation. */
	if (c->state == CALL_RUNNING && op != NULL)
		c->op = *op = op_start(mb, what);
	rc = c->state == CALL_RUNNING ? -EINPROGRESS : -ETIMEDOUT;
	c->state = CALL_ABANDONED;
	pthread_mutex_unlock(&c->mu);
	return rc;
}

unsigned
ctl_mailbox_run(struct ctl_mailbox *mb, struct ctl_ctx *ctx, unsigned max)
{
	unsigned ran = 0;
	void *p;

	while (ran < max && rte_ring_sc_dequeue(mb->ring, &p) == 0) {
		struct call *c = p;
		int rc;

		pthread_mutex_lock(&c->mu);
		if (c->state == CALL_ABANDONED) {
			pthread_mutex_unlock(&c->mu);
			abandon_now(c);
			continue;
		}
		c->state = CALL_RUNNING;
		pthread_mutex_unlock(&c->mu);

		rc = c->fn(ctx, c->arg);
		ran++;

		pthread_mutex_lock(&c->mu);
		if (c->state == CALL_ABANDONED) {
			pthread_mutex_unlock(&c->mu);
			if (c->op != 0)
				op_finish(mb, c->op, rc);
			abandon_now(c);
			continue;
		}
		c->rc = rc;
		c->state = CALL_DONE;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	return ran;
}

/* ---- reloads ---- */

struct reload_job {
	struct ctl_reload *r;
	void *b;
};

static int
reload_publish_call(struct ctl_ctx *ctx, void *arg)
{
	struct reload_job *j = arg;

	(void)ctx;
	j->r->publish(j->r->owner, j->b);
	j->b = NULL;
	return 0;
}

static void
reload_job_release(void *arg)
{
	struct reload_job *j = arg;

	if (j->b != NULL)
		j->r->free_build(j->b);
	free(j);
}

static void *
reload_main(void *arg)
{
	struct ctl_reload *r = arg;
	struct reload_job *j = calloc(1, sizeof(*j));

	if (j != NULL) {
		j->r = r;
		if (r->build(r->owner, &j->b) != 0) {
			reload_job_release(j);
		} else {
			int rc = ctl_call(r->mailbox, reload_publish_call, j, reload_job_release,
					CTL_RELOAD_PUBLISH_TIMEOUT_MS);

			/* Timed out: control releases the job when it is done with it. */
			if (rc == -ETIMEDOUT)
				r->timed_out(r->owner, CTL_RELOAD_PUBLISH_TIMEOUT_MS);
			else
				reload_job_release(j);
		}
	}
	__atomic_store_n(&r->running, false, __ATOMIC_RELEASE);
	return NULL;
}

int
ctl_reload_start(struct ctl_reload *r)
{
	pthread_t t;
	bool expect = false;
	int rc;

	if (!__atomic_compare_exchange_n(
			    &r->running, &expect, true, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return -EBUSY;
	rc = pthread_create(&t, NULL, reload_main, r);
	if (rc != 0) {
		__atomic_store_n(&r->running, false, __ATOMIC_RELEASE);
		return -rc;
	}
	pthread_detach(t);
	return 0;
}

bool
ctl_reload_running(const struct ctl_reload *r)
{
	return __atomic_load_n(&r->running, __ATOMIC_ACQUIRE);
}

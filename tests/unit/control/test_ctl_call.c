/* SPDX-License-Identifier: BSD-3-Clause */
/* The control mailbox: calls run on the control thread in order, answers come back, a full
 * mailbox refuses, and a timed-out call is either never run or released after it ran. */
#define VG_TEST_WITH_EAL
#include "vg_test.h"

#include <pthread.h>
#include <time.h>

#include "ctl_call.h"

struct arg {
	int in;
	int out;
	int *released;
	unsigned sleep_ms;
};

static pthread_t control_thread;

static int
double_it(struct ctl_ctx *ctx, void *p)
{
	struct arg *a = p;

	(void)ctx;
	if (pthread_self() != control_thread)
		return -EPERM;
	if (a->sleep_ms)
		usleep(a->sleep_ms * 1000);
	a->out = a->in * 2;
	return a->in < 0 ? -EINVAL : 0;
}

static void
release(void *p)
{
	struct arg *a = p;

	__atomic_add_fetch(a->released, 1, __ATOMIC_SEQ_CST);
	free(a);
}

struct control {
	struct ctl_mailbox *mb;
	volatile int stop;
	unsigned ran;
};

static void *
control_main(void *p)
{
	struct control *c = p;

	while (!c->stop) {
		c->ran += ctl_mailbox_run(c->mb, NULL, 16);
		usleep(200);
	}
	return NULL;
}

static void
test_calls_run_on_control(void **state)
{
	struct control c = { .mb = ctl_mailbox_create(64) };
	struct arg a = { .in = 21 };

	(void)state;
	assert_non_null(c.mb);
	pthread_create(&control_thread, NULL, control_main, &c);
	assert_int_equal(ctl_call(c.mb, double_it, &a, NULL, 2000), 0);
	assert_int_equal(a.out, 42);
	a.in = -1;
	assert_int_equal(ctl_call(c.mb, double_it, &a, NULL, 2000), -EINVAL);
	c.stop = 1;
	pthread_join(control_thread, NULL);
	assert_int_equal(c.ran, 2);
	ctl_mailbox_free(c.mb);
}

static void
test_full_mailbox(void **state)
{
	struct ctl_mailbox *mb = ctl_mailbox_create(4);
	int released = 0;

	(void)state;
	/* No control running: a ring of 4 holds 3; each call times out and stays queued. */
	for (int i = 0; i < 3; i++) {
		struct arg *a = calloc(1, sizeof(*a));

		a->released = &released;
		assert_int_equal(ctl_call(mb, double_it, a, release, 10), -ETIMEDOUT);
	}
	struct arg b = { .in = 1 };
	assert_int_equal(ctl_call(mb, double_it, &b, NULL, 10), -ENOSPC);
	/* Abandoned before they ran: control releases them without running them. */
	control_thread = pthread_self();
	assert_int_equal(ctl_mailbox_run(mb, NULL, 16), 0);
	assert_int_equal(released, 3);
	ctl_mailbox_free(mb);
}

static void
test_timeout_while_running(void **state)
{
	struct control c = { .mb = ctl_mailbox_create(64) };
	struct arg *a = calloc(1, sizeof(*a));
	int released = 0;

	(void)state;
	a->in = 5;
	a->sleep_ms = 300;
	a->released = &released;
	pthread_create(&control_thread, NULL, control_main, &c);
	assert_int_equal(ctl_call(c.mb, double_it, a, release, 50), -ETIMEDOUT);
	/* It finishes anyway, then control frees the argument. */
	for (int i = 0; i < 100 && __atomic_load_n(&released, __ATOMIC_SEQ_CST) == 0; i++)
		usleep(10000);
	assert_int_equal(released, 1);
	c.stop = 1;
	pthread_join(control_thread, NULL);
	assert_int_equal(c.ran, 1);
	ctl_mailbox_free(c.mb);
}

/*
 * ctl_call_op tells the two timeouts apart: a call control is running goes on and its result
 * becomes an operation (-EINPROGRESS); a call queued behind it that control had not started
 * is cancelled and never runs (-ETIMEDOUT): nothing changed.
 */
static void
test_outcome_of_a_timeout(void **state)
{
	struct control c = { .mb = ctl_mailbox_create(64) };
	struct arg *slow = calloc(1, sizeof(*slow)), *queued = calloc(1, sizeof(*queued));
	int released = 0;
	uint64_t op = 0, op2 = 0;
	struct ctl_op o;

	(void)state;
	slow->in = -1; /* it fails: the operation must say so */
	slow->sleep_ms = 1000;
	slow->released = &released;
	queued->in = 7;
	queued->released = &released;
	pthread_create(&control_thread, NULL, control_main, &c);
	assert_int_equal(ctl_call_op(c.mb, double_it, slow, release, 300, "the slow one", &op),
			-EINPROGRESS);
	assert_true(op > 0);
	assert_int_equal(ctl_mailbox_op(c.mb, op, &o), 0);
	assert_false(o.done);
	assert_string_equal(o.what, "the slow one");
	/* control is busy with the slow call: this one is not started in time */
	assert_int_equal(ctl_call_op(c.mb, double_it, queued, release, 100, "queued", &op2),
			-ETIMEDOUT);
	assert_int_equal(op2, 0);
	for (int i = 0; i < 300 && __atomic_load_n(&released, __ATOMIC_SEQ_CST) < 2; i++)
		usleep(10000);
	assert_int_equal(released, 2);
	c.stop = 1;
	pthread_join(control_thread, NULL);
	assert_int_equal(c.ran, 1); /* the cancelled call never ran */
	assert_int_equal(ctl_mailbox_op(c.mb, op, &o), 0);
	assert_true(o.done);
	assert_int_equal(o.rc, -EINVAL);
	assert_true(o.finished_ns >= o.started_ns);
	assert_int_equal(ctl_mailbox_op(c.mb, op + 1, &o), -ENOENT);
	ctl_mailbox_free(c.mb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calls_run_on_control),
		cmocka_unit_test(test_full_mailbox),
		cmocka_unit_test(test_timeout_while_running),
		cmocka_unit_test(test_outcome_of_a_timeout),
	};

	if (vg_test_eal_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

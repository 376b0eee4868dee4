/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control lcore's mailbox: other threads (management, the signal path) never touch
 * control or worker state themselves; they hand control a function to run, and wait for its
 * answer. Control runs queued calls between event drains, in order.
 *
 * A call that is not answered within its timeout is abandoned: if control has not started it,
 * it never runs; if it is running, it finishes. Either way the caller gets -ETIMEDOUT and
 * control releases the argument (release(arg)) when it is done with it. A call that completes
 * leaves the argument with the caller, results and all.
 */
#ifndef CTL_CALL_H
#define CTL_CALL_H

#include <stdbool.h>
#include <stdint.h>

struct ctl_ctx;
struct ctl_mailbox;

/* Runs on the control lcore. Returns 0 or -errno (passed back to the caller). */
typedef int (*ctl_call_fn)(struct ctl_ctx *ctx, void *arg);

/* A mailbox with room for size queued calls (a power of two). NULL with errno on failure. */
struct ctl_mailbox *ctl_mailbox_create(unsigned size);

/* Free the mailbox; calls still queued are abandoned (released, not run). NULL is a no-op. */
void ctl_mailbox_free(struct ctl_mailbox *mb);

/*
 * From any thread but control: run fn(ctx, arg) on control and wait up to timeout_ms.
 * Returns fn's result, -ENOSPC when the mailbox is full (nothing ran), or -ETIMEDOUT (see
 * above; release must then be non-NULL for arg to be freed).
 */
int ctl_call(struct ctl_mailbox *mb, ctl_call_fn fn, void *arg, void (*release)(void *arg),
		unsigned timeout_ms);

/*
 * A change whose outcome the caller must be able to tell (API writes). As ctl_call(), except
 * that a timeout says which of the two cases happened:
 *   -ETIMEDOUT    control had not started the call: it never runs; nothing changed.
 *   -EINPROGRESS  control had started it: it runs to its end, and its result (fn's return
 *                 value) is recorded as operation *op, which ctl_mailbox_op() reads back.
 * In both cases control releases arg, as with ctl_call(). what (up to 127 bytes) describes the
 * change in the operation's record.
 */
int ctl_call_op(struct ctl_mailbox *mb, ctl_call_fn fn, void *arg, void (*release)(void *arg),
		unsigned timeout_ms, const char *what, uint64_t *op);

/* An operation of ctl_call_op(): done once the call returned, with its result in rc. */
struct ctl_op {
	uint64_t id;
	bool done;
	int rc;		      /* fn's result, when done */
	uint64_t started_ns;  /* CLOCK_REALTIME when the caller gave up waiting */
	uint64_t finished_ns; /* ... when the call returned (0 while running) */
	char what[128];
};

/* Operations are kept until CTL_OPS_KEPT newer ones pushed them out. */
#define CTL_OPS_KEPT 256

/* Any thread: the record of operation id. 0, or -ENOENT (unknown, or pushed out). */
int ctl_mailbox_op(struct ctl_mailbox *mb, uint64_t id, struct ctl_op *out);

/* On control, when idle: sleep until a call is queued or timeout_us have passed. */
void ctl_mailbox_wait(struct ctl_mailbox *mb, unsigned timeout_us);

/*
 * Any thread, also DPDK's interrupt thread: wake control from ctl_mailbox_wait() without a
 * call (it then runs its ticks at once: the link after a link-state-change interrupt).
 */
void ctl_mailbox_wake(struct ctl_mailbox *mb);

/* On control: run up to max queued calls. Returns how many ran. */
unsigned ctl_mailbox_run(struct ctl_mailbox *mb, struct ctl_ctx *ctx, unsigned max);

/*
 * A rebuild off the control lcore (the policy or the signatures on SIGHUP): build() runs on a
 * thread of its own and says why when it fails; what it built is published through the
 * mailbox by publish() on control, or released by free_build(). One at a time per owner.
 */
struct ctl_reload {
	struct ctl_mailbox *mailbox;
	void *owner;
	int (*build)(void *owner, void **out);	     /* any thread: 0 and *out, or -errno */
	void (*publish)(void *owner, void *b);	     /* control lcore: put b in force (takes b) */
	void (*free_build)(void *b);		     /* a build that was not published */
	void (*timed_out)(void *owner, unsigned ms); /* control did not publish in time */
	bool running;
};

#define CTL_RELOAD_PUBLISH_TIMEOUT_MS 30000

/* Start r on a detached thread: 0, -EBUSY while one runs, or -errno (no thread). */
int ctl_reload_start(struct ctl_reload *r);

/* True while r's thread runs (until its build is published or dropped). Any thread. */
bool ctl_reload_running(const struct ctl_reload *r);

#endif /* CTL_CALL_H */

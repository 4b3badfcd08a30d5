/* SPDX-License-Identifier: ISC */
/*
 * The stall check of a worker's loop: a timer that should fire every
 * stall_warn / 2; when it fires more than stall_warn late, a callback (or
 * the whole process) held the loop up. It is counted and warned about
 * with what ran last (worker_doing()).
 */
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hellod.h"

static void	stall_cb(evutil_socket_t, short, void *);

/* The check's timer on w's loop (not armed: stall_arm()). */
struct event *
stall_new(struct worker *w)
{
	return (evtimer_new(w->w_base, stall_cb, w));
}

#ifdef HELLOD_TEST_HOOKS
/*
 * Test builds only: hold the loop up, as a slow callback would, for
 * $HELLOD_TEST_STALL_MS (default HELLOD_TEST_STALL_MS) milliseconds.
 */
void
stall_inject(struct worker *w)
{
	struct timespec	 ts;
	const char	*env = getenv("HELLOD_TEST_STALL_MS");
	long		 ms = env != NULL ? atol(env) : HELLOD_TEST_STALL_MS;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	worker_doing(w, "an injected stall (test build)", 0);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}
#endif

/*
 * Arm the stall check: a timer every stall_warn / 2 (10 ms to 1 s), off
 * when stall_warn is 0. Half the threshold, so that a stall longer than
 * 1.5 * stall_warn always delays a run by more than stall_warn.
 */
void
stall_arm(struct worker *w)
{
	struct timeval	tv;
	uint64_t	period = w->w_cf->cf_stall_warn / 2;

	if (w->w_cf->cf_stall_warn == 0) {
		evtimer_del(w->w_stall_ev);
		return;
	}
	if (period < 10)
		period = 10;
	if (period > 1000)
		period = 1000;
	w->w_stall_due = clock_now_us() + period * 1000;
	clock_tv(period, &tv);
	evtimer_add(w->w_stall_ev, &tv);
}

/*
 * The stall check ran: how late? Above stall_warn, the loop was held up
 * by a callback that took too long (or the whole process was: stopped,
 * starved of CPU, swapping); count it and warn with what ran last.
 */
static void
stall_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	uint64_t	 now = clock_now_us(), late, warn;
	char		 doing[128];

	(void)fd;
	(void)what;
	warn = w->w_cf->cf_stall_warn * 1000;
	late = now > w->w_stall_due ? now - w->w_stall_due : 0;
	if (warn > 0 && late > warn) {
		stats_add(&w->w_stats.st_stalls, 1);
		stats_max(&w->w_stats.st_stall_max_us, late);
		if (w->w_doing == NULL)
			(void)snprintf(doing, sizeof doing, " with no callback "
			    "running: the process was held up (stopped, short "
			    "of CPU or memory)");
		else if (w->w_doing_id != 0)
			(void)snprintf(doing, sizeof doing, "; last callback: "
			    "%s, conn %llu", w->w_doing,
			    (unsigned long long)w->w_doing_id);
		else
			(void)snprintf(doing, sizeof doing, "; last callback: "
			    "%s", w->w_doing);
		log_warnx("worker %u: event loop stalled for %llu ms "
		    "(stall_warn %llu ms)%s", w->w_index,
		    (unsigned long long)(late / 1000),
		    (unsigned long long)(warn / 1000), doing);
	}
	w->w_doing = NULL;
	stall_arm(w);
}

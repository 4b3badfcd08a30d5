/* SPDX-License-Identifier: ISC */
/*
 * A worker: one thread running one event loop with its own listeners,
 * connections, timers and Date cache. Workers share nothing on the hot
 * path: the only cross-thread state is the process-wide connection count
 * and a few flags for max_connections (C11 atomics, no locks), the
 * heartbeat the main thread's watchdog reads, and the immutable snapshot
 * of the configuration.
 *
 * The main thread sends struct worker_msg down w_pipe: a write of one
 * message is atomic (smaller than PIPE_BUF), and the worker reads them in
 * its loop at a safe point, between callbacks.
 *
 * max_connections is process-wide: s_nconns counts every worker's
 * connections. A worker that reaches the limit closes its own
 * longest-idle keep-alive connections; if it has none, it sets s_limited
 * and every worker pauses its listeners. Whichever worker later closes a
 * connection and finds the count at or below 90% clears s_limited, and
 * every worker resumes, even one whose own connections never closed. The
 * other workers hear of a change through their pipe (WORKER_MSG_SYNC, at
 * most one queued per worker: w_wake), and look at s_limited itself, so
 * messages may cross without harm. A short re-check timer would also work,
 * but would add up to its period to every resume and wake idle workers
 * for nothing; the messages cost two pipe writes per worker per pause.
 * Pausing and closing race on two atomics each (s_limited then s_nconns;
 * s_nconns then s_limited; all seq_cst), so at least one side sees the
 * other and the process never stays paused below the limit.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"

static void	*worker_main(void *);
static void	 worker_pipe_cb(evutil_socket_t, short, void *);
static void	 worker_retry_cb(evutil_socket_t, short, void *);
static void	 worker_heartbeat_cb(evutil_socket_t, short, void *);
static void	 worker_set_timeouts(struct worker *);
static size_t	 worker_low_mark(const struct worker *);
static void	 worker_sync(struct worker *);
static void	 worker_limit(struct worker *);
static void	 worker_unlimit(struct worker *);
static void	 worker_stop(struct worker *);
static void	 worker_note(struct worker *, enum worker_note);
static void	 worker_conn_opened(struct worker *);
static void	 worker_conn_closed(struct worker *);
static void	 worker_accept_pause(struct worker *);
static void	 worker_accept_update(struct worker *);

/*
 * A new event loop. Each has one thread (the main thread, or one worker)
 * and never shares an event with another, so it needs no locks.
 */
struct event_base *
worker_base_new(void)
{
	struct event_config	*ecf;
	struct event_base	*base;

	if ((ecf = event_config_new()) == NULL)
		return (NULL);
	event_config_set_flag(ecf, EVENT_BASE_FLAG_NOLOCK);
	/* Timers on CLOCK_MONOTONIC, not libevent's default
	 * CLOCK_MONOTONIC_COARSE: that lags the real clock by a tick or
	 * more, and /sleep must never answer before its delay. */
	event_config_set_flag(ecf, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(ecf);
	event_config_free(ecf);
	return (base);
}

/*
 * Every connection's timer of one kind has the same length, so libevent's
 * common timeouts keep them in a queue: O(1) to arm and to fire.
 */
static const struct timeval *
worker_common(struct worker *w, uint64_t ms, struct timeval *raw)
{
	const struct timeval	*tv;

	clock_tv(ms, raw);
	if ((tv = event_base_init_common_timeout(w->w_base, raw)) == NULL)
		return (raw);	/* out of common timeouts: still correct */
	return (tv);
}

/* (Re)compute the timer lengths from the config. */
static void
worker_set_timeouts(struct worker *w)
{
	w->w_tv_sleep = worker_common(w, w->w_cf->cf_sleep, &w->w_tv_sleep_raw);
	w->w_tv_header = worker_common(w, w->w_cf->cf_header_timeout,
	    &w->w_tv_header_raw);
	w->w_tv_keepalive = worker_common(w, w->w_cf->cf_keepalive_timeout,
	    &w->w_tv_keepalive_raw);
}

/*
 * Set up worker index of srv: its event base (no locks: only its own
 * thread uses it once started), its message pipe and timers. It takes a
 * reference to sn. Listeners are added by the caller before
 * worker_start(). worker_free() copes with a half-initialised worker.
 */
int
worker_init(struct worker *w, struct server *srv, unsigned int index,
    struct snapshot *sn)
{

	memset(w, 0, sizeof *w);
	w->w_srv = srv;
	w->w_notes = srv->s_notes[1];
	w->w_conn_opened = worker_conn_opened;
	w->w_conn_closed = worker_conn_closed;
	w->w_accept_failed = worker_accept_pause;
	w->w_index = index;
	w->w_pipe[0] = w->w_pipe[1] = -1;
	w->w_snap = snapshot_ref(sn);
	w->w_cf = sn->sn_cf;
	w->w_pages = sn->sn_pages;
	TAILQ_INIT(&w->w_conns);
	TAILQ_INIT(&w->w_idle);
	atomic_init(&w->w_wake, 0);
	atomic_init(&w->w_heartbeat, clock_now_ms());

	if ((w->w_base = worker_base_new()) == NULL)
		return (-1);

	/* Writers block (messages are few, SYNC is never queued twice);
	 * the reader drains what is there from the loop. */
	if (pipe2(w->w_pipe, O_CLOEXEC) == -1)
		return (-1);
	if (evutil_make_socket_nonblocking(w->w_pipe[0]) == -1)
		return (-1);
	w->w_pipe_ev = event_new(w->w_base, w->w_pipe[0], EV_READ | EV_PERSIST,
	    worker_pipe_cb, w);
	w->w_accept_retry = evtimer_new(w->w_base, worker_retry_cb, w);
	w->w_stall_ev = stall_new(w);
	if (w->w_pipe_ev == NULL || w->w_accept_retry == NULL ||
	    w->w_stall_ev == NULL ||
	    accesslog_buf_init(&w->w_alog, w->w_base) == -1 ||
	    event_add(w->w_pipe_ev, NULL) == -1)
		return (-1);
	worker_set_timeouts(w);
	return (0);
}

/*
 * Start the worker's thread; with heartbeat_ms > 0, it refreshes
 * w_heartbeat that often for the watchdog. Signals are blocked in the
 * thread: they are the main thread's business.
 */
int
worker_start(struct worker *w, uint64_t heartbeat_ms)
{
	struct timeval	tv;
	sigset_t	all, old;
	int		r;

	if (heartbeat_ms > 0) {
		w->w_heartbeat_ev = event_new(w->w_base, -1, EV_PERSIST,
		    worker_heartbeat_cb, w);
		clock_tv(heartbeat_ms, &tv);
		if (w->w_heartbeat_ev == NULL ||
		    event_add(w->w_heartbeat_ev, &tv) == -1)
			return (-1);
	}
	atomic_store(&w->w_heartbeat, clock_now_ms());
	w->w_accepting = 1;
	stall_arm(w);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&w->w_thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		errno = r;
		return (-1);
	}
	w->w_started = 1;
	return (0);
}

/* The thread: run the loop, then tell the main thread it has ended. */
static void *
worker_main(void *arg)
{
	struct worker	*w = arg;

	if (event_base_dispatch(w->w_base) == -1)
		log_error("worker %u: event loop failed", w->w_index);
	worker_note(w, WORKER_NOTE_EXITED);
	return (NULL);
}

/*
 * Queue a message for w; with RELOAD, sn, and with RELOAD and ACCESSLOG,
 * al (may be NULL) are references passed to it.
 */
void
worker_send(struct worker *w, enum worker_msg_type type,
    struct snapshot *sn, struct accesslog *al)
{
	struct worker_msg	m;
	ssize_t			n;

	memset(&m, 0, sizeof m);
	m.wm_type = type;
	m.wm_snap = sn;
	m.wm_log = al;
	do
		n = write(w->w_pipe[1], &m, sizeof m);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof m) {
		log_warn("worker %u: cannot send message %d", w->w_index,
		    (int)type);
		snapshot_unref(sn);
		accesslog_unref(al);
	}
}

/* Wait for the thread to end; safe if it never started. */
void
worker_join(struct worker *w)
{
	if (w->w_started) {
		pthread_join(w->w_thread, NULL);
		w->w_started = 0;
	}
}

/* Close everything of a worker whose thread has ended or never began. */
void
worker_free(struct worker *w)
{
	struct worker_msg	 m;
	struct conn		*c;
	size_t			 i;

	w->w_stopping = 1;	/* no loop exits, no wake-ups of others */
	while ((c = TAILQ_FIRST(&w->w_conns)) != NULL)
		conn_close(c, STATS_CLOSE_SHUTDOWN, "exiting");
	for (i = 0; i < w->w_nlisteners; i++)
		listener_close(&w->w_listeners[i]);
	free(w->w_listeners);
	/* The last access lines go to the file the thread last wrote to. */
	accesslog_buf_free(&w->w_alog);
	/* Messages the thread never read still hold a reference each. */
	if (w->w_pipe[0] != -1) {
		while (read(w->w_pipe[0], &m, sizeof m) == (ssize_t)sizeof m) {
			if (m.wm_type == WORKER_MSG_RELOAD)
				snapshot_unref(m.wm_snap);
			if (m.wm_type == WORKER_MSG_RELOAD ||
			    m.wm_type == WORKER_MSG_ACCESSLOG)
				accesslog_unref(m.wm_log);
		}
		close(w->w_pipe[0]);
	}
	if (w->w_pipe[1] != -1)
		close(w->w_pipe[1]);
	if (w->w_pipe_ev != NULL)
		event_free(w->w_pipe_ev);
	if (w->w_accept_retry != NULL)
		event_free(w->w_accept_retry);
	if (w->w_stall_ev != NULL)
		event_free(w->w_stall_ev);
	if (w->w_heartbeat_ev != NULL)
		event_free(w->w_heartbeat_ev);
	if (w->w_base != NULL)
		event_base_free(w->w_base);
	snapshot_unref(w->w_snap);
	memset(w, 0, sizeof *w);
}

/* Messages from the main thread. */
static void
worker_pipe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker		*w = arg;
	struct worker_msg	 m[16];
	struct snapshot		*old;
	ssize_t			 n;
	size_t			 i;

	(void)what;
	worker_doing(w, "a message from the main thread", 0);
	/* Every write is one whole message, so reads end on a boundary. */
	while ((n = read(fd, m, sizeof m)) > 0) {
		for (i = 0; i < (size_t)n / sizeof m[0]; i++) {
			switch (m[i].wm_type) {
			case WORKER_MSG_RELOAD:
				old = w->w_snap;
				w->w_snap = m[i].wm_snap;
				w->w_cf = w->w_snap->sn_cf;
				w->w_pages = w->w_snap->sn_pages;
				accesslog_buf_switch(&w->w_alog, m[i].wm_log);
				worker_set_timeouts(w);
				stall_arm(w);
				snapshot_unref(old);
				log_debug("worker %u: new configuration",
				    w->w_index);
				/* max_connections may have grown. */
				if (atomic_load(&w->w_srv->s_limited) &&
				    atomic_load(&w->w_srv->s_nconns) <=
				    worker_low_mark(w))
					worker_unlimit(w);
				break;
			case WORKER_MSG_ACCESSLOG:
				/* Old lines to the old file, then switch. */
				accesslog_buf_switch(&w->w_alog, m[i].wm_log);
				break;
			case WORKER_MSG_SYNC:
				atomic_store(&w->w_wake, 0);
				worker_sync(w);
				break;
			case WORKER_MSG_STOP:
				worker_stop(w);
				break;
			case WORKER_MSG_EXIT:
				event_base_loopbreak(w->w_base);
				break;
#ifdef HELLOD_TEST_HOOKS
			case WORKER_MSG_STALL:
				stall_inject(w);
				break;
#endif
			}
		}
	}
}

/* The loop runs: tell the watchdog. */
static void
worker_heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	(void)fd;
	(void)what;
	atomic_store_explicit(&w->w_heartbeat, clock_now_ms(),
	    memory_order_relaxed);
}

/*
 * Tell the main loop that this worker's loop has ended, through the
 * notes pipe it was handed at init (w_notes).
 */
static void
worker_note(struct worker *w, enum worker_note type)
{
	struct worker_note_msg	m;
	ssize_t			n;

	memset(&m, 0, sizeof m);
	m.sm_type = type;
	m.sm_worker = w->w_index;
	do
		n = write(w->w_notes, &m, sizeof m);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof m)
		log_warn("worker %u: cannot notify the main thread",
		    w->w_index);
}

/* Enable or disable accepting to match the worker's state. */
static void
worker_accept_update(struct worker *w)
{
	int	want;

	want = !w->w_stopping && !w->w_emfile && !w->w_limited;
	if (want != w->w_accepting)
		listener_enable(w, want);
}

/* Out of descriptors: stop accepting, and try again shortly. */
static void
worker_accept_pause(struct worker *w)
{
	struct timeval	tv;

	if (!w->w_emfile_episode)	/* ends at the next accept */
		stats_add(&w->w_stats.st_emfile_pauses, 1);
	w->w_emfile_episode = 1;
	w->w_emfile = 1;
	worker_accept_update(w);
	clock_tv(HELLOD_ACCEPT_RETRY_MS, &tv);
	evtimer_add(w->w_accept_retry, &tv);
}

static void
worker_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	(void)fd;
	(void)what;
	w->w_emfile = 0;
	worker_accept_update(w);
}

/* Resume below this many connections: 90% of max_connections. */
static size_t
worker_low_mark(const struct worker *w)
{
	uint64_t	max = w->w_cf->cf_max_connections;

	return ((size_t)(max - (max / 10 > 0 ? max / 10 : 1)));
}

/* Pause or resume this worker's listeners to match s_limited. */
static void
worker_sync(struct worker *w)
{
	int	limited;

	limited = atomic_load(&w->w_srv->s_limited);
	if (limited != w->w_limited) {
		w->w_limited = limited;
		worker_accept_update(w);
	}
}

/* s_limited changed: match it here, and have every other worker do so. */
static void
worker_sync_all(struct worker *w)
{
	struct server	*s = w->w_srv;
	struct worker	*x;
	unsigned int	 i;

	worker_sync(w);
	for (i = 0; i < s->s_nworkers; i++) {
		x = &s->s_workers[i];
		if (x != w && !atomic_exchange(&x->w_wake, 1))
			worker_send(x, WORKER_MSG_SYNC, NULL, NULL);
	}
}

/* The process is at max_connections: every worker stops accepting. */
static void
worker_limit(struct worker *w)
{
	struct server	*s = w->w_srv;

	if (!atomic_exchange(&s->s_limited, 1)) {
		atomic_fetch_add(&s->s_limit_pauses, 1);
		worker_sync_all(w);
		log_warnx("max_connections (%llu) reached: pausing accept",
		    (unsigned long long)w->w_cf->cf_max_connections);
	} else
		worker_sync(w);
	/* Connections may have closed elsewhere meanwhile: see the top. */
	if (atomic_load(&s->s_nconns) <= worker_low_mark(w))
		worker_unlimit(w);
}

/* Low enough again: every worker accepts again. */
static void
worker_unlimit(struct worker *w)
{
	if (atomic_exchange(&w->w_srv->s_limited, 0)) {
		log_info("below max_connections: accepting again");
		worker_sync_all(w);
	}
}

/*
 * A connection was added. At max_connections, make room by closing this
 * worker's longest-idle keep-alive connections; with none idle, stop
 * accepting (every worker). Two workers accepting at the same instant may
 * each take one connection more before they see the pause: the count can
 * pass the limit by at most workers - 1, and such a connection is served,
 * not dropped (a client already connected is better served late than
 * reset).
 */
static void
worker_conn_opened(struct worker *w)
{
	struct server	*s = w->w_srv;
	struct conn	*idle;
	size_t		 n, closing = 0;
	size_t		 max = (size_t)w->w_cf->cf_max_connections;

	w->w_nconns++;
	n = atomic_fetch_add(&s->s_nconns, 1) + 1;
	/* One that answers a last request, or lingers, first, is as good
	 * as closed: it goes within HELLOD_CLOSE_GRACE_MS or so. */
	while (n - closing >= max &&
	    (idle = TAILQ_FIRST(&w->w_idle)) != NULL) {
		if (serve_reclaim(idle) == 0)
			closing++;
		n = atomic_load(&s->s_nconns);
	}
	if (n - closing >= max)
		worker_limit(w);
}

/*
 * A connection was closed. Resume accepting once at or below 90% of the
 * limit (hysteresis, so that a busy server does not flap), here and in
 * every paused worker; end the loop when the last connection of a
 * graceful shutdown is gone.
 */
static void
worker_conn_closed(struct worker *w)
{
	struct server	*s = w->w_srv;
	size_t		 n;

	w->w_nconns--;
	n = atomic_fetch_sub(&s->s_nconns, 1) - 1;
	if (w->w_emfile) {
		w->w_emfile = 0;	/* a descriptor is free again */
		worker_accept_update(w);
	}
	if (n <= worker_low_mark(w) && !w->w_stopping &&
	    atomic_load(&s->s_limited))
		worker_unlimit(w);
	if (w->w_stopping && !w->w_draining && w->w_nconns == 0)
		event_base_loopexit(w->w_base, NULL);
}

/*
 * Graceful shutdown of this worker: accept what is queued, stop
 * accepting, let every connection finish what it has asked for, or asks
 * for within HELLOD_CLOSE_GRACE_MS (with Connection: close; see
 * serve_shutdown()); the loop ends with the last one. The main thread's
 * shutdown_timeout sends WORKER_MSG_EXIT if that takes too long.
 */
static void
worker_stop(struct worker *w)
{
	struct conn	*c, *next;
	size_t		 i;

	if (w->w_stopping)
		return;
	w->w_stopping = 1;
	/* Closing a listening socket resets the connections queued in it
	 * (unless systemd's fd store keeps a copy): take them first, and
	 * answer them as the others. */
	w->w_draining = 1;
	for (i = 0; i < w->w_nlisteners; i++) {
		listener_drain(&w->w_listeners[i], HELLOD_LISTEN_BACKLOG);
		listener_close(&w->w_listeners[i]);
	}
	w->w_draining = 0;
	w->w_accepting = 0;
	for (c = TAILQ_FIRST(&w->w_conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, c_entry);
		serve_shutdown(c);
	}
	if (w->w_nconns == 0)
		event_base_loopexit(w->w_base, NULL);
}

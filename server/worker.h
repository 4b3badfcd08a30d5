/* SPDX-License-Identifier: ISC */
/*
 * worker.h: one thread, one event loop.
 * Included by hellod.h, after the headers before it in the map there.
 */
#ifndef HELLOD_WORKER_H
#define HELLOD_WORKER_H

/*
 * worker.c: one thread, one event loop. A worker owns its listeners (one
 * socket per address with SO_REUSEPORT, or a dup of each socket systemd
 * passed), its connections, its timers and its Date cache; nothing of it
 * is touched by another thread once it runs, except the atomics marked
 * below. The main thread talks to it through w_pipe (struct worker_msg).
 */
enum worker_msg_type {
	WORKER_MSG_RELOAD,	/* wm_snap: swap to it, and to wm_log
				   (references passed) */
	WORKER_MSG_ACCESSLOG,	/* wm_log: write to it (reference passed;
				   SIGUSR1) */
	WORKER_MSG_SYNC,	/* s_limited changed: pause or resume */
	WORKER_MSG_STOP,	/* stop accepting, drain, exit the loop */
	WORKER_MSG_EXIT,	/* exit the loop now */
#ifdef HELLOD_TEST_HOOKS
	WORKER_MSG_STALL,	/* test builds: block the loop a while */
#endif
};

#ifdef HELLOD_TEST_HOOKS
#define HELLOD_TEST_STALL_MS	300
#endif

struct worker_msg {
	enum worker_msg_type	 wm_type;
	struct snapshot		*wm_snap;
	struct accesslog	*wm_log;	/* NULL: no access log file */
};

struct server;
struct worker {
	struct server		*w_srv;
	int			 w_notes;	/* write end: to the main loop */
	/* What its listeners and connections report, set by worker_init():
	 * they are below worker.c and never call up into it. */
	void			(*w_conn_opened)(struct worker *);
	void			(*w_conn_closed)(struct worker *);
	void			(*w_accept_failed)(struct worker *);	/* EMFILE */
	unsigned int		 w_index;	/* 0 .. s_nworkers - 1 */
	pthread_t		 w_thread;
	int			 w_started;	/* w_thread is running */
	struct event_base	*w_base;
	struct snapshot		*w_snap;	/* held reference */
	struct config		*w_cf;		/* = w_snap->sn_cf */
	struct pages		*w_pages;	/* = w_snap->sn_pages */

	int			 w_pipe[2];	/* main -> worker messages */
	struct event		*w_pipe_ev;
	atomic_int		 w_wake;	/* a SYNC is in w_pipe */
	int			 w_limited;	/* paused at max_connections */
	_Atomic uint64_t	 w_heartbeat;	/* monotonic ms, for the
						   watchdog */
	struct event		*w_heartbeat_ev;

	struct listener		*w_listeners;
	size_t			 w_nlisteners;
	int			 w_accepting;	/* listeners enabled */
	int			 w_emfile;	/* paused: out of descriptors */
	int			 w_emfile_episode; /* no accept since it was */
	struct event		*w_accept_retry;

	struct conn_list	 w_conns;
	struct conn_list	 w_idle;	/* keep-alive idle, oldest
						   first */
	size_t			 w_nconns;	/* this worker's */
	uint64_t		 w_next_id;
	int			 w_stopping;
	int			 w_draining;	/* worker_stop() is accepting
						   what is queued */

	const struct timeval	*w_tv_sleep;	/* common timeouts */
	const struct timeval	*w_tv_header;
	const struct timeval	*w_tv_keepalive;
	struct timeval		 w_tv_sleep_raw;
	struct timeval		 w_tv_header_raw;
	struct timeval		 w_tv_keepalive_raw;

	struct clock_date	 w_date;	/* clock_date() */

	struct stats		 w_stats;	/* written here, read by main */
	struct accesslog_buf	 w_alog;	/* access_log = PATH */
	struct event		*w_stall_ev;	/* stall check timer */
	uint64_t		 w_stall_period; /* its period, ms */
	uint64_t		 w_stall_due;	/* when it should run, µs */
	int			 w_stalled;	/* the last run was late */
	const char		*w_doing;	/* the callback running, for
						   stall warnings */
	uint64_t		 w_doing_id;	/* its connection, or 0 */
};

int		 worker_init(struct worker *, struct server *, unsigned int,
		     struct snapshot *);
int		 worker_start(struct worker *, uint64_t);
void		 worker_send(struct worker *, enum worker_msg_type,
		     struct snapshot *, struct accesslog *);
void		 worker_join(struct worker *);
void		 worker_free(struct worker *);
struct event_base *worker_base_new(void);

/* What a worker tells the main loop, down the notes pipe (w_notes). */
enum worker_note {
	WORKER_NOTE_EXITED,	/* a worker's loop has ended */
};

struct worker_note_msg {
	enum worker_note	 sm_type;
	unsigned int		 sm_worker;
};

/* What w's loop is doing now, for a stall warning: a pointer store. */
static inline void
worker_doing(struct worker *w, const char *what, uint64_t id)
{
	w->w_doing = what;
	w->w_doing_id = id;
}

#endif /* HELLOD_WORKER_H */

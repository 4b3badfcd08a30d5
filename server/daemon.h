/* SPDX-License-Identifier: ISC */
/*
 * daemon.h: the server as a whole: signals, reload, shutdown.
 * Included by hellod.h, after the headers before it in the map there.
 */
#ifndef HELLOD_DAEMON_H
#define HELLOD_DAEMON_H

/* daemon.c */

struct server {
	struct event_base	*s_base;	/* main thread: signals etc. */
	struct snapshot		*s_snap;	/* current config and pages */
	struct worker		*s_workers;
	unsigned int		 s_nworkers;
	unsigned int		 s_nrunning;	/* started, not yet exited */

	atomic_size_t		 s_nconns;	/* all workers' connections */
	atomic_int		 s_limited;	/* paused at max_connections */
	_Atomic uint64_t	 s_limit_pauses;	/* times s_limited set */
	atomic_int		 s_emfile_warned; /* EMFILE logged, this
						   episode */
	_Atomic uint64_t	 s_emfile_log_ms; /* when last logged */
	atomic_uint		 s_emfile_unlogged; /* episodes since */

	int			 s_notes[2];	/* worker -> main notes */
	struct event		*s_notes_ev;

	int			 s_activated;	/* sockets of a .socket unit */
	size_t			 s_nlisteners;	/* addresses served */
	uint64_t		 s_watchdog_ms;	/* 0: no watchdog */
	struct event		*s_watchdog;	/* WATCHDOG=1 pings */
	int			 s_stuck_warned; /* a worker is stuck */

	struct metrics		*s_metrics;	/* metrics_listen, or NULL */
	struct accesslog	*s_alog;	/* access_log = PATH, or NULL */
	uint64_t		 s_reloads;	/* main thread only */
	uint64_t		 s_reload_failures;
	struct event		*s_status_ev;	/* live STATUS= for systemd */
	char			 s_status[128];	/* the last one sent */
	uint64_t		 s_status_reqs;	/* requests then */
	uint64_t		 s_status_ms;	/* and when */

	int			 s_stopping;
	int			 s_failed;	/* a worker ended on its own */
	struct event		*s_sig[6];
	struct event		*s_stop_timer;
};

int		 server_init(struct server *, struct config *, struct pages *);
int		 server_open_log(struct server *, char **);

int		 server_ready(struct server *);
int		 server_run(struct server *);
void		 server_free(struct server *);
void		 server_reload(struct server *);
void		 server_stop(struct server *);

#endif /* HELLOD_DAEMON_H */

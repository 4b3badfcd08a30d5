/* SPDX-License-Identifier: ISC */
/*
 * The server as a whole, in the main thread: signals as loop events,
 * reload (parse the new config and pages first, swap only if both are
 * good), graceful shutdown, and the workers (worker.c), one thread and
 * event loop each, that do the serving. It tells systemd (systemd.c)
 * about each of these: READY=1 once every worker serves, RELOADING=1 then
 * READY=1 around a reload, STOPPING=1 on shutdown; the live STATUS= line
 * and WATCHDOG=1 while every worker's loop runs are notify.c's.
 *
 * libevent runs signal callbacks from the loop, not from the handler, so
 * reload and shutdown here may do any work they like. Workers block all
 * signals, so the handlers run in this thread.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"

static void	server_signal_cb(evutil_socket_t, short, void *);
static void	server_stop_timer_cb(evutil_socket_t, short, void *);
static void	server_notes_cb(evutil_socket_t, short, void *);
static void	server_send_all(struct server *, enum worker_msg_type);

/* How many workers cf asks for, `auto` being one per online CPU. */
static unsigned int
server_nworkers(const struct config *cf)
{
	return (config_workers(cf, sysconf(_SC_NPROCESSORS_ONLN)));
}

/* The running configuration: the current snapshot's. */
static struct config *
server_cf(const struct server *s)
{
	return (s->s_snap->sn_cf);
}

/*
 * Set up the main event base, signal events and the workers (not yet
 * running); takes ownership of cf, ps.
 */
int
server_init(struct server *s, struct config *cf, struct pages *ps)
{
#ifdef HELLOD_TEST_HOOKS
	static const int	 sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1,
	    SIGUSR2 };
#else
	static const int	 sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1 };
#endif
	size_t			 i;
	unsigned int		 n;

	memset(s, 0, sizeof *s);
	s->s_notes[0] = s->s_notes[1] = -1;
	atomic_init(&s->s_nconns, 0);
	atomic_init(&s->s_limited, 0);
	atomic_init(&s->s_limit_pauses, 0);
	atomic_init(&s->s_emfile_warned, 0);
	atomic_init(&s->s_emfile_log_ms, 0);
	atomic_init(&s->s_emfile_unlogged, 0);
	if ((s->s_snap = snapshot_new(cf, ps)) == NULL) {
		pages_free(ps);
		config_free(cf);
		return (-1);
	}
	log_set_level((int)cf->cf_log_level);

	if ((s->s_base = worker_base_new()) == NULL)
		return (-1);

	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		s->s_sig[i] = evsignal_new(s->s_base, sigs[i],
		    server_signal_cb, s);
		if (s->s_sig[i] == NULL || evsignal_add(s->s_sig[i],
		    NULL) == -1)
			return (-1);
	}
	s->s_stop_timer = evtimer_new(s->s_base, server_stop_timer_cb, s);
	if (s->s_stop_timer == NULL)
		return (-1);
	if (pipe2(s->s_notes, O_CLOEXEC) == -1 ||
	    evutil_make_socket_nonblocking(s->s_notes[0]) == -1)
		return (-1);
	s->s_notes_ev = event_new(s->s_base, s->s_notes[0],
	    EV_READ | EV_PERSIST, server_notes_cb, s);
	if (s->s_notes_ev == NULL || event_add(s->s_notes_ev, NULL) == -1)
		return (-1);

	n = server_nworkers(cf);
	if ((s->s_workers = calloc(n, sizeof *s->s_workers)) == NULL)
		return (-1);
	for (s->s_nworkers = 0; s->s_nworkers < n; s->s_nworkers++) {
		if (worker_init(&s->s_workers[s->s_nworkers], s,
		    s->s_nworkers, s->s_snap) == -1) {
			s->s_nworkers++;	/* free it too */
			return (-1);
		}
	}
	return (0);
}

/*
 * Why cf's access_log file did not open, for the user: "FILE:LINE:
 * access_log: PATH: why" (or "-o access_log=PATH: ..."). NULL if out of
 * memory.
 */
static char *
server_alog_cause(const struct config *cf, const char *why)
{
	char	*msg, where[PATH_MAX + 32];

	if (asprintf(&msg, "%s: access_log: %s: %s", config_where(cf,
	    cf->cf_access_line, "access_log", cf->cf_access_path, where,
	    sizeof where), cf->cf_access_path,
	    why != NULL ? why : "out of memory") == -1)
		return (NULL);
	return (msg);
}

/*
 * Open the access log file, if access_log names one, and give each worker
 * (not yet running) a reference. Called once root is dropped, so that the
 * file is opened, and created, as the user that reopens it on SIGUSR1.
 * Returns -1 with *cause set, "PATH:LINE: access_log: FILE: reason".
 */
int
server_open_log(struct server *s, char **cause)
{
	struct config	*cf = server_cf(s);
	char		*why;
	unsigned int	 k;

	*cause = NULL;
	if (cf->cf_access_log != ACCESS_LOG_FILE)
		return (0);
	if ((s->s_alog = accesslog_open(cf->cf_access_path, &why)) == NULL) {
		*cause = server_alog_cause(cf, why);
		free(why);
		return (-1);
	}
	for (k = 0; k < s->s_nworkers; k++)
		accesslog_buf_switch(&s->s_workers[k].w_alog,
		    accesslog_ref(s->s_alog));
	return (0);
}

/*
 * SIGUSR1: open the access log file anew (logrotate has renamed it) and
 * have every worker switch to it; each writes what it buffered to the old
 * one first, and the last to switch closes it. If the file cannot be
 * opened, the workers keep writing to the old one.
 */
static void
server_reopen_log(struct server *s)
{
	struct accesslog	*nal;
	char			*why;
	unsigned int		 k;

	if (s->s_alog == NULL) {
		log_info("SIGUSR1: no access log file to reopen");
		return;
	}
	if ((nal = accesslog_open(s->s_alog->al_path, &why)) == NULL) {
		log_error("SIGUSR1: cannot reopen access log %s: %s; still "
		    "writing to the old file", s->s_alog->al_path,
		    why != NULL ? why : "out of memory");
		free(why);
		return;
	}
	for (k = 0; k < s->s_nworkers; k++) {
		if (s->s_workers[k].w_started)
			worker_send(&s->s_workers[k], WORKER_MSG_ACCESSLOG,
			    NULL, accesslog_ref(nal));
	}
	accesslog_unref(s->s_alog);
	s->s_alog = nal;
	log_info("SIGUSR1: reopened access log %s", nal->al_path);
}

/*
 * Listeners are bound and the pages loaded: start the workers, log it,
 * tell systemd, and start the watchdog pings if systemd wants them
 * (WatchdogSec=). They come from a timer in this loop at half the
 * interval, and only while every worker's heartbeat (a timer in its own
 * loop) is fresh, so that a stuck worker stops them too and systemd
 * restarts hellod.
 */
int
server_ready(struct server *s)
{
	uint64_t	usec = 0, beat = 0;
	char		status[512];
	unsigned int	k;
	int		r;

	if ((r = systemd_watchdog_usec(&usec)) < 0) {
		log_warnx("WATCHDOG_USEC: %s: not sending watchdog pings",
		    strerror(-r));
		usec = 0;
	} else if (r == 0)
		usec = 0;
	if (usec > 0) {
		s->s_watchdog_ms = usec / 1000 > 0 ? usec / 1000 : 1;
		beat = s->s_watchdog_ms / 4;
		if (beat > HELLOD_HEARTBEAT_MS)
			beat = HELLOD_HEARTBEAT_MS;
		if (beat == 0)
			beat = 1;
	}
	for (k = 0; k < s->s_nworkers; k++) {
		if (worker_start(&s->s_workers[k], beat) == -1) {
			log_warn("worker %u: cannot start", k);
			return (-1);
		}
		s->s_nrunning++;
	}

	log_info("hellod %s ready: %zu listener(s), %u worker(s), root %s",
	    PACKAGE_VERSION, s->s_nlisteners, s->s_nworkers,
	    server_cf(s)->cf_root);
	notify_status_line(s, status, sizeof status);
	systemd_notify("READY=1\nSTATUS=%s", status);
	/* The listeners outlive this process in systemd's fd store. */
	sockets_store(s);

	return (notify_start(s, usec));
}

/*
 * Notes from the workers. A worker's loop ends only when told to stop (or
 * on a libevent failure, which stops the whole server); the main loop
 * ends when the last worker has.
 */
static void
server_notes_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server		*s = arg;
	struct worker_note_msg	 m[16];
	struct worker		*w;
	ssize_t			 n;
	size_t			 i;

	(void)what;
	while ((n = read(fd, m, sizeof m)) > 0) {
		for (i = 0; i < (size_t)n / sizeof m[0]; i++) {
			if (m[i].sm_type != WORKER_NOTE_EXITED ||
			    m[i].sm_worker >= s->s_nworkers)
				continue;
			w = &s->s_workers[m[i].sm_worker];
			worker_join(w);
			s->s_nrunning--;
			if (!s->s_stopping) {
				log_error("worker %u ended unexpectedly: "
				    "stopping", m[i].sm_worker);
				s->s_failed = 1;
				server_stop(s);
			}
		}
	}
	if (s->s_nrunning == 0)
		event_base_loopexit(s->s_base, NULL);
}

/* Send every running worker a message. */
static void
server_send_all(struct server *s, enum worker_msg_type type)
{
	unsigned int	k;

	for (k = 0; k < s->s_nworkers; k++) {
		if (s->s_workers[k].w_started)
			worker_send(&s->s_workers[k], type, NULL, NULL);
	}
}

/*
 * A reload failed for why (the first error): tell systemd the reload is
 * over, and that the previous configuration still serves.
 */
static void
server_reload_failed(struct server *s, const char *why)
{
	s->s_reload_failures++;
	s->s_status[0] = '\0';		/* live figures again next second */
	systemd_notify("READY=1\nSTATUS=reload failed: %s; serving the "
	    "previous configuration", why);
}

/* Run the main loop until every worker has ended. */
int
server_run(struct server *s)
{
	if (event_base_dispatch(s->s_base) == -1 || s->s_failed)
		return (-1);
	return (0);
}

/* Stop the workers and close everything; safe on a half-initialised one. */
void
server_free(struct server *s)
{
	unsigned int	k;
	size_t		i;

	s->s_stopping = 1;
	for (k = 0; k < s->s_nworkers; k++) {
		if (s->s_workers[k].w_started) {
			worker_send(&s->s_workers[k], WORKER_MSG_EXIT, NULL,
			    NULL);
			worker_join(&s->s_workers[k]);
		}
	}
	for (k = 0; k < s->s_nworkers; k++)
		worker_free(&s->s_workers[k]);
	free(s->s_workers);
	accesslog_unref(s->s_alog);	/* the workers' are gone: closed */
	/* No worker queues access entries any more: send what is left. */
	systemd_journal_close(HELLOD_JOURNAL_CLOSE_MS);
	for (i = 0; i < sizeof s->s_sig / sizeof s->s_sig[0]; i++) {
		if (s->s_sig[i] != NULL)
			event_free(s->s_sig[i]);
	}
	if (s->s_stop_timer != NULL)
		event_free(s->s_stop_timer);
	if (s->s_watchdog != NULL)
		event_free(s->s_watchdog);
	if (s->s_status_ev != NULL)
		event_free(s->s_status_ev);
	metrics_close(s->s_metrics);
	if (s->s_notes_ev != NULL)
		event_free(s->s_notes_ev);
	for (i = 0; i < 2; i++) {
		if (s->s_notes[i] != -1)
			close(s->s_notes[i]);
	}
	if (s->s_base != NULL)
		event_base_free(s->s_base);
	snapshot_unref(s->s_snap);
	memset(s, 0, sizeof *s);
}

/*
 * Reload, step one: the new config (the file again, then the same -o
 * overrides) and pages, or NULL with the errors logged and the failure
 * reported.
 */
static struct config *
server_reload_load(struct server *s, const struct config *ocf,
    struct pages **nps)
{
	struct config	*ncf;
	char		*errors, *line, *save, *first = NULL;

	if ((ncf = config_load(ocf->cf_path, ocf->cf_overrides, nps,
	    &errors)) == NULL) {
		log_error("reload failed, keeping running config");
		for (line = errors != NULL ? strtok_r(errors, "\n", &save) :
		    NULL; line != NULL; line = strtok_r(NULL, "\n", &save)) {
			if (first == NULL)
				first = line;
			log_error("%s", line);
		}
		server_reload_failed(s, first != NULL ? first :
		    errors != NULL ? "configuration errors" : "out of memory");
		free(errors);
		return (NULL);
	}
	return (ncf);
}

/*
 * Reload, step two: what cannot change without a restart keeps its
 * running value in ncf, with a warning. Returns -1 when out of memory.
 */
static int
server_reload_keep(struct server *s, const struct config *ocf,
    struct config *ncf)
{
	unsigned int	n;

	if (s->s_activated) {
		if (!config_same_listen(ocf, ncf))
			log_info("listen keys changed: ignored, serving on the "
			    "sockets passed by systemd");
	} else if (!config_same_listen(ocf, ncf)) {
		log_warnx("listen addresses changed: restart hellod to apply");
		/* Keep describing the sockets we really have. */
		if (config_copy_listen(ncf, ocf) == -1)
			return (-1);
	}
	if (!config_same_metrics(ocf, ncf)) {
		log_warnx("metrics_listen changed: restart hellod to apply");
		if (config_copy_metrics(ncf, ocf) == -1)
			return (-1);
	}
	if (!config_same_user(ocf, ncf)) {
		/* Root is gone (or was kept on purpose): no switching now. */
		log_warnx("user changed (%s to %s): restart hellod to apply",
		    ocf->cf_user != NULL ? ocf->cf_user : "not set",
		    ncf->cf_user != NULL ? ncf->cf_user : "not set");
		if (config_copy_user(ncf, ocf) == -1)
			return (-1);
	}
	if ((n = server_nworkers(ncf)) != s->s_nworkers) {
		log_warnx("workers changed (%u to %u): restart hellod to "
		    "apply", s->s_nworkers, n);
		ncf->cf_workers = s->s_nworkers;
	}
	return (0);
}

/*
 * Reload, step three: the access log file ncf names, the running one if
 * it is the same file. Returns -1 with the failure reported (*nal NULL
 * without a file).
 */
static int
server_reload_alog(struct server *s, const struct config *ncf,
    struct accesslog **nal)
{
	char	*cause, *msg;

	*nal = NULL;
	if (ncf->cf_access_log != ACCESS_LOG_FILE)
		return (0);
	if (s->s_alog != NULL &&
	    strcmp(s->s_alog->al_path, ncf->cf_access_path) == 0) {
		*nal = accesslog_ref(s->s_alog);
		return (0);
	}
	if ((*nal = accesslog_open(ncf->cf_access_path, &cause)) != NULL)
		return (0);
	msg = server_alog_cause(ncf, cause);
	log_error("reload failed, keeping running config");
	log_error("%s", msg != NULL ? msg : "out of memory");
	server_reload_failed(s, cause != NULL ? cause : "out of memory");
	free(msg);
	free(cause);
	return (-1);
}

/*
 * SIGHUP: load the config and pages anew; keep the running ones if
 * either fails. They are read with the privileges hellod serves with: after
 * a drop from root, as `user`. Addresses, the number of workers and `user`
 * cannot change without a restart (hellod cannot go back to root to switch
 * again); with sockets from systemd, the `listen` keys do not matter at
 * all. Each worker gets the new snapshot through its pipe and swaps to it
 * between two callbacks: requests in flight (a /sleep) are answered with
 * the new pages. systemd hears RELOADING=1 first and READY=1 after, with a
 * STATUS= saying how it went.
 */
void
server_reload(struct server *s)
{
	struct config		*ncf, *ocf = server_cf(s);
	struct pages		*nps = NULL;
	struct accesslog	*nal = NULL;
	struct snapshot		*nsn, *osn = s->s_snap;
	char			 status[512];
	unsigned int		 k;

	systemd_notify_reloading();
	log_info("reloading configuration from %s", ocf->cf_path);
	if ((ncf = server_reload_load(s, ocf, &nps)) == NULL)
		return;
	if (server_reload_keep(s, ocf, ncf) == -1)
		goto oom;
	if (server_reload_alog(s, ncf, &nal) == -1) {
		pages_free(nps);
		config_free(ncf);
		return;
	}
	if ((nsn = snapshot_new(ncf, nps)) == NULL)
		goto oom;
	s->s_snap = nsn;
	log_set_level((int)ncf->cf_log_level);
	for (k = 0; k < s->s_nworkers; k++)
		worker_send(&s->s_workers[k], WORKER_MSG_RELOAD,
		    snapshot_ref(nsn), accesslog_ref(nal));
	snapshot_unref(osn);	/* freed by the last worker to swap */
	accesslog_unref(s->s_alog);	/* closed by the last to switch */
	s->s_alog = nal;
	log_info("reloaded configuration from %s", ncf->cf_path);
	s->s_reloads++;
	s->s_status[0] = '\0';		/* live figures again next second */
	notify_status_line(s, status, sizeof status);
	systemd_notify("READY=1\nSTATUS=reloaded: %s", status);
	return;

oom:
	log_error("reload failed: out of memory");
	server_reload_failed(s, "out of memory");
	accesslog_unref(nal);
	pages_free(nps);
	config_free(ncf);
}

/*
 * SIGTERM/SIGINT: every worker stops accepting, drops connections that
 * have asked for nothing and lets the rest finish (with Connection:
 * close); the main loop ends when every worker has drained, or at
 * shutdown_timeout. A second signal exits at once.
 */
void
server_stop(struct server *s)
{
	struct timeval	tv;
	size_t		n;

	if (s->s_stopping) {
		log_warnx("second signal: exiting now");
		server_send_all(s, WORKER_MSG_EXIT);
		return;
	}
	s->s_stopping = 1;
	server_send_all(s, WORKER_MSG_STOP);
	if ((n = atomic_load(&s->s_nconns)) == 0) {
		systemd_notify("STOPPING=1\nSTATUS=stopping");
		log_info("shutting down: no connections to drain");
	} else {
		systemd_notify("STOPPING=1\nSTATUS=stopping: draining %zu "
		    "connection(s)", n);
		log_info("shutting down: draining %zu connection(s), at most "
		    "%llu ms", n,
		    (unsigned long long)server_cf(s)->cf_shutdown_timeout);
	}
	clock_tv(server_cf(s)->cf_shutdown_timeout, &tv);
	evtimer_add(s->s_stop_timer, &tv);
	if (s->s_nrunning == 0)
		event_base_loopexit(s->s_base, NULL);
}

static void
server_stop_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server	*s = arg;

	(void)fd;
	(void)what;
	log_warnx("shutdown_timeout reached: closing %zu connection(s)",
	    atomic_load(&s->s_nconns));
	server_send_all(s, WORKER_MSG_EXIT);
}

/* Signals arrive here from the loop, never from the handler. */
static void
server_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server	*s = arg;

	(void)what;
	switch (sig) {
	case SIGHUP:
		if (s->s_stopping)
			log_info("SIGHUP during shutdown: ignored");
		else
			server_reload(s);
		break;
	case SIGUSR1:
		server_reopen_log(s);
		break;
	case SIGTERM:
	case SIGINT:
		log_info("%s received", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		server_stop(s);
		break;
#ifdef HELLOD_TEST_HOOKS
	case SIGUSR2:
		log_info("SIGUSR2: stalling every worker for %d ms (test "
		    "build)", HELLOD_TEST_STALL_MS);
		server_send_all(s, WORKER_MSG_STALL);
		break;
#endif
	}
}

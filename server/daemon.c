/*
 * The server as a whole: the event base, signals as loop events, reload
 * (parse the new config and pages first, swap only if both are good),
 * graceful shutdown, and the accept gate (max_connections, EMFILE).
 * It tells systemd (systemd.c) about each of these: READY=1 once serving,
 * RELOADING=1 then READY=1 around a reload, STOPPING=1 on shutdown, and
 * WATCHDOG=1 from a loop timer while the loop runs.
 *
 * libevent runs signal callbacks from the loop, not from the handler, so
 * reload and shutdown here may do any work they like.
 */
#include <sys/types.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "hellod.h"

static void	server_signal_cb(evutil_socket_t, short, void *);
static void	server_retry_cb(evutil_socket_t, short, void *);
static void	server_stop_timer_cb(evutil_socket_t, short, void *);
static void	server_watchdog_cb(evutil_socket_t, short, void *);

/* Milliseconds to a timeval. */
static void
server_ms_tv(uint64_t ms, struct timeval *tv)
{
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)((ms % 1000) * 1000);
}

/*
 * Every connection's timer of one kind has the same length, so libevent's
 * common timeouts keep them in a queue: O(1) to arm and to fire.
 */
static const struct timeval *
server_common(struct server *s, uint64_t ms, struct timeval *raw)
{
	const struct timeval	*tv;

	server_ms_tv(ms, raw);
	if ((tv = event_base_init_common_timeout(s->s_base, raw)) == NULL)
		return (raw);	/* out of common timeouts: still correct */
	return (tv);
}

/* (Re)compute the timer lengths from the config. */
void
server_set_timeouts(struct server *s)
{
	s->s_tv_sleep = server_common(s, s->s_cf->cf_sleep, &s->s_tv_sleep_raw);
	s->s_tv_header = server_common(s, s->s_cf->cf_header_timeout,
	    &s->s_tv_header_raw);
	s->s_tv_keepalive = server_common(s, s->s_cf->cf_keepalive_timeout,
	    &s->s_tv_keepalive_raw);
}

/* Set up the event base and signal events; takes ownership of cf, ps. */
int
server_init(struct server *s, struct config *cf, struct pages *ps)
{
	static const int	 sigs[] = { SIGHUP, SIGTERM, SIGINT };
	struct event_config	*ecf;
	size_t			 i;

	memset(s, 0, sizeof *s);
	s->s_cf = cf;
	s->s_pages = ps;
	TAILQ_INIT(&s->s_conns);
	TAILQ_INIT(&s->s_idle);
	log_set_level((int)cf->cf_log_level);

	if ((ecf = event_config_new()) == NULL)
		return (-1);
	event_config_set_flag(ecf, EVENT_BASE_FLAG_NOLOCK);
	s->s_base = event_base_new_with_config(ecf);
	event_config_free(ecf);
	if (s->s_base == NULL)
		return (-1);

	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		s->s_sig[i] = evsignal_new(s->s_base, sigs[i],
		    server_signal_cb, s);
		if (s->s_sig[i] == NULL || evsignal_add(s->s_sig[i],
		    NULL) == -1)
			return (-1);
	}
	s->s_accept_retry = evtimer_new(s->s_base, server_retry_cb, s);
	s->s_stop_timer = evtimer_new(s->s_base, server_stop_timer_cb, s);
	if (s->s_accept_retry == NULL || s->s_stop_timer == NULL)
		return (-1);
	server_set_timeouts(s);
	return (0);
}

/* Serve on the n sockets systemd passed; the `listen` keys are ignored. */
static int
server_adopt(struct server *s, int n, char **cause)
{
	int	i, fd, r;

	for (i = 0; i < n; i++) {
		fd = SYSTEMD_LISTEN_FDS_START + i;
		if ((r = systemd_is_socket_inet(fd)) <= 0) {
			if (asprintf(cause, "socket-activated fd %d: %s", fd,
			    r < 0 ? strerror(-r) : "not a listening TCP "
			    "socket (hellod needs ListenStream= with an "
			    "IP address)") == -1)
				*cause = NULL;
			return (HELLOD_EXIT_CONFIG);
		}
	}
	log_info("using %d socket-activated fd(s) from systemd: the %zu "
	    "`listen` key(s) in %s are ignored", n, s->s_cf->cf_nlisten,
	    s->s_cf->cf_path);
	for (i = 0; i < n; i++) {
		if (listener_adopt(s, SYSTEMD_LISTEN_FDS_START + i,
		    &s->s_listeners[i], cause) == -1)
			return (HELLOD_EXIT_OSERR);
		s->s_nlisteners++;
	}
	s->s_activated = 1;
	return (0);
}

/*
 * Open the listeners: on the sockets systemd passed, if any, else on
 * every `listen` address. Returns 0, or the exit status to leave with
 * and a cause: HELLOD_EXIT_CONFIG for a passed socket hellod cannot
 * serve on (the .socket unit must be fixed; retrying cannot help),
 * HELLOD_EXIT_OSERR for failures to bind or listen.
 */
int
server_listen(struct server *s, char **cause)
{
	size_t	i, n;
	int	nfds;

	*cause = NULL;
	if ((nfds = systemd_listen_fds()) < 0) {
		if (asprintf(cause, "sd_listen_fds: %s", strerror(-nfds)) == -1)
			*cause = NULL;
		return (HELLOD_EXIT_OSERR);
	}
	n = nfds > 0 ? (size_t)nfds : s->s_cf->cf_nlisten;
	if ((s->s_listeners = calloc(n, sizeof *s->s_listeners)) == NULL) {
		*cause = strdup("out of memory");
		return (HELLOD_EXIT_OSERR);
	}
	if (nfds > 0) {
		if ((nfds = server_adopt(s, nfds, cause)) != 0)
			return (nfds);
	} else {
		for (i = 0; i < n; i++) {
			if (listener_open(s, &s->s_cf->cf_listen[i],
			    &s->s_listeners[i], cause) == -1)
				return (HELLOD_EXIT_OSERR);
			s->s_nlisteners++;
		}
	}
	s->s_accepting = 1;
	return (0);
}

/* "serving on ADDR, ADDR, root DIR", for systemd's STATUS=. */
static void
server_status(struct server *s, char *buf, size_t size)
{
	size_t	i, len;

	len = (size_t)snprintf(buf, size, "serving on");
	for (i = 0; i < s->s_nlisteners && len < size; i++) {
		len += (size_t)snprintf(buf + len, size - len, "%s %s",
		    i > 0 ? "," : "", s->s_listeners[i].l_name);
	}
	if (len < size)
		snprintf(buf + len, size - len, ", root %s", s->s_cf->cf_root);
}

/*
 * Listeners are bound and the pages loaded: log it, tell systemd, and
 * start the watchdog pings if systemd wants them (WatchdogSec=). They come
 * from a loop timer at half the interval, so a stuck loop stops them and
 * systemd restarts hellod.
 */
int
server_ready(struct server *s)
{
	struct timeval	tv;
	uint64_t	usec;
	char		status[512];
	int		r;

	log_info("hellod %s ready: %zu listener(s), root %s", PACKAGE_VERSION,
	    s->s_nlisteners, s->s_cf->cf_root);
	server_status(s, status, sizeof status);
	systemd_notify("READY=1\nSTATUS=%s", status);

	if ((r = systemd_watchdog_usec(&usec)) < 0) {
		log_warnx("WATCHDOG_USEC: %s: not sending watchdog pings",
		    strerror(-r));
		return (0);
	}
	if (r == 0)
		return (0);
	log_info("systemd watchdog: %llu ms, sending WATCHDOG=1 every %llu ms",
	    (unsigned long long)(usec / 1000),
	    (unsigned long long)(usec / 2000));
	usec /= 2;
	if (usec < 1000)
		usec = 1000;	/* a zero timer would spin the loop */
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	s->s_watchdog = event_new(s->s_base, -1, EV_PERSIST,
	    server_watchdog_cb, s);
	if (s->s_watchdog == NULL || event_add(s->s_watchdog, &tv) == -1)
		return (-1);
	return (0);
}

/* The loop is running: ping systemd's watchdog. */
static void
server_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	systemd_notify_watchdog();
}

/*
 * A reload failed for why (the first error): tell systemd the reload is
 * over, and that the previous configuration still serves.
 */
static void
server_reload_failed(const char *why)
{
	systemd_notify("READY=1\nSTATUS=reload failed: %s; serving the "
	    "previous configuration", why);
}

/* Run the loop until shutdown. */
int
server_run(struct server *s)
{
	return (event_base_dispatch(s->s_base));
}

/* Close everything; safe on a half-initialised server. */
void
server_free(struct server *s)
{
	struct conn	*c;
	size_t		 i;

	s->s_stopping = 1;
	while ((c = TAILQ_FIRST(&s->s_conns)) != NULL)
		conn_close(c, "exiting");
	for (i = 0; i < s->s_nlisteners; i++)
		listener_close(&s->s_listeners[i]);
	free(s->s_listeners);
	for (i = 0; i < sizeof s->s_sig / sizeof s->s_sig[0]; i++) {
		if (s->s_sig[i] != NULL)
			event_free(s->s_sig[i]);
	}
	if (s->s_accept_retry != NULL)
		event_free(s->s_accept_retry);
	if (s->s_stop_timer != NULL)
		event_free(s->s_stop_timer);
	if (s->s_watchdog != NULL)
		event_free(s->s_watchdog);
	if (s->s_base != NULL)
		event_base_free(s->s_base);
	pages_free(s->s_pages);
	config_free(s->s_cf);
	memset(s, 0, sizeof *s);
}

/* The cached Date value, reformatted at most once a second. */
const char *
server_date(struct server *s)
{
	struct timeval	tv;

	if (event_base_gettimeofday_cached(s->s_base, &tv) == -1)
		gettimeofday(&tv, NULL);
	if (tv.tv_sec != s->s_date_time || s->s_date[0] == '\0') {
		http_date(tv.tv_sec, s->s_date, sizeof s->s_date);
		s->s_date_time = tv.tv_sec;
	}
	return (s->s_date);
}

/* Enable or disable accepting to match the server's state. */
void
server_accept_update(struct server *s)
{
	int	want;

	want = !s->s_stopping && !s->s_limited && !s->s_emfile;
	if (want != s->s_accepting)
		listener_enable(s, want);
}

/* Out of descriptors: stop accepting, and try again shortly. */
void
server_accept_pause(struct server *s)
{
	struct timeval	tv;

	s->s_emfile = 1;
	server_accept_update(s);
	server_ms_tv(HELLOD_ACCEPT_RETRY_MS, &tv);
	evtimer_add(s->s_accept_retry, &tv);
}

static void
server_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server	*s = arg;

	(void)fd;
	(void)what;
	s->s_emfile = 0;
	server_accept_update(s);
}

/*
 * A connection was added. At max_connections, make room by closing the
 * longest-idle keep-alive connections; with none idle, stop accepting.
 */
void
server_conn_opened(struct server *s)
{
	struct conn	*idle;

	s->s_nconns++;
	while (s->s_nconns >= s->s_cf->cf_max_connections &&
	    (idle = TAILQ_FIRST(&s->s_idle)) != NULL)
		conn_close(idle, "idle, closed for a new connection");
	if (s->s_nconns >= s->s_cf->cf_max_connections && !s->s_limited) {
		log_warnx("max_connections (%llu) reached: pausing accept",
		    (unsigned long long)s->s_cf->cf_max_connections);
		s->s_limited = 1;
		server_accept_update(s);
	}
}

/*
 * A connection was closed. Resume accepting once below 90% of the limit
 * (hysteresis, so that a busy server does not flap); exit when the last
 * connection of a graceful shutdown is gone.
 */
void
server_conn_closed(struct server *s)
{
	uint64_t	max = s->s_cf->cf_max_connections;
	uint64_t	low = max - (max / 10 > 0 ? max / 10 : 1);

	s->s_nconns--;
	if (s->s_emfile) {
		s->s_emfile = 0;	/* a descriptor is free again */
		server_accept_update(s);
	}
	if (s->s_limited && s->s_nconns <= low) {
		log_info("below max_connections: accepting again");
		s->s_limited = 0;
		server_accept_update(s);
	}
	if (s->s_stopping && s->s_nconns == 0)
		event_base_loopexit(s->s_base, NULL);
}

/*
 * SIGHUP: load the config and pages anew; keep the running ones if
 * either fails. Addresses cannot change without a restart; with sockets
 * from systemd, the `listen` keys do not matter at all. systemd hears
 * RELOADING=1 first and READY=1 after, with a STATUS= saying how it went.
 */
void
server_reload(struct server *s)
{
	struct config		*ncf, *ocf = s->s_cf;
	struct pages		*nps;
	struct listen_addr	*tla;
	size_t			 tn;
	char			*errors, *cause, *line, *save, *first;
	char			 status[512];

	systemd_notify_reloading();
	log_info("reloading configuration from %s", ocf->cf_path);
	if ((ncf = config_load(ocf->cf_path, &errors)) == NULL) {
		log_error("reload failed, keeping running config");
		first = NULL;
		if (errors != NULL) {
			for (line = strtok_r(errors, "\n", &save); line != NULL;
			    line = strtok_r(NULL, "\n", &save)) {
				if (first == NULL)
					first = line;
				log_error("%s", line);
			}
		}
		server_reload_failed(first != NULL ? first :
		    errors != NULL ? "configuration errors" : "out of memory");
		free(errors);
		return;
	}
	if ((nps = pages_load(ncf->cf_root, &cause)) == NULL) {
		log_error("reload failed, keeping running config: %s",
		    cause != NULL ? cause : "out of memory");
		server_reload_failed(cause != NULL ? cause : "out of memory");
		free(cause);
		config_free(ncf);
		return;
	}
	if (s->s_activated) {
		if (!config_same_listen(ocf, ncf))
			log_info("listen keys changed: ignored, serving on the "
			    "sockets passed by systemd");
	} else if (!config_same_listen(ocf, ncf)) {
		log_warnx("listen addresses changed: restart hellod to apply");
		/* Keep describing the sockets we really have. */
		tla = ncf->cf_listen;
		tn = ncf->cf_nlisten;
		ncf->cf_listen = ocf->cf_listen;
		ncf->cf_nlisten = ocf->cf_nlisten;
		ocf->cf_listen = tla;
		ocf->cf_nlisten = tn;
	}
	s->s_cf = ncf;
	config_free(ocf);
	pages_free(s->s_pages);
	s->s_pages = nps;
	log_set_level((int)ncf->cf_log_level);
	server_set_timeouts(s);
	if (s->s_limited &&
	    s->s_nconns < s->s_cf->cf_max_connections) {
		s->s_limited = 0;
		server_accept_update(s);
	}
	log_info("reloaded configuration from %s", ncf->cf_path);
	server_status(s, status, sizeof status);
	systemd_notify("READY=1\nSTATUS=reloaded: %s", status);
}

/*
 * SIGTERM/SIGINT: stop accepting, drop connections that have asked for
 * nothing, let the rest finish (with Connection: close) within
 * shutdown_timeout. A second signal exits at once.
 */
void
server_stop(struct server *s)
{
	struct conn	*c, *next;
	struct timeval	 tv;
	size_t		 i;

	if (s->s_stopping) {
		log_warnx("second signal: exiting now");
		event_base_loopbreak(s->s_base);
		return;
	}
	s->s_stopping = 1;
	for (i = 0; i < s->s_nlisteners; i++)
		listener_close(&s->s_listeners[i]);
	s->s_accepting = 0;
	for (c = TAILQ_FIRST(&s->s_conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, c_entry);
		conn_shutdown(c);
	}
	if (s->s_nconns == 0) {
		systemd_notify("STOPPING=1\nSTATUS=stopping");
		log_info("shutting down: no connections to drain");
		event_base_loopexit(s->s_base, NULL);
		return;
	}
	systemd_notify("STOPPING=1\nSTATUS=stopping: draining %zu "
	    "connection(s)", s->s_nconns);
	log_info("shutting down: draining %zu connection(s), at most %llu ms",
	    s->s_nconns, (unsigned long long)s->s_cf->cf_shutdown_timeout);
	server_ms_tv(s->s_cf->cf_shutdown_timeout, &tv);
	evtimer_add(s->s_stop_timer, &tv);
}

static void
server_stop_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server	*s = arg;

	(void)fd;
	(void)what;
	log_warnx("shutdown_timeout reached: closing %zu connection(s)",
	    s->s_nconns);
	event_base_loopbreak(s->s_base);
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
	case SIGTERM:
	case SIGINT:
		log_info("%s received", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		server_stop(s);
		break;
	}
}

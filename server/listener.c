/* SPDX-License-Identifier: ISC */
/*
 * Listening sockets: one evconnlistener per socket and worker, all
 * feeding serve_new(). With more than one worker each binds its own
 * socket with SO_REUSEPORT and the kernel spreads new connections over
 * them; a socket systemd passed may be dup()ed for several workers
 * instead (one queue, each of their loops polls it). Which sockets come
 * from where is sockets.c's business. Accepting pauses at
 * max_connections and when the process is out of descriptors
 * (EMFILE/ENFILE): a listening socket that stays readable would otherwise
 * spin the loop and flood the log.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"

static void	listener_accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	listener_error_cb(struct evconnlistener *, void *);
static void	listener_emfile_warn(struct listener *, int);
static int	listener_start(struct listener *, evutil_socket_t);
static int	listener_probe(const struct listen_addr *);

/*
 * Accept on fd, a bound and listening socket, into l (backlog 0 tells
 * libevent it is already listening). On failure fd is closed.
 */
static int
listener_start(struct listener *l, evutil_socket_t fd)
{
	l->l_lev = evconnlistener_new(l->l_w->w_base, listener_accept_cb, l,
	    LEV_OPT_CLOSE_ON_FREE, 0, fd);
	if (l->l_lev == NULL) {
		close(fd);
		return (-1);
	}
	evconnlistener_set_error_cb(l->l_lev, listener_error_cb);
	return (0);
}

/*
 * Bind and listen on la (or on sa, if not NULL: the address the first
 * worker got, so that port 0 means the same port for all); the listener
 * starts enabled. flags: LISTENER_REUSEPORT, LISTENER_QUIET.
 */
int
listener_open(struct worker *w, const struct listen_addr *la,
    const struct sockaddr *sa, socklen_t salen, int flags,
    struct listener *l, char **cause)
{
	evutil_socket_t		 fd;
	int			 on = 1, saved;

	memset(l, 0, sizeof *l);
	l->l_w = w;
	l->l_quiet = (flags & LISTENER_QUIET) != 0;
	if (sa == NULL) {
		sa = (const struct sockaddr *)&la->la_ss;
		salen = la->la_len;
		if ((flags & LISTENER_REUSEPORT) &&
		    listener_probe(la) == -1)
			goto fail_probe;
	}
	fd = socket(la->la_ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		if (asprintf(cause, "listen %s: socket: %s", la->la_text,
		    strerror(errno)) == -1)
			*cause = NULL;
		return (-1);
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1)
		goto fail;
	if ((flags & LISTENER_REUSEPORT) && setsockopt(fd, SOL_SOCKET,
	    SO_REUSEPORT, &on, sizeof on) == -1)
		goto fail;
	if (la->la_ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof on) == -1)
		goto fail;
	if (bind(fd, sa, salen) == -1)
		goto fail;
	if (listen(fd, HELLOD_LISTEN_BACKLOG) == -1)
		goto fail;
	l->l_sslen = sizeof l->l_ss;
	if (getsockname(fd, (struct sockaddr *)&l->l_ss, &l->l_sslen) == -1)
		goto fail;
	addr_format((struct sockaddr *)&l->l_ss, l->l_sslen, l->l_name,
	    sizeof l->l_name);
	if (listener_start(l, fd) == -1) {
		if (asprintf(cause, "listen %s: cannot create listener",
		    la->la_text) == -1)
			*cause = NULL;
		return (-1);
	}
	if (!l->l_quiet)
		log_info("listening on %s", l->l_name);
	return (0);

fail:
	saved = errno;
	close(fd);
	errno = saved;
fail_probe:
	saved = errno;
	if (asprintf(cause, "listen %s: %s", la->la_text,
	    strerror(saved)) == -1)
		*cause = NULL;
	return (-1);
}

/*
 * Is la free for us? A socket bound with SO_REUSEPORT joins any group of
 * sockets of the same user on that address, so a second hellod would
 * share the first one's connections without a word. A bind without
 * SO_REUSEPORT fails with EADDRINUSE while anyone listens there (and
 * SO_REUSEADDR keeps connections in TIME_WAIT from counting): then so do
 * we, as a server that binds without it would. Port 0 is always free.
 * Returns 0, or -1 with errno set.
 */
static int
listener_probe(const struct listen_addr *la)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	int				 fd, on = 1, r, saved;

	sin = (const struct sockaddr_in *)(const void *)&la->la_ss;
	sin6 = (const struct sockaddr_in6 *)(const void *)&la->la_ss;
	if ((la->la_ss.ss_family == AF_INET && sin->sin_port == 0) ||
	    (la->la_ss.ss_family == AF_INET6 && sin6->sin6_port == 0))
		return (0);
	if ((fd = socket(la->la_ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) == -1)
		return (-1);
	r = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (r == 0 && la->la_ss.ss_family == AF_INET6)
		r = setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
	if (r == 0)
		r = bind(fd, (const struct sockaddr *)&la->la_ss, la->la_len);
	saved = errno;
	close(fd);
	errno = saved;
	return (r);
}

/*
 * Serve on fd, a socket systemd passed already bound and listening (the
 * caller has checked it with systemd_is_socket_inet()), or on a dup() of
 * it if dup is set, so that each worker's listener owns and closes its own
 * descriptor. systemd leaves O_NONBLOCK off unless the .socket unit asks
 * for it, and libevent needs it on (it is shared by the duplicates). The
 * listener owns its fd from here on, even on failure; with dup, the
 * caller still owns fd.
 */
int
listener_adopt(struct worker *w, int fd, int dup, int flags,
    struct listener *l, char **cause)
{
	int	lfd = fd;

	memset(l, 0, sizeof *l);
	l->l_w = w;
	l->l_quiet = (flags & LISTENER_QUIET) != 0;
	l->l_sslen = sizeof l->l_ss;
	if ((dup && (lfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) ||
	    evutil_make_socket_nonblocking(lfd) == -1 ||
	    evutil_make_socket_closeonexec(lfd) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&l->l_ss, &l->l_sslen) == -1) {
		if (asprintf(cause, "socket-activated fd %d: %s", fd,
		    strerror(errno)) == -1)
			*cause = NULL;
		if (lfd != -1)
			close(lfd);
		return (-1);
	}
	fd = lfd;
	addr_format((struct sockaddr *)&l->l_ss, l->l_sslen, l->l_name,
	    sizeof l->l_name);
	if (listener_start(l, fd) == -1) {
		if (asprintf(cause, "socket-activated fd %d: cannot create "
		    "listener", fd) == -1)
			*cause = NULL;
		return (-1);
	}
	if (!l->l_quiet)
		log_info("listening on %s (%s fd %d)", l->l_name,
		    (flags & LISTENER_STORED) ? "kept by systemd," :
		    "socket-activated", fd);
	return (0);
}

/* The listening socket (the listener owns it). */
int
listener_fd(struct listener *l)
{
	return (evconnlistener_get_fd(l->l_lev));
}

/* Stop listening and close the socket. */
void
listener_close(struct listener *l)
{
	if (l->l_lev != NULL) {
		evconnlistener_free(l->l_lev);
		l->l_lev = NULL;
		if (!l->l_quiet)
			log_info("stopped listening on %s", l->l_name);
	}
}

/*
 * Accept, at most max, of the connections waiting in l's queue, as
 * accepting would one at a time; before it closes (worker_stop()).
 */
void
listener_drain(struct listener *l, size_t max)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 fd;

	if (l->l_lev == NULL)
		return;
	while (max-- > 0) {
		len = sizeof ss;
		fd = accept4(listener_fd(l), (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;		/* EAGAIN: none left; or no fds */
		}
		listener_accept_cb(l->l_lev, fd, (struct sockaddr *)&ss,
		    (int)len, l);
	}
}

/* Turn accepting on or off on every listener of a worker. */
void
listener_enable(struct worker *w, int on)
{
	size_t	i;

	for (i = 0; i < w->w_nlisteners; i++) {
		if (w->w_listeners[i].l_lev == NULL)
			continue;
		if (on)
			evconnlistener_enable(w->w_listeners[i].l_lev);
		else
			evconnlistener_disable(w->w_listeners[i].l_lev);
	}
	w->w_accepting = on;
}

/* A new connection: hand it to conn.c. */
static void
listener_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int len, void *arg)
{
	struct listener	*l = arg;

	(void)lev;
	worker_doing(l->l_w, "accepting a connection", 0);
	l->l_w->w_emfile_episode = 0;
	if (atomic_load_explicit(&l->l_w->w_srv->s_emfile_warned,
	    memory_order_relaxed) &&
	    atomic_exchange(&l->l_w->w_srv->s_emfile_warned, 0))
		log_info("accepting again");
	if (serve_new(l->l_w, fd, sa, (socklen_t)len) == -1)
		evutil_closesocket(fd);
}

/*
 * Whether accept() failing with err means hellod is out of descriptors or
 * memory: then the listening socket stays readable, and accepting must
 * pause and be retried on a timer rather than spin.
 */
int
listener_out_of_resources(int err)
{
	return (err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM);
}

/*
 * accept() failed with something other than EAGAIN/EINTR/ECONNABORTED.
 * Out of descriptors or memory: pause the worker's listeners and retry on
 * a timer.
 */
static void
listener_error_cb(struct evconnlistener *lev, void *arg)
{
	struct listener	*l = arg;
	int		 err = EVUTIL_SOCKET_ERROR();

	(void)lev;
	if (listener_out_of_resources(err)) {
		l->l_w->w_accept_failed(l->l_w);
		listener_emfile_warn(l, err);
		return;
	}
	log_warnx("accept on %s: %s", l->l_name, strerror(err));
}

/*
 * Warn that accepting pauses: once per episode for the whole process (not
 * per worker or retry), and at most once per HELLOD_EMFILE_LOG_MS. A
 * server at its descriptor limit with clients queueing runs out again
 * each time a connection closes: without the time limit, each of those
 * would log this line and "accepting again". The episodes not logged are
 * counted in the next warning.
 */
static void
listener_emfile_warn(struct listener *l, int err)
{
	struct server	*s = l->l_w->w_srv;
	uint64_t	 now = clock_now_ms(), last;
	unsigned int	 n;

	if (atomic_load(&s->s_emfile_warned))
		return;		/* this episode is logged already */
	last = atomic_load(&s->s_emfile_log_ms);
	if ((last != 0 && now - last < HELLOD_EMFILE_LOG_MS) ||
	    !atomic_compare_exchange_strong(&s->s_emfile_log_ms, &last, now)) {
		atomic_fetch_add(&s->s_emfile_unlogged, 1);
		return;
	}
	atomic_store(&s->s_emfile_warned, 1);
	if ((n = atomic_exchange(&s->s_emfile_unlogged, 0)) > 0)
		log_warnx("accept on %s: %s: pausing accept, retrying every "
		    "%d ms (%u more time(s) since the last warning)",
		    l->l_name, strerror(err), HELLOD_ACCEPT_RETRY_MS, n);
	else
		log_warnx("accept on %s: %s: pausing accept, retrying every "
		    "%d ms", l->l_name, strerror(err), HELLOD_ACCEPT_RETRY_MS);
}

/* SPDX-License-Identifier: ISC */
/*
 * A connection: a socket and its bufferevent, made at accept and freed
 * at close, and one timer; all owned by struct conn, with exactly one
 * way out, conn_close().
 *
 * This file is the connection as an object: making it (conn_open), its
 * buffers (reading the socket into the bufferevent's input, writing its
 * output straight away, counting the bytes that pass), its place on the
 * worker's idle list, and closing it. What is said over it, HTTP, is
 * serve.c's, above: it hands conn_open() its callbacks, and this file
 * never calls up into it.
 *
 * Bytes flow one way only: the bufferevent reads requests into its input
 * evbuffer, where http_parse() takes them from, and responses go into its
 * output evbuffer, copied from the prebuilt pages (page_write). Two
 * shortcuts stay inside the bufferevent's own buffers:
 *
 *   - a new connection is read at once, into the bufferevent's input,
 *     rather than after a round through epoll: a request is usually there
 *     with the handshake, and one answered and closed in that first pass
 *     never reaches epoll;
 *   - the output is written as soon as responses are queued
 *     (evbuffer_write on the bufferevent's output) rather than after the
 *     loop reports the socket writable: a response nearly always fits the
 *     socket buffer, so that is one writev() and no epoll_ctl() to turn
 *     EV_WRITE on and off. Only what the socket would not take is left
 *     to the bufferevent, with EV_WRITE and the write timeout on.
 *
 * Bytes are counted without callbacks on the bufferevent's buffers (each
 * would run on every change of them): what is received when it leaves
 * the input (parsed, dropped, or left at close), what is sent when the
 * output is seen shorter than what was queued (c_unsent).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"

/*
 * Make a connection of an accepted socket: its bufferevent, its timer,
 * its place in the worker's list, with cb's callbacks (serve.c's: what
 * is said over it is not this file's business). Returns NULL if it could
 * not be set up; the caller then closes fd.
 */
struct conn *
conn_open(struct worker *w, evutil_socket_t fd, const struct sockaddr *sa,
    socklen_t len, const struct conn_callbacks *cb)
{
	struct conn	*c;
	struct timeval	 wtv;

	if ((c = calloc(1, sizeof *c)) == NULL) {
		log_warn("conn_open");
		return (NULL);
	}
	/* Not BEV_OPT_CLOSE_ON_FREE: libevent would close fd only when it
	 * finalizes the bufferevent, later in the loop; conn_close() closes
	 * it at once, so a closed connection holds no descriptor. */
	c->c_bev = bufferevent_socket_new(w->w_base, fd, 0);
	if (c->c_bev == NULL) {
		log_warnx("conn_open: cannot make a bufferevent");
		free(c);
		return (NULL);
	}
	bufferevent_setcb(c->c_bev, cb->cb_read, cb->cb_write, cb->cb_event,
	    c);
	/* A new bufferevent writes as soon as output is added; serve_run()
	 * writes first and turns EV_WRITE on only for what is left. */
	bufferevent_disable(c->c_bev, EV_WRITE);
	clock_tv(w->w_cf->cf_write_timeout, &wtv);
	bufferevent_set_timeouts(c->c_bev, NULL, &wtv);

	c->c_w = w;
	c->c_fd = fd;
	c->c_id = ++w->w_next_id;
	addr_format(sa, len, c->c_addr, sizeof c->c_addr);
	http_request_init(&c->c_req, (size_t)w->w_cf->cf_max_header_size);
	evtimer_assign(&c->c_timer, w->w_base, cb->cb_timer, c);
	/* TCP_NODELAY waits for a second response (conn_nodelay): a first
	 * one is never held back by Nagle. */
	c->c_nodelay = sa->sa_family != AF_INET && sa->sa_family != AF_INET6;

	TAILQ_INSERT_TAIL(&w->w_conns, c, c_entry);
	c->c_state = CONN_IDLE_NEW;
	c->c_route = STATS_ROUTE_OTHER;
	stats_add(&w->w_stats.st_accepted, 1);
	evtimer_add(&c->c_timer, w->w_tv_header);
	log_debug("conn %llu: accepted from %s", (unsigned long long)c->c_id,
	    c->c_addr);
	w->w_conn_opened(w);
	return (c);
}

/*
 * Read what has arrived on a new connection, up to HELLOD_READ_MAX bytes,
 * straight into its bufferevent's input, as the bufferevent's own read
 * would but without asking the kernel first how much there is
 * (FIONREAD). Returns 1 if input was added, 0 if none, 2 at EOF (reading
 * is off then: the caller handles it), -1 if c was closed (the caller
 * must not touch it then).
 */
int
conn_read_now(struct conn *c)
{
	struct evbuffer		*in = conn_in(c);
	struct evbuffer_iovec	 v;
	ssize_t			 n;
	int			 err;

	/* A socket bufferevent's input is frozen at its end, so that only
	 * it adds there; thaw it for this read, as its own read does. */
	evbuffer_unfreeze(in, 0);
	if (evbuffer_reserve_space(in, HELLOD_READ_MAX, &v, 1) != 1) {
		evbuffer_freeze(in, 0);
		conn_close(c, STATS_CLOSE_ERROR, "out of memory");
		return (-1);
	}
	n = read(c->c_fd, v.iov_base, HELLOD_READ_MAX);
	err = errno;		/* the buffer calls below may change it */
	if (n > 0) {
		v.iov_len = (size_t)n;
		evbuffer_commit_space(in, &v, 1);
	} else {
		/* Nothing read: free the chain reserve_space made rather
		 * than keep 4 KiB per connection until its request comes
		 * (libevent frees chains only when a drain empties the
		 * buffer, so add a byte and drain it). */
		v.iov_len = 1;
		evbuffer_commit_space(in, &v, 1);
		evbuffer_drain(in, 1);
	}
	evbuffer_freeze(in, 0);
	if (n == -1 && (err == EAGAIN || err == EWOULDBLOCK ||
	    err == EINTR))
		return (0);
	if (n == -1) {
		conn_close(c, conn_errno_reason(err), strerror(err));
		return (-1);
	}
	if (n == 0) {
		bufferevent_disable(c->c_bev, EV_READ);
		return (2);
	}
	return (1);
}

/* Drop (and count) what the input holds. */
void
conn_drop_input(struct conn *c)
{
	size_t	n = evbuffer_get_length(conn_in(c));

	stats_add(&c->c_w->w_stats.st_bytes_in, n);
	evbuffer_drain(conn_in(c), n);
}

/* Count as sent what has left the output since last time. */
void
conn_count_sent(struct conn *c)
{
	size_t	left = evbuffer_get_length(conn_out(c));

	if (c->c_unsent > left) {
		stats_add(&c->c_w->w_stats.st_bytes_out, c->c_unsent - left);
		c->c_unsent = left;
	}
}

/*
 * Keep the bufferevent reading unless the client has closed, or enough
 * pipelined input waits its turn already (a request head at most, plus a
 * read), in which case the rest waits in the kernel. (A read watermark
 * would do this too, but libevent re-adds the read event on every change
 * of the input then: three event_add() calls a request.) A connection
 * whose read event the loop cannot take (epoll_ctl failed: ENOMEM,
 * ENOSPC) would never see its client leave: it is closed (-1: the caller
 * must not touch c), else 0.
 */
int
conn_want_read(struct conn *c)
{
	int	want, on;

	want = !c->c_eof && evbuffer_get_length(conn_in(c)) <
	    (size_t)c->c_w->w_cf->cf_max_header_size + HELLOD_READ_MAX;
	on = (bufferevent_get_enabled(c->c_bev) & EV_READ) != 0;
	if (want && !on && bufferevent_enable(c->c_bev, EV_READ) == -1) {
		conn_close(c, STATS_CLOSE_ERROR, "cannot watch the socket");
		return (-1);
	}
	if (!want && on)
		bufferevent_disable(c->c_bev, EV_READ);
	return (0);
}

/*
 * The only way a connection ends: log why, unlink, free everything.
 * The caller must not touch c afterwards.
 */
void
conn_close(struct conn *c, enum stats_close reason, const char *why)
{
	struct worker	*w = c->c_w;

	log_debug("conn %llu: %s: closed: %s", (unsigned long long)c->c_id,
	    c->c_addr, why);
	if (c->c_state == CONN_SLEEPING)
		stats_sub(&w->w_stats.st_sleeping, 1);
	stats_add(&w->w_stats.st_closed[reason], 1);
	TAILQ_REMOVE(&w->w_conns, c, c_entry);
	conn_set_idle(c, 0);
	evtimer_del(&c->c_timer);
	conn_count_sent(c);
	stats_add(&w->w_stats.st_bytes_in,
	    evbuffer_get_length(conn_in(c)));
	/* bufferevent_free() takes the bufferevent's events off the loop
	 * now, or, inside one of its callbacks, when that returns; libevent
	 * expects a descriptor closed before then (epoll drops it). */
	bufferevent_free(c->c_bev);
	evutil_closesocket(c->c_fd);
	http_request_clear(&c->c_req);
	free(c);
	w->w_conn_closed(w);
}

/* Why a read or write failing with err ends a connection. */
enum stats_close
conn_errno_reason(int err)
{
	return (err == ECONNRESET || err == EPIPE || err == ETIMEDOUT ?
	    STATS_CLOSE_GONE : STATS_CLOSE_ERROR);
}

/* Put c on or take it off the worker's list of idle keep-alive conns. */
void
conn_set_idle(struct conn *c, int idle)
{
	struct worker	*w = c->c_w;

	if (idle && !c->c_idle)
		TAILQ_INSERT_TAIL(&w->w_idle, c, c_idle_entry);
	else if (!idle && c->c_idle)
		TAILQ_REMOVE(&w->w_idle, c, c_idle_entry);
	c->c_idle = idle;
}

/*
 * Write what the output holds straight away (evbuffer_write on the
 * bufferevent's output) rather than wait for the loop to report the
 * socket writable. What the socket does not take is left to the
 * bufferevent, with EV_WRITE and the write timeout on. Returns 0 if all
 * was written, 1 if the bufferevent writes the rest, -1 if c was closed
 * (the caller must not touch it then).
 */
int
conn_write_now(struct conn *c)
{
	struct evbuffer	*out = conn_out(c);
	int		 n;

	/* A socket bufferevent keeps its output's start frozen so that
	 * only it drains it; thaw it for this write, as its own write
	 * callback does. */
	evbuffer_unfreeze(out, 1);
	n = evbuffer_write(out, c->c_fd);
	evbuffer_freeze(out, 1);
	conn_count_sent(c);
	if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR) {
		conn_close(c, conn_errno_reason(errno), strerror(errno));
		return (-1);
	}
	if (evbuffer_get_length(out) > 0) {
		if (bufferevent_enable(c->c_bev, EV_WRITE) == -1) {
			conn_close(c, STATS_CLOSE_ERROR,
			    "cannot watch the socket");
			return (-1);
		}
		return (1);
	}
	return (0);
}

/*
 * Nagle would hold a small response back while the previous one is
 * unacknowledged, as nginx's tcp_nodelay explains: needed from the second
 * response on, so a connection closed after its first never pays for the
 * setsockopt().
 */
void
conn_nodelay(struct conn *c)
{
	int	on = 1;

	if (!c->c_nodelay) {
		(void)setsockopt(c->c_fd, IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof on);
		c->c_nodelay = 1;
	}
}

/*
 * A response of bytes with status to c's current request has been queued:
 * count it, and log it if access logging is on.
 */
void
conn_count_response(struct conn *c, int status, size_t bytes)
{
	struct worker		*w = c->c_w;
	struct config		*cf = w->w_cf;
	uint64_t		 us = clock_now_us() - c->c_start_us;
	struct log_request	 lr = {
		.lr_client = c->c_addr,
		.lr_line = c->c_req.r_line,
		.lr_status = status,
		.lr_bytes = bytes,
		.lr_usec = us,
		.lr_worker = w->w_index,
	};

	stats_request(&w->w_stats, c->c_route, status, us);
	c->c_route = STATS_ROUTE_OTHER;
	if (!cf->cf_access_log)
		return;
	if (lr.lr_line != NULL)
		lr.lr_path = http_path(&c->c_req, &lr.lr_path_len);
	if (cf->cf_access_log != ACCESS_LOG_FILE ||
	    accesslog_buf_add(&w->w_alog, &lr) == -1)
		log_access_request(&lr);
}

/*
 * The final response has been written: shut our side and read until the
 * client closes or HELLOD_LINGER_MS passes (nginx's lingering close).
 * Returns -1 if c was closed, else 0.
 */
int
conn_linger(struct conn *c)
{
	struct timeval	tv;

	if (c->c_eof || !c->c_linger) {
		conn_close(c, c->c_reason, "done");
		return (-1);
	}
	if (shutdown(c->c_fd, SHUT_WR) == -1) {
		conn_close(c, c->c_reason, "done");
		return (-1);
	}
	c->c_state = CONN_LINGERING;
	clock_tv(c->c_quick ? HELLOD_CLOSE_GRACE_MS : HELLOD_LINGER_MS,
	    &tv);
	evtimer_add(&c->c_timer, &tv);
	return (0);
}

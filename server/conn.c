/*
 * A connection: a socket and its bufferevent, made at accept and freed
 * at close, and one timer; all owned by struct conn, with exactly one
 * way out, conn_close().
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
 * Requests are answered one at a time, in order: while /sleep's timer is
 * armed the parser does not run, so pipelined requests wait their turn in
 * the input buffer. Above a request head plus a read of them the
 * bufferevent stops reading (conn_want_read); the rest waits in the
 * kernel. Reading stays on otherwise, so a client that goes away is
 * noticed, and freed, at once.
 *
 * The one timer serves whichever deadline the state needs:
 *	CONN_IDLE_NEW		header_timeout, then close quietly
 *	CONN_IDLE_KEEPALIVE	keepalive_timeout, then close quietly
 *				(in a shutdown, both: HELLOD_CLOSE_GRACE_MS
 *				for a request on its way, then
 *				conn_close_idle())
 *	CONN_READING		header_timeout from the request's first byte
 *				(or from the end of the previous response),
 *				then 408
 *	CONN_SLEEPING		sleep, then answer
 *	CONN_LINGERING		HELLOD_LINGER_MS (HELLOD_CLOSE_GRACE_MS
 *				after conn_close_idle()), then close
 * A client that stops reading is caught by the bufferevent write timeout.
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

static void	conn_read_cb(struct bufferevent *, void *);
static void	conn_write_cb(struct bufferevent *, void *);
static void	conn_event_cb(struct bufferevent *, short, void *);
static void	conn_timer_cb(evutil_socket_t, short, void *);
static int	conn_read_now(struct conn *);
static void	conn_eof(struct conn *);
static int	conn_want_read(struct conn *);
static void	conn_drop_input(struct conn *);
static void	conn_count_sent(struct conn *);
static int	conn_process(struct conn *);
static int	conn_run(struct conn *);
static int	conn_drained(struct conn *);
static void	conn_request(struct conn *);
static void	conn_respond(struct conn *, const struct page *, int);
static void	conn_error(struct conn *, int, const char *);
static void	conn_after_response(struct conn *);
static int	conn_linger(struct conn *);
static int	conn_close_flushed(struct conn *, enum stats_close,
		    const char *);
static int	conn_close_idle(struct conn *, enum stats_close,
		    const char *);
static int	conn_take_input(struct conn *);
static enum stats_close conn_errno_reason(int);
static void	conn_set_idle(struct conn *, int);

#define conn_in(c)	bufferevent_get_input((c)->c_bev)
#define conn_out(c)	bufferevent_get_output((c)->c_bev)

/*
 * Take over an accepted socket: give it its bufferevent, then read it
 * once. Returns -1 if the connection could not be set up; the caller
 * then closes fd.
 */
int
conn_new(struct worker *w, evutil_socket_t fd, const struct sockaddr *sa,
    socklen_t len)
{
	struct conn	*c;
	struct timeval	 wtv;

	if ((c = calloc(1, sizeof *c)) == NULL) {
		log_warn("conn_new");
		return (-1);
	}
	/* Not BEV_OPT_CLOSE_ON_FREE: libevent would close fd only when it
	 * finalizes the bufferevent, later in the loop; conn_close() closes
	 * it at once, so a closed connection holds no descriptor. */
	c->c_bev = bufferevent_socket_new(w->w_base, fd, 0);
	if (c->c_bev == NULL) {
		log_warnx("conn_new: cannot make a bufferevent");
		free(c);
		return (-1);
	}
	bufferevent_setcb(c->c_bev, conn_read_cb, conn_write_cb,
	    conn_event_cb, c);
	/* A new bufferevent writes as soon as output is added; conn_run()
	 * writes first and turns EV_WRITE on only for what is left. */
	bufferevent_disable(c->c_bev, EV_WRITE);
	worker_ms_tv(w->w_cf->cf_write_timeout, &wtv);
	bufferevent_set_timeouts(c->c_bev, NULL, &wtv);

	c->c_w = w;
	c->c_fd = fd;
	c->c_id = ++w->w_next_id;
	listener_format(sa, len, c->c_addr, sizeof c->c_addr);
	http_request_init(&c->c_req, (size_t)w->w_cf->cf_max_header_size);
	evtimer_assign(&c->c_timer, w->w_base, conn_timer_cb, c);
	/* TCP_NODELAY waits for a second response (conn_after_response):
	 * a first one is never held back by Nagle. */
	c->c_nodelay = sa->sa_family != AF_INET && sa->sa_family != AF_INET6;

	TAILQ_INSERT_TAIL(&w->w_conns, c, c_entry);
	c->c_state = CONN_IDLE_NEW;
	c->c_route = STATS_ROUTE_OTHER;
	stats_add(&w->w_stats.st_accepted, 1);
	evtimer_add(&c->c_timer, w->w_tv_header);
	log_debug("conn %llu: accepted from %s", (unsigned long long)c->c_id,
	    c->c_addr);
	worker_conn_opened(w);

	/* Read now; reading through the loop starts once this first pass
	 * leaves c open (conn_want_read). */
	switch (conn_read_now(c)) {
	case -1:
		break;			/* closed, or EOF handled */
	case 0:
		(void)conn_want_read(c);
		break;
	default:
		(void)conn_run(c);
		break;
	}
	return (0);
}

/*
 * Read what has arrived on a new connection, up to HELLOD_READ_MAX bytes,
 * straight into its bufferevent's input, as the bufferevent's own read
 * would but without asking the kernel first how much there is
 * (FIONREAD). EOF is handled here (conn_eof). Returns 1 if input was
 * added, 0 if none, -1 if c was closed or reached EOF (the caller must
 * not touch it then).
 */
static int
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
		conn_eof(c);
		return (-1);
	}
	return (1);
}

/*
 * Bytes are counted without callbacks on the bufferevent's buffers (each
 * would run on every change of them): what is received when it leaves
 * the input (parsed, dropped, or left at close), what is sent when the
 * output is seen shorter than what was queued (c_unsent).
 */
static void
conn_drop_input(struct conn *c)
{
	size_t	n = evbuffer_get_length(conn_in(c));

	stats_add(&c->c_w->w_stats.st_bytes_in, n);
	evbuffer_drain(conn_in(c), n);
}

/* Count as sent what has left the output since last time. */
static void
conn_count_sent(struct conn *c)
{
	size_t	left = evbuffer_get_length(conn_out(c));

	if (c->c_unsent > left) {
		stats_add(&c->c_w->w_stats.st_bytes_out, c->c_unsent - left);
		c->c_unsent = left;
	}
}

/*
 * The client shut its side: the bufferevent has stopped reading, so
 * finish what the state allows. The caller must not touch c afterwards.
 */
static void
conn_eof(struct conn *c)
{
	c->c_eof = 1;
	switch (c->c_state) {
	case CONN_IDLE_NEW:
	case CONN_IDLE_KEEPALIVE:
	case CONN_READING:
		(void)conn_run(c);	/* answer what is complete, or close */
		break;
	case CONN_SLEEPING:
		/* Earlier responses still queued are written first. */
		(void)conn_close_flushed(c, STATS_CLOSE_GONE,
		    "client gone during sleep");
		break;
	case CONN_LINGERING:
		conn_close(c, c->c_reason, "done");
		break;
	case CONN_WRITING:	/* conn_respond answers those, then closes */
	case CONN_CLOSING:	/* finish writing, then close */
		break;
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
static int
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

/* The bufferevent read input for c. */
static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	worker_doing(c->c_w, "reading from a connection", c->c_id);
	switch (c->c_state) {
	case CONN_IDLE_NEW:
	case CONN_IDLE_KEEPALIVE:
	case CONN_READING:
		(void)conn_run(c);
		break;
	case CONN_SLEEPING:
	case CONN_WRITING:
		(void)conn_want_read(c);	/* pipelined: waits its turn */
		break;
	case CONN_CLOSING:
		c->c_linger = 1;	/* the client is still sending */
		/* FALLTHROUGH */
	case CONN_LINGERING:
		conn_drop_input(c);
		break;
	}
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
	worker_conn_closed(w);
}

/* Why a read or write failing with err ends a connection. */
static enum stats_close
conn_errno_reason(int err)
{
	return (err == ECONNRESET || err == EPIPE || err == ETIMEDOUT ?
	    STATS_CLOSE_GONE : STATS_CLOSE_ERROR);
}

/*
 * At max_connections: give up an idle keep-alive connection
 * (conn_close_idle). Returns -1 if it was closed at once, 0 if it closes
 * within HELLOD_CLOSE_GRACE_MS (or once its last responses are written).
 */
int
conn_reclaim(struct conn *c)
{
	return (conn_close_idle(c, STATS_CLOSE_RECLAIMED,
	    "idle, closed for a new connection"));
}

/*
 * Read what the client of an idle connection has sent by now, which the
 * loop may not have reported yet, and answer it. Returns 1 if there was
 * input (c is answering it), 0 if none, -1 if c was closed or reached EOF
 * (the caller must not touch it then).
 */
static int
conn_take_input(struct conn *c)
{
	int	r;

	if (evbuffer_get_length(conn_in(c)) == 0 &&
	    (r = conn_read_now(c)) <= 0)
		return (r);
	return (conn_run(c) == -1 ? -1 : 1);
}

/*
 * Close an idle connection (CONN_IDLE_NEW or CONN_IDLE_KEEPALIVE) for
 * reason without losing a request: what its client has sent by now is
 * answered, with Connection: close. With nothing sent, our side is shut
 * once the output is written, and what arrives is read and dropped for
 * HELLOD_CLOSE_GRACE_MS: a request that crosses the close then finds a
 * FIN, not a reset, and its client can send it again (RFC 9112, 9.3.1).
 * Returns -1 if c was closed (the caller must not touch it), else 0.
 */
static int
conn_close_idle(struct conn *c, enum stats_close reason, const char *why)
{
	int	r;

	c->c_close = 1;
	c->c_reason = reason;
	if ((r = conn_take_input(c)) != 0)
		return (r == -1 ? -1 : 0);
	log_debug("conn %llu: %s: closing: %s", (unsigned long long)c->c_id,
	    c->c_addr, why);
	conn_set_idle(c, 0);
	evtimer_del(&c->c_timer);
	c->c_state = CONN_CLOSING;
	c->c_linger = 1;
	c->c_quick = 1;
	if (evbuffer_get_length(conn_out(c)) > 0)
		return (0);	/* conn_drained() lingers once written */
	return (conn_linger(c));
}

/*
 * Close c, but not before what is queued for it has been written: freeing
 * it would drop responses already promised. With nothing queued it closes
 * at once (-1: the caller must not touch c); else it goes on as after a
 * final response, without lingering and bounded by the write timeout (0).
 */
static int
conn_close_flushed(struct conn *c, enum stats_close reason, const char *why)
{
	if (evbuffer_get_length(conn_out(c)) == 0) {
		conn_close(c, reason, why);
		return (-1);
	}
	c->c_reason = reason;
	log_debug("conn %llu: %s: closing once written: %s",
	    (unsigned long long)c->c_id, c->c_addr, why);
	if (c->c_state == CONN_SLEEPING)
		stats_sub(&c->c_w->w_stats.st_sleeping, 1);
	conn_set_idle(c, 0);
	evtimer_del(&c->c_timer);
	c->c_state = CONN_CLOSING;
	c->c_linger = 0;
	return (0);
}

/*
 * Graceful shutdown: answer what is under way, with Connection: close,
 * then close. An idle connection may hold a request already, unread, or
 * have one on the way (a new connection's first, above all): what has
 * arrived is answered now, and the client gets HELLOD_CLOSE_GRACE_MS to
 * send one before conn_close_idle() closes it (conn_timer_cb()).
 */
void
conn_shutdown(struct conn *c)
{
	struct timeval	tv;

	if (c->c_state == CONN_CLOSING || c->c_state == CONN_LINGERING)
		return;			/* closing already */
	c->c_close = 1;			/* answer, then close */
	c->c_reason = STATS_CLOSE_SHUTDOWN;
	if ((c->c_state == CONN_IDLE_NEW ||
	    c->c_state == CONN_IDLE_KEEPALIVE) && conn_take_input(c) == 0) {
		worker_ms_tv(HELLOD_CLOSE_GRACE_MS, &tv);
		evtimer_add(&c->c_timer, &tv);
	}
}

/* Put c on or take it off the worker's list of idle keep-alive conns. */
static void
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
 * Parse and answer requests for as long as input and state allow; the
 * responses are queued, conn_run() writes them. Returns -1 if c was
 * closed, else 0.
 */
static int
conn_process(struct conn *c)
{
	struct worker	*w = c->c_w;
	struct evbuffer	*in = conn_in(c);
	enum http_result r;
	size_t		 n;

	for (;;) {
		if (c->c_state == CONN_IDLE_NEW ||
		    c->c_state == CONN_IDLE_KEEPALIVE) {
			if (evbuffer_get_length(in) == 0) {
				if (c->c_eof)
					return (conn_close_flushed(c,
					    c->c_reason, "client closed"));
				return (0);
			}
			/* First byte of a request: its head deadline starts,
			 * armed only if the head is not all here (most are:
			 * that saves an evtimer_add a request). */
			conn_set_idle(c, 0);
			c->c_state = CONN_READING;
			c->c_start_us = worker_now_us();
			c->c_head_timer = 0;
		}
		if (c->c_state != CONN_READING)
			return (0);

		n = evbuffer_get_length(in);
		r = http_parse(&c->c_req, in);
		stats_add(&w->w_stats.st_bytes_in,
		    n - evbuffer_get_length(in));
		switch (r) {
		case HTTP_NEED_MORE:
			if (c->c_eof)
				return (conn_close_flushed(c,
				    STATS_CLOSE_GONE,
				    "client closed mid-request"));
			if (!c->c_head_timer) {
				evtimer_add(&c->c_timer, w->w_tv_header);
				c->c_head_timer = 1;
			}
			return (0);
		case HTTP_ERROR:
			if (c->c_req.r_tls)
				log_info("%s: TLS handshake on a plain HTTP "
				    "listener", c->c_addr);
			conn_error(c, c->c_req.r_status, c->c_req.r_error);
			return (0);
		case HTTP_COMPLETE:
			conn_request(c);
			break;
		}
	}
}

/*
 * Drive c after an event: answer what the input holds, then write the
 * responses straight away (evbuffer_write on the bufferevent's output)
 * rather than waiting for the loop to report the socket writable. A
 * response nearly always fits the socket buffer, so this is one writev()
 * and no epoll_ctl() to turn EV_WRITE on and off; pipelined requests
 * answered in one pass go out in the same writev(). What the socket does
 * not take is left to the bufferevent, which writes it with EV_WRITE and
 * the write timeout on (conn_write_cb). Returns -1 if c was closed (the
 * caller must not touch it then), else 0.
 */
static int
conn_run(struct conn *c)
{
	struct evbuffer	*out = conn_out(c);
	int		 n;

	for (;;) {
		if (conn_process(c) == -1)
			return (-1);
		if (bufferevent_get_enabled(c->c_bev) & EV_WRITE)
			break;		/* the bufferevent is writing */
		if (evbuffer_get_length(out) == 0)
			break;
		/* A socket bufferevent keeps its output's start frozen so
		 * that only it drains it; thaw it for this write, as its own
		 * write callback does. */
		evbuffer_unfreeze(out, 1);
		n = evbuffer_write(out, c->c_fd);
		evbuffer_freeze(out, 1);
		conn_count_sent(c);
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR) {
			conn_close(c, conn_errno_reason(errno),
			    strerror(errno));
			return (-1);
		}
		if (evbuffer_get_length(out) > 0) {
			if (bufferevent_enable(c->c_bev, EV_WRITE) == -1) {
				conn_close(c, STATS_CLOSE_ERROR,
				    "cannot watch the socket");
				return (-1);
			}
			break;
		}
		if (conn_drained(c) == -1)
			return (-1);
	}
	return (conn_want_read(c));
}

/*
 * Everything queued has been written: close, or go on to the next
 * request. Returns -1 if c was closed, else 0.
 */
static int
conn_drained(struct conn *c)
{
	switch (c->c_state) {
	case CONN_CLOSING:
		return (conn_linger(c));
	case CONN_WRITING:
		if (c->c_close) {
			c->c_state = CONN_CLOSING;
			return (conn_linger(c));
		}
		conn_after_response(c);
		break;
	default:
		break;
	}
	return (0);
}

/* A whole request has arrived: route it. */
static void
conn_request(struct conn *c)
{
	struct worker	*w = c->c_w;
	enum route_id	 id;
	const char	*path;
	size_t		 len;

	path = http_path(&c->c_req, &len);
	id = route_match(c->c_req.r_method, path, len);
	if (id == ROUTE_SLEEP) {
		c->c_route = STATS_ROUTE_SLEEP;
		c->c_state = CONN_SLEEPING;
		stats_add(&w->w_stats.st_sleeping, 1);
		/* The deadline counts from now, not from when the loop last
		 * read its clock: the response never leaves early. */
		event_base_update_cache_time(w->w_base);
		evtimer_add(&c->c_timer, w->w_tv_sleep);
		return;
	}
	if (id == ROUTE_HELLO)
		c->c_route = STATS_ROUTE_HELLO;
	conn_respond(c, pages_answer(w->w_pages, route_page(id), &c->c_req),
	    0);
}

/* A request cannot be answered normally: send status and close. */
static void
conn_error(struct conn *c, int status, const char *why)
{
	log_debug("conn %llu: %s: %d: %s", (unsigned long long)c->c_id,
	    c->c_addr, status, why != NULL ? why : "error");
	if (c->c_reason != STATS_CLOSE_SHUTDOWN)
		c->c_reason = status == 408 ? STATS_CLOSE_TIMEOUT :
		    STATS_CLOSE_ERROR;
	conn_respond(c, pages_for_status(c->c_w->w_pages, status), 1);
}

/*
 * Queue a response to the current request, log it, and move on: to the
 * next request on a persistent connection, or to closing.
 */
static void
conn_respond(struct conn *c, const struct page *p, int close_after)
{
	struct worker		*w = c->c_w;
	struct config		*cf = w->w_cf;
	struct evbuffer		*out = conn_out(c);
	const char		*connection = NULL;
	size_t			 bytes;
	uint64_t		 us;

	/*
	 * While accepting is paused at max_connections, a finished
	 * connection gives its slot to whoever waits in the backlog. A
	 * client that has shut its side gets answers to every request it
	 * sent before that, the last with Connection: close.
	 */
	if (c->c_close || w->w_stopping ||
	    (c->c_eof && evbuffer_get_length(conn_in(c)) == 0) ||
	    atomic_load_explicit(&w->w_srv->s_limited,
	    memory_order_relaxed) ||
	    cf->cf_keepalive_timeout == 0 ||
	    c->c_req.r_state != HTTP_S_DONE || !http_keepalive(&c->c_req))
		close_after = 1;
	/*
	 * Linger after the close unless the client itself asked for it and
	 * sent nothing more: a client we cut off, or one whose request was
	 * bad, may still be sending, and closing on unread data would reset
	 * the connection and could destroy the response in flight.
	 */
	c->c_linger = close_after && (c->c_req.r_state != HTTP_S_DONE ||
	    http_keepalive(&c->c_req) ||
	    evbuffer_get_length(conn_in(c)) > 0);
	if (close_after)
		connection = "close";
	else if (c->c_req.r_minor == 0)
		connection = "keep-alive";
	bytes = page_write(out, p, c->c_req.r_method == HTTP_M_HEAD,
	    worker_date(w), connection);
	c->c_unsent += bytes;

	us = worker_now_us() - c->c_start_us;
	stats_request(&w->w_stats, c->c_route, p->p_status, us);
	c->c_route = STATS_ROUTE_OTHER;
	if (cf->cf_access_log) {
		struct log_request	lr = {
			.lr_client = c->c_addr,
			.lr_line = c->c_req.r_line,
			.lr_status = p->p_status,
			.lr_bytes = bytes,
			.lr_usec = us,
			.lr_worker = w->w_index,
		};

		if (lr.lr_line != NULL)
			lr.lr_path = http_path(&c->c_req, &lr.lr_path_len);
		if (cf->cf_access_log != ACCESS_LOG_FILE ||
		    accesslog_buf_add(&w->w_alog, &lr) == -1)
			log_access_request(&lr);
	}

	if (close_after) {
		/* Keep reading (and dropping) input so that no unread data
		 * turns our close into a reset that loses this response. */
		c->c_state = CONN_CLOSING;
		evtimer_del(&c->c_timer);
		conn_drop_input(c);
		return;
	}
	http_request_reset(&c->c_req);
	c->c_req.r_max_head = (size_t)cf->cf_max_header_size;
	conn_after_response(c);
}

/*
 * After a response on a persistent connection: wait for the client to
 * read if too much is queued, else start on the next request.
 */
static void
conn_after_response(struct conn *c)
{
	struct worker	*w = c->c_w;
	int		 on = 1;

	/*
	 * Nagle would hold a small response back while the previous one is
	 * unacknowledged, as nginx's tcp_nodelay explains: needed from the
	 * second response on, so a connection closed after its first never
	 * pays for the setsockopt().
	 */
	if (!c->c_nodelay) {
		(void)setsockopt(c->c_fd, IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof on);
		c->c_nodelay = 1;
	}
	if (evbuffer_get_length(conn_out(c)) > HELLOD_MAX_OUTPUT) {
		c->c_state = CONN_WRITING;
		evtimer_del(&c->c_timer);
		return;
	}
	if (evbuffer_get_length(conn_in(c)) > 0) {
		/* Pipelined: its head deadline runs from now. */
		c->c_state = CONN_READING;
		c->c_start_us = worker_now_us();
		evtimer_add(&c->c_timer, w->w_tv_header);
		c->c_head_timer = 1;
		return;
	}
	c->c_state = CONN_IDLE_KEEPALIVE;
	conn_set_idle(c, 1);
	evtimer_add(&c->c_timer, w->w_tv_keepalive);
}

/*
 * The final response has been written: shut our side and read until the
 * client closes or HELLOD_LINGER_MS passes (nginx's lingering close).
 * Returns -1 if c was closed, else 0.
 */
static int
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
	worker_ms_tv(c->c_quick ? HELLOD_CLOSE_GRACE_MS : HELLOD_LINGER_MS,
	    &tv);
	evtimer_add(&c->c_timer, &tv);
	return (0);
}

/* The bufferevent has written out what conn_run() left it. */
static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	worker_doing(c->c_w, "writing to a connection", c->c_id);
	conn_count_sent(c);
	bufferevent_disable(bev, EV_WRITE);
	if (conn_drained(c) == 0)
		(void)conn_run(c);
}

/* The client closed, a read or write failed, or the write timeout
 * passed. */
static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;
	int		 err = EVUTIL_SOCKET_ERROR();

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT) {
		conn_close(c, STATS_CLOSE_TIMEOUT, "write timeout");
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		conn_close(c, conn_errno_reason(err),
		    evutil_socket_error_to_string(err));
		return;
	}
	if ((what & BEV_EVENT_EOF) && (what & BEV_EVENT_WRITING)) {
		conn_close(c, STATS_CLOSE_GONE, "connection closed");
		return;
	}
	if (what & BEV_EVENT_EOF)		/* it has stopped reading */
		conn_eof(c);
}

/* The connection's one timer fired; what it means depends on the state. */
static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)what;
	worker_doing(c->c_w, "a connection's timer", c->c_id);
	switch (c->c_state) {
	case CONN_IDLE_NEW:
	case CONN_IDLE_KEEPALIVE:
		if (c->c_w->w_stopping) {	/* see conn_shutdown() */
			(void)conn_close_idle(c, STATS_CLOSE_SHUTDOWN,
			    "shutdown");
			break;
		}
		if (c->c_state == CONN_IDLE_NEW) {
			conn_close(c, STATS_CLOSE_TIMEOUT,
			    "no request within header_timeout");
			break;
		}
		/* Idle since its last response was queued, not written:
		 * a slow reader still gets it (write_timeout bounds that). */
		(void)conn_close_flushed(c, STATS_CLOSE_TIMEOUT,
		    "keep-alive timeout");
		break;
	case CONN_READING:
		conn_error(c, 408, "request head timeout");
		(void)conn_run(c);
		break;
	case CONN_SLEEPING:
		stats_sub(&c->c_w->w_stats.st_sleeping, 1);
		conn_respond(c, pages_answer(c->c_w->w_pages, PAGE_HELLO,
		    &c->c_req), 0);
		(void)conn_run(c);
		break;
	case CONN_LINGERING:
		conn_close(c, c->c_reason, "done (linger timeout)");
		break;
	case CONN_WRITING:
	case CONN_CLOSING:
		break;
	}
}

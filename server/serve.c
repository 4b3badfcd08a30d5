/* SPDX-License-Identifier: ISC */
/*
 * Serving HTTP/1.1 on a connection (conn.c): the state machine that
 * takes requests from it, answers them, keeps it alive, sleeps, lingers
 * and closes it. Called by the listener (serve_new) and the worker
 * (serve_shutdown, serve_reclaim); calls down into conn.c, the parser and
 * the pages.
 *
 * Requests are answered one at a time, in order: while /sleep's timer is
 * armed the parser does not run, so pipelined requests wait their turn in
 * the input buffer. Above a request head plus a read of them the
 * bufferevent stops reading (conn_want_read); the rest waits in the
 * kernel. Reading stays on otherwise, so a client that goes away is
 * noticed, and freed, at once.
 *
 * The one timer serves whichever deadline the state needs: hellod.h
 * says which, beside enum conn_state.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <string.h>

#include "hellod.h"

static void	serve_read_cb(struct bufferevent *, void *);
static void	serve_write_cb(struct bufferevent *, void *);
static void	serve_event_cb(struct bufferevent *, short, void *);
static void	serve_timer_cb(evutil_socket_t, short, void *);
static void	serve_eof(struct conn *);
static int	serve_process(struct conn *);
static int	serve_run(struct conn *);
static int	serve_drained(struct conn *);
static void	serve_request(struct conn *);
static void	serve_respond(struct conn *, const struct page *, int);
static void	serve_error(struct conn *, int, const char *);
static void	serve_after_response(struct conn *);
static int	serve_close_flushed(struct conn *, enum stats_close,
		    const char *);
static int	serve_close_idle(struct conn *, enum stats_close,
		    const char *);
static int	serve_take_input(struct conn *);

static const struct conn_callbacks serve_callbacks = {
	.cb_read = serve_read_cb,
	.cb_write = serve_write_cb,
	.cb_event = serve_event_cb,
	.cb_timer = serve_timer_cb,
};

/*
 * Take over an accepted socket (listener.c): make it a connection with
 * this file's callbacks, then read it once. Returns -1 if the connection
 * could not be set up; the caller then closes fd.
 */
int
serve_new(struct worker *w, evutil_socket_t fd, const struct sockaddr *sa,
    socklen_t len)
{
	struct conn	*c;

	c = conn_open(w, fd, sa, len, &serve_callbacks);
	if (c == NULL)
		return (-1);
	/* Read now; reading through the loop starts once this first pass
	 * leaves c open (conn_want_read). */
	switch (conn_read_now(c)) {
	case -1:
		break;			/* closed */
	case 0:
		(void)conn_want_read(c);
		break;
	case 2:
		serve_eof(c);
		break;
	default:
		(void)serve_run(c);
		break;
	}
	return (0);
}

/*
 * The client shut its side: the bufferevent has stopped reading, so
 * finish what the state allows. The caller must not touch c afterwards.
 */
static void
serve_eof(struct conn *c)
{
	c->c_eof = 1;
	switch (c->c_state) {
	case CONN_IDLE_NEW:
	case CONN_IDLE_KEEPALIVE:
	case CONN_READING:
		(void)serve_run(c);	/* answer what is complete, or close */
		break;
	case CONN_SLEEPING:
		/* Earlier responses still queued are written first. */
		(void)serve_close_flushed(c, STATS_CLOSE_GONE,
		    "client gone during sleep");
		break;
	case CONN_LINGERING:
		conn_close(c, c->c_reason, "done");
		break;
	case CONN_WRITING:	/* serve_respond answers those, then closes */
	case CONN_CLOSING:	/* finish writing, then close */
		break;
	}
}

/* The bufferevent read input for c. */
static void
serve_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	worker_doing(c->c_w, "reading from a connection", c->c_id);
	switch (c->c_state) {
	case CONN_IDLE_NEW:
	case CONN_IDLE_KEEPALIVE:
	case CONN_READING:
		(void)serve_run(c);
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
 * At max_connections: give up an idle keep-alive connection
 * (serve_close_idle). Returns -1 if it was closed at once, 0 if it closes
 * within HELLOD_CLOSE_GRACE_MS (or once its last responses are written).
 */
int
serve_reclaim(struct conn *c)
{
	return (serve_close_idle(c, STATS_CLOSE_RECLAIMED,
	    "idle, closed for a new connection"));
}

/*
 * Read what the client of an idle connection has sent by now, which the
 * loop may not have reported yet, and answer it. Returns 1 if there was
 * input (c is answering it), 0 if none, -1 if c was closed or reached EOF
 * (the caller must not touch it then).
 */
static int
serve_take_input(struct conn *c)
{
	int	r;

	if (evbuffer_get_length(conn_in(c)) == 0) {
		r = conn_read_now(c);
		if (r == 2) {
			serve_eof(c);
			return (-1);
		}
		if (r <= 0)
			return (r);
	}
	return (serve_run(c) == -1 ? -1 : 1);
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
serve_close_idle(struct conn *c, enum stats_close reason, const char *why)
{
	int	r;

	c->c_close = 1;
	c->c_reason = reason;
	if ((r = serve_take_input(c)) != 0)
		return (r == -1 ? -1 : 0);
	log_debug("conn %llu: %s: closing: %s", (unsigned long long)c->c_id,
	    c->c_addr, why);
	conn_set_idle(c, 0);
	evtimer_del(&c->c_timer);
	c->c_state = CONN_CLOSING;
	c->c_linger = 1;
	c->c_quick = 1;
	if (evbuffer_get_length(conn_out(c)) > 0)
		return (0);	/* serve_drained() lingers once written */
	return (conn_linger(c));
}

/*
 * Close c, but not before what is queued for it has been written: freeing
 * it would drop responses already promised. With nothing queued it closes
 * at once (-1: the caller must not touch c); else it goes on as after a
 * final response, without lingering and bounded by the write timeout (0).
 */
static int
serve_close_flushed(struct conn *c, enum stats_close reason, const char *why)
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
 * send one before serve_close_idle() closes it (serve_timer_cb()).
 */
void
serve_shutdown(struct conn *c)
{
	struct timeval	tv;

	if (c->c_state == CONN_CLOSING || c->c_state == CONN_LINGERING)
		return;			/* closing already */
	c->c_close = 1;			/* answer, then close */
	c->c_reason = STATS_CLOSE_SHUTDOWN;
	if ((c->c_state == CONN_IDLE_NEW ||
	    c->c_state == CONN_IDLE_KEEPALIVE) && serve_take_input(c) == 0) {
		clock_tv(HELLOD_CLOSE_GRACE_MS, &tv);
		evtimer_add(&c->c_timer, &tv);
	}
}

/*
 * Parse and answer requests for as long as input and state allow; the
 * responses are queued, serve_run() writes them. Returns -1 if c was
 * closed, else 0.
 */
static int
serve_process(struct conn *c)
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
					return (serve_close_flushed(c,
					    c->c_reason, "client closed"));
				return (0);
			}
			/* First byte of a request: its head deadline starts,
			 * armed only if the head is not all here (most are:
			 * that saves an evtimer_add a request). */
			conn_set_idle(c, 0);
			c->c_state = CONN_READING;
			c->c_start_us = clock_now_us();
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
				return (serve_close_flushed(c,
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
			serve_error(c, c->c_req.r_status, c->c_req.r_error);
			return (0);
		case HTTP_COMPLETE:
			serve_request(c);
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
 * the write timeout on (serve_write_cb). Returns -1 if c was closed (the
 * caller must not touch it then), else 0.
 */
static int
serve_run(struct conn *c)
{
	int	n;

	for (;;) {
		if (serve_process(c) == -1)
			return (-1);
		if (bufferevent_get_enabled(c->c_bev) & EV_WRITE)
			break;		/* the bufferevent is writing */
		if (evbuffer_get_length(conn_out(c)) == 0)
			break;
		if ((n = conn_write_now(c)) == -1)
			return (-1);
		if (n == 1)
			break;		/* the bufferevent writes the rest */
		if (serve_drained(c) == -1)
			return (-1);
	}
	return (conn_want_read(c));
}

/*
 * Everything queued has been written: close, or go on to the next
 * request. Returns -1 if c was closed, else 0.
 */
static int
serve_drained(struct conn *c)
{
	switch (c->c_state) {
	case CONN_CLOSING:
		return (conn_linger(c));
	case CONN_WRITING:
		if (c->c_close) {
			c->c_state = CONN_CLOSING;
			return (conn_linger(c));
		}
		serve_after_response(c);
		break;
	default:
		break;
	}
	return (0);
}

/* A whole request has arrived: route it. */
static void
serve_request(struct conn *c)
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
	serve_respond(c, pages_answer(w->w_pages, route_page(id), &c->c_req),
	    0);
}

/* A request cannot be answered normally: send status and close. */
static void
serve_error(struct conn *c, int status, const char *why)
{
	log_debug("conn %llu: %s: %d: %s", (unsigned long long)c->c_id,
	    c->c_addr, status, why != NULL ? why : "error");
	if (c->c_reason != STATS_CLOSE_SHUTDOWN)
		c->c_reason = status == 408 ? STATS_CLOSE_TIMEOUT :
		    STATS_CLOSE_ERROR;
	serve_respond(c, pages_for_status(c->c_w->w_pages, status), 1);
}

/*
 * Queue a response to the current request, log it, and move on: to the
 * next request on a persistent connection, or to closing.
 */
static void
serve_respond(struct conn *c, const struct page *p, int close_after)
{
	struct worker		*w = c->c_w;
	struct config		*cf = w->w_cf;
	struct evbuffer		*out = conn_out(c);
	const char		*connection = NULL;
	size_t			 bytes;

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
	    clock_date(w->w_base, &w->w_date), connection);
	c->c_unsent += bytes;

	conn_count_response(c, p->p_status, bytes);

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
	serve_after_response(c);
}

/*
 * After a response on a persistent connection: wait for the client to
 * read if too much is queued, else start on the next request.
 */
static void
serve_after_response(struct conn *c)
{
	struct worker	*w = c->c_w;

	conn_nodelay(c);
	if (evbuffer_get_length(conn_out(c)) > HELLOD_MAX_OUTPUT) {
		c->c_state = CONN_WRITING;
		evtimer_del(&c->c_timer);
		return;
	}
	if (evbuffer_get_length(conn_in(c)) > 0) {
		/* Pipelined: its head deadline runs from now. */
		c->c_state = CONN_READING;
		c->c_start_us = clock_now_us();
		evtimer_add(&c->c_timer, w->w_tv_header);
		c->c_head_timer = 1;
		return;
	}
	c->c_state = CONN_IDLE_KEEPALIVE;
	conn_set_idle(c, 1);
	evtimer_add(&c->c_timer, w->w_tv_keepalive);
}

/* The bufferevent has written out what serve_run() left it. */
static void
serve_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	worker_doing(c->c_w, "writing to a connection", c->c_id);
	conn_count_sent(c);
	bufferevent_disable(bev, EV_WRITE);
	if (serve_drained(c) == 0)
		(void)serve_run(c);
}

/* The client closed, a read or write failed, or the write timeout
 * passed. */
static void
serve_event_cb(struct bufferevent *bev, short what, void *arg)
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
		serve_eof(c);
}

/* The connection's one timer fired; what it means depends on the state. */
static void
serve_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)what;
	worker_doing(c->c_w, "a connection's timer", c->c_id);
	switch (c->c_state) {
	case CONN_IDLE_NEW:
	case CONN_IDLE_KEEPALIVE:
		if (c->c_w->w_stopping) {	/* see serve_shutdown() */
			(void)serve_close_idle(c, STATS_CLOSE_SHUTDOWN,
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
		(void)serve_close_flushed(c, STATS_CLOSE_TIMEOUT,
		    "keep-alive timeout");
		break;
	case CONN_READING:
		serve_error(c, 408, "request head timeout");
		(void)serve_run(c);
		break;
	case CONN_SLEEPING:
		stats_sub(&c->c_w->w_stats.st_sleeping, 1);
		serve_respond(c, pages_answer(c->c_w->w_pages, PAGE_HELLO,
		    &c->c_req), 0);
		(void)serve_run(c);
		break;
	case CONN_LINGERING:
		conn_close(c, c->c_reason, "done (linger timeout)");
		break;
	case CONN_WRITING:
	case CONN_CLOSING:
		break;
	}
}

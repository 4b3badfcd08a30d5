/* SPDX-License-Identifier: ISC */
/*
 * The metrics listener: metrics_listen, a second, separate listener that
 * answers GET /metrics in the Prometheus text format and nothing else, so
 * that the public listener keeps exactly the book's routes.
 *
 * It runs in the main thread's loop, beside signals and the watchdog: a
 * scrape never takes a worker's time, and the workers never take a lock
 * for it. A scrape sums the workers' counters (stats.c) as it finds
 * them. Requests are parsed by the same pure parser as the public ones
 * (http.c); a connection is a bufferevent that owns its socket, one
 * request at a time, keep-alive as the client asks, at most
 * METRICS_MAX_CONNS at once. A connection must bring each whole request
 * within header_timeout of its start or of the previous response (a
 * deadline, not an idle time: trickling bytes does not extend it), and
 * read each response within write_timeout.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hellod.h"

#define METRICS_MAX_CONNS	16
#define METRICS_PATH		"/metrics"
#define METRICS_TYPE		"text/plain; version=0.0.4; charset=utf-8"

struct metrics_conn {
	TAILQ_ENTRY(metrics_conn)	 mc_entry;
	struct metrics			*mc_m;
	struct bufferevent		*mc_bev;
	struct event			 mc_deadline;	/* header_timeout */
	struct http_request		 mc_req;
	int				 mc_close;	/* after this
							   response */
};

struct metrics {
	struct server			*m_srv;
	struct evconnlistener		*m_lev;
	char				 m_name[64];
	TAILQ_HEAD(metrics_conns, metrics_conn) m_conns;
	size_t				 m_nconns;
	struct event			*m_retry;	/* accept again after
							   EMFILE */
};

static void	metrics_accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	metrics_read_cb(struct bufferevent *, void *);
static void	metrics_write_cb(struct bufferevent *, void *);
static void	metrics_event_cb(struct bufferevent *, short, void *);
static void	metrics_conn_free(struct metrics_conn *);
static void	metrics_deadline_cb(evutil_socket_t, short, void *);
static void	metrics_arm(struct metrics_conn *);
static void	metrics_error_cb(struct evconnlistener *, void *);
static void	metrics_retry_cb(evutil_socket_t, short, void *);

/*
 * Open the metrics listener of la in the main loop of s: on fd, a socket
 * bound and listening already (from systemd's fd store; it is ours from
 * here on, even on failure), or bound here if fd is -1. Returns NULL with
 * *cause set if it cannot be.
 */
struct metrics *
metrics_open(struct server *s, const struct listen_addr *la, int fd,
    char **cause)
{
	struct metrics		*m;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof ss;

	*cause = NULL;
	if ((m = calloc(1, sizeof *m)) == NULL) {
		*cause = strdup("out of memory");
		if (fd != -1)
			close(fd);
		return (NULL);
	}
	m->m_srv = s;
	TAILQ_INIT(&m->m_conns);
	if (fd != -1) {
		if (evutil_make_socket_nonblocking(fd) == 0 &&
		    evutil_make_socket_closeonexec(fd) == 0)
			m->m_lev = evconnlistener_new(s->s_base,
			    metrics_accept_cb, m, LEV_OPT_CLOSE_ON_FREE, 0, fd);
		if (m->m_lev == NULL)
			close(fd);
	} else
		m->m_lev = evconnlistener_new_bind(s->s_base,
		    metrics_accept_cb, m, LEV_OPT_CLOSE_ON_FREE |
		    LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE, 64,
		    (const struct sockaddr *)&la->la_ss, (int)la->la_len);
	if (m->m_lev == NULL) {
		if (asprintf(cause, "metrics_listen %s: %s", la->la_text,
		    strerror(errno)) == -1)
			*cause = NULL;
		free(m);
		return (NULL);
	}
	if ((m->m_retry = evtimer_new(s->s_base, metrics_retry_cb, m)) ==
	    NULL) {
		*cause = strdup("out of memory");
		evconnlistener_free(m->m_lev);
		free(m);
		return (NULL);
	}
	evconnlistener_set_error_cb(m->m_lev, metrics_error_cb);
	if (getsockname(evconnlistener_get_fd(m->m_lev),
	    (struct sockaddr *)&ss, &len) == 0)
		addr_format((struct sockaddr *)&ss, len, m->m_name,
		    sizeof m->m_name);
	else
		(void)snprintf(m->m_name, sizeof m->m_name, "%s", la->la_text);
	log_info("metrics on http://%s%s%s", m->m_name, METRICS_PATH,
	    fd != -1 ? " (kept by systemd)" : "");
	return (m);
}

/* The listening socket, or -1. */
int
metrics_fd(struct metrics *m)
{
	return (m->m_lev != NULL ? evconnlistener_get_fd(m->m_lev) : -1);
}

/* Close the listener and every metrics connection; NULL is fine. */
void
metrics_close(struct metrics *m)
{
	struct metrics_conn	*mc, *next;

	if (m == NULL)
		return;
	for (mc = TAILQ_FIRST(&m->m_conns); mc != NULL; mc = next) {
		next = TAILQ_NEXT(mc, mc_entry);
		metrics_conn_free(mc);
	}
	event_free(m->m_retry);
	evconnlistener_free(m->m_lev);
	free(m);
}

/*
 * accept() failed, most likely for want of a descriptor (EMFILE): the
 * listening socket stays readable, so stop listening and try again in
 * HELLOD_ACCEPT_RETRY_MS rather than spin the main loop on it.
 */
static void
metrics_error_cb(struct evconnlistener *lev, void *arg)
{
	struct metrics	*m = arg;
	struct timeval	 tv;
	int		 err = EVUTIL_SOCKET_ERROR();

	if (listener_out_of_resources(err))
		log_debug("metrics: accept on %s: %s: retrying in %d ms",
		    m->m_name, strerror(err), HELLOD_ACCEPT_RETRY_MS);
	else
		log_warnx("metrics: accept on %s: %s", m->m_name,
		    strerror(err));
	evconnlistener_disable(lev);
	clock_tv(HELLOD_ACCEPT_RETRY_MS, &tv);
	evtimer_add(m->m_retry, &tv);
}

/* Listen again after a failed accept(). */
static void
metrics_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct metrics	*m = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(m->m_lev);
}

/* A new connection to the metrics listener. */
static void
metrics_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int len, void *arg)
{
	struct metrics		*m = arg;
	struct config		*cf = m->m_srv->s_snap->sn_cf;
	struct metrics_conn	*mc;
	struct timeval		 wtv;

	(void)lev;
	(void)sa;
	(void)len;
	if (m->m_nconns >= METRICS_MAX_CONNS) {
		log_debug("metrics: %d connections already: closing a new one",
		    METRICS_MAX_CONNS);
		evutil_closesocket(fd);
		return;
	}
	if ((mc = calloc(1, sizeof *mc)) == NULL ||
	    (mc->mc_bev = bufferevent_socket_new(m->m_srv->s_base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_warnx("metrics: out of memory");
		free(mc);
		evutil_closesocket(fd);
		return;
	}
	mc->mc_m = m;
	http_request_init(&mc->mc_req, (size_t)cf->cf_max_header_size);
	clock_tv(cf->cf_write_timeout, &wtv);
	bufferevent_set_timeouts(mc->mc_bev, NULL, &wtv);
	evtimer_assign(&mc->mc_deadline, m->m_srv->s_base, metrics_deadline_cb,
	    mc);
	metrics_arm(mc);
	bufferevent_setcb(mc->mc_bev, metrics_read_cb, metrics_write_cb,
	    metrics_event_cb, mc);
	bufferevent_enable(mc->mc_bev, EV_READ);
	TAILQ_INSERT_TAIL(&m->m_conns, mc, mc_entry);
	m->m_nconns++;
}

/* The one way a metrics connection ends. */
static void
metrics_conn_free(struct metrics_conn *mc)
{
	struct metrics	*m = mc->mc_m;

	TAILQ_REMOVE(&m->m_conns, mc, mc_entry);
	m->m_nconns--;
	evtimer_del(&mc->mc_deadline);
	bufferevent_free(mc->mc_bev);
	http_request_clear(&mc->mc_req);
	free(mc);
}

/* The next request is due within header_timeout from now. */
static void
metrics_arm(struct metrics_conn *mc)
{
	struct timeval	tv;

	clock_tv(mc->mc_m->m_srv->s_snap->sn_cf->cf_header_timeout, &tv);
	evtimer_add(&mc->mc_deadline, &tv);
}

/* No whole request in time: drop the connection. */
static void
metrics_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct metrics_conn	*mc = arg;

	(void)fd;
	(void)what;
	if (mc->mc_close)
		return;		/* the last response is being written */
	log_debug("metrics: no request within header_timeout: closing");
	metrics_conn_free(mc);
}

/* Every figure, summed over the workers, into body. */
static void
metrics_body(struct server *s, struct evbuffer *body)
{
	struct stats		sum;
	struct stats_server	ss;
	struct stats_process	sp;

	stats_server(s, &sum, &ss);
	ss.ss_journal_dropped = systemd_journal_dropped();
	ss.ss_access_log_dropped = accesslog_dropped();
	(void)stats_process(&sp);
	stats_write(body, &sum, &ss, &sp);
}

/* Queue the response to mc's request: status, and a body unless HEAD. */
static void
metrics_respond(struct metrics_conn *mc, int status)
{
	struct evbuffer	*out = bufferevent_get_output(mc->mc_bev);
	struct evbuffer	*body;
	char		 date[PAGE_DATE_LEN + 1];
	const char	*type = "text/plain; charset=utf-8";

	if ((body = evbuffer_new()) == NULL) {
		mc->mc_close = 1;
		return;
	}
	if (status == 200) {
		metrics_body(mc->mc_m->m_srv, body);
		type = METRICS_TYPE;
	} else
		evbuffer_add_printf(body, "%d %s\n", status,
		    http_reason(status));
	date_format(time(NULL), date, sizeof date);
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n%s%s\r\n", status,
	    http_reason(status), date, type, evbuffer_get_length(body),
	    status == 405 ? "Allow: GET, HEAD\r\n" : "",
	    mc->mc_close ? "Connection: close\r\n" :
	    mc->mc_req.r_minor == 0 ? "Connection: keep-alive\r\n" : "");
	if (mc->mc_req.r_method != HTTP_M_HEAD)
		evbuffer_add_buffer(out, body);
	evbuffer_free(body);
}

/* Input: answer every complete request, in order. */
static void
metrics_read_cb(struct bufferevent *bev, void *arg)
{
	struct metrics_conn	*mc = arg;
	struct http_request	*r = &mc->mc_req;
	struct evbuffer		*in = bufferevent_get_input(bev);
	const char		*path;
	size_t			 len;
	int			 status = 400;

	while (!mc->mc_close && evbuffer_get_length(in) > 0) {
		switch (http_parse(r, in)) {
		case HTTP_NEED_MORE:
			return;
		case HTTP_ERROR:
			mc->mc_close = 1;
			status = r->r_status;
			break;
		case HTTP_COMPLETE:
			path = http_path(r, &len);
			if (len != strlen(METRICS_PATH) ||
			    memcmp(path, METRICS_PATH, len) != 0)
				status = 404;
			else if (r->r_method != HTTP_M_GET &&
			    r->r_method != HTTP_M_HEAD)
				status = 405;
			else
				status = 200;
			mc->mc_close = !http_keepalive(r);
			break;
		}
		metrics_respond(mc, status);
		metrics_arm(mc);
		http_request_reset(r);
		r->r_max_head = (size_t)
		    mc->mc_m->m_srv->s_snap->sn_cf->cf_max_header_size;
	}
	if (mc->mc_close)
		bufferevent_disable(bev, EV_READ);
}

/* Output written: close if that was the last response. */
static void
metrics_write_cb(struct bufferevent *bev, void *arg)
{
	struct metrics_conn	*mc = arg;

	(void)bev;
	if (mc->mc_close)
		metrics_conn_free(mc);
}

/* EOF, an error or a timeout: done with this client. */
static void
metrics_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct metrics_conn	*mc = arg;

	if ((what & BEV_EVENT_EOF) &&
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
		/* Half-closed after its request: finish the answer. */
		mc->mc_close = 1;
		bufferevent_disable(bev, EV_READ);
		return;
	}
	metrics_conn_free(mc);
}

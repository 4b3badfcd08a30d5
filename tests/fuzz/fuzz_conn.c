/* SPDX-License-Identifier: ISC */
/*
 * Fuzz harness for a whole connection: the bytes reach the real
 * connection code (server/conn.c) through a socket, and what comes back
 * is checked against what the requests asked for.
 *
 * Why a socketpair and not a bufferevent_pair: conn.c works on the
 * descriptor serve_new() is given: it makes a socket bufferevent on it,
 * reads a new connection at once and writes with evbuffer_write() into
 * and out of that bufferevent's buffers, and shuts the socket down for
 * the lingering close; none of that runs over a bufferevent_pair. One
 * end of socketpair(AF_UNIX,
 * SOCK_STREAM) goes to serve_new() on a real worker (worker_init(), as the
 * daemon makes them), so every line of conn.c runs as it does in hellod;
 * the harness is the client on the other end, and turns the worker's loop
 * with EVLOOP_NONBLOCK until nothing moves.
 *
 * Time is the harness's: every timeout in the configs is an hour, and a
 * timer "expires" when the harness makes it active (event_active()) while
 * it is armed. So /sleep answers, 408s, keep-alive and linger timeouts
 * happen exactly where the input says, and the same input always does the
 * same thing.
 *
 * The expected responses come from parsing the whole stream with
 * http_parse() (fuzz_http checks that fed whole and fed in pieces agree):
 * one per complete request, in order, up to and including the first that
 * closes the connection (an error, Connection: close, HTTP/1.0 without
 * keep-alive, or a config that never keeps alive), plus a 408 if a
 * request was left unfinished when its timer fired. Every response must
 * be well-formed (status line and reason, Date, Server, Cache-Control,
 * Content-Type and exactly one Content-Length, equal to the body's
 * length, except on a 304, Allow on 405, ETag and Last-Modified exactly
 * on the hello page and its 304), carry the body of the page the model
 * picked with pages_answer() (none for HEAD or a 304), say
 * Connection: close exactly when it closes and then be the last bytes
 * sent, and the connection must end once the client has closed and every
 * timer has fired, leaving no descriptor or connection behind.
 *
 * Flags (byte 0; fuzz.h has the rest of the layout):
 *	bits 0-1	config: default; max_header_size 256B;
 *			keepalive_timeout 0; max_connections 1
 *	0x04		fire the /sleep timer after each segment
 *	0x08		fire whatever timer is armed after each segment
 *	0x10		half-close the client right after the last segment
 *	0x20		slow reader: a small server send buffer, and the
 *			client reads nothing until all is sent
 *	0x40		the first segment is there before serve_new(), which
 *			reads it at once (and may answer and close)
 * With 0x08 or 0x10 the connection may end early: the responses must
 * then be a prefix of the expected ones (a 408 may take the place of the
 * next one after a header timer fired).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#define FUZZ_CONN_FIRE_SLEEP	0x04
#define FUZZ_CONN_FIRE_ANY	0x08
#define FUZZ_CONN_EARLY_EOF	0x10
#define FUZZ_CONN_SLOW		0x20
#define FUZZ_CONN_EARLY_DATA	0x40

#define FUZZ_CONN_NCONF		4
#define FUZZ_CONN_SETTLE_MAX	100000	/* loop turns before "busy" */
#define FUZZ_CONN_END_STEPS	8	/* end-phase steps, beyond one per
					   expected response, before "stuck" */
#define FUZZ_CONN_SNDBUF	4096	/* server send buffer, slow reader */

/* Long timeouts: only the harness makes timers expire. */
#define FUZZ_CONN_BASE \
	"access_log = off\nlog_level = error\nsleep = 60m\n" \
	"header_timeout = 60m\nwrite_timeout = 60m\n"

static const char	*fuzz_conn_configs[FUZZ_CONN_NCONF] = {
	FUZZ_CONN_BASE "keepalive_timeout = 60m\n",
	FUZZ_CONN_BASE "keepalive_timeout = 60m\nmax_header_size = 256B\n",
	FUZZ_CONN_BASE "keepalive_timeout = 0\n",
	FUZZ_CONN_BASE "keepalive_timeout = 60m\nmax_connections = 1\n",
};

/* One worker per config, made once. */
struct fuzz_conn_env {
	struct server	 ce_srv;
	struct worker	 ce_w;
	int		 ce_always_close;
};

static struct fuzz_conn_env	fuzz_conn_envs[FUZZ_CONN_NCONF];

/* One expected response. */
struct fuzz_conn_exp {
	const struct page	*ex_page;
	int			 ex_head;	/* HEAD: no body */
	int			 ex_close;	/* Connection: close, last */
	int			 ex_keepalive;	/* Connection: keep-alive */
};

/* One input's run. */
struct fuzz_conn_run {
	struct fuzz_conn_env	*cr_env;
	unsigned int		 cr_flags;
	int			 cr_fd;		/* the client's end */
	struct evbuffer		*cr_recv;	/* all the client read */
	int			 cr_recv_eof;
	int			 cr_send_failed;
	int			 cr_eof_sent;
	int			 cr_reset;	/* recv saw ECONNRESET */
	int			 cr_fired_reading;	/* 408 due */
	int			 cr_fired_head;		/* ... to a HEAD */

	struct fuzz_conn_exp	*cr_exp;
	size_t			 cr_nexp;
	int			 cr_pending;	/* a request left unfinished */
};

/* Write a page file for pages_load(). */
static void
fuzz_conn_write_file(const char *dir, const char *name, const char *text)
{
	char	*path;
	FILE	*f;

	if (asprintf(&path, "%s/%s", dir, name) == -1 ||
	    (f = fopen(path, "w")) == NULL)
		abort();
	fputs(text, f);
	if (fclose(f) != 0)
		abort();
	free(path);
}

/* Remove a page file. */
static void
fuzz_conn_unlink(const char *dir, const char *name)
{
	char	*path;

	if (asprintf(&path, "%s/%s", dir, name) == -1)
		abort();
	unlink(path);
	free(path);
}

/* Make the workers: a config, pages from a scratch root, worker_init(). */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char			 dir[] = "/tmp/fuzz_conn.XXXXXX";
	char			 page[2049];
	struct fuzz_conn_env	*e;
	struct config		*cf;
	struct pages		*ps;
	struct snapshot		*sn;
	char			*errors;
	size_t			 i;

	(void)argc;
	(void)argv;
	log_set_level(LOG_LEVEL_ERROR);
	if (mkdtemp(dir) == NULL)
		abort();
	/* Pages about the size of the real ones, so that a few responses
	 * fill the slow reader's socket buffer. */
	memset(page, 'h', sizeof page - 1);
	page[sizeof page - 1] = '\0';
	fuzz_conn_write_file(dir, "hello.html", page);
	page[sizeof page / 2] = '\0';
	memset(page, 'n', sizeof page / 2);
	fuzz_conn_write_file(dir, "404.html", page);
	for (i = 0; i < FUZZ_CONN_NCONF; i++) {
		e = &fuzz_conn_envs[i];
		cf = config_parse("/fuzz/hellod.conf", fuzz_conn_configs[i],
		    strlen(fuzz_conn_configs[i]), &errors);
		FUZZ_CHECK(cf != NULL, "config %zu: %s", i, errors);
		if ((ps = pages_load(dir, &errors)) == NULL)
			FUZZ_CHECK(0, "pages: %s", errors);
		if ((sn = snapshot_new(cf, ps)) == NULL)
			abort();
		e->ce_always_close = cf->cf_keepalive_timeout == 0 ||
		    cf->cf_max_connections <= 1;
		e->ce_srv.s_workers = &e->ce_w;
		e->ce_srv.s_nworkers = 1;
		if (worker_init(&e->ce_w, &e->ce_srv, 0, sn) == -1)
			FUZZ_CHECK(0, "worker_init: %s", strerror(errno));
		e->ce_w.w_accepting = 1;
		snapshot_unref(sn);	/* the worker holds it */
	}
	fuzz_conn_unlink(dir, "hello.html");
	fuzz_conn_unlink(dir, "404.html");
	rmdir(dir);
	return (0);
}

/* The expected responses: the stream parsed whole, as the server would. */
static void
fuzz_conn_model(struct fuzz_conn_run *run, const uint8_t *data, size_t len)
{
	struct worker		*w = &run->cr_env->ce_w;
	struct evbuffer		*in;
	struct http_request	 r;
	struct fuzz_conn_exp	*ex;
	const char		*path;
	size_t			 plen;
	enum http_result	 res;

	if ((in = evbuffer_new()) == NULL ||
	    (run->cr_exp = calloc(len + 1, sizeof *run->cr_exp)) == NULL)
		abort();
	evbuffer_add(in, data, len);
	http_request_init(&r, (size_t)w->w_cf->cf_max_header_size);
	for (;;) {
		res = http_parse(&r, in);
		if (res == HTTP_NEED_MORE) {
			run->cr_pending = r.r_state != HTTP_S_START;
			break;
		}
		FUZZ_CHECK(run->cr_nexp <= len, "more requests than bytes");
		ex = &run->cr_exp[run->cr_nexp++];
		ex->ex_head = r.r_method == HTTP_M_HEAD;
		if (res == HTTP_ERROR) {
			ex->ex_page = pages_for_status(w->w_pages, r.r_status);
			ex->ex_close = 1;
			break;
		}
		path = http_path(&r, &plen);
		ex->ex_page = pages_answer(w->w_pages,
		    route_page(route_match(r.r_method, path, plen)), &r);
		ex->ex_close = run->cr_env->ce_always_close ||
		    !http_keepalive(&r);
		ex->ex_keepalive = !ex->ex_close && r.r_minor == 0;
		if (ex->ex_close)
			break;
		http_request_reset(&r);
	}
	http_request_clear(&r);
	evbuffer_free(in);
}

/* The connection under test, or NULL once it has closed. */
static struct conn *
fuzz_conn_get(struct fuzz_conn_run *run)
{
	return (TAILQ_FIRST(&run->cr_env->ce_w.w_conns));
}

/* Read what the server sent; returns the number of bytes. */
static size_t
fuzz_conn_read(struct fuzz_conn_run *run)
{
	char	 buf[16384];
	ssize_t	 n;
	size_t	 total = 0;

	while (!run->cr_recv_eof) {
		n = recv(run->cr_fd, buf, sizeof buf, 0);
		if (n > 0) {
			evbuffer_add(run->cr_recv, buf, (size_t)n);
			total += (size_t)n;
		} else if (n == 0)
			run->cr_recv_eof = 1;
		else if (errno == ECONNRESET) {
			/* Closed on input it had not read (after the data
			 * it sent, which AF_UNIX delivers first). */
			run->cr_recv_eof = 1;
			run->cr_reset = 1;
		} else {
			FUZZ_CHECK(errno == EAGAIN || errno == EWOULDBLOCK,
			    "recv: %s", strerror(errno));
			break;
		}
	}
	return (total);
}

/* A fingerprint of everything that can move, to see when nothing does. */
static uint64_t
fuzz_conn_signature(struct fuzz_conn_run *run)
{
	struct conn	*c = fuzz_conn_get(run);
	uint64_t	 sig;

	sig = evbuffer_get_length(run->cr_recv) * 31 + run->cr_recv_eof;
	if (c == NULL)
		return (sig * 7 + 1);
	sig = sig * 31 + (uint64_t)c->c_state;
	sig = sig * 31 + (uint64_t)c->c_req.r_state;
	sig = sig * 31 + evbuffer_get_length(bufferevent_get_input(c->c_bev));
	sig = sig * 31 + evbuffer_get_length(bufferevent_get_output(c->c_bev));
	return (sig);
}

/*
 * Turn the loop until three turns in a row change nothing; read the
 * client's side between turns unless the client is a slow reader.
 */
static void
fuzz_conn_settle(struct fuzz_conn_run *run, int reading)
{
	struct worker	*w = &run->cr_env->ce_w;
	uint64_t	 before;
	int		 quiet = 0, i;

	for (i = 0; i < FUZZ_CONN_SETTLE_MAX && quiet < 3; i++) {
		before = fuzz_conn_signature(run);
		if (event_base_loop(w->w_base, EVLOOP_NONBLOCK) == -1)
			FUZZ_CHECK(0, "event_base_loop failed");
		if (reading)
			fuzz_conn_read(run);
		quiet = fuzz_conn_signature(run) == before ? quiet + 1 : 0;
	}
	FUZZ_CHECK(quiet >= 3, "the connection never settles");
}

/* Time passes for the connection's timer, if it is armed. */
static int
fuzz_conn_fire(struct fuzz_conn_run *run)
{
	struct conn	*c = fuzz_conn_get(run);

	if (c == NULL || !evtimer_pending(&c->c_timer, NULL))
		return (0);
	if (c->c_state == CONN_READING) {
		run->cr_fired_reading = 1;
		run->cr_fired_head = c->c_req.r_method == HTTP_M_HEAD;
	}
	event_active(&c->c_timer, EV_TIMEOUT, 1);
	return (1);
}

/* Send one segment, unless the server has gone. */
static void
fuzz_conn_send(struct fuzz_conn_run *run, const uint8_t *data, size_t len)
{
	ssize_t	n;

	while (len > 0 && !run->cr_send_failed) {
		n = send(run->cr_fd, data, len, MSG_NOSIGNAL);
		if (n > 0) {
			data += n;
			len -= (size_t)n;
		} else if (n == -1 && (errno == EAGAIN ||
		    errno == EWOULDBLOCK)) {
			fuzz_conn_settle(run, 1);	/* make room */
		} else {
			FUZZ_CHECK(errno == EPIPE || errno == ECONNRESET,
			    "send: %s", strerror(errno));
			FUZZ_CHECK(fuzz_conn_get(run) == NULL,
			    "send failed with the connection open");
			run->cr_send_failed = 1;
		}
	}
}

/*
 * After the input: answer what is due, then close the client's side and
 * let every armed timer fire, until the connection is gone.
 */
static void
fuzz_conn_finish(struct fuzz_conn_run *run)
{
	struct conn	*c;
	size_t		 i;

	for (i = 0; i < run->cr_nexp + FUZZ_CONN_END_STEPS; i++) {
		fuzz_conn_settle(run, 1);
		if ((c = fuzz_conn_get(run)) == NULL)
			break;
		if ((c->c_state == CONN_SLEEPING || c->c_state ==
		    CONN_READING) && fuzz_conn_fire(run))
			continue;
		if (!run->cr_eof_sent) {
			shutdown(run->cr_fd, SHUT_WR);
			run->cr_eof_sent = 1;
			continue;
		}
		FUZZ_CHECK(fuzz_conn_fire(run), "connection stuck in state "
		    "%d with nothing armed", (int)c->c_state);
	}
	FUZZ_CHECK(fuzz_conn_get(run) == NULL, "connection never ends");
	fuzz_conn_read(run);
	FUZZ_CHECK(run->cr_recv_eof, "socket left open");
}

/* Take one CRLF-terminated line from buf at *off; NULL if none. */
static const char *
fuzz_conn_line(const char *buf, size_t len, size_t *off, size_t *linelen)
{
	const char	*line = buf + *off, *cr;

	cr = memmem(line, len - *off, "\r\n", 2);
	if (cr == NULL)
		return (NULL);
	*linelen = (size_t)(cr - line);
	*off += *linelen + 2;
	return (line);
}

/* Whether a header line is "name: value" with the given name. */
static const char *
fuzz_conn_header(const char *line, size_t len, const char *name,
    size_t *vlen)
{
	size_t	n = strlen(name);

	if (len < n + 2 || strncmp(line, name, n) != 0 ||
	    line[n] != ':' || line[n + 1] != ' ')
		return (NULL);
	*vlen = len - n - 2;
	return (line + n + 2);
}

/* Check every response the client got against the expected ones. */
static void
fuzz_conn_check(struct fuzz_conn_run *run)
{
	const struct fuzz_conn_exp	*ex;
	struct fuzz_conn_exp		 ex408;
	struct worker			*w = &run->cr_env->ce_w;
	const char			*buf, *line, *v, *conn;
	size_t				 len, off = 0, ll, vl, i, nclen;
	size_t				 connlen, expected;
	unsigned long			 clen = 0;
	int				 strict, status, ndate, nserver, ntype;
	int				 nallow, ncc, nvalid, validated;
	char				 want[64];

	strict = !(run->cr_flags & (FUZZ_CONN_FIRE_ANY | FUZZ_CONN_EARLY_EOF));
	len = evbuffer_get_length(run->cr_recv);
	buf = (const char *)evbuffer_pullup(run->cr_recv, -1);
	memset(&ex408, 0, sizeof ex408);
	ex408.ex_page = pages_for_status(w->w_pages, 408);
	ex408.ex_head = run->cr_fired_head;
	ex408.ex_close = 1;

	for (i = 0; off < len; i++) {
		/* Status line. */
		line = fuzz_conn_line(buf, len, &off, &ll);
		FUZZ_CHECK(line != NULL, "response %zu: no status line", i);
		FUZZ_CHECK(ll > 13 && memcmp(line, "HTTP/1.1 ", 9) == 0 &&
		    line[9] >= '1' && line[9] <= '5' && line[12] == ' ',
		    "response %zu: status line '%.*s'", i, (int)ll, line);
		status = atoi(line + 9);
		FUZZ_CHECK(ll - 13 == strlen(http_reason(status)) &&
		    memcmp(line + 13, http_reason(status), ll - 13) == 0,
		    "response %zu: reason in '%.*s'", i, (int)ll, line);

		/* Which request it answers. */
		if (run->cr_fired_reading && status == 408 &&
		    (i == run->cr_nexp || (!strict && i < run->cr_nexp)))
			ex = &ex408;
		else {
			FUZZ_CHECK(i < run->cr_nexp, "response %zu (%d) but "
			    "only %zu expected", i, status, run->cr_nexp);
			ex = &run->cr_exp[i];
		}
		FUZZ_CHECK(status == ex->ex_page->p_status, "response %zu: "
		    "%d, expected %d", i, status, ex->ex_page->p_status);

		/* Header fields. */
		nclen = ndate = nserver = ntype = nallow = ncc = nvalid = 0;
		clen = 0;
		conn = NULL;
		connlen = 0;
		for (;;) {
			line = fuzz_conn_line(buf, len, &off, &ll);
			FUZZ_CHECK(line != NULL, "response %zu: head cut short",
			    i);
			if (ll == 0)
				break;
			if ((v = fuzz_conn_header(line, ll, "Content-Length",
			    &vl)) != NULL) {
				nclen++;
				FUZZ_CHECK(vl > 0 && vl < 10 && strspn(v,
				    "0123456789") >= vl, "Content-Length "
				    "'%.*s'", (int)vl, v);
				clen = strtoul(v, NULL, 10);
			} else if ((v = fuzz_conn_header(line, ll, "Date",
			    &vl)) != NULL) {
				ndate++;
				FUZZ_CHECK(vl == PAGE_DATE_LEN &&
				    memcmp(v + vl - 4, " GMT", 4) == 0,
				    "Date '%.*s'", (int)vl, v);
			} else if ((v = fuzz_conn_header(line, ll, "Server",
			    &vl)) != NULL) {
				nserver++;
				snprintf(want, sizeof want, "hellod/%s",
				    PACKAGE_VERSION);
				FUZZ_CHECK(vl == strlen(want) &&
				    memcmp(v, want, vl) == 0, "Server '%.*s'",
				    (int)vl, v);
			} else if (fuzz_conn_header(line, ll, "Content-Type",
			    &vl) != NULL)
				ntype++;
			else if (fuzz_conn_header(line, ll, "Allow", &vl) !=
			    NULL)
				nallow++;
			else if ((v = fuzz_conn_header(line, ll,
			    "Cache-Control", &vl)) != NULL) {
				ncc++;
				FUZZ_CHECK(vl == 8 &&
				    memcmp(v, "no-cache", 8) == 0,
				    "Cache-Control '%.*s'", (int)vl, v);
			} else if (fuzz_conn_header(line, ll, "ETag", &vl) !=
			    NULL || fuzz_conn_header(line, ll,
			    "Last-Modified", &vl) != NULL)
				nvalid++;
			else if ((v = fuzz_conn_header(line, ll, "Connection",
			    &vl)) != NULL) {
				FUZZ_CHECK(conn == NULL,
				    "two Connection fields");
				conn = v;
				connlen = vl;
			} else
				FUZZ_CHECK(0, "response %zu: unexpected field "
				    "'%.*s'", i, (int)ll, line);
		}
		FUZZ_CHECK(nclen == (status != 304) && ndate == 1 &&
		    nserver == 1 && ntype == (status != 304) && ncc == 1,
		    "response %zu: CL %zu Date %d Server %d Content-Type %d "
		    "Cache-Control %d", i, nclen, ndate, nserver, ntype, ncc);
		validated = status == 304 || ex->ex_page->p_notmod != NULL;
		FUZZ_CHECK(nvalid == (validated ? 2 : 0), "response %zu: %d "
		    "of ETag and Last-Modified", i, nvalid);
		FUZZ_CHECK(nallow == (status == 405), "response %zu: Allow %d",
		    i, nallow);
		FUZZ_CHECK(clen == ex->ex_page->p_bodylen, "response %zu: "
		    "Content-Length %lu for a body of %zu", i, clen,
		    ex->ex_page->p_bodylen);

		/* The body, unless HEAD (a 304's is empty). */
		if (!ex->ex_head) {
			FUZZ_CHECK(len - off >= clen, "response %zu: body cut "
			    "short: %zu of %lu bytes", i, len - off, clen);
			FUZZ_CHECK(memcmp(buf + off, ex->ex_page->p_body,
			    clen) == 0, "response %zu: wrong body", i);
			off += clen;
		}

		/* Connection: close exactly when it closes; then nothing. */
		if (conn != NULL && connlen == 5 &&
		    memcmp(conn, "close", 5) == 0) {
			FUZZ_CHECK(!strict || ex->ex_close, "response %zu: "
			    "close, not expected", i);
			FUZZ_CHECK(off == len, "response %zu: %zu bytes after "
			    "Connection: close", i, len - off);
		} else {
			FUZZ_CHECK(!ex->ex_close, "response %zu: no "
			    "Connection: close", i);
			if (ex->ex_keepalive)
				FUZZ_CHECK(conn != NULL && connlen == 10 &&
				    memcmp(conn, "keep-alive", 10) == 0,
				    "response %zu: no keep-alive", i);
			else
				FUZZ_CHECK(conn == NULL, "response %zu: "
				    "Connection '%.*s'", i, (int)connlen, conn);
		}
	}

	if (strict) {
		FUZZ_CHECK(!run->cr_reset, "connection reset by the server");
		expected = run->cr_nexp + (run->cr_fired_reading ? 1 : 0);
		FUZZ_CHECK(i == expected, "%zu responses, expected %zu", i,
		    expected);
		FUZZ_CHECK(run->cr_fired_reading == (run->cr_pending &&
		    (run->cr_nexp == 0 ||
		    !run->cr_exp[run->cr_nexp - 1].ex_close)),
		    "a request left unfinished: %d, header timer fired: %d",
		    run->cr_pending, run->cr_fired_reading);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input	 fi;
	struct fuzz_conn_run	 run;
	struct fuzz_conn_env	*e;
	struct sockaddr_in	 sin;
	struct conn		*c;
	size_t			 i, off = 0;
	int			 sv[2], sndbuf = FUZZ_CONN_SNDBUF, reading;

	if (fuzz_input(&fi, data, size) == -1)
		return (0);
	memset(&run, 0, sizeof run);
	run.cr_flags = fi.fi_flags;
	run.cr_env = e = &fuzz_conn_envs[fi.fi_flags & 3];
	reading = !(fi.fi_flags & FUZZ_CONN_SLOW);
	if ((run.cr_recv = evbuffer_new()) == NULL)
		abort();
	fuzz_conn_model(&run, fi.fi_data, fi.fi_len);

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1)
		FUZZ_CHECK(0, "socketpair: %s", strerror(errno));
	if (!reading && setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof sndbuf) == -1)
		FUZZ_CHECK(0, "SO_SNDBUF: %s", strerror(errno));
	run.cr_fd = sv[0];
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(40000);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	i = 0;
	if (fi.fi_flags & FUZZ_CONN_EARLY_DATA) {
		fuzz_conn_send(&run, fi.fi_data, fi.fi_seg[0]);
		off = fi.fi_seg[i++];
	}
	FUZZ_CHECK(serve_new(&e->ce_w, sv[1], (struct sockaddr *)&sin,
	    sizeof sin) == 0, "serve_new failed");
	c = fuzz_conn_get(&run);
	FUZZ_CHECK(i > 0 || (c != NULL && c->c_state == CONN_IDLE_NEW),
	    "no new connection");
	if (i > 0)
		fuzz_conn_settle(&run, reading);

	for (; i < fi.fi_nseg; i++) {
		fuzz_conn_send(&run, fi.fi_data + off, fi.fi_seg[i]);
		off += fi.fi_seg[i];
		fuzz_conn_settle(&run, reading);
		c = fuzz_conn_get(&run);
		if (c == NULL)
			continue;
		if ((fi.fi_flags & FUZZ_CONN_FIRE_ANY) ||
		    ((fi.fi_flags & FUZZ_CONN_FIRE_SLEEP) &&
		    c->c_state == CONN_SLEEPING)) {
			if (fuzz_conn_fire(&run))
				fuzz_conn_settle(&run, reading);
		}
	}
	if (fi.fi_flags & FUZZ_CONN_EARLY_EOF) {
		shutdown(run.cr_fd, SHUT_WR);
		run.cr_eof_sent = 1;
		fuzz_conn_settle(&run, reading);
	}
	fuzz_conn_finish(&run);
	fuzz_conn_check(&run);

	/* Nothing of the connection is left behind. */
	FUZZ_CHECK(e->ce_w.w_nconns == 0 && TAILQ_EMPTY(&e->ce_w.w_idle) &&
	    atomic_load(&e->ce_srv.s_nconns) == 0 &&
	    atomic_load(&e->ce_srv.s_limited) == 0,
	    "worker left with %zu connections", e->ce_w.w_nconns);
	close(sv[0]);
	evbuffer_free(run.cr_recv);
	free(run.cr_exp);
	return (0);
}

/* SPDX-License-Identifier: ISC */
/*
 * restartload: constant HTTP load that counts what a server restart costs,
 * for tests/restart/test_restarts.py.
 *
 * Usage: restartload -p PORT [-k N] [-c N] [-s N] [-d SECS] [-t SECS]
 *            [-l LEN] [-o FILE]
 *
 * Keeps three kinds of connections to 127.0.0.1:PORT busy on one epoll loop,
 * each sending its next request as soon as the previous one is over:
 *   -k N  keep-alive connections asking GET / (default 10);
 *   -c N  connections asking GET / with "Connection: close", one request
 *         each, reconnecting at once (default 10);
 *   -s N  keep-alive connections asking GET /sleep (default 10).
 * It runs for SECS seconds (-d, default 60) or until SIGINT or SIGTERM.
 * Every request ends in exactly one class:
 *   ok        a complete "HTTP/1.1 200" framed by Content-Length (of LEN
 *             bytes if -l is given);
 *   refused   connect() failed with ECONNREFUSED;
 *   reset     ECONNRESET or EPIPE, or EOF before a complete response, on a
 *             new connection or after response bytes arrived;
 *   idle_fin  on a keep-alive connection that had already carried a
 *             response, EOF (the server's FIN) before any byte of the next
 *             response: the server closed the idle connection, which a
 *             client may retry (RFC 9112, 9.3.1);
 *   idle_rst  the same, but ended by ECONNRESET/EPIPE (an RST), which the
 *             retry rule does not excuse;
 *   timeout   not over after -t SECS (default 10);
 *   other     another status, bad framing, another error.
 * After any failure the connection is closed and reopened 1 ms later (a
 * refused connect() on loopback fails at once; without the pause one
 * connection would spin). Requests still open when the run ends are
 * counted as unfinished, not failed.
 *
 * Prints key=value lines to stdout: start and end (CLOCK_MONOTONIC
 * seconds, the clock of Python's time.monotonic()), one count per class,
 * ok_keepalive, ok_close, ok_sleep, idle_fin_then_rst (the idle_fin
 * requests whose FIN was followed by an RST: the server had closed the
 * socket outright and our request reached it after), unfinished. With -o,
 * writes FILE: one line per failure, "fail CLASS KIND T_START T_END SENT GOT" (KIND is
 * keepalive, close or sleep; T_START when the request began, connect
 * included; T_END when it failed; SENT request bytes written, GOT response
 * bytes read), then one "okbin T N" line per 100 ms with N > 0 complete
 * responses. Exit 0, or 64 on a usage error, 1 on a setup error.
 */

#include <sys/epoll.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define RL_HEADMAX	2048	/* bytes of a response head */
#define RL_MAXEVENTS	256
#define RL_RETRY	0.001	/* pause before reopening after a failure */
#define RL_BIN		0.1	/* width of an okbin */

enum rl_class {
	RL_OK,
	RL_REFUSED,
	RL_RESET,
	RL_IDLE_FIN,
	RL_IDLE_RST,
	RL_TIMEOUT,
	RL_OTHER,
	RL_NCLASS
};

static const char *rl_classname[RL_NCLASS] = {
	"ok", "refused", "reset", "idle_fin", "idle_rst", "timeout", "other"
};

enum rl_kind {
	RL_KEEPALIVE,
	RL_CLOSE,
	RL_SLEEP,
	RL_NKIND
};

static const char *rl_kindname[RL_NKIND] = { "keepalive", "close", "sleep" };

static const char *rl_request[RL_NKIND] = {
	"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
	"GET /sleep HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
};

enum rl_state {
	RL_WAIT,		/* no socket; reopen at c_retry */
	RL_CONNECTING,
	RL_SENDING,
	RL_READING,
};

struct rl_conn {
	int		 c_fd;
	enum rl_kind	 c_kind;
	enum rl_state	 c_state;
	double		 c_retry;	/* RL_WAIT: when to reopen */
	double		 c_start;	/* when the current request began */
	long		 c_done;	/* responses on this connection */
	size_t		 c_sent;	/* request bytes written */
	size_t		 c_got;		/* response bytes read */
	size_t		 c_headlen;
	int		 c_inbody;
	size_t		 c_clen;
	size_t		 c_body;
	int		 c_close;	/* response said Connection: close */
	char		 c_head[RL_HEADMAX];
};

struct rl_fail {
	enum rl_class	 f_class;
	enum rl_kind	 f_kind;
	double		 f_start;
	double		 f_end;
	size_t		 f_sent;
	size_t		 f_got;
};

struct rl {
	struct sockaddr_in	 r_sin;
	int			 r_ep;
	double			 r_t0;
	double			 r_timeout;
	long			 r_len;		/* expected body length, or -1 */
	long			 r_count[RL_NCLASS];
	long			 r_finrst;	/* idle_fin with an RST after the FIN */
	long			 r_okkind[RL_NKIND];
	struct rl_fail		*r_fails;
	size_t			 r_nfails;
	size_t			 r_capfails;
	long			*r_bins;
	size_t			 r_nbins;
};

static volatile sig_atomic_t rl_stop;

static double	rl_now(void);
static void	rl_onsignal(int);
static void	rl_open(struct rl *, struct rl_conn *);
static void	rl_send(struct rl *, struct rl_conn *);
static void	rl_read(struct rl *, struct rl_conn *);
static int	rl_feed(struct rl *, struct rl_conn *, const char *, size_t);
static void	rl_fail(struct rl *, struct rl_conn *, enum rl_class);
static void	rl_fail_io(struct rl *, struct rl_conn *, int);
static void	rl_next(struct rl *, struct rl_conn *);
static void	rl_drop(struct rl *, struct rl_conn *);
static void	rl_usage(void);

static double
rl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
rl_onsignal(int sig)
{
	(void)sig;
	rl_stop = 1;
}

/* Close the connection's socket, if any. */
static void
rl_drop(struct rl *r, struct rl_conn *c)
{
	(void)r;
	if (c->c_fd != -1)
		close(c->c_fd);	/* also leaves the epoll set */
	c->c_fd = -1;
}

/* Begin a request on a new connection. */
static void
rl_open(struct rl *r, struct rl_conn *c)
{
	struct epoll_event ev;
	int one = 1;

	c->c_start = rl_now();
	c->c_done = 0;
	c->c_sent = c->c_got = c->c_headlen = c->c_clen = c->c_body = 0;
	c->c_inbody = c->c_close = 0;
	c->c_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->c_fd == -1) {
		rl_fail(r, c, RL_OTHER);
		return;
	}
	setsockopt(c->c_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->c_fd, (struct sockaddr *)&r->r_sin, sizeof(r->r_sin)) == -1 &&
	    errno != EINPROGRESS) {
		rl_fail(r, c, errno == ECONNREFUSED ? RL_REFUSED : RL_OTHER);
		return;
	}
	c->c_state = RL_CONNECTING;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	ev.data.ptr = c;
	if (epoll_ctl(r->r_ep, EPOLL_CTL_ADD, c->c_fd, &ev) == -1) {
		perror("restartload: epoll_ctl");
		exit(1);
	}
}

/* Write what is left of the request. */
static void
rl_send(struct rl *r, struct rl_conn *c)
{
	const char *req = rl_request[c->c_kind];
	size_t len = strlen(req);
	struct epoll_event ev;
	ssize_t n;

	while (c->c_sent < len) {
		n = send(c->c_fd, req + c->c_sent, len - c->c_sent, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			rl_fail_io(r, c, errno);
			return;
		}
		c->c_sent += n;
	}
	c->c_state = RL_READING;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = c;
	epoll_ctl(r->r_ep, EPOLL_CTL_MOD, c->c_fd, &ev);
}

/* Start the next request on the same connection. */
static void
rl_next(struct rl *r, struct rl_conn *c)
{
	struct epoll_event ev;

	c->c_start = rl_now();
	c->c_sent = c->c_got = c->c_headlen = c->c_clen = c->c_body = 0;
	c->c_inbody = c->c_close = 0;
	c->c_state = RL_SENDING;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	ev.data.ptr = c;
	epoll_ctl(r->r_ep, EPOLL_CTL_MOD, c->c_fd, &ev);
	rl_send(r, c);
}

/* Record a failed request and schedule a new connection. */
static void
rl_fail(struct rl *r, struct rl_conn *c, enum rl_class cl)
{
	struct rl_fail *f;

	if (r->r_nfails == r->r_capfails) {
		r->r_capfails = r->r_capfails ? 2 * r->r_capfails : 1024;
		r->r_fails = realloc(r->r_fails, r->r_capfails * sizeof(*f));
		if (r->r_fails == NULL) {
			perror("restartload: realloc");
			exit(1);
		}
	}
	f = &r->r_fails[r->r_nfails++];
	f->f_class = cl;
	f->f_kind = c->c_kind;
	f->f_start = c->c_start;
	f->f_end = rl_now();
	f->f_sent = c->c_sent;
	f->f_got = c->c_got;
	r->r_count[cl]++;
	rl_drop(r, c);
	c->c_state = RL_WAIT;
	c->c_retry = f->f_end + RL_RETRY;
}

/*
 * An I/O error (err) or, with err 0, EOF before the response was complete.
 * A keep-alive connection that already carried a response and has not
 * seen a byte of the next one was closed by the server while idle.
 */
static void
rl_fail_io(struct rl *r, struct rl_conn *c, int err)
{
	int idle = c->c_done > 0 && c->c_got == 0;

	if (err == 0)
		rl_fail(r, c, idle ? RL_IDLE_FIN : RL_RESET);
	else if (err == ECONNRESET || err == EPIPE)
		rl_fail(r, c, idle ? RL_IDLE_RST : RL_RESET);
	else if (err == ECONNREFUSED)
		rl_fail(r, c, RL_REFUSED);
	else
		rl_fail(r, c, RL_OTHER);
}

/*
 * Take n response bytes. Returns 1 when the response is complete (and the
 * connection may carry on), 0 for more, -1 after a failure was recorded.
 */
static int
rl_feed(struct rl *r, struct rl_conn *c, const char *buf, size_t n)
{
	size_t take;
	char *end, *p;

	while (n > 0) {
		if (c->c_inbody) {
			take = c->c_clen - c->c_body;
			if (take == 0) {	/* bytes after the body */
				rl_fail(r, c, RL_OTHER);
				return -1;
			}
			if (take > n)
				take = n;
			c->c_body += take;
			buf += take;
			n -= take;
			continue;
		}
		take = sizeof(c->c_head) - 1 - c->c_headlen;
		if (take == 0) {
			rl_fail(r, c, RL_OTHER);
			return -1;
		}
		if (take > n)
			take = n;
		memcpy(c->c_head + c->c_headlen, buf, take);
		c->c_head[c->c_headlen + take] = '\0';
		end = strstr(c->c_head, "\r\n\r\n");
		if (end == NULL) {
			c->c_headlen += take;
			buf += take;
			n -= take;
			continue;
		}
		/* The head ends inside this chunk: the rest is body. */
		take = (size_t)(end + 4 - c->c_head) - c->c_headlen;
		buf += take;
		n -= take;
		c->c_headlen += take;
		*end = '\0';
		if (strncmp(c->c_head, "HTTP/1.1 200 ", 13) != 0) {
			rl_fail(r, c, RL_OTHER);
			return -1;
		}
		p = strcasestr(c->c_head, "\r\nContent-Length:");
		if (p == NULL) {
			rl_fail(r, c, RL_OTHER);
			return -1;
		}
		c->c_clen = strtoul(p + 17, NULL, 10);
		if (r->r_len >= 0 && c->c_clen != (size_t)r->r_len) {
			rl_fail(r, c, RL_OTHER);
			return -1;
		}
		c->c_close = strcasestr(c->c_head, "\r\nConnection: close") != NULL;
		c->c_inbody = 1;
	}
	return c->c_inbody && c->c_body == c->c_clen;
}

/* Read what the server sent; on a complete response, go on. */
static void
rl_read(struct rl *r, struct rl_conn *c)
{
	char buf[16384];
	ssize_t n;
	size_t bin;
	int done;

	for (;;) {
		n = recv(c->c_fd, buf, sizeof(buf), 0);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			rl_fail_io(r, c, errno);
			return;
		}
		if (n == 0) {
			int err = 0;
			socklen_t len = sizeof(err);

			/* An RST behind the FIN (our request hit a closed socket). */
			if (c->c_done > 0 && c->c_got == 0 &&
			    getsockopt(c->c_fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
			    err != 0)
				r->r_finrst++;
			rl_fail_io(r, c, 0);
			return;
		}
		c->c_got += n;
		done = rl_feed(r, c, buf, n);
		if (done == -1)
			return;
		if (done == 1)
			break;
	}
	r->r_count[RL_OK]++;
	r->r_okkind[c->c_kind]++;
	bin = (rl_now() - r->r_t0) / RL_BIN;
	if (bin < r->r_nbins)
		r->r_bins[bin]++;
	c->c_done++;
	if (c->c_kind == RL_CLOSE || c->c_close) {
		rl_drop(r, c);
		rl_open(r, c);
	} else
		rl_next(r, c);
}

static void
rl_usage(void)
{
	fprintf(stderr, "usage: restartload -p PORT [-k N] [-c N] [-s N] [-d SECS] "
	    "[-t SECS] [-l LEN] [-o FILE]\n");
	exit(64);
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[RL_MAXEVENTS];
	struct sigaction sa;
	struct rl r;
	struct rl_conn *conns, *c;
	const char *out = NULL;
	double dur = 60, now, end, wake;
	long nk[RL_NKIND] = { 10, 10, 10 };
	long unfinished = 0;
	int port = 0, ch, n, i, k, ms;
	size_t nconns, j;
	FILE *f;

	memset(&r, 0, sizeof(r));
	r.r_timeout = 10;
	r.r_len = -1;
	while ((ch = getopt(argc, argv, "p:k:c:s:d:t:l:o:")) != -1) {
		switch (ch) {
		case 'p': port = atoi(optarg); break;
		case 'k': nk[RL_KEEPALIVE] = atol(optarg); break;
		case 'c': nk[RL_CLOSE] = atol(optarg); break;
		case 's': nk[RL_SLEEP] = atol(optarg); break;
		case 'd': dur = atof(optarg); break;
		case 't': r.r_timeout = atof(optarg); break;
		case 'l': r.r_len = atol(optarg); break;
		case 'o': out = optarg; break;
		default: rl_usage();
		}
	}
	if (port <= 0 || port > 65535 || dur <= 0 || r.r_timeout <= 0 ||
	    nk[0] < 0 || nk[1] < 0 || nk[2] < 0 || nk[0] + nk[1] + nk[2] == 0 ||
	    optind != argc)
		rl_usage();

	r.r_sin.sin_family = AF_INET;
	r.r_sin.sin_port = htons(port);
	r.r_sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r.r_ep = epoll_create1(EPOLL_CLOEXEC);
	if (r.r_ep == -1) {
		perror("restartload: epoll_create1");
		return 1;
	}
	nconns = nk[0] + nk[1] + nk[2];
	conns = calloc(nconns, sizeof(*conns));
	r.r_nbins = dur / RL_BIN + 2;
	r.r_bins = calloc(r.r_nbins, sizeof(*r.r_bins));
	if (conns == NULL || r.r_bins == NULL) {
		perror("restartload: calloc");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = rl_onsignal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	r.r_t0 = rl_now();
	end = r.r_t0 + dur;
	for (j = 0, k = 0; k < RL_NKIND; k++)
		for (i = 0; i < nk[k]; i++, j++) {
			conns[j].c_fd = -1;
			conns[j].c_kind = k;
			rl_open(&r, &conns[j]);
		}

	while (!rl_stop && (now = rl_now()) < end) {
		/* Reopen the waiting connections that are due; time out the rest. */
		wake = now + 0.05;
		for (j = 0; j < nconns; j++) {
			c = &conns[j];
			if (c->c_state == RL_WAIT) {
				if (c->c_retry <= now)
					rl_open(&r, c);
				else if (c->c_retry < wake)
					wake = c->c_retry;
			} else if (now - c->c_start > r.r_timeout)
				rl_fail(&r, c, RL_TIMEOUT);
		}
		ms = (int)((wake - now) * 1000 + 0.999);
		n = epoll_wait(r.r_ep, evs, RL_MAXEVENTS, ms);
		if (n == -1 && errno != EINTR) {
			perror("restartload: epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++) {
			c = evs[i].data.ptr;
			if (c->c_fd == -1)
				continue;
			if (c->c_state == RL_CONNECTING) {
				int err = 0;
				socklen_t len = sizeof(err);

				if (!(evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
					continue;
				getsockopt(c->c_fd, SOL_SOCKET, SO_ERROR, &err, &len);
				if (err != 0) {
					rl_fail(&r, c, err == ECONNREFUSED ? RL_REFUSED :
					    err == ECONNRESET ? RL_RESET : RL_OTHER);
					continue;
				}
				c->c_state = RL_SENDING;
				rl_send(&r, c);
				continue;
			}
			if (c->c_state == RL_SENDING && (evs[i].events & EPOLLOUT))
				rl_send(&r, c);
			if (c->c_fd != -1 && (evs[i].events &
			    (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
				rl_read(&r, c);
		}
	}
	now = rl_now();
	for (j = 0; j < nconns; j++)
		if (conns[j].c_state != RL_WAIT)
			unfinished++;

	printf("start=%.6f\nend=%.6f\n", r.r_t0, now);
	for (k = 0; k < RL_NCLASS; k++)
		printf("%s=%ld\n", rl_classname[k], r.r_count[k]);
	for (k = 0; k < RL_NKIND; k++)
		printf("ok_%s=%ld\n", rl_kindname[k], r.r_okkind[k]);
	printf("idle_fin_then_rst=%ld\n", r.r_finrst);
	printf("unfinished=%ld\n", unfinished);
	if (out != NULL) {
		if ((f = fopen(out, "w")) == NULL) {
			perror(out);
			return 1;
		}
		for (j = 0; j < r.r_nfails; j++)
			fprintf(f, "fail %s %s %.6f %.6f %zu %zu\n",
			    rl_classname[r.r_fails[j].f_class],
			    rl_kindname[r.r_fails[j].f_kind], r.r_fails[j].f_start,
			    r.r_fails[j].f_end, r.r_fails[j].f_sent, r.r_fails[j].f_got);
		for (j = 0; j < r.r_nbins; j++)
			if (r.r_bins[j] > 0)
				fprintf(f, "okbin %.6f %ld\n", r.r_t0 + j * RL_BIN,
				    r.r_bins[j]);
		if (fclose(f) == EOF) {
			perror(out);
			return 1;
		}
	}
	return 0;
}

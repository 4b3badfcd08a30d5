/* SPDX-License-Identifier: ISC */
/*
 * loadclient: a fixed number of requests against hellod, each response
 * checked, for the soak test (tests/stress/test_soak.py).
 *
 * Usage: loadclient -p PORT [-n N] [-c CONNS] [-k | -s] [-u PATH]
 *            [-b FILE] [-t TIMEOUT] [-S NSRC]
 *
 * Sends N requests "GET PATH" (default /) to 127.0.0.1:PORT over CONNS
 * (default 50) non-blocking connections on one epoll loop:
 *   -k  keep-alive (the default): each connection sends its next request
 *       as soon as the previous response is in, until N have been sent;
 *   -s  short: one request per connection, with "Connection: close"; the
 *       server must close after the response, CONNS connections at a time.
 * Every response must be "HTTP/1.1 200", framed by Content-Length, with
 * exactly the bytes of FILE as its body if -b is given, and nothing after
 * it but, with -s, the server's close. Short connections come from the
 * source addresses 127.0.0.1 .. 127.0.0.NSRC in turn (default 8), so that
 * 100,000 of them do not run out of ephemeral ports. Everything is bounded
 * by TIMEOUT seconds (default 300). The soft descriptor limit is raised to
 * the hard one.
 *
 * Prints key=value lines: n, ok (good responses), bad (wrong status,
 * framing or body), errors (connect or I/O failures, early close, unsent
 * at the deadline), wall_s, rps. Exit 0 when every request got a good
 * response, 1 otherwise, 64 on a usage error.
 */

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LC_HEADMAX	1024	/* bytes of a response head */
#define LC_MAXEVENTS	512

enum lc_state {
	LC_IDLE,		/* no connection */
	LC_CONNECTING,
	LC_HEAD,		/* request sent, reading the head */
	LC_BODY,
	LC_EOF,			/* response in, waiting for the close (-s) */
};

struct lc_conn {
	int		 c_fd;
	enum lc_state	 c_state;
	size_t		 c_headlen;
	size_t		 c_clen;	/* body length from the head */
	size_t		 c_got;		/* body bytes so far */
	char		 c_head[LC_HEADMAX];
};

struct lc {
	struct sockaddr_in	 l_sin;
	int			 l_ep;
	int			 l_short;
	int			 l_nsrc;
	char			 l_req[256];
	size_t			 l_reqlen;
	const char		*l_body;	/* expected body, or NULL */
	size_t			 l_bodylen;
	long			 l_n;		/* requests to make */
	long			 l_started;	/* requests sent or being sent */
	long			 l_ok;
	long			 l_bad;
	long			 l_errors;
	long			 l_conns;	/* connections opened (-s) */
};

static double	lc_now(void);
static int	lc_open(struct lc *, struct lc_conn *);
static int	lc_send(struct lc *, struct lc_conn *);
static int	lc_feed(struct lc *, struct lc_conn *, const char *, size_t);
static void	lc_end(struct lc *, struct lc_conn *, int);
static void	lc_event(struct lc *, struct lc_conn *);
static char	*lc_readfile(const char *, size_t *);
static void	lc_usage(void);

/* Monotonic time in seconds. */
static double
lc_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/*
 * Start a connection for c (from the next source address with -s) and
 * count a request for it. Returns 0, or -1 (counted as an error).
 */
static int
lc_open(struct lc *l, struct lc_conn *c)
{
	struct epoll_event	ev;
	struct sockaddr_in	sa;
	int			fd, on = 1;

	l->l_started++;
	memset(c, 0, sizeof *c);
	c->c_fd = -1;
	c->c_state = LC_IDLE;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK +
	    (uint32_t)(l->l_conns++ % l->l_nsrc));
	if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on,
	    sizeof on) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == -1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1)
		goto fail;
	if (connect(fd, (struct sockaddr *)&l->l_sin, sizeof l->l_sin) == -1 &&
	    errno != EINPROGRESS)
		goto fail;
	ev.events = EPOLLOUT;
	ev.data.ptr = c;
	if (epoll_ctl(l->l_ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		goto fail;
	c->c_fd = fd;
	c->c_state = LC_CONNECTING;
	return (0);

fail:
	if (fd != -1)
		close(fd);
	l->l_errors++;
	return (-1);
}

/* Send the request on c (it fits the socket buffer: it is small). */
static int
lc_send(struct lc *l, struct lc_conn *c)
{
	struct epoll_event	ev;

	if (write(c->c_fd, l->l_req, l->l_reqlen) != (ssize_t)l->l_reqlen)
		return (-1);
	c->c_state = LC_HEAD;
	c->c_headlen = c->c_clen = c->c_got = 0;
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	return (epoll_ctl(l->l_ep, EPOLL_CTL_MOD, c->c_fd, &ev));
}

/*
 * Feed n bytes read from c. Returns 1 when a response is complete and
 * good, 0 when more is needed, -1 for a bad response.
 */
static int
lc_feed(struct lc *l, struct lc_conn *c, const char *buf, size_t n)
{
	const char	*end, *cl;
	size_t		 take, hl;

	if (c->c_state == LC_EOF)
		return (-1);	/* bytes after the response */
	if (c->c_state == LC_HEAD) {
		take = sizeof c->c_head - 1 - c->c_headlen;
		if (take > n)
			take = n;
		memcpy(c->c_head + c->c_headlen, buf, take);
		c->c_headlen += take;
		c->c_head[c->c_headlen] = '\0';
		if ((end = strstr(c->c_head, "\r\n\r\n")) == NULL)
			return (c->c_headlen == sizeof c->c_head - 1 ? -1 : 0);
		if (strncmp(c->c_head, "HTTP/1.1 200 ", 13) != 0 ||
		    (cl = strcasestr(c->c_head, "\r\nContent-Length: ")) ==
		    NULL || cl > end)
			return (-1);
		c->c_clen = strtoul(cl + 18, NULL, 10);
		if (l->l_body != NULL && c->c_clen != l->l_bodylen)
			return (-1);
		hl = (size_t)(end + 4 - c->c_head);
		c->c_state = LC_BODY;
		/* Body bytes in the head buffer, then the rest of buf. */
		if (lc_feed(l, c, c->c_head + hl, c->c_headlen - hl) == -1)
			return (-1);
		buf += take;
		n -= take;
	}
	if (c->c_got + n > c->c_clen)
		return (-1);	/* more than the response */
	if (l->l_body != NULL && memcmp(l->l_body + c->c_got, buf, n) != 0)
		return (-1);
	c->c_got += n;
	return (c->c_got == c->c_clen);
}

/* c is done with (status: 1 good, 0 error, -1 bad): count and close it. */
static void
lc_end(struct lc *l, struct lc_conn *c, int status)
{
	if (status == 1)
		l->l_ok++;
	else if (status == 0)
		l->l_errors++;
	else
		l->l_bad++;
	close(c->c_fd);
	c->c_fd = -1;
	c->c_state = LC_IDLE;
	if (l->l_started < l->l_n)
		lc_open(l, c);
}

/* c is readable or writable. */
static void
lc_event(struct lc *l, struct lc_conn *c)
{
	char		buf[16384];
	ssize_t		n;
	socklen_t	len;
	int		err, r;

	if (c->c_state == LC_CONNECTING) {
		len = sizeof err;
		if (getsockopt(c->c_fd, SOL_SOCKET, SO_ERROR, &err, &len) ==
		    -1 || err != 0 || lc_send(l, c) == -1)
			lc_end(l, c, 0);
		return;
	}
	for (;;) {
		n = read(c->c_fd, buf, sizeof buf);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			/* EOF: right after a -s response, else too early. */
			lc_end(l, c, n == 0 && c->c_state == LC_EOF ? 1 : 0);
			return;
		}
		if ((r = lc_feed(l, c, buf, (size_t)n)) == -1) {
			lc_end(l, c, -1);
			return;
		}
		if (r == 0)
			continue;
		if (l->l_short) {
			c->c_state = LC_EOF;
			continue;
		}
		l->l_ok++;
		if (l->l_started >= l->l_n) {
			close(c->c_fd);
			c->c_fd = -1;
			c->c_state = LC_IDLE;
			return;
		}
		l->l_started++;
		if (lc_send(l, c) == -1) {
			lc_end(l, c, 0);
			return;
		}
	}
}

/* The whole of a file, or NULL. */
static char *
lc_readfile(const char *path, size_t *len)
{
	struct stat	 st;
	char		*p;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (NULL);
	if (fstat(fd, &st) == -1 || (p = malloc((size_t)st.st_size + 1)) ==
	    NULL) {
		close(fd);
		return (NULL);
	}
	if (read(fd, p, (size_t)st.st_size) != (ssize_t)st.st_size) {
		free(p);
		close(fd);
		return (NULL);
	}
	close(fd);
	*len = (size_t)st.st_size;
	return (p);
}

/* Print the usage and exit 64. */
static void
lc_usage(void)
{
	fprintf(stderr,
	    "usage: loadclient -p PORT [-n N] [-c CONNS] [-k | -s] [-u PATH]\n"
	    "    [-b FILE] [-t TIMEOUT] [-S NSRC]\n");
	exit(64);
}

int
main(int argc, char **argv)
{
	struct epoll_event	 evs[LC_MAXEVENTS];
	struct rlimit		 rl;
	struct lc		 l;
	struct lc_conn		*conns;
	const char		*path = "/", *bodyfile = NULL;
	double			 timeout = 300, t0, deadline, wall;
	long			 nconns = 50, i, open_;
	char			*body = NULL;
	int			 ch, port = 0, k, nev;

	memset(&l, 0, sizeof l);
	l.l_n = 1000;
	l.l_nsrc = 8;
	while ((ch = getopt(argc, argv, "b:c:kn:p:sS:t:u:")) != -1) {
		switch (ch) {
		case 'b':
			bodyfile = optarg;
			break;
		case 'c':
			nconns = atol(optarg);
			break;
		case 'k':
			l.l_short = 0;
			break;
		case 'n':
			l.l_n = atol(optarg);
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 's':
			l.l_short = 1;
			break;
		case 'S':
			l.l_nsrc = atoi(optarg);
			break;
		case 't':
			timeout = atof(optarg);
			break;
		case 'u':
			path = optarg;
			break;
		default:
			lc_usage();
		}
	}
	if (l.l_n < 1 || nconns < 1 || l.l_nsrc < 1 || l.l_nsrc > 254 ||
	    port < 1 || port > 65535 || timeout <= 0 || strlen(path) > 128)
		lc_usage();
	if (nconns > l.l_n)
		nconns = l.l_n;
	if (bodyfile != NULL) {
		if ((body = lc_readfile(bodyfile, &l.l_bodylen)) == NULL) {
			perror(bodyfile);
			return (1);
		}
		l.l_body = body;
	}

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((conns = calloc((size_t)nconns, sizeof *conns)) == NULL ||
	    (l.l_ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("loadclient");
		return (1);
	}
	l.l_reqlen = (size_t)snprintf(l.l_req, sizeof l.l_req,
	    "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", path,
	    l.l_short ? "Connection: close\r\n" : "");
	l.l_sin.sin_family = AF_INET;
	l.l_sin.sin_port = htons((uint16_t)port);
	l.l_sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	t0 = lc_now();
	deadline = t0 + timeout;
	for (i = 0; i < nconns; i++)
		lc_open(&l, &conns[i]);
	for (;;) {
		for (open_ = 0, i = 0; i < nconns; i++)
			open_ += conns[i].c_state != LC_IDLE;
		if (open_ == 0 || lc_now() >= deadline)
			break;
		nev = epoll_wait(l.l_ep, evs, LC_MAXEVENTS, 100);
		for (k = 0; k < nev; k++)
			lc_event(&l, evs[k].data.ptr);
	}
	wall = lc_now() - t0;
	for (i = 0; i < nconns; i++) {
		if (conns[i].c_state != LC_IDLE) {
			close(conns[i].c_fd);
			l.l_errors++;	/* in flight at the deadline */
		}
	}
	l.l_errors += l.l_n - l.l_started;	/* never sent */
	printf("n=%ld\nok=%ld\nbad=%ld\nerrors=%ld\nwall_s=%.3f\nrps=%.0f\n",
	    l.l_n, l.l_ok, l.l_bad, l.l_errors, wall,
	    wall > 0 ? (double)l.l_ok / wall : 0.0);
	free(conns);
	free(body);
	close(l.l_ep);
	return (l.l_ok == l.l_n ? 0 : 1);
}

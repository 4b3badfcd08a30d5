/* SPDX-License-Identifier: ISC */
/*
 * sleepclient: hold N connections open on GET /sleep and time them.
 *
 * Usage: sleepclient -p PORT [-n N] [-t TIMEOUT] [-u PATH] [-s NSRC] [-q]
 *
 * Opens N non-blocking connections to 127.0.0.1:PORT as fast as it can,
 * from the source addresses 127.0.0.1 .. 127.0.0.NSRC in turn (default 8),
 * sends one "GET PATH" (default /sleep) on each, then waits for all
 * responses on one epoll loop. Once every request is written it prints
 * "sent" on stdout (so a caller can sample the server while all of them
 * wait), waits 200 ms and, unless -q, times one GET / on a fresh connection.
 * At the end it prints key=value lines: n, ok200, other (any other status),
 * errors (connect/read failures, early close, timeout), connect_s (first
 * connect to last connect established), sent_s (first connect to last
 * request written), wall_s (first connect to last response), probe_ms
 * (-1 if not done, -2 if it failed). Everything is bounded by TIMEOUT seconds
 * (default 30). The soft descriptor limit is raised to the hard limit.
 * Exit 0 when the run finished (whatever the counts), 1 on a setup error,
 * 64 on a usage error.
 */

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

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

#define SC_HEADMAX	1024	/* bytes of a response head kept */
#define SC_MAXEVENTS	512

enum sc_state {
	SC_CONNECTING,
	SC_READING,
	SC_DONE
};

struct sc_conn {
	int		 c_fd;
	enum sc_state	 c_state;
	int		 c_status;	/* 0 until the head is parsed */
	long		 c_need;	/* body bytes still expected, -1 unknown */
	size_t		 c_headlen;
	char		 c_head[SC_HEADMAX];
};

static double	sc_now(void);
static int	sc_connect(const struct sockaddr_in *, uint32_t);
static int	sc_feed(struct sc_conn *, const char *, size_t);
static double	sc_probe(const struct sockaddr_in *, double);
static void	sc_usage(void);

/* Monotonic time in seconds. */
static double
sc_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/*
 * Start a non-blocking connect to sin from source address src (host
 * order, a loopback address); returns the fd or -1. The port is left to
 * connect() (IP_BIND_ADDRESS_NO_PORT), which then only needs the whole
 * 4-tuple to be unique: from a single source address, the kernel's search
 * for a free ephemeral port makes connect() itself take seconds once some
 * 14,000 connections are open.
 */
static int
sc_connect(const struct sockaddr_in *sin, uint32_t src)
{
	struct sockaddr_in	sa;
	int			fd, on = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return (-1);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(src);
	if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on,
	    sizeof on) == -1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		close(fd);
		return (-1);
	}
	if (connect(fd, (const struct sockaddr *)sin, sizeof *sin) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * Feed n received bytes to c. Returns 1 when the response is complete,
 * 0 when more is needed, -1 on a malformed head.
 */
static int
sc_feed(struct sc_conn *c, const char *buf, size_t n)
{
	const char	*end, *cl;
	size_t		 take, body;

	if (c->c_status == 0) {
		take = sizeof c->c_head - 1 - c->c_headlen;
		if (take > n)
			take = n;
		memcpy(c->c_head + c->c_headlen, buf, take);
		c->c_headlen += take;
		c->c_head[c->c_headlen] = '\0';
		if ((end = strstr(c->c_head, "\r\n\r\n")) == NULL)
			return (c->c_headlen == sizeof c->c_head - 1 ? -1 : 0);
		if (strncmp(c->c_head, "HTTP/1.", 7) != 0 ||
		    c->c_headlen < 12)
			return (-1);
		c->c_status = atoi(c->c_head + 9);
		c->c_need = -1;
		if ((cl = strcasestr(c->c_head, "\r\nContent-Length:")) != NULL &&
		    cl < end)
			c->c_need = atol(cl + 17);
		/* Body bytes seen so far: those after the head in buf. */
		body = c->c_headlen - (size_t)(end + 4 - c->c_head);
		body += n - take;
		if (c->c_need >= 0) {
			c->c_need -= (long)body;
			return (c->c_need <= 0);
		}
		return (0);
	}
	if (c->c_need >= 0) {
		c->c_need -= (long)n;
		return (c->c_need <= 0);
	}
	return (0);
}

/*
 * Time one GET / on a new blocking connection; returns milliseconds, or
 * -1 on failure. Gives up after timeout seconds.
 */
static double
sc_probe(const struct sockaddr_in *sin, double timeout)
{
	static const char	 req[] =
	    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
	struct sc_conn		 c;
	struct timeval		 tv;
	char			 buf[4096];
	double			 t0;
	ssize_t			 n;
	int			 fd, r = 0;

	t0 = sc_now();
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	tv.tv_sec = (time_t)timeout;
	tv.tv_usec = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	memset(&c, 0, sizeof c);
	if (connect(fd, (const struct sockaddr *)sin, sizeof *sin) == -1 ||
	    write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
		close(fd);
		return (-1);
	}
	while (r == 0 && (n = read(fd, buf, sizeof buf)) > 0)
		r = sc_feed(&c, buf, (size_t)n);
	close(fd);
	if (r != 1 || c.c_status != 200)
		return (-1);
	return ((sc_now() - t0) * 1000.0);
}

/* Print the usage and exit 64. */
static void
sc_usage(void)
{
	fprintf(stderr,
	    "usage: sleepclient -p PORT [-n N] [-t TIMEOUT] [-u PATH] [-s NSRC]\n"
	    "    [-q]\n");
	exit(64);
}

int
main(int argc, char **argv)
{
	struct epoll_event	 ev, evs[SC_MAXEVENTS];
	struct sockaddr_in	 sin;
	struct rlimit		 rl;
	struct sc_conn		*conns, *c;
	const char		*path = "/sleep";
	char			 req[256], buf[4096];
	double			 timeout = 30, t0, tconn = 0, tsent = 0;
	double			 tlast = 0, deadline, tprobe = 0;
	long			 n = 1000, i, connected = 0, sent = 0, left;
	long			 ok200 = 0, other = 0, errs = 0;
	ssize_t			 r;
	size_t			 reqlen;
	int			 ch, port = 0, quiet = 0, ep, k, nev, done;
	double			 probe_ms = -1;
	int			 err, nsrc = 8;
	uint32_t		 src;
	socklen_t		 errlen;

	while ((ch = getopt(argc, argv, "n:p:qs:t:u:")) != -1) {
		switch (ch) {
		case 'n':
			n = atol(optarg);
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'q':
			quiet = 1;
			break;
		case 's':
			nsrc = atoi(optarg);
			break;
		case 't':
			timeout = atof(optarg);
			break;
		case 'u':
			path = optarg;
			break;
		default:
			sc_usage();
		}
	}
	if (n < 1 || nsrc < 1 || nsrc > 254 || port < 1 || port > 65535 ||
	    timeout <= 0 || strlen(path) > 128)
		sc_usage();

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((conns = calloc((size_t)n, sizeof *conns)) == NULL) {
		perror("sleepclient: calloc");
		return (1);
	}
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("sleepclient: epoll_create1");
		return (1);
	}
	reqlen = (size_t)snprintf(req, sizeof req,
	    "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	t0 = sc_now();
	deadline = t0 + timeout;
	left = n;
	for (i = 0; i < n; i++) {
		c = &conns[i];
		c->c_state = SC_DONE;
		src = INADDR_LOOPBACK + (uint32_t)(i % nsrc);
		if ((c->c_fd = sc_connect(&sin, src)) == -1) {
			errs++;
			left--;
			continue;
		}
		c->c_state = SC_CONNECTING;
		ev.events = EPOLLOUT;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->c_fd, &ev) == -1) {
			close(c->c_fd);
			c->c_state = SC_DONE;
			errs++;
			left--;
		}
	}
	if (left == 0) {
		printf("sent\n");
		fflush(stdout);
		tprobe = t0;
	}

	while (left > 0) {
		double	now = sc_now();

		if (now >= deadline)
			break;
		if (tprobe == 0 && sent + errs >= n) {
			printf("sent\n");
			fflush(stdout);
			tprobe = now + 0.2;
		}
		if (tprobe > 0 && now >= tprobe && !quiet && probe_ms == -1) {
			probe_ms = sc_probe(&sin, deadline - now);
			if (probe_ms < 0)
				probe_ms = -2;	/* tried and failed */
			continue;
		}
		nev = epoll_wait(ep, evs, SC_MAXEVENTS, 50);
		for (k = 0; k < nev; k++) {
			c = evs[k].data.ptr;
			done = 0;
			if (c->c_state == SC_CONNECTING) {
				errlen = sizeof err;
				if (getsockopt(c->c_fd, SOL_SOCKET, SO_ERROR,
				    &err, &errlen) == -1 || err != 0 ||
				    write(c->c_fd, req, reqlen) !=
				    (ssize_t)reqlen) {
					done = -1;
				} else {
					connected++;
					sent++;
					if (connected == n)
						tconn = sc_now() - t0;
					if (sent == n)
						tsent = sc_now() - t0;
					c->c_state = SC_READING;
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					if (epoll_ctl(ep, EPOLL_CTL_MOD,
					    c->c_fd, &ev) == -1)
						done = -1;
				}
			} else if (c->c_state == SC_READING) {
				r = read(c->c_fd, buf, sizeof buf);
				if (r > 0)
					done = sc_feed(c, buf, (size_t)r);
				else if (r == 0 || (errno != EAGAIN &&
				    errno != EINTR))
					done = -1;
			}
			if (done == 0)
				continue;
			if (done == 1 && c->c_status == 200)
				ok200++;
			else if (done == 1)
				other++;
			else
				errs++;
			tlast = sc_now() - t0;
			close(c->c_fd);
			c->c_state = SC_DONE;
			left--;
		}
	}
	for (i = 0; i < n; i++) {
		if (conns[i].c_state != SC_DONE) {
			close(conns[i].c_fd);
			errs++;
		}
	}
	if (tprobe == 0) {
		printf("sent\n");
		fflush(stdout);
	}
	printf("n=%ld\nok200=%ld\nother=%ld\nerrors=%ld\n", n, ok200, other,
	    errs);
	printf("connect_s=%.4f\nsent_s=%.4f\nwall_s=%.4f\nprobe_ms=%.3f\n",
	    tconn, tsent, tlast, probe_ms);
	free(conns);
	close(ep);
	return (0);
}

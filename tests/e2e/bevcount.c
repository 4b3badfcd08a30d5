/* SPDX-License-Identifier: ISC */
/*
 * An LD_PRELOAD library for test_bufferevents.py: it counts, per socket,
 * the connections hellod accepts and the bufferevents libevent makes and
 * frees on them, and writes one line per event to the file named by
 * BEVCOUNT_FILE, so the test can check that each accepted connection had
 * exactly one bufferevent, from accept to close.
 *
 *	accept FD
 *	new FD		bufferevent_socket_new(base, FD, ...)
 *	free FD		bufferevent_free() of a bufferevent on FD
 *
 * Lines are written with one write() each (O_APPEND), so threads do not
 * interleave them.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/socket.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>

static int	bevcount_fd = -1;
static pthread_once_t bevcount_once = PTHREAD_ONCE_INIT;

static void
bevcount_open(void)
{
	const char	*path = getenv("BEVCOUNT_FILE");

	if (path != NULL)
		bevcount_fd = open(path, O_WRONLY | O_CREAT | O_APPEND |
		    O_CLOEXEC, 0644);
}

static void
bevcount_note(const char *what, int fd)
{
	char	line[64];
	int	n;

	pthread_once(&bevcount_once, bevcount_open);
	if (bevcount_fd == -1)
		return;
	n = snprintf(line, sizeof line, "%s %d\n", what, fd);
	if (n > 0 && write(bevcount_fd, line, (size_t)n) != n)
		return;
}

static void *
bevcount_next(const char *name)
{
	void	*f = dlsym(RTLD_NEXT, name);

	if (f == NULL) {
		fprintf(stderr, "bevcount: no %s\n", name);
		abort();
	}
	return (f);
}

int
accept4(int s, struct sockaddr *sa, socklen_t *len, int flags)
{
	static int	(*next)(int, struct sockaddr *, socklen_t *, int);
	int		 fd;

	if (next == NULL)
		next = bevcount_next("accept4");
	if ((fd = next(s, sa, len, flags)) != -1)
		bevcount_note("accept", fd);
	return (fd);
}

int
accept(int s, struct sockaddr *sa, socklen_t *len)
{
	static int	(*next)(int, struct sockaddr *, socklen_t *);
	int		 fd;

	if (next == NULL)
		next = bevcount_next("accept");
	if ((fd = next(s, sa, len)) != -1)
		bevcount_note("accept", fd);
	return (fd);
}

struct bufferevent *
bufferevent_socket_new(struct event_base *base, evutil_socket_t fd,
    int options)
{
	static struct bufferevent *(*next)(struct event_base *,
	    evutil_socket_t, int);
	struct bufferevent	*bev;

	if (next == NULL)
		next = bevcount_next("bufferevent_socket_new");
	if ((bev = next(base, fd, options)) != NULL)
		bevcount_note("new", fd);
	return (bev);
}

void
bufferevent_free(struct bufferevent *bev)
{
	static void	(*next)(struct bufferevent *);

	if (next == NULL)
		next = bevcount_next("bufferevent_free");
	bevcount_note("free", bufferevent_getfd(bev));
	next(bev);
}

/* SPDX-License-Identifier: ISC */
/*
 * The access log file (access_log = PATH), written the way nginx writes
 * its own: each worker appends its lines to a buffer of its own
 * (HELLOD_ACCESSLOG_BUF bytes) and writes whole lines with one write(2)
 * when the buffer is full, at most HELLOD_ACCESSLOG_FLUSH_MS after its
 * oldest line (a one-shot timer in the worker's loop, armed only while
 * the buffer holds something), when the file changes and at exit. Never
 * a write per request, and never a line in the journal: journald's rate
 * limit is left to lifecycle, warning and error lines.
 *
 * The open file is a struct accesslog, shared by the workers and the main
 * thread and counted: the main thread opens it (at start, on a reload
 * that names another file, on SIGUSR1) and hands each worker a reference
 * through its message pipe; a worker flushes its buffer to the old file
 * before it lets go of it, and the last holder closes the descriptor. Its
 * descriptor is O_APPEND, so the workers' writes never overlap.
 *
 * A failed write (disk full, I/O error) drops that buffer's lines rather
 * than block or retry: it is logged once per episode (a warning at the
 * first failure, an info line with the count of lost lines when a write
 * succeeds again), whichever worker sees it, and counted in
 * hellod_access_log_dropped_total.
 */
#include <sys/types.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"

static void	accesslog_timer_cb(evutil_socket_t, short, void *);

/* Lines dropped by failed writes, every file's, since start (metrics). */
static _Atomic uint64_t	accesslog_dropped_total;

/* Access lines dropped by failed writes since start. */
uint64_t
accesslog_dropped(void)
{
	return (atomic_load_explicit(&accesslog_dropped_total,
	    memory_order_relaxed));
}

/*
 * Open path for appending (created 0640 if missing, less the umask).
 * Returns NULL with *cause set to "reason" (strerror) on failure.
 */
struct accesslog *
accesslog_open(const char *path, char **cause)
{
	struct accesslog	*al;
	int			 fd;

	*cause = NULL;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0640);
	if (fd == -1) {
		*cause = strdup(strerror(errno));
		return (NULL);
	}
	if ((al = calloc(1, sizeof *al)) == NULL ||
	    (al->al_path = strdup(path)) == NULL) {
		free(al);
		close(fd);
		*cause = strdup("out of memory");
		return (NULL);
	}
	al->al_fd = fd;
	atomic_init(&al->al_refs, 1);
	atomic_init(&al->al_failing, 0);
	atomic_init(&al->al_lost, 0);
	return (al);
}

/* One more holder of al; NULL is fine. */
struct accesslog *
accesslog_ref(struct accesslog *al)
{
	if (al != NULL)
		atomic_fetch_add(&al->al_refs, 1);
	return (al);
}

/* Let go of al; the last holder closes the file. NULL is fine. */
void
accesslog_unref(struct accesslog *al)
{
	if (al == NULL || atomic_fetch_sub(&al->al_refs, 1) != 1)
		return;
	close(al->al_fd);
	free(al->al_path);
	free(al);
}

/* Set up a worker's buffer, empty and with no file, on base. */
int
accesslog_buf_init(struct accesslog_buf *ab, struct event_base *base)
{
	memset(ab, 0, sizeof *ab);
	ab->ab_timer = evtimer_new(base, accesslog_timer_cb, ab);
	return (ab->ab_timer == NULL ? -1 : 0);
}

/*
 * Write what the buffer holds, whole lines, with one write(2) (more only
 * if the kernel takes part of it). On failure the rest is dropped and
 * counted; see the top of the file for how that is logged.
 */
void
accesslog_buf_flush(struct accesslog_buf *ab)
{
	struct accesslog	*al = ab->ab_log;
	size_t			 off = 0, lost = 0, i;
	ssize_t			 n;
	int			 err = 0;

	if (ab->ab_timer != NULL)
		evtimer_del(ab->ab_timer);
	if (ab->ab_len == 0 || al == NULL) {
		ab->ab_len = 0;
		return;
	}
	while (off < ab->ab_len) {
		n = write(al->al_fd, ab->ab_data + off, ab->ab_len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n == 0 ? EIO : errno;
			break;
		}
		off += (size_t)n;
	}
	if (off < ab->ab_len) {
		for (i = off; i < ab->ab_len; i++)
			lost += ab->ab_data[i] == '\n';
		atomic_fetch_add(&al->al_lost, lost);
		atomic_fetch_add_explicit(&accesslog_dropped_total, lost,
		    memory_order_relaxed);
		if (!atomic_exchange(&al->al_failing, 1)) {
			errno = err;
			log_warn("access log %s: write failed, access lines "
			    "are dropped until a write succeeds", al->al_path);
		}
	} else if (atomic_load_explicit(&al->al_failing,
	    memory_order_relaxed) && atomic_exchange(&al->al_failing, 0))
		log_info("access log %s: writing again, %llu line(s) lost",
		    al->al_path,
		    (unsigned long long)atomic_exchange(&al->al_lost, 0));
	ab->ab_len = 0;
}

/* The buffer's oldest line has waited long enough. */
static void
accesslog_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	accesslog_buf_flush(arg);
}

/*
 * Write to al from now on (a reference passed to ab; NULL: no file):
 * the lines buffered so far go to the old file first, which ab then lets
 * go of.
 */
void
accesslog_buf_switch(struct accesslog_buf *ab, struct accesslog *al)
{
	accesslog_buf_flush(ab);
	accesslog_unref(ab->ab_log);
	ab->ab_log = al;
}

/*
 * Append one access line for lr, "2026-11-21T21:20:46.123Z [access] TEXT",
 * TEXT as on stderr (log_access_text()). Flushes first if the line might
 * not fit, and arms the flush timer for a first line. Returns -1 if there
 * is no file or no memory: the caller logs the line elsewhere.
 */
int
accesslog_buf_add(struct accesslog_buf *ab, const struct log_request *lr)
{
	struct timeval	 tv;
	struct timeval	 flush_tv;
	struct tm	 tm;
	char		*p;
	size_t		 n, room;

	if (ab->ab_log == NULL)
		return (-1);
	if (ab->ab_data == NULL &&
	    (ab->ab_data = malloc(HELLOD_ACCESSLOG_BUF)) == NULL)
		return (-1);
	if (HELLOD_ACCESSLOG_BUF - ab->ab_len < HELLOD_ACCESSLOG_LINE_MAX)
		accesslog_buf_flush(ab);

	gettimeofday(&tv, NULL);
	if (tv.tv_sec != ab->ab_stamp_sec || ab->ab_stamp[0] == '\0') {
		gmtime_r(&tv.tv_sec, &tm);
		strftime(ab->ab_stamp, sizeof ab->ab_stamp,
		    "%Y-%m-%dT%H:%M:%S", &tm);
		ab->ab_stamp_sec = tv.tv_sec;
	}
	p = ab->ab_data + ab->ab_len;
	room = HELLOD_ACCESSLOG_BUF - ab->ab_len;
	n = (size_t)snprintf(p, room, "%s.%03ldZ [access] ", ab->ab_stamp,
	    (long)(tv.tv_usec / 1000));
	n += log_access_text(p + n, room - n - 1, lr);
	p[n++] = '\n';
	if (ab->ab_len == 0) {
		clock_tv(HELLOD_ACCESSLOG_FLUSH_MS, &flush_tv);
		evtimer_add(ab->ab_timer, &flush_tv);
	}
	ab->ab_len += n;
	return (0);
}

/* Flush, let go of the file and free the buffer (its thread has ended). */
void
accesslog_buf_free(struct accesslog_buf *ab)
{
	accesslog_buf_switch(ab, NULL);
	if (ab->ab_timer != NULL)
		event_free(ab->ab_timer);
	free(ab->ab_data);
	memset(ab, 0, sizeof *ab);
}

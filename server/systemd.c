/* SPDX-License-Identifier: ISC */
/*
 * systemd integration through libsystemd: readiness, reload and stop
 * notifications and watchdog pings (sd_notify(3)), socket activation
 * and the file-descriptor store (sd_listen_fds(3),
 * sd_pid_notify_with_fds(3)) and access entries with fields in the journal
 * (sd_journal_sendv_with_location(), see sd_journal_print(3)). libsystemd
 * speaks the protocols; this file only wraps it in hellod's terms
 * (systemd_*; libsystemd owns sd_*).
 *
 * Only built with the systemd integration (HAVE_SYSTEMD, configure found
 * libsystemd); otherwise hellod.h has no-op stubs with the same names.
 * Every call here is harmless when hellod does not run under systemd:
 * libsystemd sends nothing without $NOTIFY_SOCKET and finds no socket
 * without $LISTEN_FDS.
 *
 * The journal: sd_journal_sendv() sends on one blocking socket that
 * libsystemd keeps to itself, so when journald does not read (its queue
 * is full, it is stopped or stuck) the call waits, without a time limit.
 * A worker's event loop must never wait for the journal, so workers only
 * queue their entries here (at most HELLOD_JOURNAL_QUEUE of them; more
 * are dropped and counted) and one thread of this file sends them.
 */
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "hellod.h"

/*
 * Where sd_journal_sendv() sends (a fixed path in libsystemd, which
 * silently drops entries when it is missing): looked for once, so that
 * without it access entries stay on stderr.
 */
#define SYSTEMD_JOURNAL_SOCKET	"/run/systemd/journal/socket"

static int	systemd_warned;	/* a failed notification was logged */

/* Built with the systemd integration (for -V). */
int
systemd_available(void)
{
	return (1);
}

/* Warn about the first notification that could not be sent. */
static void
systemd_notify_failed(int r)
{
	if (!systemd_warned) {
		log_warnx("sd_notify: %s (further failures not logged)",
		    strerror(-r));
		systemd_warned = 1;
	}
}

/*
 * Send newline-separated VAR=value assignments to the service manager,
 * e.g. "READY=1\nSTATUS=serving", with sd_notify().
 */
void
systemd_notify(const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, *p;
	int	 r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r == -1) {
		log_warnx("sd_notify: out of memory");
		return;
	}
	if ((r = sd_notify(0, msg)) < 0)
		systemd_notify_failed(r);
	else if (r > 0 && log_get_level() >= LOG_LEVEL_DEBUG) {
		for (p = msg; (p = strchr(p, '\n')) != NULL; p++)
			*p = ' ';
		log_debug("sd_notify: %s", msg);
	}
	free(msg);
}

/*
 * Reloading starts now. MONOTONIC_USEC (systemd >= 253 requires it with
 * RELOADING=1 for Type=notify-reload) says when, on CLOCK_MONOTONIC.
 */
void
systemd_notify_reloading(void)
{
	struct timespec	ts;
	int		r;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	r = sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
	    (uint64_t)ts.tv_sec * 1000000U + (uint64_t)ts.tv_nsec / 1000U);
	if (r < 0)
		systemd_notify_failed(r);
	else if (r > 0)
		log_debug("sd_notify: RELOADING=1");
}

/* The loop is alive: one watchdog ping (not logged, it is periodic). */
void
systemd_notify_watchdog(void)
{
	int	r;

	if ((r = sd_notify(0, "WATCHDOG=1")) < 0)
		systemd_notify_failed(r);
}

/*
 * Is a watchdog wanted (WatchdogSec=)? sd_watchdog_enabled(): > 0 and its
 * interval in microseconds, 0 if not (or $WATCHDOG_PID names another
 * process), -errno if $WATCHDOG_USEC or $WATCHDOG_PID is malformed.
 */
int
systemd_watchdog_usec(uint64_t *usec)
{
	return (sd_watchdog_enabled(0, usec));
}

/*
 * How many sockets systemd passed, from SYSTEMD_LISTEN_FDS_START on (a
 * .socket unit's and the fd store's alike), with their names in *names
 * (FDNAME= or FileDescriptorName=; free with systemd_names_free()); 0 if
 * none or they are meant for another process, -errno if the variables
 * are malformed. sd_listen_fds_with_names() unsets $LISTEN_PID,
 * $LISTEN_FDS and $LISTEN_FDNAMES (children must not take the sockets for
 * theirs) and makes the fds close-on-exec.
 */
int
systemd_listen_fds(char ***names)
{
	int	i, n;

	*names = NULL;
	n = sd_listen_fds_with_names(1, names);
	for (i = 0; i < n && *names != NULL; i++)
		log_debug("passed fd %d: %s", SYSTEMD_LISTEN_FDS_START + i,
		    (*names)[i]);
	return (n);
}

/* Free what systemd_listen_fds() returned in names; NULL is fine. */
void
systemd_names_free(char **names)
{
	size_t	i;

	if (names == NULL)
		return;
	for (i = 0; names[i] != NULL; i++)
		free(names[i]);
	free(names);
}

/*
 * Hand fds to systemd's file-descriptor store under name (FDSTORE=1):
 * systemd keeps a copy of each until the unit stops for good, and passes
 * them to the next process of the unit like socket-activated ones. A
 * no-op without $NOTIFY_SOCKET; systemd refuses them when the unit sets
 * no FileDescriptorStoreMax= (it logs that itself).
 */
void
systemd_fd_store(const char *name, const int *fds, size_t n)
{
	char	*msg;
	int	 r;

	if (n == 0)
		return;
	if (asprintf(&msg, "FDSTORE=1\nFDNAME=%s", name) == -1) {
		log_warnx("sd_pid_notify_with_fds: out of memory");
		return;
	}
	r = sd_pid_notify_with_fds(0, 0, msg, fds, (unsigned int)n);
	if (r < 0)
		log_warnx("fd store: cannot hand %s to systemd: %s", name,
		    strerror(-r));
	else if (r > 0)
		log_debug("fd store: %s: %zu socket(s) handed to systemd",
		    name, n);
	free(msg);
}

/* Take the fds stored under name out of systemd's store (FDSTOREREMOVE=1). */
void
systemd_fd_store_remove(const char *name)
{
	int	r;

	if ((r = sd_notifyf(0, "FDSTOREREMOVE=1\nFDNAME=%s", name)) < 0)
		systemd_notify_failed(r);
}

/*
 * Is fd a listening IPv4 or IPv6 stream socket? > 0 yes, 0 no, -errno if
 * it cannot be checked (e.g. EBADF).
 */
int
systemd_is_socket_inet(int fd)
{
	return (sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0));
}

/*
 * The journal queue: entries that workers handed over, oldest at jq_head,
 * sent by the journal thread (systemd_journal_main()) one at a time.
 */
struct systemd_jentry {
	const char	*je_file;	/* where the entry was made: */
	const char	*je_func;	/* CODE_FILE, CODE_LINE, CODE_FUNC */
	int		 je_line;
	size_t		 je_n;
	struct iovec	 je_iov[];	/* then the fields' bytes */
};

static pthread_once_t	 jq_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t	 jq_lock = PTHREAD_MUTEX_INITIALIZER;
/* jq_more: an entry was queued, or stop; jq_idle: all were sent. */
static pthread_cond_t	 jq_more = PTHREAD_COND_INITIALIZER;
static pthread_cond_t	 jq_idle = PTHREAD_COND_INITIALIZER;
static struct systemd_jentry *jq[HELLOD_JOURNAL_QUEUE];
static size_t		 jq_head, jq_len;
static int		 jq_busy;	/* the thread is sending one */
static int		 jq_stop;	/* systemd_journal_close() */
static int		 jq_state;	/* 1 thread running, -1 no journal */
static pthread_t	 jq_thread;
static atomic_uint_least64_t jq_dropped;
static atomic_flag	 jq_warned = ATOMIC_FLAG_INIT;

/*
 * An entry the journal refused (e.g. journald is not running): its
 * MESSAGE goes to stderr as an access line instead.
 */
static void
systemd_journal_fallback(const struct systemd_jentry *e)
{
	const struct iovec	*v;
	size_t			 i;

	for (i = 0; i < e->je_n; i++) {
		v = &e->je_iov[i];
		if (v->iov_len >= 8 &&
		    memcmp(v->iov_base, "MESSAGE=", 8) == 0) {
			log_access("%.*s", (int)(v->iov_len - 8),
			    (const char *)v->iov_base + 8);
			return;
		}
	}
}

/* The journal thread: send what is queued, as long as it takes. */
static void *
systemd_journal_main(void *arg)
{
	struct systemd_jentry	*e;
	char			 file[256], line[32];

	(void)arg;
	pthread_mutex_lock(&jq_lock);
	for (;;) {
		while (jq_len == 0 && !jq_stop)
			pthread_cond_wait(&jq_more, &jq_lock);
		if (jq_len == 0)
			break;		/* stopping, and all sent */
		e = jq[jq_head];
		jq[jq_head] = NULL;
		jq_head = (jq_head + 1) % HELLOD_JOURNAL_QUEUE;
		jq_len--;
		jq_busy = 1;
		pthread_mutex_unlock(&jq_lock);

		snprintf(file, sizeof file, "CODE_FILE=%s", e->je_file);
		snprintf(line, sizeof line, "CODE_LINE=%d", e->je_line);
		if (sd_journal_sendv_with_location(file, line, e->je_func,
		    e->je_iov, (int)e->je_n) < 0)
			systemd_journal_fallback(e);
		free(e);

		pthread_mutex_lock(&jq_lock);
		jq_busy = 0;
		if (jq_len == 0)
			pthread_cond_broadcast(&jq_idle);
	}
	pthread_mutex_unlock(&jq_lock);
	return (NULL);
}

/*
 * On the first entry: is there a journal, and then start the thread, with
 * every signal blocked (they are the main thread's to handle).
 */
static void
systemd_journal_start(void)
{
	sigset_t	all, old;
	int		r;

	if (access(SYSTEMD_JOURNAL_SOCKET, W_OK) == -1) {
		jq_state = -1;
		return;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&jq_thread, NULL, systemd_journal_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		log_warnx("journal thread: %s: access entries go to stderr",
		    strerror(r));
		jq_state = -1;
		return;
	}
	jq_state = 1;
}

/* One entry dropped: count it, and warn the first time. */
static void
systemd_journal_drop(void)
{
	atomic_fetch_add_explicit(&jq_dropped, 1, memory_order_relaxed);
	if (!atomic_flag_test_and_set(&jq_warned))
		log_warnx("the journal is not keeping up: access log entries "
		    "are dropped");
}

/*
 * Hand one journal entry, n "NAME=value" fields, made at file, line and
 * func (string constants: __FILE__, __LINE__, __func__), to the journal
 * thread, which sends it with sd_journal_sendv_with_location() (the
 * location becomes CODE_FILE, CODE_LINE and CODE_FUNC, as
 * sd_journal_sendv() itself would add them). Never waits for the journal:
 * returns 1 if queued, 0 if dropped and counted because
 * HELLOD_JOURNAL_QUEUE entries are waiting already (or memory ran out),
 * -1 if there is no journal to send to (the caller writes to stderr).
 */
int
systemd_journal_send(const char *file, int line, const char *func,
    const struct iovec *iov, size_t n)
{
	struct systemd_jentry	*e;
	char			*p;
	size_t			 i, bytes = 0;

	pthread_once(&jq_once, systemd_journal_start);
	if (jq_state != 1)
		return (-1);
	for (i = 0; i < n; i++)
		bytes += iov[i].iov_len;
	if ((e = malloc(sizeof *e + n * sizeof e->je_iov[0] + bytes)) == NULL) {
		systemd_journal_drop();
		return (0);
	}
	e->je_file = file;
	e->je_line = line;
	e->je_func = func;
	e->je_n = n;
	p = (char *)&e->je_iov[n];
	for (i = 0; i < n; i++) {
		memcpy(p, iov[i].iov_base, iov[i].iov_len);
		e->je_iov[i].iov_base = p;
		e->je_iov[i].iov_len = iov[i].iov_len;
		p += iov[i].iov_len;
	}

	pthread_mutex_lock(&jq_lock);
	if (jq_len == HELLOD_JOURNAL_QUEUE || jq_stop) {
		pthread_mutex_unlock(&jq_lock);
		free(e);
		systemd_journal_drop();
		return (0);
	}
	jq[(jq_head + jq_len) % HELLOD_JOURNAL_QUEUE] = e;
	jq_len++;
	pthread_cond_signal(&jq_more);
	pthread_mutex_unlock(&jq_lock);
	return (1);
}

/* Entries dropped because the journal did not keep up. */
uint64_t
systemd_journal_dropped(void)
{
	return (atomic_load_explicit(&jq_dropped, memory_order_relaxed));
}

/*
 * At exit: give the journal thread up to timeout_ms to send what is
 * queued, then end it. A thread still waiting on the journal then is
 * left to the process's exit, with its entries.
 */
void
systemd_journal_close(unsigned int timeout_ms)
{
	struct timespec	deadline;
	size_t		left;

	/* Every worker has been joined: jq_state is settled. */
	if (jq_state != 1)
		return;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += (time_t)(timeout_ms / 1000);
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&jq_lock);
	jq_stop = 1;
	pthread_cond_signal(&jq_more);
	while (jq_len > 0 || jq_busy) {
		if (pthread_cond_timedwait(&jq_idle, &jq_lock,
		    &deadline) == ETIMEDOUT)
			break;
	}
	left = jq_len + (size_t)jq_busy;
	pthread_mutex_unlock(&jq_lock);
	if (left == 0) {
		pthread_join(jq_thread, NULL);
		jq_state = 0;
	} else
		log_warnx("the journal is not reading: %zu access log "
		    "entries not sent", left);
}

/*
 * systemd integration through libsystemd's sd-daemon calls: readiness,
 * reload and stop notifications, watchdog pings and socket activation.
 *
 * Only built with --with-systemd (HAVE_SYSTEMD); otherwise hellod.h has
 * no-op stubs with the same names. Every call here is harmless when hellod
 * does not run under systemd: sd_notify() without $NOTIFY_SOCKET sends
 * nothing, and sd_listen_fds() without $LISTEN_FDS finds no socket.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "hellod.h"

_Static_assert(SYSTEMD_LISTEN_FDS_START == SD_LISTEN_FDS_START,
    "SYSTEMD_LISTEN_FDS_START in hellod.h is not SD_LISTEN_FDS_START");

static int	systemd_warned;	/* a failed sd_notify() was logged */

/* Built with libsystemd (for -V). */
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
 * Send one datagram of newline-separated VAR=value assignments to the
 * service manager, e.g. "READY=1\nSTATUS=serving".
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

	clock_gettime(CLOCK_MONOTONIC, &ts);
	systemd_notify("RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
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
 * Is a watchdog wanted (WatchdogSec=)? Returns > 0 and its interval in
 * microseconds, 0 if not, or -errno if $WATCHDOG_USEC is malformed.
 */
int
systemd_watchdog_usec(uint64_t *usec)
{
	uint64_t	u = 0;
	int		r;

	if ((r = sd_watchdog_enabled(0, &u)) > 0)
		*usec = u;
	return (r);
}

/*
 * How many sockets systemd passed, from SYSTEMD_LISTEN_FDS_START on; 0 if
 * none or they are meant for another process, -errno if $LISTEN_FDS is
 * malformed. $LISTEN_FDS and friends are unset, and the fds made
 * close-on-exec.
 */
int
systemd_listen_fds(void)
{
	return (sd_listen_fds(1));
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

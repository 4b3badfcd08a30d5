/*
 * systemd integration: readiness, reload and stop notifications, watchdog
 * pings and socket activation, by the protocols of sd_notify(3) and
 * sd_listen_fds(3), spoken here directly rather than through libsystemd.
 * systemd documents both as stable interfaces meant to be implemented
 * without the library; doing so keeps libsystemd and the compression and
 * crypto libraries it loads (liblzma, libzstd, liblz4, libgcrypt, ...) out
 * of a network daemon's address space, and ~1 MiB out of its RSS.
 *
 * Only built with --with-systemd (HAVE_SYSTEMD); otherwise hellod.h has
 * no-op stubs with the same names. Every call here is harmless when hellod
 * does not run under systemd: without $NOTIFY_SOCKET nothing is sent, and
 * without $LISTEN_FDS no socket is found.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hellod.h"

static int	systemd_warned;	/* a failed notification was logged */

static int	systemd_send(const char *);
static int	systemd_env_ull(const char *, unsigned long long *);

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
 * Send msg as one datagram to $NOTIFY_SOCKET: a file system path, or an
 * abstract socket name written with a leading '@'. Returns 1 if sent, 0 if
 * there is no $NOTIFY_SOCKET, -errno on failure.
 */
static int
systemd_send(const char *msg)
{
	struct sockaddr_un	 sun;
	const char		*path;
	size_t			 len;
	socklen_t		 salen;
	ssize_t			 n;
	int			 fd, saved;

	if ((path = getenv("NOTIFY_SOCKET")) == NULL || *path == '\0')
		return (0);
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len < 2)
		return (-EAFNOSUPPORT);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (len > sizeof sun.sun_path)
		return (-EINVAL);
	memcpy(sun.sun_path, path, len);
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';	/* abstract namespace */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return (-errno);
	n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (const struct sockaddr *)&sun, salen);
	saved = errno;
	close(fd);
	if (n == -1)
		return (-saved);
	if ((size_t)n != strlen(msg))
		return (-EMSGSIZE);
	return (1);
}

/*
 * Parse environment variable name as an unsigned decimal number. Returns
 * 1 and sets *v if it is one, 0 if it is unset, -EINVAL if malformed.
 */
static int
systemd_env_ull(const char *name, unsigned long long *v)
{
	const char	*s;
	char		*end;

	if ((s = getenv(name)) == NULL)
		return (0);
	if (*s < '0' || *s > '9')
		return (-EINVAL);
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return (-EINVAL);
	return (1);
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
	if ((r = systemd_send(msg)) < 0)
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

	if ((r = systemd_send("WATCHDOG=1")) < 0)
		systemd_notify_failed(r);
}

/*
 * Is a watchdog wanted (WatchdogSec=)? Returns > 0 and its interval in
 * microseconds ($WATCHDOG_USEC), 0 if not, or if $WATCHDOG_PID names
 * another process, -EINVAL if either is malformed.
 */
int
systemd_watchdog_usec(uint64_t *usec)
{
	unsigned long long	u, pid;
	int			r;

	if ((r = systemd_env_ull("WATCHDOG_USEC", &u)) <= 0)
		return (r);
	if (u == 0)
		return (-EINVAL);
	if ((r = systemd_env_ull("WATCHDOG_PID", &pid)) < 0)
		return (r);
	if (r > 0 && pid != (unsigned long long)getpid())
		return (0);
	*usec = u;
	return (1);
}

/*
 * How many sockets systemd passed, from SYSTEMD_LISTEN_FDS_START on; 0 if
 * none or they are meant for another process ($LISTEN_PID), -EINVAL if
 * $LISTEN_FDS or $LISTEN_PID is malformed. $LISTEN_PID, $LISTEN_FDS and
 * $LISTEN_FDNAMES are unset in every case (children must not take the
 * sockets for theirs), and the fds are made close-on-exec.
 */
int
systemd_listen_fds(void)
{
	unsigned long long	pid, n;
	int			fd, r;

	if ((r = systemd_env_ull("LISTEN_PID", &pid)) <= 0)
		goto done;
	if (pid != (unsigned long long)getpid()) {
		r = 0;
		goto done;
	}
	if ((r = systemd_env_ull("LISTEN_FDS", &n)) <= 0)
		goto done;
	if (n > (unsigned long long)(INT_MAX - SYSTEMD_LISTEN_FDS_START)) {
		r = -EINVAL;
		goto done;
	}
	for (fd = SYSTEMD_LISTEN_FDS_START;
	    fd < SYSTEMD_LISTEN_FDS_START + (int)n; fd++) {
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
			r = -errno;
			goto done;
		}
	}
	r = (int)n;
done:
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (r);
}

/*
 * Is fd a listening IPv4 or IPv6 stream socket? > 0 yes, 0 no, -errno if
 * it cannot be checked (e.g. EBADF).
 */
int
systemd_is_socket_inet(int fd)
{
	struct sockaddr_storage	ss;
	struct stat		st;
	socklen_t		len;
	int			type, listening;

	if (fstat(fd, &st) == -1)
		return (-errno);
	if (!S_ISSOCK(st.st_mode))
		return (0);
	len = sizeof type;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1)
		return (-errno);
	if (type != SOCK_STREAM)
		return (0);
	len = sizeof listening;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == -1)
		return (-errno);
	if (!listening)
		return (0);
	/* An unbound socket's address is unspecified, maybe empty. */
	memset(&ss, 0, sizeof ss);
	len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return (-errno);
	if (len < sizeof ss.ss_family)
		return (0);
	return (ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
}

/*
 * Logging to stderr, one line per event:
 *
 *	2026-11-21T21:20:46.123Z [warn] message
 *
 * log_warn() appends strerror(errno) and keeps errno; log_warnx() does not.
 * fatal() and fatalx() are for start-up and impossible states only.
 */
#include <sys/time.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hellod.h"

static int	log_level = LOG_LEVEL_INFO;

static const char *log_names[] = { "error", "warn", "info", "debug" };

static void	log_vline(const char *, int, const char *, va_list)
		    printflike(3, 0);

/* Set the most verbose level that is printed. */
void
log_set_level(int level)
{
	log_level = level;
}

int
log_get_level(void)
{
	return (log_level);
}

/* Name of a level, as written in the config. */
const char *
log_level_name(int level)
{
	if (level < 0 || level > LOG_LEVEL_DEBUG)
		return ("?");
	return (log_names[level]);
}

/* Write one line: timestamp, tag, message, and strerror(err) if err. */
static void
log_vline(const char *tag, int err, const char *fmt, va_list ap)
{
	struct timeval	 tv;
	struct tm	 tm;
	char		 stamp[32], msg[1024];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (err != 0)
		fprintf(stderr, "%s.%03ldZ [%s] %s: %s\n", stamp,
		    (long)(tv.tv_usec / 1000), tag, msg, strerror(err));
	else
		fprintf(stderr, "%s.%03ldZ [%s] %s\n", stamp,
		    (long)(tv.tv_usec / 1000), tag, msg);
}

#define LOG_BODY(level, err) do {					\
	va_list	ap;							\
	if (log_level < (level))					\
		break;							\
	va_start(ap, fmt);						\
	log_vline(log_names[level], (err), fmt, ap);			\
	va_end(ap);							\
} while (0)

/* Warning with strerror(errno) appended; errno is preserved. */
void
log_warn(const char *fmt, ...)
{
	int	saved = errno;

	LOG_BODY(LOG_LEVEL_WARN, saved);
	errno = saved;
}

/* Warning without errno. */
void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, 0);
}

/* Error: something failed and was given up on. */
void
log_error(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, 0);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, 0);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, 0);
}

/* Access log line; the caller decides whether access logging is on. */
void
log_access(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vline("access", 0, fmt, ap);
	va_end(ap);
}

/* Log with strerror(errno) and exit. */
void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vline("error", saved, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Log and exit. */
void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vline("error", 0, fmt, ap);
	va_end(ap);
	exit(1);
}

/* SPDX-License-Identifier: ISC */
/*
 * Logging to stderr, one line per event:
 *
 *	2026-11-21T21:20:46.123Z [warn] message
 *
 * or, when stderr is the systemd journal (log_init() found $JOURNAL_STREAM
 * naming stderr's device and inode), the line's syslog priority and no
 * timestamp, which the journal adds itself (sd-daemon(3)):
 *
 *	<4>message
 *
 * log_warn() appends strerror(errno) and keeps errno; log_warnx() does not.
 * fatal() and fatalx() are for start-up and impossible states only.
 *
 * With access_log = PATH, access lines go to that file instead
 * (accesslog.c), buffered, and never to stderr or the journal.
 *
 * Access entries (log_access_request()) are the exception: when stderr is
 * the journal, each becomes a journal entry with fields (HTTP_STATUS=404,
 * ...) that journalctl can match on, sent with libsystemd's
 * sd_journal_sendv() by systemd.c's journal thread, so that a worker never
 * waits for the journal. Only without a journal to send to (no libsystemd
 * in the build, no journal socket) is the entry a "<6>" line on stderr
 * like the others.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "hellod.h"

static atomic_int log_level = LOG_LEVEL_INFO;	/* set by the main thread,
						   read by every worker */
static int	log_journal;	/* stderr is the journal: "<N>" lines */
/* Sends an access entry with fields to the journal: systemd.c's, handed
 * in by main() (log.c is below systemd.c and never calls up into it). */
static log_journal_fn	log_sender;

static const char *log_names[] = { "error", "warn", "info", "debug" };
static const int   log_prios[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

static void	log_vline(int, const char *, int, const char *, va_list)
		    printflike(4, 0);

/*
 * Does $JOURNAL_STREAM (env, "DEV:INO" in decimal, as systemd sets it for
 * a service whose stdout or stderr is connected to the journal) name the
 * file with this device and inode? Anything malformed is no.
 */
int
log_journal_match(const char *env, dev_t dev, ino_t ino)
{
	unsigned long long	 d, i;
	char			*end;

	if (env == NULL || !isdigit((unsigned char)env[0]))
		return (0);
	errno = 0;
	d = strtoull(env, &end, 10);
	if (errno != 0 || *end != ':' || !isdigit((unsigned char)end[1]))
		return (0);
	i = strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != '\0')
		return (0);
	return (d == (unsigned long long)dev && i == (unsigned long long)ino);
}

/* At start-up: use the journal format if stderr is the journal. */
void
log_init(void)
{
	struct stat	st;

	log_journal = fstat(STDERR_FILENO, &st) == 0 &&
	    log_journal_match(getenv("JOURNAL_STREAM"), st.st_dev, st.st_ino);
}

/* Force the journal format on or off. */
void
log_set_journal(int on)
{
	log_journal = on;
}

/* Where access entries with fields go when stderr is the journal. */
void
log_set_journal_sender(log_journal_fn fn)
{
	log_sender = fn;
}

/* Is the journal format on? */
int
log_get_journal(void)
{
	return (log_journal);
}

/*
 * The start of a line: "<prio>" for the journal, else the UTC time of tv
 * and the tag, "2026-11-21T21:20:46.123Z [tag] ". Returns its length.
 */
size_t
log_prefix(char *buf, size_t size, int journal, int prio, const char *tag,
    const struct timeval *tv)
{
	struct tm	tm;
	char		stamp[32];
	int		n;

	if (journal)
		n = snprintf(buf, size, "<%d>", prio);
	else {
		gmtime_r(&tv->tv_sec, &tm);
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(buf, size, "%s.%03ldZ [%s] ", stamp,
		    (long)(tv->tv_usec / 1000), tag);
	}
	if (n < 0)
		return (0);
	return ((size_t)n < size ? (size_t)n : size - 1);
}

/* Set the most verbose level that is printed. */
void
log_set_level(int level)
{
	atomic_store_explicit(&log_level, level, memory_order_relaxed);
}

int
log_get_level(void)
{
	return (atomic_load_explicit(&log_level, memory_order_relaxed));
}

/* Name of a level, as written in the config. */
const char *
log_level_name(int level)
{
	if (level < 0 || level > LOG_LEVEL_DEBUG)
		return ("?");
	return (log_names[level]);
}

/*
 * Write one line: prefix, message, and strerror(err) if err. One fputs
 * of the whole line, so that lines never interleave in the journal.
 */
static void
log_vline(int prio, const char *tag, int err, const char *fmt, va_list ap)
{
	struct timeval	 tv;
	char		 prefix[64], msg[1024], line[1280];

	gettimeofday(&tv, NULL);
	log_prefix(prefix, sizeof prefix, log_journal, prio, tag, &tv);
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (err != 0)
		snprintf(line, sizeof line, "%s%s: %s\n", prefix, msg,
		    strerror(err));
	else
		snprintf(line, sizeof line, "%s%s\n", prefix, msg);
	fputs(line, stderr);
}

#define LOG_BODY(level, err) do {					\
	va_list	ap;							\
	if (log_get_level() < (level))					\
		break;							\
	va_start(ap, fmt);						\
	log_vline(log_prios[level], log_names[level], (err), fmt, ap);	\
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
	log_vline(LOG_INFO, "access", 0, fmt, ap);
	va_end(ap);
}

/*
 * Add the field "NAME=value" to iov[*n], its bytes at buf + *off (of
 * size bytes); name is "NAME=", nlen bytes. A value longer than
 * HELLOD_JOURNAL_VALUE_MAX is cut to that; any bytes are fine
 * (sd_journal_sendv() sends a value holding a newline in the binary form).
 */
static void
log_jfield(struct iovec *iov, size_t *n, char *buf, size_t size,
    size_t *off, const char *name, size_t nlen, const char *v, size_t vlen)
{
	if (vlen > HELLOD_JOURNAL_VALUE_MAX)
		vlen = HELLOD_JOURNAL_VALUE_MAX;
	if (nlen + vlen > size - *off)
		return;		/* cannot happen: buf has room for all */
	iov[*n].iov_base = buf + *off;
	iov[*n].iov_len = nlen + vlen;
	memcpy(buf + *off, name, nlen);
	memcpy(buf + *off + nlen, v, vlen);
	*off += nlen + vlen;
	(*n)++;
}

/*
 * Send one access entry, msg being its text, to the journal as fields.
 * Returns 0 if it was queued for the journal, or dropped and counted
 * because the journal is not keeping up; -1 if there is no journal to
 * send to, and the caller should write msg to stderr.
 */
static int
log_journal_access(const struct log_request *lr, const char *msg)
{
	struct iovec	iov[10];
	char		buf[5 * HELLOD_JOURNAL_VALUE_MAX], num[32];
	size_t		n = 0, off = 0;

#define LOG_FIELD(name, v, l)						\
	log_jfield(iov, &n, buf, sizeof buf, &off, name "=",		\
	    sizeof name "=" - 1, (v), (l))
#define LOG_FIELD_STR(name, v)	LOG_FIELD(name, v, strlen(v))
#define LOG_FIELD_NUM(name, fmt, v) do {				\
	snprintf(num, sizeof num, fmt, v);				\
	LOG_FIELD_STR(name, num);					\
} while (0)
	LOG_FIELD_STR("MESSAGE", msg);
	LOG_FIELD_NUM("PRIORITY", "%d", LOG_INFO);
	LOG_FIELD_STR("SYSLOG_IDENTIFIER", "hellod");
	if (lr->lr_line != NULL)
		LOG_FIELD("HTTP_METHOD", lr->lr_line,
		    strcspn(lr->lr_line, " "));
	if (lr->lr_path != NULL)
		LOG_FIELD("HTTP_PATH", lr->lr_path, lr->lr_path_len);
	LOG_FIELD_NUM("HTTP_STATUS", "%d", lr->lr_status);
	LOG_FIELD_NUM("HTTP_BYTES", "%zu", lr->lr_bytes);
	LOG_FIELD_NUM("HTTP_DURATION_US", "%" PRIu64, lr->lr_usec);
	LOG_FIELD_STR("CLIENT_ADDRESS", lr->lr_client);
	LOG_FIELD_NUM("HELLOD_WORKER", "%u", lr->lr_worker);
#undef LOG_FIELD_NUM
#undef LOG_FIELD_STR
#undef LOG_FIELD

	if (log_sender == NULL)
		return (-1);
	return (log_sender(__FILE__, __LINE__, __func__, iov, n) == -1 ?
	    -1 : 0);
}

/*
 * The text of an access line, without timestamp and tag, into buf:
 *
 *	127.0.0.1:54321 "GET / HTTP/1.1" 200 1234 0.31ms w=1
 *
 * cut at 1023 bytes as any log line. Returns its length.
 */
size_t
log_access_text(char *buf, size_t size, const struct log_request *lr)
{
	int	n;

	if (size > 1024)
		size = 1024;
	n = snprintf(buf, size, "%s \"%s\" %d %zu %.2fms w=%u",
	    lr->lr_client, lr->lr_line != NULL ? lr->lr_line : "-",
	    lr->lr_status, lr->lr_bytes, (double)lr->lr_usec / 1000.0,
	    lr->lr_worker);
	if (n < 0)
		return (0);
	return ((size_t)n < size ? (size_t)n : size - 1);
}

/*
 * Log one response: the access line on stderr, or, when stderr is the
 * journal, an entry with fields (log_journal_access()). The caller decides
 * whether access logging is on.
 */
void
log_access_request(const struct log_request *lr)
{
	char	msg[1024];

	log_access_text(msg, sizeof msg, lr);
	if (log_journal && log_journal_access(lr, msg) == 0)
		return;
	log_access("%s", msg);
}

/*
 * Text for the user at start-up (config errors, "configuration ok"): each
 * line as it is, with only the journal's "<prio>" prefix when stderr is the
 * journal. Not filtered by log_level.
 */
void
log_plain(int level, const char *fmt, ...)
{
	va_list	 ap;
	char	*text, *line, *nl;
	int	 prio = log_prios[level];

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) == -1)
		text = NULL;
	va_end(ap);
	if (text == NULL) {
		fputs("out of memory\n", stderr);
		return;
	}
	for (line = text; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if (log_journal)
			fprintf(stderr, "<%d>%s\n", prio, line);
		else
			fprintf(stderr, "%s\n", line);
		if (nl == NULL)
			break;
	}
	free(text);
}

/* Log with strerror(errno) and exit. */
void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vline(LOG_ERR, "error", saved, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Log and exit. */
void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vline(LOG_ERR, "error", 0, fmt, ap);
	va_end(ap);
	exit(1);
}

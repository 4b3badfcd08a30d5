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
 * Access entries (log_access_request()) are the exception: when stderr is
 * the journal, each goes to the journal's native socket as one datagram
 * with fields (HTTP_STATUS=404, ...) that journalctl can match on; the
 * protocol is spoken here, as systemd.c does for sd_notify, so that hellod
 * needs no libsystemd. Only when that socket cannot be used does the entry
 * become a "<6>" line on stderr like the others.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

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

/*
 * The journal's native socket: one unconnected datagram socket shared by
 * every thread (sendto() of a datagram is atomic and thread-safe, so one
 * fd does for all workers and nothing is left open per thread), created
 * on the first entry, CLOEXEC and non-blocking. Unconnected, as
 * sd_journal_send() does it: every entry names the path, so a journald
 * that was away is found again by the next entry.
 */
#define LOG_JOURNAL_SOCKET	"/run/systemd/journal/socket"
#define LOG_JOURNAL_SNDBUF	(8 * 1024 * 1024)	/* as sd-journal asks */

static atomic_int	 log_jfd = -1;
static atomic_uint_least64_t log_jdropped;	/* entries the journal had no
						   room for */
static atomic_flag	 log_jwarned = ATOMIC_FLAG_INIT;
static struct sockaddr_un log_jsun = {
	.sun_family = AF_UNIX,
	.sun_path = LOG_JOURNAL_SOCKET,
};
static socklen_t	 log_jsunlen = offsetof(struct sockaddr_un, sun_path) +
			     sizeof LOG_JOURNAL_SOCKET;

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

/*
 * At start-up: use the journal format if stderr is the journal. Only then,
 * $HELLOD_TEST_JOURNAL_SOCKET (an absolute path), set by the tests, names
 * the socket that stands in for the journal's: a test can be the journal
 * without touching the real one, and nothing changes for a daemon whose
 * stderr is not the journal.
 */
void
log_init(void)
{
	struct stat	 st;
	const char	*path;

	log_journal = fstat(STDERR_FILENO, &st) == 0 &&
	    log_journal_match(getenv("JOURNAL_STREAM"), st.st_dev, st.st_ino);
	if (log_journal &&
	    (path = getenv("HELLOD_TEST_JOURNAL_SOCKET")) != NULL &&
	    path[0] == '/' && strlen(path) < sizeof log_jsun.sun_path)
		log_journal_set_socket(path);
}

/* Force the journal format on or off. */
void
log_set_journal(int on)
{
	log_journal = on;
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
 * Is name a field name the journal accepts from a client: 1 to 64 of
 * A-Z, 0-9 and _, not starting with a digit or with _ (trusted fields)?
 */
static int
log_journal_name_ok(const char *name, size_t len)
{
	size_t	i;

	if (len == 0 || len > 64 || name[0] == '_' ||
	    (name[0] >= '0' && name[0] <= '9'))
		return (0);
	for (i = 0; i < len; i++) {
		if (!((name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return (0);
	}
	return (1);
}

/*
 * Encode n fields as one native-protocol journal entry into buf: each as
 * "NAME=value\n", or, when the value holds a newline or a NUL, as "NAME\n",
 * the value's length as 64-bit little-endian, the value and "\n", so that
 * no value can end its field early and start another. A value longer than
 * HELLOD_JOURNAL_VALUE_MAX bytes is cut to that. Returns the entry's
 * length, or 0 if a name is invalid or the entry does not fit in size.
 */
size_t
log_journal_encode(char *buf, size_t size, const struct log_field *f,
    size_t n)
{
	const char	*v;
	size_t		 off = 0, i, k, nlen, vlen, need;
	int		 binary;

	for (i = 0; i < n; i++) {
		nlen = strlen(f[i].lf_name);
		if (!log_journal_name_ok(f[i].lf_name, nlen))
			return (0);
		v = f[i].lf_value != NULL ? f[i].lf_value : "";
		vlen = f[i].lf_value != NULL ? f[i].lf_len : 0;
		if (vlen > HELLOD_JOURNAL_VALUE_MAX)
			vlen = HELLOD_JOURNAL_VALUE_MAX;
		binary = memchr(v, '\n', vlen) != NULL ||
		    memchr(v, '\0', vlen) != NULL;
		need = nlen + 1 + (binary ? 8 : 0) + vlen + 1;
		if (need > size - off)
			return (0);
		memcpy(buf + off, f[i].lf_name, nlen);
		off += nlen;
		if (binary) {
			buf[off++] = '\n';
			for (k = 0; k < 8; k++)
				buf[off++] = (char)(((uint64_t)vlen >>
				    (8 * k)) & 0xff);
		} else
			buf[off++] = '=';
		memcpy(buf + off, v, vlen);
		off += vlen;
		buf[off++] = '\n';
	}
	return (off);
}

/* Entries dropped because the journal had no room for them. */
uint64_t
log_journal_dropped(void)
{
	return (atomic_load_explicit(&log_jdropped, memory_order_relaxed));
}

/*
 * For tests (hellod calls it only from log_init(), for
 * $HELLOD_TEST_JOURNAL_SOCKET): send journal entries to the datagram
 * socket at path instead, or to the journal's again if NULL. Call before
 * any entry is sent.
 */
void
log_journal_set_socket(const char *path)
{
	if (path == NULL)
		path = LOG_JOURNAL_SOCKET;
	memset(&log_jsun, 0, sizeof log_jsun);
	log_jsun.sun_family = AF_UNIX;
	strncpy(log_jsun.sun_path, path, sizeof log_jsun.sun_path - 1);
	log_jsunlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(log_jsun.sun_path) + 1);
}

/* The shared journal socket, created by the first caller; -1 if none. */
static int
log_journal_socket(void)
{
	int	fd, old = -1, sndbuf = LOG_JOURNAL_SNDBUF;

	if ((fd = atomic_load_explicit(&log_jfd, memory_order_acquire)) != -1)
		return (fd);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return (-1);	/* out of descriptors: try again next time */
	/* Capped by net.core.wmem_max; the default is fine too. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	if (!atomic_compare_exchange_strong_explicit(&log_jfd, &old, fd,
	    memory_order_acq_rel, memory_order_acquire)) {
		close(fd);	/* another thread was first */
		return (old);
	}
	return (fd);
}

/*
 * Send one access entry, msg being its text, to the journal. Returns 0 if
 * it was sent, or dropped and counted because the journal has no room
 * (never waiting for it: the caller is an event loop); -1 if the journal
 * socket cannot be used, and the caller should write msg to stderr.
 */
static int
log_journal_access(const struct log_request *lr, const char *msg)
{
	struct log_field	 f[10];
	char			 buf[HELLOD_JOURNAL_ENTRY_MAX];
	char			 status[16], bytes[32], usec[32], worker[16];
	size_t			 n = 0, len;
	ssize_t			 sent;
	int			 fd;

#define LOG_FIELD(name, v, l) do {					\
	f[n].lf_name = (name);						\
	f[n].lf_value = (v);						\
	f[n].lf_len = (l);						\
	n++;								\
} while (0)
#define LOG_FIELD_STR(name, v)	LOG_FIELD(name, v, strlen(v))
	LOG_FIELD_STR("MESSAGE", msg);
	LOG_FIELD_STR("PRIORITY", "6");		/* LOG_INFO */
	LOG_FIELD_STR("SYSLOG_IDENTIFIER", "hellod");
	if (lr->lr_line != NULL)
		LOG_FIELD("HTTP_METHOD", lr->lr_line,
		    strcspn(lr->lr_line, " "));
	if (lr->lr_path != NULL)
		LOG_FIELD("HTTP_PATH", lr->lr_path, lr->lr_path_len);
	snprintf(status, sizeof status, "%d", lr->lr_status);
	LOG_FIELD_STR("HTTP_STATUS", status);
	snprintf(bytes, sizeof bytes, "%zu", lr->lr_bytes);
	LOG_FIELD_STR("HTTP_BYTES", bytes);
	snprintf(usec, sizeof usec, "%" PRIu64, lr->lr_usec);
	LOG_FIELD_STR("HTTP_DURATION_US", usec);
	LOG_FIELD_STR("CLIENT_ADDRESS", lr->lr_client);
	snprintf(worker, sizeof worker, "%u", lr->lr_worker);
	LOG_FIELD_STR("HELLOD_WORKER", worker);
#undef LOG_FIELD_STR
#undef LOG_FIELD

	if ((len = log_journal_encode(buf, sizeof buf, f, n)) == 0 ||
	    (fd = log_journal_socket()) == -1)
		return (-1);
	sent = sendto(fd, buf, len, MSG_NOSIGNAL,
	    (const struct sockaddr *)&log_jsun, log_jsunlen);
	if (sent == (ssize_t)len)
		return (0);
	if (sent == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == ENOBUFS)) {
		atomic_fetch_add_explicit(&log_jdropped, 1,
		    memory_order_relaxed);
		if (!atomic_flag_test_and_set(&log_jwarned))
			log_warnx("the journal is not keeping up: access log "
			    "entries are dropped");
		return (0);
	}
	return (-1);	/* no journal there (ENOENT, ECONNREFUSED, ...) */
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

	snprintf(msg, sizeof msg, "%s \"%s\" %d %zu %.2fms w=%u",
	    lr->lr_client, lr->lr_line != NULL ? lr->lr_line : "-",
	    lr->lr_status, lr->lr_bytes, (double)lr->lr_usec / 1000.0,
	    lr->lr_worker);
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

/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for log.c: when stderr counts as the journal ($JOURNAL_STREAM),
 * and what a line looks like either way; access entries with fields in the
 * journal (sent by libsystemd from systemd.c's journal thread), with this
 * test as the journal in a private mount namespace.
 */

#include <sys/types.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <fcntl.h>
#include <sched.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "hellod.h"
#include "unit.h"

static const struct {
	const char		*env;
	unsigned long long	 dev;
	unsigned long long	 ino;
	int			 match;
} streams[] = {
	{ "5:7", 5, 7, 1 },
	{ "64769:1234567", 64769, 1234567, 1 },
	{ "0:0", 0, 0, 1 },
	{ "18446744073709551615:18446744073709551615",
	    18446744073709551615ULL, 18446744073709551615ULL, 1 },
	{ "5:8", 5, 7, 0 },		/* another file */
	{ "6:7", 5, 7, 0 },
	{ "7:5", 5, 7, 0 },
	{ NULL, 5, 7, 0 },		/* not set */
	{ "", 5, 7, 0 },
	{ "5", 5, 7, 0 },
	{ "5:", 5, 7, 0 },
	{ ":7", 5, 7, 0 },
	{ "5:7x", 5, 7, 0 },
	{ "5:7:9", 5, 7, 0 },
	{ "5:7\n", 5, 7, 0 },
	{ " 5:7", 5, 7, 0 },
	{ "5: 7", 5, 7, 0 },
	{ "+5:7", 5, 7, 0 },
	{ "5:-7", 5, 7, 0 },
	{ "-5:7", 5, 7, 0 },
	{ "0x5:7", 5, 7, 0 },
	{ "5;7", 5, 7, 0 },
	{ "18446744073709551616:7", 0, 7, 0 },	/* overflows */
	{ "5:18446744073709551616", 5, 0, 0 },
	{ "journal", 5, 7, 0 },
};

START_TEST(test_journal_match)
{
	int	got;

	got = log_journal_match(streams[_i].env, (dev_t)streams[_i].dev,
	    (ino_t)streams[_i].ino);
	ck_assert_msg(got == streams[_i].match,
	    "JOURNAL_STREAM \"%s\" vs %llu:%llu: %d, want %d",
	    streams[_i].env != NULL ? streams[_i].env : "(unset)",
	    streams[_i].dev, streams[_i].ino, got, streams[_i].match);
}
END_TEST

START_TEST(test_prefix_journal)
{
	struct timeval	 tv = { 1700000000, 123456 };
	char		 buf[64];

	ck_assert_uint_eq(log_prefix(buf, sizeof buf, 1, LOG_ERR, "error",
	    &tv), 3);
	ck_assert_str_eq(buf, "<3>");
	log_prefix(buf, sizeof buf, 1, LOG_WARNING, "warn", &tv);
	ck_assert_str_eq(buf, "<4>");
	log_prefix(buf, sizeof buf, 1, LOG_INFO, "access", &tv);
	ck_assert_str_eq(buf, "<6>");
	log_prefix(buf, sizeof buf, 1, LOG_DEBUG, "debug", &tv);
	ck_assert_str_eq(buf, "<7>");
}
END_TEST

START_TEST(test_prefix_timestamp)
{
	struct timeval	 tv = { 1700000000, 123456 };	/* 2023-11-14 */
	struct timeval	 zero = { 0, 999999 };
	char		 buf[64];
	size_t		 n;

	n = log_prefix(buf, sizeof buf, 0, LOG_WARNING, "warn", &tv);
	ck_assert_str_eq(buf, "2023-11-14T22:13:20.123Z [warn] ");
	ck_assert_uint_eq(n, strlen(buf));
	log_prefix(buf, sizeof buf, 0, LOG_INFO, "access", &zero);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00.999Z [access] ");
}
END_TEST

/* A prefix that does not fit is cut, and its length says so. */
START_TEST(test_prefix_truncated)
{
	struct timeval	 tv = { 1700000000, 0 };
	char		 buf[5];

	ck_assert_uint_eq(log_prefix(buf, sizeof buf, 0, LOG_INFO, "info",
	    &tv), 4);
	ck_assert_str_eq(buf, "2023");
	ck_assert_uint_eq(log_prefix(buf, 3, 1, LOG_INFO, "info", &tv), 2);
	ck_assert_str_eq(buf, "<6");
}
END_TEST

/* stderr goes to a temporary file while a test runs; Check forks. */
static FILE	*capture;
static int	 saved_stderr = -1;

static void
capture_start(void)
{
	ck_assert_ptr_nonnull(capture = tmpfile());
	saved_stderr = dup(STDERR_FILENO);
	ck_assert_int_ne(saved_stderr, -1);
	ck_assert_int_ne(dup2(fileno(capture), STDERR_FILENO), -1);
}

/* Everything written to stderr since capture_start(); caller frees. */
static char *
capture_end(void)
{
	char	*text;
	long	 len;

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
	len = ftell(capture);
	ck_assert_int_ge(len, 0);
	ck_assert_ptr_nonnull(text = calloc(1, (size_t)len + 1));
	rewind(capture);
	ck_assert_uint_eq(fread(text, 1, (size_t)len, capture), (size_t)len);
	fclose(capture);
	capture = NULL;
	return (text);
}

START_TEST(test_lines_journal)
{
	char	*text;

	log_set_journal(1);
	log_set_journal_sender(systemd_journal_send);
	log_set_level(LOG_LEVEL_DEBUG);
	capture_start();
	log_error("e %d", 1);
	log_warnx("w %s", "x");
	errno = ENOENT;
	log_warn("open %s", "f");
	ck_assert_int_eq(errno, ENOENT);
	log_info("i");
	log_debug("d");
	log_access("127.0.0.1:1 \"GET / HTTP/1.1\" 200 5 0.10ms");
	log_plain(LOG_LEVEL_ERROR, "a.conf:1: bad\na.conf:2: worse\n");
	log_plain(LOG_LEVEL_INFO, "ok");
	text = capture_end();
	ck_assert_str_eq(text,
	    "<3>e 1\n"
	    "<4>w x\n"
	    "<4>open f: No such file or directory\n"
	    "<6>i\n"
	    "<7>d\n"
	    "<6>127.0.0.1:1 \"GET / HTTP/1.1\" 200 5 0.10ms\n"
	    "<3>a.conf:1: bad\n"
	    "<3>a.conf:2: worse\n"
	    "<6>ok\n");
	free(text);
}
END_TEST

START_TEST(test_lines_plain)
{
	char	*text, *line, *save;
	int	 n = 0;

	log_set_journal(0);
	log_set_level(LOG_LEVEL_INFO);
	capture_start();
	log_warnx("w");
	log_debug("not shown at info");
	log_access("a");
	log_plain(LOG_LEVEL_ERROR, "a.conf:1: bad\n");
	text = capture_end();
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), n++) {
		switch (n) {
		case 0:
		case 1:
			/* 2026-11-21T21:20:46.123Z [warn] w */
			ck_assert_uint_eq(strlen(line), 25 + strlen(n == 0 ?
			    "[warn] w" : "[access] a"));
			ck_assert_msg(line[4] == '-' && line[10] == 'T' &&
			    line[19] == '.' && line[23] == 'Z' &&
			    line[24] == ' ', "no timestamp: \"%s\"", line);
			ck_assert_str_eq(line + 25, n == 0 ? "[warn] w" :
			    "[access] a");
			break;
		case 2:
			ck_assert_str_eq(line, "a.conf:1: bad");
			break;
		}
	}
	ck_assert_int_eq(n, 3);
	free(text);
}
END_TEST

/* log_init() compares $JOURNAL_STREAM with the real stderr. */
START_TEST(test_init)
{
	struct stat	 st;
	char		 env[64];

	capture_start();
	ck_assert_int_eq(fstat(STDERR_FILENO, &st), 0);

	unsetenv("JOURNAL_STREAM");
	log_init();
	ck_assert_int_eq(log_get_journal(), 0);

	snprintf(env, sizeof env, "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	log_init();
	ck_assert_int_eq(log_get_journal(), 1);

	snprintf(env, sizeof env, "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", env, 1);
	log_init();
	ck_assert_int_eq(log_get_journal(), 0);
	free(capture_end());
}
END_TEST

/*
 * The test as the journal. libsystemd sends to the fixed path
 * /run/systemd/journal/socket, so the test process (Check forks one per
 * test) gets a private mount namespace with a tmpfs over /run/systemd
 * (over /run if there is none) in which that path is a symlink to the
 * test's socket, or missing. As root, or else as root of a new user
 * namespace; without either, the test says so and checks nothing.
 */
#ifdef HAVE_SYSTEMD
static char	jdir[64], jpath[128];

static void
write_file(const char *path, const char *text)
{
	int	fd;

	ck_assert_int_ne(fd = open(path, O_WRONLY), -1);
	ck_assert_int_eq(write(fd, text, strlen(text)),
	    (ssize_t)strlen(text));
	close(fd);
}

static int
journal_ns(const char *target)
{
	struct stat	 st;
	char		 map[64];
	const char	*top;
	uid_t		 uid = getuid();
	gid_t		 gid = getgid();

	if (unshare(CLONE_NEWNS) == -1) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) == -1)
			return (-1);
		write_file("/proc/self/setgroups", "deny");
		snprintf(map, sizeof map, "0 %u 1\n", (unsigned int)uid);
		write_file("/proc/self/uid_map", map);
		snprintf(map, sizeof map, "0 %u 1\n", (unsigned int)gid);
		write_file("/proc/self/gid_map", map);
	}
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL),
	    0);
	top = stat("/run/systemd", &st) == 0 && S_ISDIR(st.st_mode) ?
	    "/run/systemd" : "/run";
	ck_assert_int_eq(mount("check_log", top, "tmpfs", 0, "mode=0755"),
	    0);
	ck_assert(mkdir("/run/systemd", 0755) == 0 || errno == EEXIST);
	ck_assert_int_eq(mkdir("/run/systemd/journal", 0755), 0);
	if (target != NULL)
		ck_assert_int_eq(symlink(target,
		    "/run/systemd/journal/socket"), 0);
	return (0);
}

/*
 * Bind the test's journal socket (rcvbuf bytes of receive buffer, or the
 * default if 0) and make it libsystemd's; -1 if that cannot be had.
 */
static int
journal_start(int rcvbuf, int *fd)
{
	struct sockaddr_un	sun;
	struct timeval		tv = { 5, 0 };

	strcpy(jdir, "/tmp/check_log.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(jdir));
	snprintf(jpath, sizeof jpath, "%s/socket", jdir);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, jpath);
	*fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_ne(*fd, -1);
	ck_assert_int_eq(bind(*fd, (struct sockaddr *)&sun, sizeof sun), 0);
	if (rcvbuf > 0)
		ck_assert_int_eq(setsockopt(*fd, SOL_SOCKET, SO_RCVBUF,
		    &rcvbuf, sizeof rcvbuf), 0);
	ck_assert_int_eq(setsockopt(*fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof tv), 0);
	if (journal_ns(jpath) == -1) {
		fprintf(stderr, "no mount namespace (%s): not tested\n",
		    strerror(errno));
		close(*fd);
		unlink(jpath);
		rmdir(jdir);
		return (-1);
	}
	return (0);
}

static void
journal_end(int fd)
{
	close(fd);
	unlink(jpath);
	rmdir(jdir);
}

/* One entry as journald reads it: fields split per the native protocol. */
struct jfield {
	char	name[72];
	char	value[HELLOD_JOURNAL_VALUE_MAX + 1];
	size_t	len;
	int	binary;
};

/*
 * Split an entry into fields as journald's native protocol reads it;
 * returns the number of fields, or -1 if the entry is malformed.
 */
static int
jdecode(const char *buf, size_t len, struct jfield *f, int max)
{
	const char	*p = buf, *end = buf + len, *nl, *eq;
	uint64_t	 vlen;
	size_t		 nlen;
	int		 n = 0, k;

	while (p < end) {
		if (n == max || (nl = memchr(p, '\n', (size_t)(end - p))) ==
		    NULL)
			return (-1);
		eq = memchr(p, '=', (size_t)(nl - p));
		nlen = (size_t)((eq != NULL ? eq : nl) - p);
		if (nlen >= sizeof f[n].name)
			return (-1);
		memcpy(f[n].name, p, nlen);
		f[n].name[nlen] = '\0';
		if (eq != NULL) {
			f[n].len = (size_t)(nl - eq - 1);
			f[n].binary = 0;
			p = eq + 1;
		} else {
			p = nl + 1;
			if (end - p < 8)
				return (-1);
			for (vlen = 0, k = 7; k >= 0; k--)
				vlen = vlen << 8 | (unsigned char)p[k];
			p += 8;
			if (vlen > (uint64_t)(end - p) - 1 || p[vlen] != '\n')
				return (-1);
			f[n].len = (size_t)vlen;
			f[n].binary = 1;
		}
		if (f[n].len > HELLOD_JOURNAL_VALUE_MAX)
			return (-1);
		memcpy(f[n].value, p, f[n].len);
		f[n].value[f[n].len] = '\0';
		p += f[n].len + 1;
		n++;
	}
	return (n);
}

/* The value of field name in f, or NULL. */
static const struct jfield *
jget(const struct jfield *f, int n, const char *name)
{
	int	i;

	for (i = 0; i < n; i++) {
		if (strcmp(f[i].name, name) == 0)
			return (&f[i]);
	}
	return (NULL);
}
#endif /* HAVE_SYSTEMD */

static const struct log_request access_404 = {
	.lr_client = "127.0.0.1:40000",
	.lr_line = "GET /nope?q=1 HTTP/1.1",
	.lr_path = "/nope?q=1 HTTP/1.1",
	.lr_path_len = 5,
	.lr_status = 404,
	.lr_bytes = 321,
	.lr_usec = 1234,
	.lr_worker = 3,
};

#ifdef HAVE_SYSTEMD
/* With stderr the journal, an access entry is one entry with fields. */
START_TEST(test_access_journal)
{
	struct jfield	 got[16];
	char		 buf[8192], *text;
	ssize_t		 len;
	int		 fd, n;
	static const struct {
		const char	*name, *value;
	} want[] = {
		{ "MESSAGE",
		    "127.0.0.1:40000 \"GET /nope?q=1 HTTP/1.1\" 404 321 1.23ms w=3" },
		{ "PRIORITY", "6" },
		{ "SYSLOG_IDENTIFIER", "hellod" },
		{ "HTTP_METHOD", "GET" },
		{ "HTTP_PATH", "/nope" },
		{ "HTTP_STATUS", "404" },
		{ "HTTP_BYTES", "321" },
		{ "HTTP_DURATION_US", "1234" },
		{ "CLIENT_ADDRESS", "127.0.0.1:40000" },
		{ "HELLOD_WORKER", "3" },
	};
	const struct jfield	*f;
	size_t		 i;

	if (journal_start(0, &fd) == -1)
		return;
	log_set_journal(1);
	log_set_journal_sender(systemd_journal_send);
	capture_start();
	log_access_request(&access_404);
	len = recv(fd, buf, sizeof buf, 0);
	systemd_journal_close(5000);
	text = capture_end();
	ck_assert_str_eq(text, "");
	free(text);
	ck_assert_int_gt(len, 0);
	n = jdecode(buf, (size_t)len, got, NELEM(got));
	ck_assert_int_eq(n, NELEM(want) + 3);
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		ck_assert_str_eq(got[i].name, want[i].name);
		ck_assert_str_eq(got[i].value, want[i].value);
	}
	/* Where it was made: log.c, not the journal thread that sent it. */
	ck_assert_ptr_nonnull(f = jget(got, n, "CODE_FILE"));
	ck_assert_uint_ge(f->len, strlen("server/log.c"));
	ck_assert_str_eq(f->value + f->len - strlen("server/log.c"),
	    "server/log.c");
	ck_assert_ptr_nonnull(f = jget(got, n, "CODE_LINE"));
	ck_assert_int_gt(atoi(f->value), 0);
	ck_assert_ptr_nonnull(f = jget(got, n, "CODE_FUNC"));
	ck_assert_str_eq(f->value, "log_journal_access");
	ck_assert_int_eq(recv(fd, buf, sizeof buf, MSG_DONTWAIT), -1);
	ck_assert_uint_eq(systemd_journal_dropped(), 0);
	journal_end(fd);
}
END_TEST

/*
 * No request line parsed (a 400): no method or path fields. A value with
 * a newline (an odd client address here) cannot end its field early: it
 * arrives whole, in the binary form; one too long is cut.
 */
START_TEST(test_access_journal_no_line)
{
	struct log_request	 lr = access_404;
	struct jfield		 got[16];
	char			 buf[8192];
	char			 client[HELLOD_JOURNAL_VALUE_MAX + 100];
	const struct jfield	*f;
	ssize_t			 len;
	int			 fd, n;

	lr.lr_line = NULL;
	lr.lr_path = NULL;
	lr.lr_status = 400;
	if (journal_start(0, &fd) == -1)
		return;
	log_set_journal(1);
	log_set_journal_sender(systemd_journal_send);
	log_access_request(&lr);
	len = recv(fd, buf, sizeof buf, 0);
	ck_assert_int_gt(len, 0);
	n = jdecode(buf, (size_t)len, got, NELEM(got));
	ck_assert_int_eq(n, 8 + 3);
	ck_assert_str_eq(jget(got, n, "MESSAGE")->value,
	    "127.0.0.1:40000 \"-\" 400 321 1.23ms w=3");
	ck_assert_ptr_null(jget(got, n, "HTTP_METHOD"));
	ck_assert_ptr_null(jget(got, n, "HTTP_PATH"));
	ck_assert_str_eq(jget(got, n, "HTTP_STATUS")->value, "400");

	strcpy(client, "x\nPRIORITY=0");
	lr.lr_client = client;
	log_access_request(&lr);
	len = recv(fd, buf, sizeof buf, 0);
	ck_assert_int_gt(len, 0);
	n = jdecode(buf, (size_t)len, got, NELEM(got));
	ck_assert_int_eq(n, 8 + 3);
	ck_assert_str_eq(jget(got, n, "PRIORITY")->value, "6");
	ck_assert_ptr_nonnull(f = jget(got, n, "CLIENT_ADDRESS"));
	ck_assert_str_eq(f->value, "x\nPRIORITY=0");
	ck_assert_int_eq(f->binary, 1);

	memset(client, 'a', sizeof client - 1);
	client[sizeof client - 1] = '\0';
	log_access_request(&lr);
	len = recv(fd, buf, sizeof buf, 0);
	ck_assert_int_gt(len, 0);
	n = jdecode(buf, (size_t)len, got, NELEM(got));
	ck_assert_int_eq(n, 8 + 3);
	ck_assert_uint_eq(jget(got, n, "CLIENT_ADDRESS")->len,
	    HELLOD_JOURNAL_VALUE_MAX);
	journal_end(fd);
}
END_TEST

/* No journal socket: the plain "<6>" line on stderr instead. */
START_TEST(test_access_journal_absent)
{
	char	*text;

	if (journal_ns(NULL) == -1) {
		fprintf(stderr, "no mount namespace: not tested\n");
		return;
	}
	log_set_journal(1);
	log_set_journal_sender(systemd_journal_send);
	capture_start();
	log_access_request(&access_404);
	systemd_journal_close(5000);
	text = capture_end();
	ck_assert_str_eq(text,
	    "<6>127.0.0.1:40000 \"GET /nope?q=1 HTTP/1.1\" 404 321 1.23ms w=3\n");
	free(text);
	ck_assert_uint_eq(systemd_journal_dropped(), 0);
}
END_TEST

/*
 * A journal socket nobody listens on any more (journald went away): the
 * journal thread writes the "<6>" line instead.
 */
START_TEST(test_access_journal_refused)
{
	char	*text;
	int	 fd;

	if (journal_start(0, &fd) == -1)
		return;
	close(fd);		/* the socket file stays */
	log_set_journal(1);
	log_set_journal_sender(systemd_journal_send);
	capture_start();
	log_access_request(&access_404);
	systemd_journal_close(5000);
	text = capture_end();
	ck_assert_str_eq(text,
	    "<6>127.0.0.1:40000 \"GET /nope?q=1 HTTP/1.1\" 404 321 1.23ms w=3\n");
	free(text);
	ck_assert_uint_eq(systemd_journal_dropped(), 0);
	unlink(jpath);
	rmdir(jdir);
}
END_TEST

/*
 * A journal that does not read: libsystemd's send waits for it, but the
 * caller never does: past HELLOD_JOURNAL_QUEUE waiting entries, entries
 * are dropped and counted, with one warning on stderr. Once the journal
 * reads again, every entry that was not dropped arrives.
 */
START_TEST(test_access_journal_full)
{
	struct timeval	 tv = { 1, 0 };
	struct timespec	 t0, t1;
	char		*text, *nl, scratch[1];
	uint64_t	 got = 0, dropped;
	int		 fd, i, n = 5000;

	if (journal_start(4096, &fd) == -1)
		return;
	log_set_journal(1);
	log_set_journal_sender(systemd_journal_send);
	capture_start();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++)
		log_access_request(&access_404);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	text = capture_end();
	dropped = systemd_journal_dropped();
	ck_assert_uint_gt(dropped, 0);
	ck_assert_uint_le(dropped, (uint64_t)(n - HELLOD_JOURNAL_QUEUE));
	/* 5000 calls that never wait: far below a second even here. */
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 2);
	ck_assert_ptr_nonnull(nl = strchr(text, '\n'));
	ck_assert_ptr_null(strchr(nl + 1, '\n'));	/* one line */
	ck_assert_msg(strncmp(text, "<4>the journal is not keeping up", 32) ==
	    0, "stderr: %s", text);
	free(text);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof tv), 0);
	while (recv(fd, scratch, sizeof scratch, MSG_TRUNC) != -1)
		got++;
	ck_assert_uint_eq(got + dropped, (uint64_t)n);
	ck_assert_uint_eq(systemd_journal_dropped(), dropped);
	journal_end(fd);
}
END_TEST
#endif /* HAVE_SYSTEMD */

/* stderr not the journal: the timestamped line, nothing else. */
START_TEST(test_access_plain)
{
	char	 *text;

	log_set_journal(0);
	capture_start();
	log_access_request(&access_404);
	text = capture_end();
	ck_assert_uint_gt(strlen(text), 25);
	ck_assert_str_eq(text + 24, " [access] 127.0.0.1:40000 "
	    "\"GET /nope?q=1 HTTP/1.1\" 404 321 1.23ms w=3\n");
	free(text);
}
END_TEST

#ifndef HAVE_SYSTEMD
/* Without libsystemd there is no journal to send to: the "<6>" line. */
START_TEST(test_access_journal_none)
{
	char	*text;

	log_set_journal(1);
	log_set_journal_sender(systemd_journal_send);
	capture_start();
	log_access_request(&access_404);
	text = capture_end();
	ck_assert_str_eq(text,
	    "<6>127.0.0.1:40000 \"GET /nope?q=1 HTTP/1.1\" 404 321 1.23ms w=3\n");
	free(text);
	ck_assert_uint_eq(systemd_journal_dropped(), 0);
}
END_TEST
#endif

static Suite *
log_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("log");

	tc = tcase_create("journal-stream");
	tcase_add_loop_test(tc, test_journal_match, 0, NELEM(streams));
	tcase_add_test(tc, test_init);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_test(tc, test_prefix_journal);
	tcase_add_test(tc, test_prefix_timestamp);
	tcase_add_test(tc, test_prefix_truncated);
	tcase_add_test(tc, test_lines_journal);
	tcase_add_test(tc, test_lines_plain);
	suite_add_tcase(s, tc);

	tc = tcase_create("journal-entries");
#ifdef HAVE_SYSTEMD
	tcase_add_test(tc, test_access_journal);
	tcase_add_test(tc, test_access_journal_no_line);
	tcase_add_test(tc, test_access_journal_absent);
	tcase_add_test(tc, test_access_journal_refused);
	tcase_add_test(tc, test_access_journal_full);
#else
	tcase_add_test(tc, test_access_journal_none);
#endif
	tcase_add_test(tc, test_access_plain);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (unit_run(log_suite()));
}

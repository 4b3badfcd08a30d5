/*
 * Unit tests for log.c: when stderr counts as the journal ($JOURNAL_STREAM),
 * and what a line looks like either way; the journal's native protocol
 * for access entries, with this test as the journal.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

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

/* Journal entries: a decoder for what log_journal_encode() writes. */
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

START_TEST(test_encode_simple)
{
	struct log_field	 f[] = {
		{ "MESSAGE", "hello world", 11 },
		{ "PRIORITY", "6", 1 },
		{ "HTTP_PATH", "", 0 },
		{ "EMPTY", NULL, 0 },
	};
	char			 buf[256];
	const char		*want = "MESSAGE=hello world\nPRIORITY=6\n"
	    "HTTP_PATH=\nEMPTY=\n";
	size_t			 n;

	n = log_journal_encode(buf, sizeof buf, f, NELEM(f));
	ck_assert_uint_eq(n, strlen(want));
	ck_assert_mem_eq(buf, want, n);
	/* Exactly the room it needs is enough; one byte less is not. */
	ck_assert_uint_eq(log_journal_encode(buf, strlen(want), f, NELEM(f)),
	    strlen(want));
	ck_assert_uint_eq(log_journal_encode(buf, strlen(want) - 1, f,
	    NELEM(f)), 0);
}
END_TEST

/* A newline or a NUL in a value: the binary form, length little-endian. */
START_TEST(test_encode_binary)
{
	struct log_field	 f[] = {
		{ "A", "x\ny", 3 },
		{ "B", "p\0q", 3 },
		{ "C", "\n", 1 },
	};
	char			 buf[256];
	static const char	 want[] =
	    "A\n\003\0\0\0\0\0\0\0x\ny\n"
	    "B\n\003\0\0\0\0\0\0\0p\0q\n"
	    "C\n\001\0\0\0\0\0\0\0\n\n";
	size_t			 n;

	n = log_journal_encode(buf, sizeof buf, f, NELEM(f));
	ck_assert_uint_eq(n, sizeof want - 1);
	ck_assert_mem_eq(buf, want, n);
}
END_TEST

/*
 * A value cannot add fields: "x\nPRIORITY=0" is one field whatever it
 * holds. Long values are cut (the length in the binary form too).
 */
START_TEST(test_encode_injection_and_cut)
{
	char			 big[HELLOD_JOURNAL_VALUE_MAX + 500];
	struct log_field	 f[] = {
		{ "HTTP_PATH", "/x\nPRIORITY=0\n_PID=1\n", 21 },
		{ "MESSAGE", big, sizeof big },
		{ "HTTP_METHOD", big, sizeof big },
	};
	struct jfield		 got[8];
	char			 buf[HELLOD_JOURNAL_ENTRY_MAX];
	size_t			 len;
	int			 n;

	memset(big, 'a', sizeof big);
	big[HELLOD_JOURNAL_VALUE_MAX + 10] = '\n';	/* after the cut */
	len = log_journal_encode(buf, sizeof buf, f, NELEM(f));
	ck_assert_uint_gt(len, 0);
	n = jdecode(buf, len, got, NELEM(got));
	ck_assert_int_eq(n, 3);
	ck_assert_str_eq(got[0].name, "HTTP_PATH");
	ck_assert_int_eq(got[0].binary, 1);
	ck_assert_uint_eq(got[0].len, 21);
	ck_assert_mem_eq(got[0].value, "/x\nPRIORITY=0\n_PID=1\n", 21);
	ck_assert_ptr_null(jget(got, n, "PRIORITY"));
	ck_assert_ptr_null(jget(got, n, "_PID"));
	ck_assert_str_eq(got[1].name, "MESSAGE");
	ck_assert_int_eq(got[1].binary, 0);	/* the newline was cut off */
	ck_assert_uint_eq(got[1].len, HELLOD_JOURNAL_VALUE_MAX);
	ck_assert_uint_eq(got[2].len, HELLOD_JOURNAL_VALUE_MAX);
}
END_TEST

/* Names journald would reject (or treat as trusted) are refused. */
START_TEST(test_encode_bad_names)
{
	static const char	*bad[] = { "", "_PID", "message", "1ABC",
	    "A=B", "A B", "A\nB", "HTTP-PATH",
	    "A12345678901234567890123456789012345678901234567890123456789012345"
	};
	struct log_field	 f = { NULL, "v", 1 };
	char			 buf[256];
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		f.lf_name = bad[i];
		ck_assert_msg(log_journal_encode(buf, sizeof buf, &f, 1) == 0,
		    "name \"%s\" accepted", bad[i]);
	}
	f.lf_name = "A1_B";
	ck_assert_uint_eq(log_journal_encode(buf, sizeof buf, &f, 1), 7);
}
END_TEST

/* A datagram socket at a temporary path, standing in for the journal. */
static char	jdir[64], jpath[128];

static int
journal_start(void)
{
	struct sockaddr_un	sun;
	int			fd;

	strcpy(jdir, "/tmp/check_log.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(jdir));
	snprintf(jpath, sizeof jpath, "%s/socket", jdir);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, jpath);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	log_journal_set_socket(jpath);
	return (fd);
}

static void
journal_end(int fd)
{
	close(fd);
	unlink(jpath);
	rmdir(jdir);
}

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

/* With stderr the journal, an access entry is a datagram with fields. */
START_TEST(test_access_journal)
{
	struct jfield	 got[16];
	char		 buf[HELLOD_JOURNAL_ENTRY_MAX], *text;
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
	size_t		 i;

	fd = journal_start();
	log_set_journal(1);
	capture_start();
	log_access_request(&access_404);
	text = capture_end();
	ck_assert_str_eq(text, "");
	free(text);
	len = recv(fd, buf, sizeof buf, 0);
	ck_assert_int_gt(len, 0);
	n = jdecode(buf, (size_t)len, got, NELEM(got));
	ck_assert_int_eq(n, NELEM(want));
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		ck_assert_str_eq(got[i].name, want[i].name);
		ck_assert_str_eq(got[i].value, want[i].value);
	}
	ck_assert_int_eq(recv(fd, buf, sizeof buf, 0), -1);	/* just one */
	ck_assert_uint_eq(log_journal_dropped(), 0);
	journal_end(fd);
}
END_TEST

/* No request line parsed (a 400): no method or path fields. */
START_TEST(test_access_journal_no_line)
{
	struct log_request	 lr = access_404;
	struct jfield		 got[16];
	char			 buf[HELLOD_JOURNAL_ENTRY_MAX];
	ssize_t			 len;
	int			 fd, n;

	lr.lr_line = NULL;
	lr.lr_path = NULL;
	lr.lr_status = 400;
	fd = journal_start();
	log_set_journal(1);
	log_access_request(&lr);
	len = recv(fd, buf, sizeof buf, 0);
	ck_assert_int_gt(len, 0);
	n = jdecode(buf, (size_t)len, got, NELEM(got));
	ck_assert_int_eq(n, 8);
	ck_assert_str_eq(jget(got, n, "MESSAGE")->value,
	    "127.0.0.1:40000 \"-\" 400 321 1.23ms w=3");
	ck_assert_ptr_null(jget(got, n, "HTTP_METHOD"));
	ck_assert_ptr_null(jget(got, n, "HTTP_PATH"));
	ck_assert_str_eq(jget(got, n, "HTTP_STATUS")->value, "400");
	journal_end(fd);
}
END_TEST

/* No journal socket: the plain "<6>" line on stderr instead. */
START_TEST(test_access_journal_absent)
{
	char	*text;

	log_journal_set_socket("/nonexistent/hellod-test/socket");
	log_set_journal(1);
	capture_start();
	log_access_request(&access_404);
	text = capture_end();
	ck_assert_str_eq(text,
	    "<6>127.0.0.1:40000 \"GET /nope?q=1 HTTP/1.1\" 404 321 1.23ms w=3\n");
	free(text);
	ck_assert_uint_eq(log_journal_dropped(), 0);
}
END_TEST

/* stderr not the journal: the timestamped line, nothing sent. */
START_TEST(test_access_plain)
{
	char	 buf[64], *text;
	int	 fd;

	fd = journal_start();
	log_set_journal(0);
	capture_start();
	log_access_request(&access_404);
	text = capture_end();
	ck_assert_uint_gt(strlen(text), 25);
	ck_assert_str_eq(text + 24, " [access] 127.0.0.1:40000 "
	    "\"GET /nope?q=1 HTTP/1.1\" 404 321 1.23ms w=3\n");
	free(text);
	ck_assert_int_eq(recv(fd, buf, sizeof buf, 0), -1);
	journal_end(fd);
}
END_TEST

/*
 * A journal that does not read: entries are dropped and counted, never
 * waited for, with one warning on stderr.
 */
START_TEST(test_access_journal_full)
{
	char		*text, *nl, scratch[1];
	uint64_t	 sent = 0;
	int		 fd, i;

	fd = journal_start();
	log_set_journal(1);
	capture_start();
	for (i = 0; i < 5000; i++)
		log_access_request(&access_404);
	text = capture_end();
	ck_assert_uint_gt(log_journal_dropped(), 0);
	ck_assert_uint_lt(log_journal_dropped(), 5000);
	ck_assert_ptr_nonnull(nl = strchr(text, '\n'));
	ck_assert_ptr_null(strchr(nl + 1, '\n'));	/* one line */
	ck_assert_msg(strncmp(text, "<4>the journal is not keeping up", 32) ==
	    0, "stderr: %s", text);
	free(text);
	while (recv(fd, scratch, sizeof scratch, 0) != -1)
		sent++;
	ck_assert_uint_eq(sent + log_journal_dropped(), 5000);
	journal_end(fd);
}
END_TEST

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

	tc = tcase_create("journal-native");
	tcase_add_test(tc, test_encode_simple);
	tcase_add_test(tc, test_encode_binary);
	tcase_add_test(tc, test_encode_injection_and_cut);
	tcase_add_test(tc, test_encode_bad_names);
	tcase_add_test(tc, test_access_journal);
	tcase_add_test(tc, test_access_journal_no_line);
	tcase_add_test(tc, test_access_journal_absent);
	tcase_add_test(tc, test_access_plain);
	tcase_add_test(tc, test_access_journal_full);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (unit_run(log_suite()));
}

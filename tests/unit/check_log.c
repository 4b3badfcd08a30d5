/*
 * Unit tests for log.c: when stderr counts as the journal ($JOURNAL_STREAM),
 * and what a line looks like either way.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/time.h>

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

	return (s);
}

int
main(void)
{
	return (unit_run(log_suite()));
}

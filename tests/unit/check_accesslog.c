/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for accesslog.c: a worker's buffer of access lines, what it
 * writes to the file and when (a full buffer, a switch, the end; never a
 * line by itself), the switch to another file keeping old lines in the old
 * one, and a failing file (/dev/full) counting what it drops.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"
#include "unit.h"

static char	 dir[] = "/tmp/check_accesslog.XXXXXX";

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Remove the files the tests made, and their directory. */
static void
teardown(void)
{
	DIR		*d;
	struct dirent	*e;
	char		 path[512];

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* The text of path ("" if missing), malloc'd. */
static char *
slurp(const char *path)
{
	FILE	*f;
	char	*buf;
	size_t	 n;

	buf = calloc(1, 1024 * 1024);
	ck_assert_ptr_nonnull(buf);
	if ((f = fopen(path, "r")) == NULL)
		return (buf);
	n = fread(buf, 1, 1024 * 1024 - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (buf);
}

static size_t
nlines(const char *text)
{
	size_t	n = 0;

	for (; *text != '\0'; text++)
		n += *text == '\n';
	return (n);
}

static struct accesslog *
open_in_dir(const char *name, char *path, size_t size)
{
	struct accesslog	*al;
	char			*cause;

	snprintf(path, size, "%s/%s", dir, name);
	al = accesslog_open(path, &cause);
	ck_assert_msg(al != NULL, "%s: %s", path, cause);
	return (al);
}

static void
request(struct log_request *lr, const char *line, int status)
{
	memset(lr, 0, sizeof *lr);
	lr->lr_client = "127.0.0.1:54321";
	lr->lr_line = line;
	lr->lr_status = status;
	lr->lr_bytes = 1234;
	lr->lr_usec = 310;
	lr->lr_worker = 1;
}

/* Lines wait in the buffer; a flush writes them, in the stderr format. */
START_TEST(test_buffered_then_flushed)
{
	struct event_base	*base = worker_base_new();
	struct accesslog_buf	 ab;
	struct log_request	 lr;
	regex_t			 re;
	char			 path[256], *text;
	int			 i;

	ck_assert_int_eq(accesslog_buf_init(&ab, base), 0);
	ck_assert_int_eq(accesslog_buf_add(&ab, &lr), -1);	/* no file */
	accesslog_buf_switch(&ab, open_in_dir("a.log", path, sizeof path));
	request(&lr, "GET / HTTP/1.1", 200);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(accesslog_buf_add(&ab, &lr), 0);
	text = slurp(path);
	ck_assert_str_eq(text, "");	/* nothing written per line */
	free(text);
	ck_assert_int_ne(evtimer_pending(ab.ab_timer, NULL), 0);

	accesslog_buf_flush(&ab);
	ck_assert_int_eq(evtimer_pending(ab.ab_timer, NULL), 0);
	text = slurp(path);
	ck_assert_uint_eq(nlines(text), 10);
	ck_assert_int_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
	    "[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z \\[access\\] 127\\.0\\.0\\.1:54321 "
	    "\"GET / HTTP/1\\.1\" 200 1234 0\\.31ms w=1\n", REG_EXTENDED), 0);
	ck_assert_msg(regexec(&re, text, 0, NULL, 0) == 0, "line: %s", text);
	regfree(&re);
	free(text);

	/* No request line parsed: "-", as on stderr. */
	request(&lr, NULL, 400);
	ck_assert_int_eq(accesslog_buf_add(&ab, &lr), 0);
	accesslog_buf_free(&ab);		/* flushes */
	text = slurp(path);
	ck_assert_uint_eq(nlines(text), 11);
	ck_assert_ptr_nonnull(strstr(text, " [access] 127.0.0.1:54321 \"-\" "
	    "400 1234 0.31ms w=1\n"));
	free(text);
	event_base_free(base);
}
END_TEST

/* A full buffer is written whole lines at a time, none cut. */
START_TEST(test_full_buffer)
{
	struct event_base	*base = worker_base_new();
	struct accesslog_buf	 ab;
	struct log_request	 lr;
	char			 path[256], *text, *line;
	size_t			 n, want = 0;
	int			 i;

	ck_assert_int_eq(accesslog_buf_init(&ab, base), 0);
	accesslog_buf_switch(&ab, open_in_dir("full.log", path, sizeof path));
	/* A 2000-byte request line: cut at 1023 bytes of text. */
	line = malloc(2001);
	ck_assert_ptr_nonnull(line);
	memset(line, 'x', 2000);
	line[2000] = '\0';
	request(&lr, line, 200);
	for (i = 0; i < 200; i++) {
		ck_assert_int_eq(accesslog_buf_add(&ab, &lr), 0);
		want++;
		ck_assert_uint_le(ab.ab_len, HELLOD_ACCESSLOG_BUF);
	}
	text = slurp(path);
	n = nlines(text);
	ck_assert_msg(n > 0 && n < want, "%zu of %zu lines written before the "
	    "end", n, want);
	ck_assert_int_eq(text[strlen(text) - 1], '\n');
	free(text);
	accesslog_buf_free(&ab);
	text = slurp(path);
	ck_assert_uint_eq(nlines(text), want);
	/* Each line: 25-byte stamp, "[access] ", 1023 bytes of text, \n. */
	ck_assert_uint_eq(strlen(text), want * (25 + 9 + 1023 + 1));
	free(text);
	free(line);
	event_base_free(base);
}
END_TEST

/* A switch writes the old lines to the old file, new ones to the new. */
START_TEST(test_switch_keeps_old_lines_old)
{
	struct event_base	*base = worker_base_new();
	struct accesslog_buf	 ab;
	struct accesslog	*a, *b;
	struct log_request	 lr;
	char			 pa[256], pb[256], *ta, *tb;
	unsigned int		 refs;

	ck_assert_int_eq(accesslog_buf_init(&ab, base), 0);
	a = open_in_dir("switch-a.log", pa, sizeof pa);
	accesslog_buf_switch(&ab, accesslog_ref(a));
	request(&lr, "GET /old HTTP/1.1", 200);
	accesslog_buf_add(&ab, &lr);
	accesslog_buf_add(&ab, &lr);
	b = open_in_dir("switch-b.log", pb, sizeof pb);
	accesslog_buf_switch(&ab, b);
	refs = atomic_load(&a->al_refs);
	ck_assert_uint_eq(refs, 1);		/* ours only */
	request(&lr, "GET /new HTTP/1.1", 200);
	accesslog_buf_add(&ab, &lr);
	accesslog_buf_free(&ab);
	accesslog_unref(a);
	ta = slurp(pa);
	tb = slurp(pb);
	ck_assert_uint_eq(nlines(ta), 2);
	ck_assert_ptr_null(strstr(ta, "/new"));
	ck_assert_uint_eq(nlines(tb), 1);
	ck_assert_ptr_nonnull(strstr(tb, "/new"));
	free(ta);
	free(tb);
	event_base_free(base);
}
END_TEST

/* A failing write drops the buffer and counts its lines. */
START_TEST(test_failing_write_counted)
{
	struct event_base	*base = worker_base_new();
	struct accesslog_buf	 ab;
	struct accesslog	*al;
	struct log_request	 lr;
	char			*cause;
	uint64_t		 lost;
	int			 failing;

	if (access("/dev/full", W_OK) == -1)
		return;
	ck_assert_int_eq(accesslog_buf_init(&ab, base), 0);
	al = accesslog_open("/dev/full", &cause);
	ck_assert_ptr_nonnull(al);
	accesslog_buf_switch(&ab, accesslog_ref(al));
	request(&lr, "GET / HTTP/1.1", 200);
	accesslog_buf_add(&ab, &lr);
	accesslog_buf_add(&ab, &lr);
	accesslog_buf_flush(&ab);
	ck_assert_uint_eq(ab.ab_len, 0);
	failing = atomic_load(&al->al_failing);
	lost = atomic_load(&al->al_lost);
	ck_assert_int_eq(failing, 1);
	ck_assert_uint_eq(lost, 2);
	accesslog_buf_add(&ab, &lr);
	accesslog_buf_free(&ab);
	lost = atomic_load(&al->al_lost);
	ck_assert_uint_eq(lost, 3);
	accesslog_unref(al);
	event_base_free(base);
}
END_TEST

/* Opening a file that cannot be: the reason, no object. */
START_TEST(test_open_fails)
{
	char	*cause;

	ck_assert_ptr_null(accesslog_open("/nonexistent/dir/a.log", &cause));
	ck_assert_str_eq(cause, "No such file or directory");
	free(cause);
}
END_TEST

static Suite *
accesslog_suite(void)
{
	Suite	*s = suite_create("accesslog");
	TCase	*tc = tcase_create("buffer");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_buffered_then_flushed);
	tcase_add_test(tc, test_full_buffer);
	tcase_add_test(tc, test_switch_keeps_old_lines_old);
	tcase_add_test(tc, test_failing_write_counted);
	tcase_add_test(tc, test_open_fails);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (unit_run(accesslog_suite()));
}

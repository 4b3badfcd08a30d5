/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for stats.c: counting, summing workers, the Prometheus
 * exposition and the STATUS= line.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hellod.h"
#include "unit.h"

/* The exposition of st, ss and sp as a NUL-terminated string. */
static char *
expose(const struct stats *st, const struct stats_server *ss,
    const struct stats_process *sp)
{
	struct evbuffer	*b;
	char		*text;
	size_t		 len;

	ck_assert_ptr_nonnull(b = evbuffer_new());
	stats_write(b, st, ss, sp);
	len = evbuffer_get_length(b);
	ck_assert_ptr_nonnull(text = malloc(len + 1));
	evbuffer_remove(b, text, len);
	text[len] = '\0';
	evbuffer_free(b);
	return (text);
}

/* The value of the sample line that starts with series (then a space). */
static const char *
sample(const char *text, const char *series)
{
	const char	*p = text;
	size_t		 n = strlen(series);

	while ((p = strstr(p, series)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return (p + n + 1);
		p += n;
	}
	return (NULL);
}

/* The sample's value, which must exist, as a double. */
static double
value(const char *text, const char *series)
{
	const char	*v = sample(text, series);

	ck_assert_msg(v != NULL, "no sample %s in:\n%s", series, text);
	return (strtod(v, NULL));
}

START_TEST(test_request_buckets)
{
	struct stats		st;
	struct stats_server	ss;
	struct stats_process	sp;
	char			*t;

	stats_init(&st);
	memset(&ss, 0, sizeof ss);
	memset(&sp, 0, sizeof sp);
	stats_request(&st, STATS_ROUTE_HELLO, 200, 80);		/* 0.0001 */
	stats_request(&st, STATS_ROUTE_HELLO, 200, 100);	/* 0.0001 */
	stats_request(&st, STATS_ROUTE_HELLO, 200, 101);	/* 0.0005 */
	stats_request(&st, STATS_ROUTE_SLEEP, 200, 5000400);	/* 5.1 */
	stats_request(&st, STATS_ROUTE_SLEEP, 304, 40000000);	/* +Inf */
	stats_request(&st, STATS_ROUTE_OTHER, 404, 3);
	stats_request(&st, STATS_ROUTE_OTHER, 400, 3);
	stats_request(&st, STATS_ROUTE_OTHER, 999, 3);		/* as 500 */
	t = expose(&st, &ss, &sp);

	ck_assert_double_eq(value(t, "hellod_http_requests_total{route=\"/\","
	    "code=\"200\"}"), 3);
	ck_assert_double_eq(value(t, "hellod_http_requests_total{route="
	    "\"/sleep\",code=\"200\"}"), 1);
	ck_assert_double_eq(value(t, "hellod_http_requests_total{route="
	    "\"/sleep\",code=\"304\"}"), 1);
	ck_assert_double_eq(value(t, "hellod_http_requests_total{route="
	    "\"other\",code=\"404\"}"), 1);
	ck_assert_double_eq(value(t, "hellod_http_requests_total{route="
	    "\"other\",code=\"500\"}"), 1);
	/* Pairs never seen are left out, but for 200 of / and /sleep. */
	ck_assert_ptr_null(sample(t, "hellod_http_requests_total{route="
	    "\"/\",code=\"404\"}"));
	ck_assert_ptr_null(sample(t, "hellod_http_requests_total{route="
	    "\"other\",code=\"200\"}"));

	ck_assert_double_eq(value(t, "hellod_http_request_duration_seconds_"
	    "bucket{route=\"/\",le=\"0.0001\"}"), 2);
	ck_assert_double_eq(value(t, "hellod_http_request_duration_seconds_"
	    "bucket{route=\"/\",le=\"0.0005\"}"), 3);
	ck_assert_double_eq(value(t, "hellod_http_request_duration_seconds_"
	    "bucket{route=\"/\",le=\"+Inf\"}"), 3);
	ck_assert_double_eq(value(t, "hellod_http_request_duration_seconds_"
	    "count{route=\"/\"}"), 3);
	ck_assert_double_eq(value(t, "hellod_http_request_duration_seconds_"
	    "sum{route=\"/\"}"), 0.000281);
	ck_assert_double_eq(value(t, "hellod_http_request_duration_seconds_"
	    "bucket{route=\"/sleep\",le=\"5\"}"), 0);
	ck_assert_double_eq(value(t, "hellod_http_request_duration_seconds_"
	    "bucket{route=\"/sleep\",le=\"5.1\"}"), 1);
	ck_assert_double_eq(value(t, "hellod_http_request_duration_seconds_"
	    "bucket{route=\"/sleep\",le=\"30\"}"), 1);
	ck_assert_double_eq(value(t, "hellod_http_request_duration_seconds_"
	    "bucket{route=\"/sleep\",le=\"+Inf\"}"), 2);
	ck_assert_uint_eq(stats_total_requests(&st), 8);
	free(t);
}
END_TEST

/* Workers' counters add up; the stall maximum is the largest. */
START_TEST(test_sum)
{
	struct stats		a, b, sum;
	struct stats_server	ss;
	struct stats_process	sp;
	char			*t;

	stats_init(&a);
	stats_init(&b);
	stats_init(&sum);
	memset(&ss, 0, sizeof ss);
	memset(&sp, 0, sizeof sp);
	stats_add(&a.st_accepted, 5);
	stats_add(&b.st_accepted, 7);
	stats_add(&a.st_closed[STATS_CLOSE_TIMEOUT], 2);
	stats_add(&b.st_closed[STATS_CLOSE_TIMEOUT], 1);
	stats_add(&b.st_closed[STATS_CLOSE_GONE], 4);
	stats_add(&a.st_sleeping, 3);
	stats_add(&b.st_sleeping, 4);
	stats_sub(&b.st_sleeping, 1);
	stats_add(&a.st_stall_max_us, 250000);
	stats_add(&b.st_stall_max_us, 120000);
	stats_add(&a.st_stalls, 1);
	stats_add(&b.st_stalls, 2);
	stats_add(&a.st_bytes_in, 100);
	stats_add(&b.st_bytes_out, 200);
	stats_request(&a, STATS_ROUTE_HELLO, 200, 10);
	stats_request(&b, STATS_ROUTE_HELLO, 200, 10);
	stats_sum(&sum, &a);
	stats_sum(&sum, &b);
	ss.ss_workers = 2;
	ss.ss_open = 9;
	ss.ss_limit_pauses = 6;
	ss.ss_paused = 1;
	ss.ss_reloads = 3;
	ss.ss_reload_failures = 1;
	t = expose(&sum, &ss, &sp);
	ck_assert_double_eq(value(t, "hellod_workers"), 2);
	ck_assert_double_eq(value(t, "hellod_connections_open"), 9);
	ck_assert_double_eq(value(t, "hellod_connections_accepted_total"), 12);
	ck_assert_double_eq(value(t, "hellod_connections_closed_total{reason="
	    "\"timeout\"}"), 3);
	ck_assert_double_eq(value(t, "hellod_connections_closed_total{reason="
	    "\"client_gone\"}"), 4);
	ck_assert_double_eq(value(t, "hellod_connections_closed_total{reason="
	    "\"done\"}"), 0);
	ck_assert_double_eq(value(t, "hellod_connections_closed_total{reason="
	    "\"shutdown\"}"), 0);
	ck_assert_double_eq(value(t, "hellod_http_requests_sleeping"), 6);
	ck_assert_double_eq(value(t, "hellod_http_requests_total{route=\"/\","
	    "code=\"200\"}"), 2);
	ck_assert_double_eq(value(t, "hellod_event_loop_stalls_total"), 3);
	ck_assert_double_eq(value(t, "hellod_event_loop_stall_seconds_max"),
	    0.25);
	ck_assert_double_eq(value(t, "hellod_received_bytes_total"), 100);
	ck_assert_double_eq(value(t, "hellod_sent_bytes_total"), 200);
	ck_assert_double_eq(value(t, "hellod_accept_pauses_total{reason="
	    "\"max_connections\"}"), 6);
	ck_assert_double_eq(value(t, "hellod_accept_paused"), 1);
	ck_assert_double_eq(value(t, "hellod_reloads_total"), 3);
	ck_assert_double_eq(value(t, "hellod_reload_failures_total"), 1);
	free(t);
}
END_TEST

/* Every sample belongs to a family with HELP and TYPE before it. */
START_TEST(test_format)
{
	struct stats		st;
	struct stats_server	ss;
	struct stats_process	sp;
	char			*t, *line, *save, family[128];
	const char		*types[] = { "counter", "gauge", "histogram" };
	size_t			 n, i, samples = 0;
	int			 typed;

	stats_init(&st);
	memset(&ss, 0, sizeof ss);
	ck_assert_int_eq(stats_process(&sp), 0);
	t = expose(&st, &ss, &sp);
	ck_assert_int_eq(t[strlen(t) - 1], '\n');
	family[0] = '\0';
	for (line = strtok_r(t, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0) {
			n = strcspn(line + 7, " ");
			ck_assert_uint_lt(n, sizeof family);
			memcpy(family, line + 7, n);
			family[n] = '\0';
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			n = strlen(family);
			ck_assert_msg(strncmp(line + 7, family, n) == 0 &&
			    line[7 + n] == ' ', "TYPE without HELP: %s", line);
			typed = 0;
			for (i = 0; i < 3; i++)
				typed |= strcmp(line + 8 + n, types[i]) == 0;
			ck_assert_msg(typed, "bad type: %s", line);
			continue;
		}
		n = strlen(family);
		ck_assert_msg(n > 0 && strncmp(line, family, n) == 0 &&
		    strchr(" {_", line[n]) != NULL, "sample outside its "
		    "family %s: %s", family, line);
		ck_assert_msg(strchr(line, ' ') != NULL, "no value: %s", line);
		samples++;
	}
	ck_assert_uint_gt(samples, 70);
	free(t);
}
END_TEST

START_TEST(test_process)
{
	struct stats_process	sp;

	ck_assert_int_eq(stats_process(&sp), 0);
	ck_assert_uint_ge(sp.sp_open_fds, 3);
	ck_assert_uint_gt(sp.sp_max_fds, sp.sp_open_fds);
	ck_assert_uint_gt(sp.sp_rss, 100 * 1024);
	ck_assert_uint_gt(sp.sp_vsize, sp.sp_rss);
	ck_assert(sp.sp_cpu >= 0.0 && sp.sp_cpu < 60.0);
	/* Started within the last minute, after 2026-01-01. */
	ck_assert(sp.sp_start > 1767225600.0);
	ck_assert(sp.sp_start <= (double)time(NULL) + 1.0);
	ck_assert(sp.sp_start > (double)time(NULL) - 60.0);
}
END_TEST

START_TEST(test_status)
{
	char	buf[128];

	stats_status(buf, sizeof buf, 42, 17, 1204);
	ck_assert_str_eq(buf, "42 connections, 17 sleeping, 1,204 req/s");
	stats_status(buf, sizeof buf, 1, 0, 0);
	ck_assert_str_eq(buf, "1 connection, 0 sleeping, 0 req/s");
	stats_status(buf, sizeof buf, 19000, 1000000, 999);
	ck_assert_str_eq(buf, "19,000 connections, 1,000,000 sleeping, 999 "
	    "req/s");
	stats_status(buf, sizeof buf, 0, 100, 12345678);
	ck_assert_str_eq(buf, "0 connections, 100 sleeping, 12,345,678 "
	    "req/s");
	/* Truncated, never overrun. */
	ck_assert_uint_eq(stats_status(buf, 8, 42, 17, 1204), 40);
	ck_assert_str_eq(buf, "42 conn");
}
END_TEST

static Suite *
stats_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("stats");
	tc = tcase_create("counting");
	tcase_add_test(tc, test_request_buckets);
	tcase_add_test(tc, test_sum);
	suite_add_tcase(s, tc);
	tc = tcase_create("exposition");
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_process);
	tcase_add_test(tc, test_status);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (unit_run(stats_suite()));
}

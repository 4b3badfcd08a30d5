/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for clock.c: monotonic time, timevals, the Date cache.
 */
#include <sys/types.h>
#include <sys/time.h>

#include <check.h>
#include <string.h>
#include <time.h>

#include "hellod.h"
#include "unit.h"

static const struct {
	uint64_t	ms;
	time_t		sec;
	suseconds_t	usec;
} tvs[] = {
	{ 0, 0, 0 },
	{ 1, 0, 1000 },
	{ 999, 0, 999000 },
	{ 1000, 1, 0 },
	{ 5000, 5, 0 },
	{ 86400123, 86400, 123000 },
};

START_TEST(test_tv)
{
	struct timeval	tv;

	clock_tv(tvs[_i].ms, &tv);
	ck_assert_msg(tv.tv_sec == tvs[_i].sec && tv.tv_usec == tvs[_i].usec,
	    "%llu ms: %lld.%06ld, want %lld.%06ld",
	    (unsigned long long)tvs[_i].ms, (long long)tv.tv_sec,
	    (long)tv.tv_usec, (long long)tvs[_i].sec, (long)tvs[_i].usec);
}
END_TEST

/* Monotonic, and in step: ms is us / 1000. */
START_TEST(test_now)
{
	uint64_t	us0, ms, us1;

	us0 = clock_now_us();
	ms = clock_now_ms();
	us1 = clock_now_us();
	ck_assert_uint_le(us0, us1);
	ck_assert_uint_le(us0 / 1000, ms);
	ck_assert_uint_le(ms, us1 / 1000);
}
END_TEST

/*
 * The Date value is today's time as an IMF-fixdate, formatted once per
 * second of the loop's cached time: the same pointer and text within it.
 */
START_TEST(test_date)
{
	struct event_base	*base = worker_base_new();
	struct clock_date	 cd;
	struct timeval		 tv;
	const char		*a, *b;
	char			 want[64];
	time_t			 before, after;

	ck_assert_ptr_nonnull(base);
	memset(&cd, 0, sizeof cd);
	before = time(NULL);
	a = clock_date(base, &cd);
	after = time(NULL);
	ck_assert_ptr_eq(a, cd.cd_text);
	ck_assert_uint_eq(strlen(a), PAGE_DATE_LEN);
	ck_assert_msg(cd.cd_time >= before && cd.cd_time <= after,
	    "cached second %lld outside [%lld, %lld]", (long long)cd.cd_time,
	    (long long)before, (long long)after);
	date_format(cd.cd_time, want, sizeof want);
	ck_assert_str_eq(a, want);
	b = clock_date(base, &cd);
	ck_assert_ptr_eq(a, b);

	/* A stale cache (another second) is formatted again. */
	cd.cd_time -= 86400;
	(void)snprintf(cd.cd_text, sizeof cd.cd_text, "stale");
	b = clock_date(base, &cd);
	ck_assert_str_ne(b, "stale");
	ck_assert_uint_eq(strlen(b), PAGE_DATE_LEN);
	ck_assert_int_eq(gettimeofday(&tv, NULL), 0);
	ck_assert_msg(cd.cd_time >= before && cd.cd_time <= tv.tv_sec,
	    "re-formatted second %lld", (long long)cd.cd_time);
	event_base_free(base);
}
END_TEST

static Suite *
clock_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("clock");
	tc = tcase_create("time");
	tcase_add_loop_test(tc, test_tv, 0, NELEM(tvs));
	tcase_add_test(tc, test_now);
	tcase_add_test(tc, test_date);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (unit_run(clock_suite()));
}

/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for date.c: IMF-fixdate formatting whatever the time zone,
 * the three HTTP-date formats parsed, good and bad, and the two agreeing
 * with each other and with timegm().
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/types.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hellod.h"
#include "unit.h"

/* A small deterministic PRNG (so failures can be replayed). */
static uint32_t
lcg(uint32_t *state)
{
	*state = *state * 1103515245 + 12345;
	return ((*state >> 16) & 0x7fff);
}

START_TEST(test_date)
{
	char	 buf[PAGE_DATE_LEN + 1];

	date_format(784111777, buf, sizeof buf);
	ck_assert_str_eq(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
	ck_assert_uint_eq(strlen(buf), PAGE_DATE_LEN);
	date_format(0, buf, sizeof buf);
	ck_assert_str_eq(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
	date_format(951782400, buf, sizeof buf);
	ck_assert_str_eq(buf, "Tue, 29 Feb 2000 00:00:00 GMT");
	date_format(1798761599, buf, sizeof buf);
	ck_assert_str_eq(buf, "Thu, 31 Dec 2026 23:59:59 GMT");
}
END_TEST

/* The date is GMT whatever the local time zone. */
START_TEST(test_date_tz)
{
	char	 buf[PAGE_DATE_LEN + 1];

	ck_assert_int_eq(setenv("TZ", "XST-9", 1), 0);
	tzset();
	date_format(784111777, buf, sizeof buf);
	ck_assert_str_eq(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
	ck_assert_int_eq(setenv("TZ", "XST+11", 1), 0);
	tzset();
	date_format(784111777, buf, sizeof buf);
	ck_assert_str_eq(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
}
END_TEST

/* HTTP-dates, good and bad (RFC 9110 5.6.7). */
static const struct {
	const char	*in;
	int		 ok;
	time_t		 t;
} date_cases[] = {
	{ "Sun, 06 Nov 1994 08:49:37 GMT", 1, 784111777 },
	{ "Sunday, 06-Nov-94 08:49:37 GMT", 1, 784111777 },
	{ "Sun Nov  6 08:49:37 1994", 1, 784111777 },
	{ "Sun Nov 06 08:49:37 1994", 1, 784111777 },
	{ "Thu, 01 Jan 1970 00:00:00 GMT", 1, 0 },
	{ "Wed, 31 Dec 1969 23:59:59 GMT", 1, -1 },
	{ "Tue, 29 Feb 2000 00:00:00 GMT", 1, 951782400 },
	{ "Thu, 29 Feb 2024 12:00:00 GMT", 1, 1709208000 },
	{ "Thu, 31 Dec 2026 23:59:59 GMT", 1, 1798761599 },
	{ "Fri, 31 Dec 9999 23:59:59 GMT", 1, 253402300799 },
	{ "Sat, 01 Jan 0000 00:00:00 GMT", 1, -62167219200 },
	{ "Thu, 01 Jan 1970 00:00:60 GMT", 1, 60 },	/* leap second */
	{ "Mon, 06 Nov 1994 08:49:37 GMT", 1, 784111777 }, /* day unchecked */
	{ "Wednesday, 01-Jan-70 00:00:00 GMT", 1, 0 },
	{ "Friday, 31-Dec-69 23:59:59 GMT", 1, 3155759999 },	/* 2069 */
	{ "Thu Jan  1 00:00:00 1970", 1, 0 },
	{ "Sat Feb 29 23:59:59 2020", 1, 1583020799 },
	/* Bad. */
	{ "", 0, 0 },
	{ "Sun, 06 Nov 1994 08:49:37 UTC", 0, 0 },
	{ "Sun, 06 Nov 1994 08:49:37 gmt", 0, 0 },
	{ "sun, 06 Nov 1994 08:49:37 GMT", 0, 0 },
	{ "Sun, 06 nov 1994 08:49:37 GMT", 0, 0 },
	{ "Sux, 06 Nov 1994 08:49:37 GMT", 0, 0 },
	{ "Sun, 6 Nov 1994 08:49:37 GMT", 0, 0 },
	{ "Sun, 06 Nov 94 08:49:37 GMT", 0, 0 },
	{ "Sun, 06 Nov 1994 08:49:37 GMT ", 0, 0 },
	{ "Sun, 06 Nov 1994 8:49:37 GMT", 0, 0 },
	{ "Sun, 06 Nov 1994 08.49.37 GMT", 0, 0 },
	{ "Sun, 06 Nov 1994 24:00:00 GMT", 0, 0 },
	{ "Sun, 06 Nov 1994 23:60:00 GMT", 0, 0 },
	{ "Sun, 06 Nov 1994 23:59:61 GMT", 0, 0 },
	{ "Sun, 00 Nov 1994 08:49:37 GMT", 0, 0 },
	{ "Sun, 31 Nov 1994 08:49:37 GMT", 0, 0 },
	{ "Sun, 32 Jan 1994 08:49:37 GMT", 0, 0 },
	{ "Thu, 29 Feb 2023 00:00:00 GMT", 0, 0 },
	{ "Thu, 29 Feb 1900 00:00:00 GMT", 0, 0 },
	{ "Sun, 06 Nov 19x4 08:49:37 GMT", 0, 0 },
	{ "Sun, 06 Nov -994 08:49:37 GMT", 0, 0 },
	{ "Sun, +6 Nov 1994 08:49:37 GMT", 0, 0 },
	{ "Sun,06 Nov 1994 08:49:37 GMT ", 0, 0 },
	{ "Sun, 06-Nov-94 08:49:37 GMT", 0, 0 },
	{ "Sunday, 06 Nov 1994 08:49:37 GMT", 0, 0 },
	{ "Sunday, 06-Nov-1994 08:49:37 GMT", 0, 0 },
	{ "Sunday, 06-Nov-94 08:49:37 UTC", 0, 0 },
	{ "Sundae, 06-Nov-94 08:49:37 GMT", 0, 0 },
	{ "Sun Nov  6 08:49:37 1994 ", 0, 0 },
	{ "Sun Nov 6 08:49:37 1994", 0, 0 },
	{ "Sun Nov  6 08:49:37 94", 0, 0 },
	{ "Sun Nov 31 08:49:37 1994", 0, 0 },
	{ "1994-11-06T08:49:37Z", 0, 0 },
	{ "784111777", 0, 0 },
};

START_TEST(test_parse_date)
{
	const char	*in = date_cases[_i].in;
	size_t		 len = strlen(in);
	time_t		 t = 12345;
	int		 ok;

	ok = date_parse(in, len, &t) == 0;
	ck_assert_msg(ok == date_cases[_i].ok, "\"%s\": %s", in,
	    ok ? "accepted" : "refused");
	if (!ok)
		return;
	ck_assert_msg(t == date_cases[_i].t, "\"%s\": %lld, want %lld", in,
	    (long long)t, (long long)date_cases[_i].t);
	/* Only len bytes count: a good date's prefix is not a date. */
	ck_assert_int_eq(date_parse(in, len - 1, &t), -1);
}
END_TEST

/* date_format() and date_parse() agree, and agree with timegm(). */
START_TEST(test_date_roundtrip)
{
	char		 buf[PAGE_DATE_LEN + 1];
	uint32_t	 seed = 42;
	time_t		 t, back;
	struct tm	 tm;
	int		 i;

	for (i = 0; i < 20000; i++) {
		t = (time_t)((uint64_t)lcg(&seed) << 30 ^
		    (uint64_t)lcg(&seed) << 15 ^ lcg(&seed)) % 253402300800;
		date_format(t, buf, sizeof buf);
		ck_assert_msg(date_parse(buf, strlen(buf), &back) == 0,
		    "\"%s\" refused", buf);
		ck_assert_msg(back == t, "\"%s\": %lld, want %lld", buf,
		    (long long)back, (long long)t);
		gmtime_r(&t, &tm);
		ck_assert(timegm(&tm) == back);
	}
}
END_TEST

static Suite *
date_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("date");

	tc = tcase_create("format");
	tcase_add_test(tc, test_date);
	tcase_add_test(tc, test_date_tz);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse_date, 0, NELEM(date_cases));
	tcase_add_test(tc, test_date_roundtrip);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (unit_run(date_suite()));
}

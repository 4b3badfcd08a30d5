/* SPDX-License-Identifier: ISC */
/*
 * HTTP-dates (RFC 9110 5.6.7), kept pure: formatted from and parsed to a
 * time_t without the locale, the time zone or a clock.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hellod.h"

/*
 * Day and month names, for date_format() and date_parse(): a day's
 * short name is the first three letters of its long one.
 */
static const char	 date_days[7][10] = { "Sunday", "Monday", "Tuesday",
			     "Wednesday", "Thursday", "Friday", "Saturday" };
static const char	 date_months[12][4] = { "Jan", "Feb", "Mar", "Apr",
			     "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
			     "Dec" };

/* Format t as an IMF-fixdate, independent of the locale. */
void
date_format(time_t t, char *buf, size_t len)
{
	struct tm	tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%.3s, %02d %s %04d %02d:%02d:%02d GMT",
	    date_days[tm.tm_wday], tm.tm_mday, date_months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* n decimal digits at s, or -1. */
static int
date_num(const char *s, size_t n)
{
	int	v = 0;

	for (; n > 0; n--, s++) {
		if (*s < '0' || *s > '9')
			return (-1);
		v = v * 10 + (*s - '0');
	}
	return (v);
}

/* The month named by the three letters at s (0-11), or -1. */
static int
date_month(const char *s)
{
	int	i;

	for (i = 0; i < 12; i++) {
		if (memcmp(s, date_months[i], 3) == 0)
			return (i);
	}
	return (-1);
}

/* Whether the len bytes at s are a day name, short (3) or long. */
static int
date_day(const char *s, size_t len)
{
	int	i;

	for (i = 0; i < 7; i++) {
		if ((len == 3 || len == strlen(date_days[i])) &&
		    memcmp(s, date_days[i], len) == 0)
			return (1);
	}
	return (0);
}

/* "HH:MM:SS" at s, as seconds into the day, or -1. */
static int
date_clock(const char *s)
{
	int	h, m, sec;

	if (s[2] != ':' || s[5] != ':')
		return (-1);
	h = date_num(s, 2);
	m = date_num(s + 3, 2);
	sec = date_num(s + 6, 2);
	if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 60)
		return (-1);	/* 60: a leap second */
	return (h * 3600 + m * 60 + sec);
}

/*
 * Seconds since the epoch of y-m-d (m 1-12) plus secs, or -1 if the day
 * does not exist. Days from the civil date as in Howard Hinnant's
 * days_from_civil: no timegm(), no time zone, no locale.
 */
static int
date_make(int y, int m, int d, int secs, time_t *t)
{
	static const int	 mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31,
				     30, 31, 30, 31 };
	int64_t			 era, yoe, doy, doe;

	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || secs < 0 ||
	    (m == 2 && d == 29 && (y % 4 != 0 ||
	    (y % 100 == 0 && y % 400 != 0))))
		return (-1);
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	*t = (time_t)((era * 146097 + doe - 719468) * 86400 + secs);
	return (0);
}

/*
 * Parse an HTTP-date (RFC 9110 5.6.7) in any of its three formats:
 *	IMF-fixdate	Sun, 06 Nov 1994 08:49:37 GMT
 *	rfc850-date	Sunday, 06-Nov-94 08:49:37 GMT
 *	asctime-date	Sun Nov  6 08:49:37 1994
 * Case-sensitive, as the grammar is. The day name must be one, but need
 * not agree with the date. A two-digit year is 1970-2069: RFC 9110 reads
 * it as at most 50 years ahead of now, which differs only for years more
 * than 43 years in the future, and keeps this free of a clock. Returns 0
 * with *t set, or -1.
 */
int
date_parse(const char *s, size_t len, time_t *t)
{
	const char	*c;
	int		 d, m, y, secs;

	if (len == 29 && s[3] == ',' && s[4] == ' ' && s[7] == ' ' &&
	    s[11] == ' ' && s[16] == ' ' && s[25] == ' ' &&
	    memcmp(s + 26, "GMT", 3) == 0) {
		if (!date_day(s, 3))
			return (-1);
		d = date_num(s + 5, 2);
		m = date_month(s + 8);
		y = date_num(s + 12, 4);
		secs = date_clock(s + 17);
	} else if (len == 24 && s[3] == ' ' && s[7] == ' ' && s[10] == ' ' &&
	    s[19] == ' ') {
		if (!date_day(s, 3))
			return (-1);
		m = date_month(s + 4);
		d = s[8] == ' ' ? date_num(s + 9, 1) :
		    date_num(s + 8, 2);
		secs = date_clock(s + 11);
		y = date_num(s + 20, 4);
	} else if ((c = memchr(s, ',', len)) != NULL && c - s >= 6 &&
	    len - (size_t)(c - s) == 24 && c[1] == ' ' && c[4] == '-' &&
	    c[8] == '-' && c[11] == ' ' && c[20] == ' ' &&
	    memcmp(c + 21, "GMT", 3) == 0) {
		if (!date_day(s, (size_t)(c - s)))
			return (-1);
		d = date_num(c + 2, 2);
		m = date_month(c + 5);
		if ((y = date_num(c + 9, 2)) >= 0)
			y += y < 70 ? 2000 : 1900;
		secs = date_clock(c + 12);
	} else
		return (-1);
	if (d < 0 || m < 0 || y < 0)
		return (-1);
	return (date_make(y, m + 1, d, secs, t));
}

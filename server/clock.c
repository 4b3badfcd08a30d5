/* SPDX-License-Identifier: ISC */
/*
 * Time for every loop: monotonic clocks, timevals, and the Date header
 * cache. The lowest shared facility: it calls nothing of hellod's but
 * the Date formatter.
 */
#include <sys/time.h>

#include <time.h>

#include "hellod.h"

/* Monotonic microseconds. */
uint64_t
clock_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

/* Monotonic milliseconds. */
uint64_t
clock_now_ms(void)
{
	return (clock_now_us() / 1000);
}

/* Milliseconds to a timeval. */
void
clock_tv(uint64_t ms, struct timeval *tv)
{
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)((ms % 1000) * 1000);
}

/*
 * The Date value for a response from base's loop, from the time the loop
 * last read (no system call), reformatted at most once a second.
 */
const char *
clock_date(struct event_base *base, struct clock_date *cd)
{
	struct timeval	tv;

	if (event_base_gettimeofday_cached(base, &tv) == -1)
		gettimeofday(&tv, NULL);
	if (tv.tv_sec != cd->cd_time || cd->cd_text[0] == '\0') {
		date_format(tv.tv_sec, cd->cd_text, sizeof cd->cd_text);
		cd->cd_time = tv.tv_sec;
	}
	return (cd->cd_text);
}

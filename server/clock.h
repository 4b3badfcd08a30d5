/* SPDX-License-Identifier: ISC */
/*
 * clock.h: monotonic time, timevals, the Date cache.
 * Included by hellod.h, after the headers before it in the map there.
 */
#ifndef HELLOD_CLOCK_H
#define HELLOD_CLOCK_H

/* clock.c: monotonic time, timevals, the Date header cache. */
struct clock_date {
	time_t		 cd_time;
	char		 cd_text[PAGE_DATE_LEN + 1];
};

uint64_t	 clock_now_us(void);
uint64_t	 clock_now_ms(void);
void		 clock_tv(uint64_t, struct timeval *);
const char	*clock_date(struct event_base *, struct clock_date *);

#endif /* HELLOD_CLOCK_H */

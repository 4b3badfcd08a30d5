/* SPDX-License-Identifier: ISC */
/*
 * stall.h: the stall check of a worker's loop.
 * Included by hellod.h, after the headers before it in the map there.
 */
#ifndef HELLOD_STALL_H
#define HELLOD_STALL_H

/* stall.c: the stall check of a worker's loop. */
struct event	*stall_new(struct worker *);
void		 stall_arm(struct worker *);
#ifdef HELLOD_TEST_HOOKS
void		 stall_inject(struct worker *);
#endif

#endif /* HELLOD_STALL_H */

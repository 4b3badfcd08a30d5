/* SPDX-License-Identifier: ISC */
/*
 * notify.h: STATUS= and WATCHDOG=1 while running.
 * Included by hellod.h, after the headers before it in the map there.
 */
#ifndef HELLOD_NOTIFY_H
#define HELLOD_NOTIFY_H

/* notify.c: STATUS= and WATCHDOG=1 while running. */
void		 notify_status_line(struct server *, char *, size_t);
int		 notify_start(struct server *, uint64_t);

#endif /* HELLOD_NOTIFY_H */

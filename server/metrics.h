/* SPDX-License-Identifier: ISC */
/*
 * metrics.h: the metrics_listen endpoint.
 * Included by hellod.h, after the headers before it in the map there.
 */
#ifndef HELLOD_METRICS_H
#define HELLOD_METRICS_H

/* metrics.c */
struct metrics;
struct metrics	*metrics_open(struct server *, const struct listen_addr *, int,
		     char **);
void		 metrics_close(struct metrics *);
int		 metrics_fd(struct metrics *);

#endif /* HELLOD_METRICS_H */

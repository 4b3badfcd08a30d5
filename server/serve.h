/* SPDX-License-Identifier: ISC */
/*
 * serve.h: HTTP/1.1 served on a connection.
 * Included by hellod.h, after the headers before it in the map there.
 */
#ifndef HELLOD_SERVE_H
#define HELLOD_SERVE_H

/* serve.c: HTTP/1.1 on a connection, over conn.c. */
int		 serve_new(struct worker *, evutil_socket_t,
		     const struct sockaddr *, socklen_t);
int		 serve_reclaim(struct conn *);
void		 serve_shutdown(struct conn *);

#endif /* HELLOD_SERVE_H */

/* SPDX-License-Identifier: ISC */
/*
 * sockets.h: the listening sockets, from systemd and back.
 * Included by hellod.h, after the headers before it in the map there.
 */
#ifndef HELLOD_SOCKETS_H
#define HELLOD_SOCKETS_H

/* sockets.c: the listening sockets, from systemd and back to its store. */
int		 sockets_listen(struct server *, char **);
void		 sockets_store(struct server *);

#endif /* HELLOD_SOCKETS_H */

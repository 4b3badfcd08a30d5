/* SPDX-License-Identifier: ISC */
/*
 * addr.h: socket addresses as text.
 * Included by hellod.h, after the headers before it in the map there.
 */
#ifndef HELLOD_ADDR_H
#define HELLOD_ADDR_H

/* addr.c */
void		 addr_format(const struct sockaddr *, socklen_t, char *,
		     size_t);

#endif /* HELLOD_ADDR_H */

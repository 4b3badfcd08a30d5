/* SPDX-License-Identifier: ISC */
/*
 * routes.h: path to route.
 * Included by hellod.h, after the headers before it in the map there.
 */
#ifndef HELLOD_ROUTES_H
#define HELLOD_ROUTES_H

/* routes.c */
enum route_id {
	ROUTE_HELLO,		/* GET / */
	ROUTE_SLEEP,		/* GET /sleep, after the delay */
	ROUTE_NOT_FOUND,	/* 404 */
	ROUTE_BAD_METHOD,	/* 405 */
};

struct route {
	const char	*rt_path;
	enum route_id	 rt_id;
};

enum route_id	 route_match(enum http_method, const char *, size_t);
enum page_id	 route_page(enum route_id);
const char	*route_name(enum route_id);

#endif /* HELLOD_ROUTES_H */

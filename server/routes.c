/* SPDX-License-Identifier: ISC */
/*
 * The route table: the book's two paths, matched exactly on the path
 * without its query string. Everything else is 404; any method other
 * than GET and HEAD is 405 wherever it is aimed.
 */
#include <string.h>

#include "hellod.h"

static const struct route routes[] = {
	{ "/",		ROUTE_HELLO },
	{ "/sleep",	ROUTE_SLEEP },
};

/* Which route answers method on path. */
enum route_id
route_match(enum http_method method, const char *path, size_t len)
{
	size_t	i;

	if (method != HTTP_M_GET && method != HTTP_M_HEAD)
		return (ROUTE_BAD_METHOD);
	for (i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		if (strlen(routes[i].rt_path) == len &&
		    memcmp(routes[i].rt_path, path, len) == 0)
			return (routes[i].rt_id);
	}
	return (ROUTE_NOT_FOUND);
}

/* The page a route answers with. */
enum page_id
route_page(enum route_id id)
{
	switch (id) {
	case ROUTE_HELLO:
	case ROUTE_SLEEP:
		return (PAGE_HELLO);
	case ROUTE_NOT_FOUND:
		return (PAGE_NOT_FOUND);
	case ROUTE_BAD_METHOD:
		return (PAGE_405);
	}
	return (PAGE_500);
}

/* A short name for logs. */
const char *
route_name(enum route_id id)
{
	switch (id) {
	case ROUTE_HELLO:
		return ("hello");
	case ROUTE_SLEEP:
		return ("sleep");
	case ROUTE_NOT_FOUND:
		return ("not-found");
	case ROUTE_BAD_METHOD:
		return ("bad-method");
	}
	return ("?");
}

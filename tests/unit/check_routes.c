/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for routes.c: method and path to route, route to page.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hellod.h"
#include "unit.h"

static const struct {
	enum http_method	 method;
	const char		*path;
	enum route_id		 route;
} matches[] = {
	{ HTTP_M_GET, "/", ROUTE_HELLO },
	{ HTTP_M_HEAD, "/", ROUTE_HELLO },
	{ HTTP_M_GET, "/sleep", ROUTE_SLEEP },
	{ HTTP_M_HEAD, "/sleep", ROUTE_SLEEP },
	{ HTTP_M_GET, "/sleep/", ROUTE_NOT_FOUND },
	{ HTTP_M_GET, "/hello.html", ROUTE_NOT_FOUND },
	{ HTTP_M_GET, "/404.html", ROUTE_NOT_FOUND },
	{ HTTP_M_GET, "", ROUTE_NOT_FOUND },
	{ HTTP_M_GET, "/SLEEP", ROUTE_NOT_FOUND },
	{ HTTP_M_GET, "//", ROUTE_NOT_FOUND },
	{ HTTP_M_GET, "/sleepy", ROUTE_NOT_FOUND },
	{ HTTP_M_GET, "/slee", ROUTE_NOT_FOUND },
	{ HTTP_M_GET, "sleep", ROUTE_NOT_FOUND },
	{ HTTP_M_GET, "//sleep", ROUTE_NOT_FOUND },
	{ HTTP_M_GET, "/sleep?x=1", ROUTE_NOT_FOUND },	/* query is cut */
	{ HTTP_M_GET, "/index.html", ROUTE_NOT_FOUND },	/* before this */
	{ HTTP_M_GET, "/%73leep", ROUTE_NOT_FOUND },
	{ HTTP_M_HEAD, "/nope", ROUTE_NOT_FOUND },
	{ HTTP_M_HEAD, "/sleep/", ROUTE_NOT_FOUND },
	{ HTTP_M_OTHER, "/", ROUTE_BAD_METHOD },
	{ HTTP_M_OTHER, "/sleep", ROUTE_BAD_METHOD },
	{ HTTP_M_OTHER, "/nope", ROUTE_BAD_METHOD },
	{ HTTP_M_OTHER, "", ROUTE_BAD_METHOD },
	{ HTTP_M_OTHER, "/hello.html", ROUTE_BAD_METHOD },
};

START_TEST(test_match)
{
	enum route_id	 got;

	got = route_match(matches[_i].method, matches[_i].path,
	    strlen(matches[_i].path));
	ck_assert_msg(got == matches[_i].route,
	    "method %d path \"%s\": route %d (%s), want %d (%s)",
	    matches[_i].method, matches[_i].path, got, route_name(got),
	    matches[_i].route, route_name(matches[_i].route));
}
END_TEST

/* The path is (pointer, length), not a C string. */
START_TEST(test_match_length)
{
	static const char	 unterminated[] = { '/', 's', 'l', 'e', 'e',
	    'p', 'y', 'x' };
	char			*heap;

	ck_assert_int_eq(route_match(HTTP_M_GET, "/sleepy", 6), ROUTE_SLEEP);
	ck_assert_int_eq(route_match(HTTP_M_GET, "/sleep", 5),
	    ROUTE_NOT_FOUND);
	ck_assert_int_eq(route_match(HTTP_M_GET, "/sleep", 1), ROUTE_HELLO);
	ck_assert_int_eq(route_match(HTTP_M_GET, "/", 0), ROUTE_NOT_FOUND);
	ck_assert_int_eq(route_match(HTTP_M_GET, "/?x=1", 1), ROUTE_HELLO);
	ck_assert_int_eq(route_match(HTTP_M_HEAD, "/sleep?x=1", 6),
	    ROUTE_SLEEP);
	ck_assert_int_eq(route_match(HTTP_M_GET, unterminated, 6),
	    ROUTE_SLEEP);
	ck_assert_int_eq(route_match(HTTP_M_GET, unterminated, 7),
	    ROUTE_NOT_FOUND);
	ck_assert_int_eq(route_match(HTTP_M_GET, unterminated, 1),
	    ROUTE_HELLO);

	/* Exactly six bytes, no NUL after them. */
	ck_assert_ptr_nonnull(heap = malloc(6));
	memcpy(heap, "/sleep", 6);
	ck_assert_int_eq(route_match(HTTP_M_GET, heap, 6), ROUTE_SLEEP);
	free(heap);
}
END_TEST

/* A path with a NUL inside is not "/". */
START_TEST(test_match_nul)
{
	ck_assert_int_eq(route_match(HTTP_M_GET, "/\0", 2), ROUTE_NOT_FOUND);
	ck_assert_int_eq(route_match(HTTP_M_GET, "/sleep\0", 7),
	    ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(test_page)
{
	ck_assert_int_eq(route_page(ROUTE_HELLO), PAGE_HELLO);
	ck_assert_int_eq(route_page(ROUTE_SLEEP), PAGE_HELLO);
	ck_assert_int_eq(route_page(ROUTE_NOT_FOUND), PAGE_NOT_FOUND);
	ck_assert_int_eq(route_page(ROUTE_BAD_METHOD), PAGE_405);
}
END_TEST

START_TEST(test_name)
{
	static const enum route_id ids[] = {
		ROUTE_HELLO, ROUTE_SLEEP, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD
	};
	const char	*name;
	size_t		 i, j;

	for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		name = route_name(ids[i]);
		ck_assert_ptr_nonnull(name);
		ck_assert_msg(*name != '\0', "route %d has an empty name",
		    ids[i]);
		for (j = 0; j < i; j++) {
			ck_assert_msg(strcmp(name, route_name(ids[j])) != 0,
			    "routes %d and %d are both \"%s\"", ids[i], ids[j],
			    name);
		}
	}
}
END_TEST

static Suite *
routes_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("routes");

	tc = tcase_create("match");
	tcase_add_loop_test(tc, test_match, 0, NELEM(matches));
	tcase_add_test(tc, test_match_length);
	tcase_add_test(tc, test_match_nul);
	suite_add_tcase(s, tc);

	tc = tcase_create("pages");
	tcase_add_test(tc, test_page);
	tcase_add_test(tc, test_name);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (unit_run(routes_suite()));
}

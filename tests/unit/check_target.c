/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for target.c: the request-target's forms and authority, and
 * the path found in it. (check_http tests them through whole requests.)
 */
#include <sys/types.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hellod.h"
#include "unit.h"

static const struct {
	enum http_method	 method;
	int			 connect;
	const char		*target;
	const char		*path;	/* NULL: refused */
} targets[] = {
	{ HTTP_M_GET, 0, "/", "/" },
	{ HTTP_M_GET, 0, "/sleep", "/sleep" },
	{ HTTP_M_GET, 0, "/sleep?x=1", "/sleep" },
	{ HTTP_M_GET, 0, "/a/b?c/d", "/a/b" },
	{ HTTP_M_GET, 0, "http://127.0.0.1:7878/sleep", "/sleep" },
	{ HTTP_M_GET, 0, "HTTPS://example.org/x?y", "/x" },
	{ HTTP_M_GET, 0, "http://example.org", "/" },
	{ HTTP_M_GET, 0, "http://example.org?q", "/" },
	{ HTTP_M_GET, 0, "http://[::1]:7878/", "/" },
	{ HTTP_M_GET, 0, "http://user@example.org/", NULL },
	{ HTTP_M_GET, 0, "http://exa mple/", NULL },
	{ HTTP_M_GET, 0, "http://", NULL },
	{ HTTP_M_GET, 0, "ftp://example.org/", NULL },
	{ HTTP_M_GET, 0, "sleep", NULL },
	{ HTTP_M_GET, 0, "*", NULL },
	{ HTTP_M_HEAD, 0, "*", NULL },
	{ HTTP_M_OTHER, 0, "*", "*" },
	{ HTTP_M_OTHER, 1, "example.org:443", "/" },
	{ HTTP_M_OTHER, 1, "127.0.0.1:1", "/" },
	{ HTTP_M_OTHER, 1, "example.org", NULL },
	{ HTTP_M_OTHER, 1, "example.org:0", NULL },
	{ HTTP_M_OTHER, 1, "example.org:65536", NULL },
	{ HTTP_M_OTHER, 1, "/", NULL },
};

START_TEST(test_parse)
{
	struct http_request	 r;
	char			 line[256];
	const char		*why, *path;
	size_t			 len;

	memset(&r, 0, sizeof r);
	r.r_method = targets[_i].method;
	(void)snprintf(line, sizeof line, "XXXX %s HTTP/1.1",
	    targets[_i].target);
	r.r_line = line;
	why = target_parse(&r, 5, strlen(targets[_i].target),
	    targets[_i].connect);
	if (targets[_i].path == NULL) {
		ck_assert_msg(why != NULL, "\"%s\" accepted",
		    targets[_i].target);
		return;
	}
	ck_assert_msg(why == NULL, "\"%s\" refused: %s", targets[_i].target,
	    why);
	if (r.r_path_off == SIZE_MAX) {
		path = "/";
		len = r.r_path_len;
	} else {
		path = line + r.r_path_off;
		len = r.r_path_len;
	}
	ck_assert_msg(len == strlen(targets[_i].path) &&
	    strncmp(path, targets[_i].path, len) == 0,
	    "\"%s\": path \"%.*s\", want \"%s\"", targets[_i].target,
	    (int)len, path, targets[_i].path);
}
END_TEST

static Suite *
target_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("target");
	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse, 0, NELEM(targets));
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (unit_run(target_suite()));
}

/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for cond.c: what the parser keeps of If-None-Match and
 * If-Modified-Since, cond_not_modified() against a page's validators,
 * the FNV-1a hash of entity-tags, and nothing kept across requests.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/types.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hellod.h"
#include "unit.h"

#define MAX_HEAD	8192	/* the default max_header_size */

/* Parse a whole GET / with extra header lines into req (HTTP_COMPLETE). */
static void
parse_cond(struct http_request *req, const char *method, const char *hdrs)
{
	struct evbuffer	*buf;
	char		 in[2048];

	snprintf(in, sizeof in, "%s / HTTP/1.1\r\nHost: a\r\n%s\r\n", method,
	    hdrs);
	ck_assert_ptr_nonnull(buf = evbuffer_new());
	evbuffer_add(buf, in, strlen(in));
	http_request_init(req, MAX_HEAD);
	ck_assert_msg(http_parse(req, buf) == HTTP_COMPLETE, "\"%s\": %s",
	    unit_escape(in, strlen(in)),
	    req->r_error != NULL ? req->r_error : "");
	ck_assert_uint_eq(evbuffer_get_length(buf), 0);
	evbuffer_free(buf);
}

#define TAG(s)	cond_hash(s, sizeof(s) - 1)

/* If-None-Match values and what the parser keeps of them. */
static const struct {
	const char	*hdrs;
	enum http_inm	 inm;
	int		 n;
	const char	*tags[HTTP_INM_MAX];	/* opaque-tags, quotes kept */
} inm_cases[] = {
	{ "", HTTP_INM_NONE, 0, { NULL } },
	{ "If-None-Match: \"abc\"\r\n", HTTP_INM_LIST, 1, { "\"abc\"" } },
	{ "if-none-match:\"abc\"\r\n", HTTP_INM_LIST, 1, { "\"abc\"" } },
	{ "IF-NONE-MATCH: \t\"abc\" \t\r\n", HTTP_INM_LIST, 1, { "\"abc\"" } },
	{ "If-None-Match: W/\"abc\"\r\n", HTTP_INM_LIST, 1, { "\"abc\"" } },
	{ "If-None-Match: \"\"\r\n", HTTP_INM_LIST, 1, { "\"\"" } },
	{ "If-None-Match: \"a\", W/\"b\",\"c\"\r\n", HTTP_INM_LIST, 3,
	    { "\"a\"", "\"b\"", "\"c\"" } },
	{ "If-None-Match: ,, \"a\" ,,\r\n", HTTP_INM_LIST, 1, { "\"a\"" } },
	{ "If-None-Match: \"a\"\r\nIf-None-Match: \"b\"\r\n", HTTP_INM_LIST, 2,
	    { "\"a\"", "\"b\"" } },
	{ "If-None-Match: \"x\xe9y\"\r\n", HTTP_INM_LIST, 1, { "\"x\xe9y\"" } },
	{ "If-None-Match: \"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\"\r\n",
	    HTTP_INM_LIST, 8, { "\"1\"", "\"2\"", "\"3\"", "\"4\"", "\"5\"",
	    "\"6\"", "\"7\"", "\"8\"" } },
	{ "If-None-Match:\r\n", HTTP_INM_LIST, 0, { NULL } },
	{ "If-None-Match: *\r\n", HTTP_INM_ANY, 0, { NULL } },
	{ "If-None-Match:*\r\n", HTTP_INM_ANY, 0, { NULL } },
	/* Malformed, or more than we keep: matches nothing. */
	{ "If-None-Match: abc\r\n", HTTP_INM_UNUSABLE, 0, { NULL } },
	{ "If-None-Match: \"abc\r\n", HTTP_INM_UNUSABLE, 0, { NULL } },
	{ "If-None-Match: \"a b\"\r\n", HTTP_INM_UNUSABLE, 0, { NULL } },
	{ "If-None-Match: \"a\tb\"\r\n", HTTP_INM_UNUSABLE, 0, { NULL } },
	{ "If-None-Match: \"a\"\"b\"\r\n", HTTP_INM_UNUSABLE, 0, { NULL } },
	{ "If-None-Match: \"a\" \"b\"\r\n", HTTP_INM_UNUSABLE, 0, { NULL } },
	{ "If-None-Match: w/\"a\"\r\n", HTTP_INM_UNUSABLE, 0, { NULL } },
	{ "If-None-Match: W/ \"a\"\r\n", HTTP_INM_UNUSABLE, 0, { NULL } },
	{ "If-None-Match: W/\r\n", HTTP_INM_UNUSABLE, 0, { NULL } },
	{ "If-None-Match: \"a\", *\r\n", HTTP_INM_UNUSABLE, 0, { NULL } },
	{ "If-None-Match: *, \"a\"\r\n", HTTP_INM_UNUSABLE, 0, { NULL } },
	{ "If-None-Match: **\r\n", HTTP_INM_UNUSABLE, 0, { NULL } },
	{ "If-None-Match: *\r\nIf-None-Match: *\r\n", HTTP_INM_UNUSABLE, 0,
	    { NULL } },
	{ "If-None-Match: \"a\"\r\nIf-None-Match: *\r\n", HTTP_INM_UNUSABLE,
	    0, { NULL } },
	{ "If-None-Match: x\r\nIf-None-Match: \"a\"\r\n", HTTP_INM_UNUSABLE,
	    0, { NULL } },
	{ "If-None-Match: \"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\","
	    "\"9\"\r\n", HTTP_INM_UNUSABLE, 0, { NULL } },
	/* Not the field. */
	{ "If-None-Matches: \"a\"\r\n", HTTP_INM_NONE, 0, { NULL } },
	{ "X-If-None-Match: \"a\"\r\n", HTTP_INM_NONE, 0, { NULL } },
};

START_TEST(test_if_none_match)
{
	struct http_request	 req;
	int			 i;

	parse_cond(&req, "GET", inm_cases[_i].hdrs);
	ck_assert_msg(req.r_inm == inm_cases[_i].inm && req.r_inm_n ==
	    inm_cases[_i].n, "\"%s\": inm %d n %d, want %d %d",
	    unit_escape(inm_cases[_i].hdrs, strlen(inm_cases[_i].hdrs)),
	    (int)req.r_inm, req.r_inm_n, (int)inm_cases[_i].inm,
	    inm_cases[_i].n);
	for (i = 0; i < inm_cases[_i].n; i++) {
		ck_assert_msg(req.r_inm_tag[i] == cond_hash(
		    inm_cases[_i].tags[i], strlen(inm_cases[_i].tags[i])),
		    "\"%s\": tag %d", inm_cases[_i].hdrs, i);
	}
	http_request_clear(&req);
}
END_TEST

/* If-Modified-Since: a valid date is kept, anything else ignored. */
START_TEST(test_if_modified_since)
{
	struct http_request	 req;

	parse_cond(&req, "GET", "If-Modified-Since: Sun, 06 Nov 1994 "
	    "08:49:37 GMT\r\n");
	ck_assert_int_eq(req.r_ims_ok, 1);
	ck_assert_int_eq(req.r_ims, 784111777);
	http_request_clear(&req);

	parse_cond(&req, "GET", "if-modified-since:   Sunday, 06-Nov-94 "
	    "08:49:37 GMT  \r\n");
	ck_assert_int_eq(req.r_ims_ok, 1);
	ck_assert_int_eq(req.r_ims, 784111777);
	http_request_clear(&req);

	parse_cond(&req, "GET", "If-Modified-Since: yesterday\r\n");
	ck_assert_int_eq(req.r_ims_ok, 0);
	http_request_clear(&req);

	parse_cond(&req, "GET", "If-Modified-Since:\r\n");
	ck_assert_int_eq(req.r_ims_ok, 0);
	http_request_clear(&req);

	/* A field that must appear once, twice: ignored. */
	parse_cond(&req, "GET", "If-Modified-Since: Sun, 06 Nov 1994 "
	    "08:49:37 GMT\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 "
	    "GMT\r\n");
	ck_assert_int_eq(req.r_ims_ok, 0);
	http_request_clear(&req);
	parse_cond(&req, "GET", "If-Modified-Since: x\r\nIf-Modified-Since: "
	    "Sun, 06 Nov 1994 08:49:37 GMT\r\nIf-Modified-Since: x\r\n");
	ck_assert_int_eq(req.r_ims_ok, 0);
	http_request_clear(&req);

	parse_cond(&req, "GET", "If-Modified-Sincere: Sun, 06 Nov 1994 "
	    "08:49:37 GMT\r\n");
	ck_assert_int_eq(req.r_ims_ok, 0);
	http_request_clear(&req);
}
END_TEST

#define ETAG	"\"0123456789abcdef-2a\""
#define MTIME	784111777	/* Sun, 06 Nov 1994 08:49:37 GMT */

/* Preconditions against a page with ETag ETAG, Last-Modified MTIME. */
static const struct {
	const char	*method;
	const char	*hdrs;
	int		 notmod;
} nm_cases[] = {
	{ "GET", "", 0 },
	{ "GET", "If-None-Match: " ETAG "\r\n", 1 },
	{ "HEAD", "If-None-Match: " ETAG "\r\n", 1 },
	{ "GET", "If-None-Match: W/" ETAG "\r\n", 1 },
	{ "GET", "If-None-Match: \"x\", W/" ETAG ", \"y\"\r\n", 1 },
	{ "GET", "If-None-Match: \"x\"\r\nIf-None-Match: " ETAG "\r\n", 1 },
	{ "GET", "If-None-Match: *\r\n", 1 },
	{ "GET", "If-None-Match: \"x\"\r\n", 0 },
	{ "GET", "If-None-Match: \"0123456789abcdef-2b\"\r\n", 0 },
	{ "GET", "If-None-Match: \"0123456789ABCDEF-2a\"\r\n", 0 },
	{ "GET", "If-None-Match: 0123456789abcdef-2a\r\n", 0 },
	{ "GET", "If-None-Match: " ETAG ", junk\r\n", 0 },
	{ "GET", "If-None-Match:\r\n", 0 },
	/* If-Modified-Since: not modified when mtime <= the date. */
	{ "GET", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", 1 },
	{ "HEAD", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", 1 },
	{ "GET", "If-Modified-Since: Sun, 06 Nov 1994 08:49:38 GMT\r\n", 1 },
	{ "GET", "If-Modified-Since: Sun Nov  6 08:49:37 1994\r\n", 1 },
	{ "GET", "If-Modified-Since: Sunday, 06-Nov-94 08:49:37 GMT\r\n", 1 },
	{ "GET", "If-Modified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", 0 },
	{ "GET", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 UTC\r\n", 0 },
	/* If-None-Match, when present, decides alone. */
	{ "GET", "If-None-Match: \"x\"\r\nIf-Modified-Since: Sun, 06 Nov 2094 "
	    "08:49:37 GMT\r\n", 0 },
	{ "GET", "If-None-Match: junk\r\nIf-Modified-Since: Sun, 06 Nov 2094 "
	    "08:49:37 GMT\r\n", 0 },
	{ "GET", "If-None-Match: " ETAG "\r\nIf-Modified-Since: Sun, 06 Nov "
	    "1970 08:49:37 GMT\r\n", 1 },
	/* Only GET and HEAD. */
	{ "POST", "If-None-Match: " ETAG "\r\n", 0 },
	{ "PUT", "If-None-Match: *\r\n", 0 },
	{ "DELETE", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n",
	    0 },
};

START_TEST(test_not_modified)
{
	struct http_request	 req;
	int			 got;

	parse_cond(&req, nm_cases[_i].method, nm_cases[_i].hdrs);
	got = cond_not_modified(&req, TAG(ETAG), MTIME);
	ck_assert_msg(got == nm_cases[_i].notmod, "%s \"%s\": %d, want %d",
	    nm_cases[_i].method, unit_escape(nm_cases[_i].hdrs,
	    strlen(nm_cases[_i].hdrs)), got, nm_cases[_i].notmod);
	http_request_clear(&req);
}
END_TEST

/* FNV-1a test vectors. */
START_TEST(test_hash)
{
	ck_assert(cond_hash("", 0) == 0xcbf29ce484222325ULL);
	ck_assert(cond_hash("a", 1) == 0xaf63dc4c8601ec8cULL);
	ck_assert(cond_hash("foobar", 6) == 0x85944171f73967e8ULL);
	ck_assert(cond_hash("a\0b", 3) != cond_hash("a\0c", 3));
}
END_TEST

/* The fields are reset between requests on a connection. */
START_TEST(test_cond_reset)
{
	struct http_request	 req;
	struct evbuffer		*buf;
	static const char	 in[] = "GET / HTTP/1.1\r\nHost: a\r\n"
	    "If-None-Match: *\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 "
	    "GMT\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";

	ck_assert_ptr_nonnull(buf = evbuffer_new());
	evbuffer_add(buf, in, sizeof in - 1);
	http_request_init(&req, MAX_HEAD);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_COMPLETE);
	ck_assert_int_eq(cond_not_modified(&req, 1, MTIME), 1);
	http_request_reset(&req);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_COMPLETE);
	ck_assert_int_eq(req.r_inm, HTTP_INM_NONE);
	ck_assert_int_eq(req.r_ims_ok, 0);
	ck_assert_int_eq(cond_not_modified(&req, 1, MTIME), 0);
	http_request_clear(&req);
	evbuffer_free(buf);
}
END_TEST

static Suite *
cond_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("cond");

	tc = tcase_create("conditional");
	tcase_add_loop_test(tc, test_if_none_match, 0, NELEM(inm_cases));
	tcase_add_test(tc, test_if_modified_since);
	tcase_add_loop_test(tc, test_not_modified, 0, NELEM(nm_cases));
	tcase_add_test(tc, test_hash);
	tcase_add_test(tc, test_cond_reset);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (unit_run(cond_suite()));
}

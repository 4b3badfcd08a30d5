/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for page.c: prebuilt response heads, page_write(), loading
 * the page files with pages_load(), and the hello page's validators and
 * 304 (page_etag(), pages_answer()).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"
#include "unit.h"

#define DATE	"Sun, 06 Nov 1994 08:49:37 GMT"
#define SERVER	"Server: hellod/" PACKAGE_VERSION "\r\n"
#define NOCACHE	"Cache-Control: no-cache\r\n"
#define CTYPE	"Content-Type: text/html; charset=utf-8\r\n"
#define ALLOW	"Allow: GET, HEAD\r\n"

#define HELLO_BODY	"<!DOCTYPE html>\n<title>hi</title>\n<p>Hello!\n"
#define MTIME		784111777	/* Sun, 06 Nov 1994 08:49:37 GMT */
#define NOTFOUND_BODY	"<!DOCTYPE html>\n<title>404</title>\n<p>Oops\n"

/* The error pages built into pages_load(), with their statuses. */
static const struct {
	enum page_id	 id;
	int		 status;
} error_pages[] = {
	{ PAGE_400, 400 },
	{ PAGE_405, 405 },
	{ PAGE_408, 408 },
	{ PAGE_413, 413 },
	{ PAGE_414, 414 },
	{ PAGE_431, 431 },
	{ PAGE_500, 500 },
	{ PAGE_505, 505 },
};
#define NERROR_PAGES	(sizeof error_pages / sizeof error_pages[0])

/* The whole contents of an evbuffer as a NUL-terminated string. */
static char *
contents(struct evbuffer *buf)
{
	size_t	 len = evbuffer_get_length(buf);
	char	*s;

	ck_assert_ptr_nonnull(s = malloc(len + 1));
	if (len != 0)
		memcpy(s, evbuffer_pullup(buf, -1), len);
	s[len] = '\0';
	return (s);
}

/*
 * page_write(p, head_only, connection) into an empty buffer writes exactly
 * want, and says it wrote that many bytes.
 */
static void
check_write(const struct page *p, int head_only, const char *connection,
    const char *want)
{
	struct evbuffer	*buf;
	size_t		 n;
	char		*s;

	ck_assert_ptr_nonnull(buf = evbuffer_new());
	n = page_write(buf, p, head_only, DATE, connection);
	s = contents(buf);
	ck_assert_str_eq(s, want);
	ck_assert_uint_eq(n, strlen(want));
	free(s);
	evbuffer_free(buf);
}

static void
make_tmpdir(char *dir, size_t size)
{
	snprintf(dir, size, "/tmp/check_page.XXXXXX");
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
}

static void
write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char	 path[256];
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	ck_assert_msg((f = fopen(path, "w")) != NULL, "%s: %s", path,
	    strerror(errno));
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static void
remove_file(const char *dir, const char *name)
{
	char	 path[256];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
}

/* A directory with both page files. */
static void
make_root(char *dir, size_t size)
{
	make_tmpdir(dir, size);
	write_file(dir, "hello.html", HELLO_BODY, strlen(HELLO_BODY));
	write_file(dir, "404.html", NOTFOUND_BODY, strlen(NOTFOUND_BODY));
}

static void
remove_root(const char *dir)
{
	remove_file(dir, "hello.html");
	remove_file(dir, "404.html");
	ck_assert_msg(rmdir(dir) == 0, "rmdir %s: %s", dir, strerror(errno));
}

/* Set a file's modification time. */
static void
set_mtime(const char *dir, const char *name, time_t t)
{
	char		 path[256];
	struct timeval	 tv[2];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	tv[0].tv_sec = tv[1].tv_sec = t;
	tv[0].tv_usec = tv[1].tv_usec = 0;
	ck_assert_msg(utimes(path, tv) == 0, "utimes %s: %s", path,
	    strerror(errno));
}

/* The ETag and Last-Modified lines the hello page must carry. */
static void
validators(char *buf, size_t size, const char *body, size_t len,
    time_t mtime)
{
	char	 date[PAGE_DATE_LEN + 1];

	date_format(mtime, date, sizeof date);
	snprintf(buf, size, "ETag: \"%016" PRIx64 "-%zx\"\r\n"
	    "Last-Modified: %s\r\n", cond_hash(body, len), len, date);
}

/* Check p's head is exactly what page_build() promises. */
static void
check_head(const struct page *p, int status, const char *extra)
{
	char	 want[1024];

	snprintf(want, sizeof want, "HTTP/1.1 %d %s\r\n" SERVER NOCACHE CTYPE
	    "Content-Length: %zu\r\n%s", status, http_reason(status),
	    p->p_bodylen, extra == NULL ? "" : extra);
	ck_assert_int_eq(p->p_status, status);
	ck_assert_ptr_nonnull(p->p_head);
	ck_assert_str_eq(p->p_head, want);
	ck_assert_uint_eq(p->p_headlen, strlen(want));
}

/* --- page_build and page_write --- */

START_TEST(test_build_200)
{
	struct page	 p;

	memset(&p, 0, sizeof p);
	ck_assert_int_eq(page_build(&p, 200, NULL, "hello", 5), 0);
	ck_assert_str_eq(p.p_head, "HTTP/1.1 200 OK\r\n" SERVER NOCACHE CTYPE
	    "Content-Length: 5\r\n");
	check_head(&p, 200, NULL);
	ck_assert_uint_eq(p.p_bodylen, 5);
	ck_assert(memcmp(p.p_body, "hello", 5) == 0);
	page_clear(&p);
}
END_TEST

START_TEST(test_build_extra)
{
	struct page	 p;

	memset(&p, 0, sizeof p);
	ck_assert_int_eq(page_build(&p, 405, ALLOW, "no", 2), 0);
	ck_assert_str_eq(p.p_head, "HTTP/1.1 405 Method Not Allowed\r\n"
	    SERVER NOCACHE CTYPE "Content-Length: 2\r\n" ALLOW);
	check_head(&p, 405, ALLOW);
	page_clear(&p);

	memset(&p, 0, sizeof p);
	ck_assert_int_eq(page_build(&p, 404, "X-A: 1\r\nX-B: 2\r\n", "nf", 2),
	    0);
	check_head(&p, 404, "X-A: 1\r\nX-B: 2\r\n");
	page_clear(&p);
}
END_TEST

START_TEST(test_build_empty_body)
{
	struct page	 p;

	memset(&p, 0, sizeof p);
	ck_assert_int_eq(page_build(&p, 200, NULL, "", 0), 0);
	ck_assert_str_eq(p.p_head, "HTTP/1.1 200 OK\r\n" SERVER NOCACHE CTYPE
	    "Content-Length: 0\r\n");
	ck_assert_uint_eq(p.p_bodylen, 0);
	page_clear(&p);
}
END_TEST

/* The body is copied, may hold NULs, and its length is exact. */
START_TEST(test_build_copies_body)
{
	struct page	 p;
	char		 body[] = "a\0b\0c";
	size_t		 len = sizeof body - 1;

	memset(&p, 0, sizeof p);
	ck_assert_int_eq(page_build(&p, 200, NULL, body, len), 0);
	memset(body, 'x', sizeof body);
	ck_assert_uint_eq(p.p_bodylen, 5);
	ck_assert(memcmp(p.p_body, "a\0b\0c", 5) == 0);
	check_head(&p, 200, NULL);
	page_clear(&p);
}
END_TEST

START_TEST(test_build_large_body)
{
	struct page	 p;
	char		*body;
	size_t		 len = 1024 * 1024;

	ck_assert_ptr_nonnull(body = malloc(len));
	memset(body, 'z', len);
	memset(&p, 0, sizeof p);
	ck_assert_int_eq(page_build(&p, 200, NULL, body, len), 0);
	ck_assert_ptr_nonnull(strstr(p.p_head, "Content-Length: 1048576\r\n"));
	ck_assert_uint_eq(p.p_bodylen, len);
	ck_assert(memcmp(p.p_body, body, len) == 0);
	page_clear(&p);
	free(body);
}
END_TEST

START_TEST(test_build_statuses)
{
	struct page	 p;
	size_t		 i;

	for (i = 0; i < NERROR_PAGES; i++) {
		memset(&p, 0, sizeof p);
		ck_assert_int_eq(page_build(&p, error_pages[i].status, NULL,
		    "err", 3), 0);
		check_head(&p, error_pages[i].status, NULL);
		page_clear(&p);
	}
}
END_TEST

START_TEST(test_write_full)
{
	struct page	 p;

	memset(&p, 0, sizeof p);
	ck_assert_int_eq(page_build(&p, 200, NULL, "hello", 5), 0);
	check_write(&p, 0, NULL, "HTTP/1.1 200 OK\r\n" SERVER NOCACHE CTYPE
	    "Content-Length: 5\r\nDate: " DATE "\r\n\r\nhello");
	page_clear(&p);
}
END_TEST

START_TEST(test_write_connection)
{
	struct page	 p;
	static const char want_close[] = "HTTP/1.1 405 Method Not Allowed\r\n"
	    SERVER NOCACHE CTYPE "Content-Length: 2\r\n" ALLOW "Date: " DATE
	    "\r\n"
	    "Connection: close\r\n\r\nno";
	static const char want_ka[] = "HTTP/1.1 405 Method Not Allowed\r\n"
	    SERVER NOCACHE CTYPE "Content-Length: 2\r\n" ALLOW "Date: " DATE
	    "\r\n"
	    "Connection: keep-alive\r\n\r\nno";

	memset(&p, 0, sizeof p);
	ck_assert_int_eq(page_build(&p, 405, ALLOW, "no", 2), 0);
	check_write(&p, 0, "close", want_close);
	check_write(&p, 0, "keep-alive", want_ka);
	page_clear(&p);
}
END_TEST

/* HEAD: same head, Content-Length of the body, no body. */
START_TEST(test_write_head_only)
{
	struct page	 p;
	static const char want[] = "HTTP/1.1 200 OK\r\n" SERVER NOCACHE CTYPE
	    "Content-Length: 5\r\nDate: " DATE "\r\n\r\n";
	static const char want_close[] = "HTTP/1.1 200 OK\r\n" SERVER NOCACHE
	    CTYPE "Content-Length: 5\r\nDate: " DATE "\r\n"
	    "Connection: close\r\n\r\n";

	memset(&p, 0, sizeof p);
	ck_assert_int_eq(page_build(&p, 200, NULL, "hello", 5), 0);
	check_write(&p, 1, NULL, want);
	check_write(&p, 1, "close", want_close);
	page_clear(&p);
}
END_TEST

/* page_write appends, and counts only what it added. */
START_TEST(test_write_appends)
{
	struct page	 p;
	struct evbuffer	*buf;
	size_t		 n1, n2;
	char		*s;
	static const char one[] = "HTTP/1.1 404 Not Found\r\n" SERVER NOCACHE
	    CTYPE "Content-Length: 2\r\nDate: " DATE "\r\n\r\nnf";

	memset(&p, 0, sizeof p);
	ck_assert_int_eq(page_build(&p, 404, NULL, "nf", 2), 0);
	ck_assert_ptr_nonnull(buf = evbuffer_new());
	evbuffer_add(buf, "xyz", 3);
	n1 = page_write(buf, &p, 0, DATE, NULL);
	n2 = page_write(buf, &p, 0, DATE, NULL);
	ck_assert_uint_eq(n1, sizeof one - 1);
	ck_assert_uint_eq(n2, sizeof one - 1);
	ck_assert_uint_eq(evbuffer_get_length(buf), 3 + 2 * (sizeof one - 1));
	s = contents(buf);
	ck_assert(strncmp(s, "xyz", 3) == 0);
	ck_assert(strncmp(s + 3, one, sizeof one - 1) == 0);
	ck_assert_str_eq(s + 3 + sizeof one - 1, one);
	free(s);
	evbuffer_free(buf);
	page_clear(&p);
}
END_TEST

/* A body with NUL bytes is written whole. */
START_TEST(test_write_binary)
{
	struct page	 p;
	struct evbuffer	*buf;
	size_t		 n, len;
	const unsigned char *data;

	memset(&p, 0, sizeof p);
	ck_assert_int_eq(page_build(&p, 200, NULL, "a\0b", 3), 0);
	ck_assert_ptr_nonnull(buf = evbuffer_new());
	n = page_write(buf, &p, 0, DATE, NULL);
	len = evbuffer_get_length(buf);
	ck_assert_uint_eq(n, len);
	data = evbuffer_pullup(buf, -1);
	ck_assert(memcmp(data + len - 7, "\r\n\r\na\0b", 7) == 0);
	evbuffer_free(buf);
	page_clear(&p);
}
END_TEST

/* --- pages_load --- */

START_TEST(test_load)
{
	char			 dir[64], extra[256];
	struct pages		*ps;
	const struct page	*p;
	char			*cause = NULL;

	make_root(dir, sizeof dir);
	set_mtime(dir, "hello.html", MTIME);
	ps = pages_load(dir, &cause);
	ck_assert_msg(ps != NULL, "pages_load: %s", cause);
	ck_assert_ptr_null(cause);
	ck_assert_str_eq(ps->ps_root, dir);

	p = pages_get(ps, PAGE_HELLO);
	ck_assert_ptr_eq(p, &ps->ps_page[PAGE_HELLO]);
	validators(extra, sizeof extra, HELLO_BODY, strlen(HELLO_BODY),
	    MTIME);
	check_head(p, 200, extra);
	ck_assert_uint_eq(p->p_bodylen, strlen(HELLO_BODY));
	ck_assert(memcmp(p->p_body, HELLO_BODY, p->p_bodylen) == 0);

	p = pages_get(ps, PAGE_NOT_FOUND);
	check_head(p, 404, NULL);
	ck_assert_uint_eq(p->p_bodylen, strlen(NOTFOUND_BODY));
	ck_assert(memcmp(p->p_body, NOTFOUND_BODY, p->p_bodylen) == 0);

	pages_free(ps);
	remove_root(dir);
}
END_TEST

/* Every built-in error page has its status, a body and (405) Allow. */
START_TEST(test_load_error_pages)
{
	char			 dir[64];
	struct pages		*ps;
	const struct page	*p;
	char			*cause = NULL;
	size_t			 i;

	make_root(dir, sizeof dir);
	ck_assert_ptr_nonnull(ps = pages_load(dir, &cause));
	for (i = 0; i < NERROR_PAGES; i++) {
		p = pages_get(ps, error_pages[i].id);
		ck_assert_ptr_eq(p, &ps->ps_page[error_pages[i].id]);
		check_head(p, error_pages[i].status,
		    error_pages[i].id == PAGE_405 ? ALLOW : NULL);
		ck_assert_msg(p->p_body != NULL && p->p_bodylen > 0,
		    "page %d has no body", error_pages[i].status);
		ck_assert_msg(strstr(p->p_head, "Allow:") == NULL ||
		    error_pages[i].id == PAGE_405, "Allow on %d",
		    error_pages[i].status);
	}
	pages_free(ps);
	remove_root(dir);
}
END_TEST

START_TEST(test_for_status)
{
	char			 dir[64];
	struct pages		*ps;
	char			*cause = NULL;
	size_t			 i;

	make_root(dir, sizeof dir);
	ck_assert_ptr_nonnull(ps = pages_load(dir, &cause));
	ck_assert_ptr_eq(pages_for_status(ps, 200),
	    pages_get(ps, PAGE_HELLO));
	ck_assert_ptr_eq(pages_for_status(ps, 404),
	    pages_get(ps, PAGE_NOT_FOUND));
	for (i = 0; i < NERROR_PAGES; i++) {
		ck_assert_ptr_eq(pages_for_status(ps, error_pages[i].status),
		    pages_get(ps, error_pages[i].id));
		ck_assert_int_eq(pages_for_status(ps,
		    error_pages[i].status)->p_status, error_pages[i].status);
	}
	pages_free(ps);
	remove_root(dir);
}
END_TEST

/* The root may end with a slash; an empty page file is a valid page. */
START_TEST(test_load_trailing_slash_empty)
{
	char		 dir[64], root[80];
	struct pages	*ps;
	char		*cause = NULL;

	make_tmpdir(dir, sizeof dir);
	write_file(dir, "hello.html", "", 0);
	write_file(dir, "404.html", "x", 1);
	snprintf(root, sizeof root, "%s/", dir);
	ps = pages_load(root, &cause);
	ck_assert_msg(ps != NULL, "pages_load: %s", cause);
	ck_assert_uint_eq(pages_get(ps, PAGE_HELLO)->p_bodylen, 0);
	ck_assert_ptr_nonnull(strstr(pages_get(ps, PAGE_HELLO)->p_head,
	    "ETag: \"cbf29ce484222325-0\"\r\n"));
	ck_assert_uint_eq(pages_get(ps, PAGE_NOT_FOUND)->p_bodylen, 1);
	pages_free(ps);
	remove_root(dir);
}
END_TEST

/* Check pages_load(root) fails with a cause that starts with want. */
static void
check_load_fails(const char *root, const char *want, const char *reason)
{
	struct pages	*ps;
	char		*cause = NULL;

	ps = pages_load(root, &cause);
	ck_assert_msg(ps == NULL, "pages_load(%s) succeeded", root);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strncmp(cause, want, strlen(want)) == 0,
	    "cause \"%s\" does not start with \"%s\"", cause, want);
	if (reason != NULL) {
		ck_assert_msg(strstr(cause, reason) != NULL,
		    "cause \"%s\" lacks \"%s\"", cause, reason);
	}
	free(cause);
}

START_TEST(test_load_missing_404)
{
	char	 dir[64], want[128];

	make_tmpdir(dir, sizeof dir);
	write_file(dir, "hello.html", HELLO_BODY, strlen(HELLO_BODY));
	snprintf(want, sizeof want, "%s/404.html: %s", dir, strerror(ENOENT));
	check_load_fails(dir, want, NULL);
	remove_root(dir);
}
END_TEST

START_TEST(test_load_missing_hello)
{
	char	 dir[64], want[128];

	make_tmpdir(dir, sizeof dir);
	write_file(dir, "404.html", NOTFOUND_BODY, strlen(NOTFOUND_BODY));
	snprintf(want, sizeof want, "%s/hello.html: %s", dir,
	    strerror(ENOENT));
	check_load_fails(dir, want, NULL);
	remove_root(dir);
}
END_TEST

START_TEST(test_load_missing_root)
{
	char	 dir[64], root[96];

	make_tmpdir(dir, sizeof dir);
	snprintf(root, sizeof root, "%s/nonexistent", dir);
	check_load_fails(root, root, strerror(ENOENT));
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* A directory where a page file should be is an error, not a crash. */
START_TEST(test_load_page_is_dir)
{
	char	 dir[64], sub[96], want[96];

	make_tmpdir(dir, sizeof dir);
	write_file(dir, "404.html", NOTFOUND_BODY, strlen(NOTFOUND_BODY));
	snprintf(sub, sizeof sub, "%s/hello.html", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	snprintf(want, sizeof want, "%s/hello.html", dir);
	check_load_fails(dir, want, NULL);
	ck_assert_int_eq(rmdir(sub), 0);
	remove_root(dir);
}
END_TEST

/* The pages shipped in the source tree load. */
START_TEST(test_load_shipped)
{
	const char	*srcdir;
	char		 root[4096];
	struct pages	*ps;
	char		*cause = NULL;

	if ((srcdir = getenv("HELLOD_SRCDIR")) == NULL)
		return;		/* not run from make check */
	snprintf(root, sizeof root, "%s/static", srcdir);
	ps = pages_load(root, &cause);
	ck_assert_msg(ps != NULL, "pages_load(%s): %s", root, cause);
	ck_assert_uint_gt(pages_get(ps, PAGE_HELLO)->p_bodylen, 0);
	ck_assert_uint_gt(pages_get(ps, PAGE_NOT_FOUND)->p_bodylen, 0);
	pages_free(ps);
}
END_TEST

/* --- validators and 304 --- */

/* A 304: no Content-Type, no Content-Length, no body, even for GET. */
START_TEST(test_build_304)
{
	struct page	 p;

	memset(&p, 0, sizeof p);
	ck_assert_int_eq(page_build(&p, 304, "ETag: \"a\"\r\n", "", 0), 0);
	ck_assert_str_eq(p.p_head, "HTTP/1.1 304 Not Modified\r\n" SERVER
	    NOCACHE "ETag: \"a\"\r\n");
	check_write(&p, 0, NULL, "HTTP/1.1 304 Not Modified\r\n" SERVER
	    NOCACHE "ETag: \"a\"\r\nDate: " DATE "\r\n\r\n");
	page_clear(&p);
}
END_TEST

START_TEST(test_etag)
{
	char	 a[PAGE_ETAG_LEN], b[PAGE_ETAG_LEN], want[64];
	size_t	 n;

	n = page_etag(a, sizeof a, "hello", 5);
	snprintf(want, sizeof want, "\"%016" PRIx64 "-5\"",
	    cond_hash("hello", 5));
	ck_assert_str_eq(a, want);
	ck_assert_uint_eq(n, strlen(want));
	ck_assert_uint_eq(page_etag(a, sizeof a, "", 0), 20);
	ck_assert_str_eq(a, "\"cbf29ce484222325-0\"");
	/* Same bytes, same tag; one byte changed, another. */
	page_etag(a, sizeof a, HELLO_BODY, strlen(HELLO_BODY));
	page_etag(b, sizeof b, HELLO_BODY, strlen(HELLO_BODY));
	ck_assert_str_eq(a, b);
	page_etag(b, sizeof b, HELLO_BODY "x", strlen(HELLO_BODY) + 1);
	ck_assert_str_ne(a, b);
	page_etag(b, sizeof b, "Hello", 5);
	page_etag(a, sizeof a, "hello", 5);
	ck_assert_str_ne(a, b);
	/* The largest page still fits. */
	ck_assert_uint_lt(snprintf(want, sizeof want, "\"%016x-%x\"", 0,
	    HELLOD_PAGE_MAX), PAGE_ETAG_LEN);
}
END_TEST

/*
 * The hello page has validators and a 304 twin with the same ones; the
 * 404 and error pages have none.
 */
START_TEST(test_load_validators)
{
	char			 dir[64], extra[256], want[512];
	struct pages		*ps;
	const struct page	*p, *nm;
	char			*cause = NULL;
	size_t			 i;

	make_root(dir, sizeof dir);
	set_mtime(dir, "hello.html", MTIME);
	ck_assert_ptr_nonnull(ps = pages_load(dir, &cause));
	p = pages_get(ps, PAGE_HELLO);
	nm = pages_get(ps, PAGE_HELLO_304);
	ck_assert_ptr_eq(p->p_notmod, nm);
	ck_assert_int_eq(p->p_mtime, MTIME);
	validators(extra, sizeof extra, HELLO_BODY, strlen(HELLO_BODY),
	    MTIME);
	ck_assert_ptr_nonnull(strstr(extra,
	    "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n"));
	snprintf(want, sizeof want, "HTTP/1.1 304 Not Modified\r\n" SERVER
	    NOCACHE "%s", extra);
	ck_assert_str_eq(nm->p_head, want);
	ck_assert_int_eq(nm->p_status, 304);
	ck_assert_uint_eq(nm->p_bodylen, 0);
	ck_assert_ptr_null(nm->p_notmod);
	/* p_tag is the hash of the ETag value, quotes included. */
	ck_assert(p->p_tag == cond_hash(extra + 6,
	    (size_t)(strchr(extra, '\r') - extra - 6)));

	for (i = 0; i < PAGE_COUNT; i++) {
		if (i == PAGE_HELLO || i == PAGE_HELLO_304)
			continue;
		p = pages_get(ps, (enum page_id)i);
		ck_assert_ptr_null(p->p_notmod);
		ck_assert_msg(strstr(p->p_head, "ETag:") == NULL &&
		    strstr(p->p_head, "Last-Modified:") == NULL,
		    "validators on %d", p->p_status);
		ck_assert_ptr_nonnull(strstr(p->p_head, NOCACHE));
	}
	pages_free(ps);
	remove_root(dir);
}
END_TEST

/* A page file from the future is Last-Modified now, at the latest. */
START_TEST(test_load_future_mtime)
{
	char		 dir[64];
	struct pages	*ps;
	char		*cause = NULL;
	time_t		 before = time(NULL);

	make_root(dir, sizeof dir);
	set_mtime(dir, "hello.html", before + 86400 * 365);
	ck_assert_ptr_nonnull(ps = pages_load(dir, &cause));
	ck_assert_int_ge(pages_get(ps, PAGE_HELLO)->p_mtime, before);
	ck_assert_int_le(pages_get(ps, PAGE_HELLO)->p_mtime, time(NULL));
	pages_free(ps);
	remove_root(dir);
}
END_TEST

/* Reloading changed bytes gives a new ETag; the same bytes, the same. */
START_TEST(test_load_etag_follows_body)
{
	char		 dir[64], a[PAGE_ETAG_LEN + 16];
	struct pages	*ps1, *ps2, *ps3;
	char		*cause = NULL;

	make_root(dir, sizeof dir);
	ck_assert_ptr_nonnull(ps1 = pages_load(dir, &cause));
	ck_assert_ptr_nonnull(ps2 = pages_load(dir, &cause));
	ck_assert(pages_get(ps1, PAGE_HELLO)->p_tag ==
	    pages_get(ps2, PAGE_HELLO)->p_tag);
	write_file(dir, "hello.html", "changed", 7);
	ck_assert_ptr_nonnull(ps3 = pages_load(dir, &cause));
	ck_assert(pages_get(ps1, PAGE_HELLO)->p_tag !=
	    pages_get(ps3, PAGE_HELLO)->p_tag);
	page_etag(a, sizeof a, "changed", 7);
	ck_assert_ptr_nonnull(strstr(pages_get(ps3, PAGE_HELLO)->p_head, a));
	ck_assert_ptr_nonnull(strstr(pages_get(ps3, PAGE_HELLO_304)->p_head,
	    a));
	pages_free(ps1);
	pages_free(ps2);
	pages_free(ps3);
	remove_root(dir);
}
END_TEST

/* Parse a GET / with extra header lines. */
static void
parse_req(struct http_request *req, const char *method, const char *hdrs)
{
	struct evbuffer	*buf;

	ck_assert_ptr_nonnull(buf = evbuffer_new());
	evbuffer_add_printf(buf, "%s / HTTP/1.1\r\nHost: a\r\n%s\r\n", method,
	    hdrs);
	http_request_init(req, 8192);
	ck_assert_int_eq(http_parse(req, buf), HTTP_COMPLETE);
	evbuffer_free(buf);
}

/* pages_answer(): the 304 twin exactly when the preconditions match. */
START_TEST(test_answer)
{
	char			 dir[64], hdr[256], etag[PAGE_ETAG_LEN];
	struct pages		*ps;
	struct http_request	 req;
	const struct page	*hello, *nm, *nf;
	char			*cause = NULL;

	make_root(dir, sizeof dir);
	set_mtime(dir, "hello.html", MTIME);
	ck_assert_ptr_nonnull(ps = pages_load(dir, &cause));
	hello = pages_get(ps, PAGE_HELLO);
	nm = pages_get(ps, PAGE_HELLO_304);
	nf = pages_get(ps, PAGE_NOT_FOUND);
	page_etag(etag, sizeof etag, HELLO_BODY, strlen(HELLO_BODY));

	parse_req(&req, "GET", "");
	ck_assert_ptr_eq(pages_answer(ps, PAGE_HELLO, &req), hello);
	ck_assert_ptr_eq(pages_answer(ps, PAGE_NOT_FOUND, &req), nf);
	http_request_clear(&req);

	snprintf(hdr, sizeof hdr, "If-None-Match: %s\r\n", etag);
	parse_req(&req, "GET", hdr);
	ck_assert_ptr_eq(pages_answer(ps, PAGE_HELLO, &req), nm);
	http_request_clear(&req);
	parse_req(&req, "HEAD", hdr);
	ck_assert_ptr_eq(pages_answer(ps, PAGE_HELLO, &req), nm);
	http_request_clear(&req);

	snprintf(hdr, sizeof hdr, "If-None-Match: \"old\", W/%s\r\n", etag);
	parse_req(&req, "GET", hdr);
	ck_assert_ptr_eq(pages_answer(ps, PAGE_HELLO, &req), nm);
	http_request_clear(&req);

	parse_req(&req, "GET", "If-None-Match: \"old\"\r\n");
	ck_assert_ptr_eq(pages_answer(ps, PAGE_HELLO, &req), hello);
	http_request_clear(&req);

	/* Pages without validators ignore preconditions. */
	parse_req(&req, "GET", "If-None-Match: *\r\n");
	ck_assert_ptr_eq(pages_answer(ps, PAGE_HELLO, &req), nm);
	ck_assert_ptr_eq(pages_answer(ps, PAGE_NOT_FOUND, &req), nf);
	ck_assert_ptr_eq(pages_answer(ps, PAGE_405, &req),
	    pages_get(ps, PAGE_405));
	http_request_clear(&req);

	parse_req(&req, "GET", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 "
	    "GMT\r\n");
	ck_assert_ptr_eq(pages_answer(ps, PAGE_HELLO, &req), nm);
	http_request_clear(&req);
	parse_req(&req, "GET", "If-Modified-Since: Sun, 06 Nov 1994 08:49:36 "
	    "GMT\r\n");
	ck_assert_ptr_eq(pages_answer(ps, PAGE_HELLO, &req), hello);
	http_request_clear(&req);

	pages_free(ps);
	remove_root(dir);
}
END_TEST

static Suite *
page_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("page");

	tc = tcase_create("build");
	tcase_add_test(tc, test_build_200);
	tcase_add_test(tc, test_build_extra);
	tcase_add_test(tc, test_build_empty_body);
	tcase_add_test(tc, test_build_copies_body);
	tcase_add_test(tc, test_build_large_body);
	tcase_add_test(tc, test_build_statuses);
	suite_add_tcase(s, tc);

	tc = tcase_create("write");
	tcase_add_test(tc, test_write_full);
	tcase_add_test(tc, test_write_connection);
	tcase_add_test(tc, test_write_head_only);
	tcase_add_test(tc, test_write_appends);
	tcase_add_test(tc, test_write_binary);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_load_error_pages);
	tcase_add_test(tc, test_for_status);
	tcase_add_test(tc, test_load_trailing_slash_empty);
	tcase_add_test(tc, test_load_missing_404);
	tcase_add_test(tc, test_load_missing_hello);
	tcase_add_test(tc, test_load_missing_root);
	tcase_add_test(tc, test_load_page_is_dir);
	tcase_add_test(tc, test_load_shipped);
	suite_add_tcase(s, tc);

	tc = tcase_create("conditional");
	tcase_add_test(tc, test_build_304);
	tcase_add_test(tc, test_etag);
	tcase_add_test(tc, test_load_validators);
	tcase_add_test(tc, test_load_future_mtime);
	tcase_add_test(tc, test_load_etag_follows_body);
	tcase_add_test(tc, test_answer);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (unit_run(page_suite()));
}

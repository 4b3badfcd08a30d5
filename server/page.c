/* SPDX-License-Identifier: ISC */
/*
 * Pages held in memory. Each response is prebuilt once when the pages are
 * loaded: status line and fixed headers in one block, and the body. Per
 * response only the Date line (cached by the caller, refreshed once a
 * second) and an optional Connection line are added.
 *
 * Every response says Cache-Control: no-cache, so that a browser may keep
 * a page but asks each time whether it is still current. The hello page
 * carries validators, a strong ETag made from its body and Last-Modified
 * from its file, and has a prebuilt 304 twin (PAGE_HELLO_304) that
 * pages_answer() sends when the request's preconditions match. Error
 * pages, 404 included, carry none: they are not representations anyone
 * asked to revalidate, and RFC 9110 13.2.1 has a server ignore
 * preconditions when the answer would not be 2xx anyway.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"

/* Built-in pages for errors the server answers itself. */
static const struct {
	enum page_id	 id;
	int		 status;
	const char	*extra;		/* extra header lines */
} page_builtin[] = {
	{ PAGE_400, 400, NULL },
	{ PAGE_405, 405, "Allow: GET, HEAD\r\n" },
	{ PAGE_408, 408, NULL },
	{ PAGE_413, 413, NULL },
	{ PAGE_414, 414, NULL },
	{ PAGE_431, 431, NULL },
	{ PAGE_500, 500, NULL },
	{ PAGE_505, 505, NULL },
};

/*
 * Build a page: the head up to (not including) Date, and a copy of the
 * body. extra, if not NULL, is added verbatim after the fixed headers.
 * A 304 has no Content-Type and no Content-Length: it has no content,
 * and RFC 9110 15.4.5 asks for no representation metadata but the
 * validators and Cache-Control.
 */
int
page_build(struct page *p, int status, const char *extra, const char *body,
    size_t bodylen)
{
	char	clen[96];
	int	n;

	memset(p, 0, sizeof *p);
	p->p_status = status;
	if (status == 304)
		clen[0] = '\0';
	else
		(void)snprintf(clen, sizeof clen, "Content-Type: text/html; "
		    "charset=utf-8\r\nContent-Length: %zu\r\n", bodylen);
	n = asprintf(&p->p_head, "HTTP/1.1 %d %s\r\n"
	    "Server: hellod/%s\r\n"
	    "Cache-Control: no-cache\r\n"
	    "%s%s", status, http_reason(status), PACKAGE_VERSION, clen,
	    extra != NULL ? extra : "");
	if (n == -1) {
		p->p_head = NULL;
		return (-1);
	}
	p->p_headlen = (size_t)n;
	if ((p->p_body = malloc(bodylen + 1)) == NULL) {
		page_clear(p);
		return (-1);
	}
	memcpy(p->p_body, body, bodylen);
	p->p_body[bodylen] = '\0';
	p->p_bodylen = bodylen;
	return (0);
}

/* Free what a page holds. */
void
page_clear(struct page *p)
{
	free(p->p_head);
	free(p->p_body);
	memset(p, 0, sizeof *p);
}

/* Append the n bytes at src to dst, and return the end. */
static char *
page_put(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, n);
	return (dst + n);
}

/*
 * Queue a response on out: the prebuilt head, Date, an optional
 * Connection line, and the body unless head_only. Returns the bytes
 * queued. The head is put together with memcpy (snprintf cost about 700
 * instructions a response) and, unless the prebuilt part is too long for
 * buf, added with one evbuffer_add, so that it is a single chain.
 */
size_t
page_write(struct evbuffer *out, const struct page *p, int head_only,
    const char *date, const char *connection)
{
	char	 buf[1024], tail[256], *end;
	size_t	 datelen = strlen(date), connlen = 0, taillen, len;

	if (connection != NULL)
		connlen = strlen(connection);
	if (datelen + connlen + 64 > sizeof tail)
		return (0);			/* not from conn.c */
	end = page_put(tail, "Date: ", 6);
	end = page_put(end, date, datelen);
	end = page_put(end, "\r\n", 2);
	if (connection != NULL) {
		end = page_put(end, "Connection: ", 12);
		end = page_put(end, connection, connlen);
		end = page_put(end, "\r\n", 2);
	}
	end = page_put(end, "\r\n", 2);
	taillen = (size_t)(end - tail);
	len = p->p_headlen + taillen;
	if (len <= sizeof buf) {
		end = page_put(buf, p->p_head, p->p_headlen);
		(void)page_put(end, tail, taillen);
		evbuffer_add(out, buf, len);
	} else {
		evbuffer_add(out, p->p_head, p->p_headlen);
		evbuffer_add(out, tail, taillen);
	}
	if (!head_only) {
		evbuffer_add(out, p->p_body, p->p_bodylen);
		len += p->p_bodylen;
	}
	return (len);
}

/*
 * Read a whole page file, and its modification time; *cause names the
 * file on failure.
 */
static char *
page_read(const char *root, const char *name, size_t *len, time_t *mtime,
    char **cause)
{
	char		*path, *buf = NULL;
	struct stat	 st;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd, saved;

	if (asprintf(&path, "%s/%s", root, name) == -1) {
		*cause = strdup("out of memory");
		return (NULL);
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		goto fail;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		if (asprintf(cause, "%s: not a regular file", path) == -1)
			*cause = NULL;
		goto out;
	}
	if (st.st_size > HELLOD_PAGE_MAX) {
		if (asprintf(cause, "%s: larger than %d bytes", path,
		    HELLOD_PAGE_MAX) == -1)
			*cause = NULL;
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n == -1)
			goto fail;
		if (n == 0)
			break;	/* shrank under us: take what is there */
		got += (size_t)n;
	}
	close(fd);
	free(path);
	*len = got;
	*mtime = st.st_mtime;
	return (buf);

fail:
	saved = errno;
	if (asprintf(cause, "%s: %s", path, strerror(saved)) == -1)
		*cause = NULL;
out:
	if (fd != -1)
		close(fd);
	free(buf);
	free(path);
	return (NULL);
}

/* Body of a built-in error page. */
static int
page_builtin_body(char **body, int status)
{
	return (asprintf(body, "<!DOCTYPE html>\n<html lang=\"en\">\n"
	    "<head><meta charset=\"utf-8\"><link rel=\"icon\" href=\"data:,\">"
	    "<title>%d %s</title></head>\n"
	    "<body><h1>%d %s</h1><p>hellod</p></body>\n</html>\n",
	    status, http_reason(status), status, http_reason(status)));
}

/*
 * The strong entity-tag of a body: its 64-bit FNV-1a and its length, so
 * that it changes with the file but not with a restart or a reload of the
 * same bytes. Written with its quotes into buf (PAGE_ETAG_LEN is enough);
 * returns its length.
 */
size_t
page_etag(char *buf, size_t size, const char *body, size_t len)
{
	int	n;

	n = snprintf(buf, size, "\"%016" PRIx64 "-%zx\"",
	    cond_hash(body, len), len);
	return (n < 0 ? 0 : (size_t)n);
}

/*
 * Build the hello page from body and mtime: its 200 with ETag and
 * Last-Modified, and the 304 twin with the same validators. An mtime in
 * the future becomes now (RFC 9110 8.8.2.1).
 */
static int
page_build_hello(struct pages *ps, const char *body, size_t len,
    time_t mtime)
{
	struct page	*p = &ps->ps_page[PAGE_HELLO];
	char		 etag[PAGE_ETAG_LEN], lm[PAGE_DATE_LEN + 1];
	char		 validators[128];
	size_t		 tlen;
	time_t		 now = time(NULL);

	if (mtime > now)
		mtime = now;
	tlen = page_etag(etag, sizeof etag, body, len);
	date_format(mtime, lm, sizeof lm);
	(void)snprintf(validators, sizeof validators, "ETag: %s\r\n"
	    "Last-Modified: %s\r\n", etag, lm);
	if (page_build(p, 200, validators, body, len) == -1 ||
	    page_build(&ps->ps_page[PAGE_HELLO_304], 304, validators, "",
	    0) == -1)
		return (-1);
	p->p_notmod = &ps->ps_page[PAGE_HELLO_304];
	p->p_tag = cond_hash(etag, tlen);
	p->p_mtime = mtime;
	return (0);
}

/*
 * Load hello.html and 404.html from root and build every response. On
 * failure returns NULL and *cause names the file and the reason.
 */
struct pages *
pages_load(const char *root, char **cause)
{
	struct pages	*ps;
	char		*body;
	size_t		 i, len;
	time_t		 mtime;
	int		 n;

	*cause = NULL;
	if ((ps = calloc(1, sizeof *ps)) == NULL ||
	    (ps->ps_root = strdup(root)) == NULL) {
		free(ps);
		*cause = strdup("out of memory");
		return (NULL);
	}
	if ((body = page_read(root, "hello.html", &len, &mtime,
	    cause)) == NULL)
		goto fail;
	n = page_build_hello(ps, body, len, mtime);
	free(body);
	if (n == -1)
		goto oom;
	if ((body = page_read(root, "404.html", &len, &mtime,
	    cause)) == NULL)
		goto fail;
	n = page_build(&ps->ps_page[PAGE_NOT_FOUND], 404, NULL, body, len);
	free(body);
	if (n == -1)
		goto oom;

	for (i = 0; i < sizeof page_builtin / sizeof page_builtin[0]; i++) {
		if ((n = page_builtin_body(&body, page_builtin[i].status)) < 0)
			goto oom;
		n = page_build(&ps->ps_page[page_builtin[i].id],
		    page_builtin[i].status, page_builtin[i].extra, body,
		    (size_t)n);
		free(body);
		if (n == -1)
			goto oom;
	}
	return (ps);

oom:
	*cause = strdup("out of memory");
fail:
	pages_free(ps);
	return (NULL);
}

/* Free pages; NULL is fine. */
void
pages_free(struct pages *ps)
{
	size_t	i;

	if (ps == NULL)
		return;
	for (i = 0; i < PAGE_COUNT; i++)
		page_clear(&ps->ps_page[i]);
	free(ps->ps_root);
	free(ps);
}

const struct page *
pages_get(const struct pages *ps, enum page_id id)
{
	return (&ps->ps_page[id]);
}

/*
 * The page answering a GET or HEAD for page id: its 304 twin when it has
 * validators and r's preconditions say the client's copy is current.
 * A few compares; no allocation, no system call.
 */
const struct page *
pages_answer(const struct pages *ps, enum page_id id,
    const struct http_request *r)
{
	const struct page	*p = &ps->ps_page[id];

	if (p->p_notmod != NULL && cond_not_modified(r, p->p_tag, p->p_mtime))
		return (p->p_notmod);
	return (p);
}

/* The page answering status; unknown statuses get the 500 page. */
const struct page *
pages_for_status(const struct pages *ps, int status)
{
	size_t	i;

	for (i = 0; i < PAGE_COUNT; i++) {
		if (ps->ps_page[i].p_status == status)
			return (&ps->ps_page[i]);
	}
	return (&ps->ps_page[PAGE_500]);
}

/* SPDX-License-Identifier: ISC */
/*
 * page.h: the pages, prebuilt responses, ETag and 304.
 * Included by hellod.h, after the headers before it in the map there.
 */
#ifndef HELLOD_PAGE_H
#define HELLOD_PAGE_H

/* page.c */
#define PAGE_DATE_LEN	29	/* "Sun, 06 Nov 1994 08:49:37 GMT" */
#define PAGE_ETAG_LEN	36	/* "\"HASH-LEN\"" and its NUL, at most */

/*
 * A response prebuilt once: status line and fixed headers, and a body.
 * A page with validators (ETag, Last-Modified) points to its prebuilt
 * 304, which pages_answer() picks when the request's preconditions say
 * the client's copy is current.
 */
struct page {
	int		 p_status;
	char		*p_head;	/* up to, not including, Date */
	size_t		 p_headlen;
	char		*p_body;
	size_t		 p_bodylen;
	const struct page *p_notmod;	/* its 304; NULL: no validators */
	uint64_t	 p_tag;		/* cond_hash() of the ETag value */
	time_t		 p_mtime;	/* Last-Modified */
};

enum page_id {
	PAGE_HELLO = 0,		/* 200 hello.html */
	PAGE_HELLO_304,		/* 304 for it: validators, no body */
	PAGE_NOT_FOUND,		/* 404 404.html */
	PAGE_400,
	PAGE_405,
	PAGE_408,
	PAGE_413,
	PAGE_414,
	PAGE_431,
	PAGE_500,
	PAGE_505,
	PAGE_COUNT,
};

struct pages {
	char		*ps_root;
	struct page	 ps_page[PAGE_COUNT];
};

struct pages	*pages_load(const char *, char **);
void		 pages_free(struct pages *);
const struct page *pages_get(const struct pages *, enum page_id);
const struct page *pages_for_status(const struct pages *, int);
const struct page *pages_answer(const struct pages *, enum page_id,
		     const struct http_request *);
size_t		 page_etag(char *, size_t, const char *, size_t);
int		 page_build(struct page *, int, const char *, const char *,
		     size_t);
void		 page_clear(struct page *);
size_t		 page_write(struct evbuffer *, const struct page *, int,
		     const char *, const char *);

#endif /* HELLOD_PAGE_H */

/* SPDX-License-Identifier: ISC */
/*
 * http.h: the request parser (pure).
 * Included by hellod.h, after the headers before it in the map there.
 */
#ifndef HELLOD_HTTP_H
#define HELLOD_HTTP_H

/* http.c */
enum http_method {
	HTTP_M_OTHER = 0,
	HTTP_M_GET,
	HTTP_M_HEAD,
};

enum http_result {
	HTTP_NEED_MORE,		/* wait for more input */
	HTTP_COMPLETE,		/* head and body consumed */
	HTTP_ERROR,		/* r_status says what to answer; close */
};

enum http_state {
	HTTP_S_START = 0,	/* no byte of this request seen */
	HTTP_S_LINE,		/* reading the request line */
	HTTP_S_HEADERS,
	HTTP_S_BODY,		/* Content-Length body */
	HTTP_S_CHUNK_SIZE,	/* chunked body: chunk-size line */
	HTTP_S_CHUNK_DATA,
	HTTP_S_CHUNK_CRLF,	/* the CRLF after chunk data */
	HTTP_S_TRAILER,		/* trailer fields, then the empty line */
	HTTP_S_DONE,
	HTTP_S_ERROR,
};

#define HTTP_CHUNK_LINE_MAX	1024	/* longest chunk-size line */
#define HTTP_INM_MAX		8	/* If-None-Match entity-tags kept */
#define HTTP_LINE_INLINE	56	/* request lines this short need no
					   malloc */

/* Character classes (RFC 9110 5.6.3, RFC 5234 B.1) of the parser's files. */
#define IS_OWS(c)	((c) == ' ' || (c) == '\t')
#define IS_DIGIT(c)	((c) >= '0' && (c) <= '9')
#define IS_HEXDIG(c)	(IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || \
			    ((c) >= 'A' && (c) <= 'F'))

/* What If-None-Match said (RFC 9110 13.1.2). */
enum http_inm {
	HTTP_INM_NONE = 0,	/* absent: If-Modified-Since decides */
	HTTP_INM_LIST,		/* r_inm_tag[0 .. r_inm_n - 1] */
	HTTP_INM_ANY,		/* "*" */
	HTTP_INM_UNUSABLE,	/* malformed, or more than HTTP_INM_MAX
				   tags: matches nothing */
};

/*
 * One request being parsed from a connection's input. The parser never
 * holds more than one line in memory, and judges each byte once, as it
 * arrives.
 */
struct http_request {
	enum http_state	 r_state;
	enum http_method r_method;
	int		 r_lex;		/* where in the line (lex.c) */
	int		 r_lex_n;	/* bytes of the version matched */
	size_t		 r_max_head;	/* max_header_size */
	size_t		 r_head;	/* bytes of the head consumed */
	size_t		 r_scan;	/* bytes of the current line judged */
	uint64_t	 r_body_left;	/* body bytes still to discard */
	uint64_t	 r_clen;
	uint64_t	 r_body_total;	/* chunked body bytes so far */

	int		 r_minor;	/* HTTP/1.r_minor */
	int		 r_nhost;	/* Host fields seen */
	int		 r_te_nchunked;	/* times chunked was named */
	int		 r_status;	/* with HTTP_ERROR */
	const char	*r_error;	/* why, for the log */
	char		*r_line;	/* request line, NUL-terminated */
	char		 r_line_inline[HTTP_LINE_INLINE];
	size_t		 r_path_off;	/* path (no query) inside r_line */
	size_t		 r_path_len;

	/* Preconditions, as numbers: no copy of a header is kept. */
	enum http_inm	 r_inm;
	int		 r_inm_n;
	int		 r_nims;	/* If-Modified-Since fields seen */

	/* Flags, a byte each: a sleeping connection keeps its request. */
	unsigned char	 r_conn_close;	/* Connection: close */
	unsigned char	 r_conn_keepalive; /* Connection: keep-alive */
	unsigned char	 r_has_clen;
	unsigned char	 r_has_te;
	unsigned char	 r_te_chunked;	/* chunked is the final coding */
	unsigned char	 r_ims_ok;	/* r_ims holds a valid HTTP-date */
	unsigned char	 r_tls;		/* with HTTP_ERROR: the request began
					   like a TLS handshake (0x16) */
	time_t		 r_ims;
	uint64_t	 r_inm_tag[HTTP_INM_MAX]; /* cond_hash() of each
						    opaque-tag, quotes
						    included, W/ dropped */
};

void		 http_request_init(struct http_request *, size_t);
void		 http_request_reset(struct http_request *);
void		 http_request_clear(struct http_request *);

/*
 * Mark the request bad; the connection answers status and closes. -1.
 * Here, not in a .c file, as the parser's files all use it (http.c, and
 * lex.c below it).
 */
static inline int
http_fail(struct http_request *r, int status, const char *why)
{
	r->r_state = HTTP_S_ERROR;
	r->r_status = status;
	r->r_error = why;
	return (-1);
}
enum http_result http_parse(struct http_request *, struct evbuffer *);
int		 http_keepalive(const struct http_request *);
const char	*http_path(const struct http_request *, size_t *);
const char	*http_reason(int);

/* lex.c */
int		 lex_line(struct http_request *, const unsigned char *, size_t,
		     size_t *);

/* target.c */
const char	*target_parse(struct http_request *, size_t, size_t, int);

/* date.c */
void		 date_format(time_t, char *, size_t);
int		 date_parse(const char *, size_t, time_t *);

/* cond.c */
void		 cond_if_none_match(struct http_request *, const char *,
		     size_t);
void		 cond_if_modified_since(struct http_request *, const char *,
		     size_t);
uint64_t	 cond_hash(const void *, size_t);
int		 cond_not_modified(const struct http_request *, uint64_t,
		     time_t);

#endif /* HELLOD_HTTP_H */

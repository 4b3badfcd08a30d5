/* SPDX-License-Identifier: ISC */
/*
 * The HTTP/1.1 request parser (RFC 9112), kept pure: it sees an evbuffer
 * and a struct http_request, never a socket, a clock or a global.
 *
 * Input is judged one byte at a time as it arrives (lex_line()): the
 * first byte that cannot belong to a request line, a field line or a
 * chunk line fails the request at once, without waiting for the line's
 * end. A line ends with CRLF only; a bare LF or a bare CR anywhere in the
 * head, a chunk line or the trailers is an error (RFC 9112 2.2 lets a
 * server accept a bare LF; hellod does not, as a front end that splits
 * on CRLF would see different lines than hellod). A complete line is
 * then taken as a whole for what it means (http_line()). The scan resumes
 * where it stopped (r_scan, r_lex), so a client dripping one byte at a
 * time costs O(1) per byte, and no line is ever held beyond the
 * max_header_size budget: a line that cannot fit is refused before it is
 * complete.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hellod.h"

static int	http_line(struct http_request *, const char *, size_t);
static int	http_request_line(struct http_request *, const char *, size_t);
static int	http_header(struct http_request *, const char *, size_t);
static int	http_head_done(struct http_request *);
static int	http_chunk_size(struct http_request *);

/* Prepare a request for parsing, with the head limit in bytes. */
void
http_request_init(struct http_request *r, size_t max_head)
{
	memset(r, 0, sizeof *r);
	r->r_max_head = max_head;
	r->r_state = HTTP_S_START;
}

/* Free what a request holds. */
void
http_request_clear(struct http_request *r)
{
	if (r->r_line != r->r_line_inline)
		free(r->r_line);
	r->r_line = NULL;
}

/* Forget the last request, ready for the next one on the connection. */
void
http_request_reset(struct http_request *r)
{
	size_t	max_head = r->r_max_head;

	http_request_clear(r);
	http_request_init(r, max_head);
}

/*
 * Discard what is there of a Content-Length body or a chunk's data.
 * Returns 0 once it is all gone (r_state moved on), -1 while some is
 * still to come.
 */
static int
http_discard(struct http_request *r, struct evbuffer *in)
{
	size_t	n;

	n = evbuffer_get_length(in);
	if (n > r->r_body_left)
		n = (size_t)r->r_body_left;
	evbuffer_drain(in, n);
	r->r_body_left -= n;
	if (r->r_body_left != 0)
		return (-1);
	r->r_state = r->r_state == HTTP_S_BODY ? HTTP_S_DONE :
	    HTTP_S_CHUNK_CRLF;
	return (0);
}

/* A line went past its budget without ending: why, as the state says. */
static enum http_result
http_toolong(struct http_request *r)
{
	switch (r->r_state) {
	case HTTP_S_LINE:
		http_fail(r, 414, "request line too long");
		break;
	case HTTP_S_CHUNK_SIZE:
	case HTTP_S_CHUNK_CRLF:
		http_fail(r, 400, "chunk line too long");
		break;
	default:
		http_fail(r, 431, "request head too large");
		break;
	}
	return (HTTP_ERROR);
}

/*
 * Lex what has come of the current line and, once it is whole, take it
 * (http_line()) and drain it. Returns HTTP_COMPLETE when a line was
 * taken, for the caller to go on, or else what http_parse() returns.
 */
static enum http_result
http_next_line(struct http_request *r, struct evbuffer *in)
{
	struct evbuffer_ptr	 pos;
	struct evbuffer_iovec	 v;
	size_t			 total, limit, budget, n, used;
	unsigned char		*line;
	int			 chunkline, lexed;

	total = evbuffer_get_length(in);
	if (total <= r->r_scan)
		return (HTTP_NEED_MORE);
	if (r->r_state == HTTP_S_START)
		r->r_state = HTTP_S_LINE;

	/* Head lines share max_header_size; chunk lines have their
	 * own small cap. No byte past the budget is looked at. */
	chunkline = r->r_state == HTTP_S_CHUNK_SIZE ||
	    r->r_state == HTTP_S_CHUNK_CRLF;
	if (chunkline)
		budget = HTTP_CHUNK_LINE_MAX;
	else
		budget = r->r_max_head > r->r_head ?
		    r->r_max_head - r->r_head : 0;
	limit = total < budget ? total : budget;

	lexed = 0;
	while (lexed == 0 && r->r_scan < limit) {
		if (evbuffer_ptr_set(in, &pos, r->r_scan,
		    EVBUFFER_PTR_SET) == -1 ||
		    evbuffer_peek(in, (ev_ssize_t)(limit - r->r_scan),
		    &pos, &v, 1) < 1 || v.iov_len == 0)
			return (HTTP_NEED_MORE);
		n = v.iov_len < limit - r->r_scan ? v.iov_len :
		    limit - r->r_scan;
		lexed = lex_line(r, v.iov_base, n, &used);
		r->r_scan += used;
	}
	if (lexed == -1)
		return (HTTP_ERROR);
	if (lexed == 0)
		return (total > budget ? http_toolong(r) : HTTP_NEED_MORE);

	/* A whole line, CRLF included. */
	n = r->r_scan;
	if ((line = evbuffer_pullup(in, (ev_ssize_t)n)) == NULL)
		return (http_fail(r, 500, "out of memory"), HTTP_ERROR);
	if (!chunkline)
		r->r_head += n;
	r->r_scan = 0;
	r->r_lex = 0;		/* a line's start (lex.c) */
	lexed = http_line(r, (const char *)line, n - 2);
	evbuffer_drain(in, n);
	return (lexed != 0 ? HTTP_ERROR : HTTP_COMPLETE);
}

/*
 * Consume what can be consumed of in. Returns HTTP_COMPLETE once the
 * head and any body have been taken (a following pipelined request stays
 * in the buffer), HTTP_ERROR with r_status set, or HTTP_NEED_MORE.
 */
enum http_result
http_parse(struct http_request *r, struct evbuffer *in)
{
	enum http_result	res;

	for (;;) {
		switch (r->r_state) {
		case HTTP_S_DONE:
			return (HTTP_COMPLETE);
		case HTTP_S_ERROR:
			return (HTTP_ERROR);
		case HTTP_S_BODY:
		case HTTP_S_CHUNK_DATA:
			if (http_discard(r, in) == -1)
				return (HTTP_NEED_MORE);
			break;
		default:
			if ((res = http_next_line(r, in)) != HTTP_COMPLETE)
				return (res);
			break;
		}
	}
}

/*
 * Take one whole line, without its CRLF, its syntax already judged by
 * lex_line(). Returns 0, or -1 with the request marked bad.
 */
static int
http_line(struct http_request *r, const char *line, size_t len)
{
	switch (r->r_state) {
	case HTTP_S_LINE:
		if (len == 0)
			return (0);	/* RFC 9112 2.2: skip empty lines */
		return (http_request_line(r, line, len));
	case HTTP_S_HEADERS:
		if (len == 0)
			return (http_head_done(r));
		return (http_header(r, line, len));
	case HTTP_S_CHUNK_SIZE:
		return (http_chunk_size(r));
	case HTTP_S_CHUNK_CRLF:
		r->r_state = HTTP_S_CHUNK_SIZE;
		return (0);
	case HTTP_S_TRAILER:
		if (len == 0)
			r->r_state = HTTP_S_DONE;
		return (0);
	default:
		return (http_fail(r, 500, "parser misuse"));
	}
}

/*
 * METHOD SP request-target SP HTTP-version, its bytes already judged:
 * what is left to check is the version's number and the target's form
 * (target_parse()).
 */
static int
http_request_line(struct http_request *r, const char *line, size_t len)
{
	const char	*end = line + len, *t, *v, *why;
	size_t		 mlen, tlen;
	int		 connect;

	t = memchr(line, ' ', len);
	if (t == NULL || len < 12 || (v = end - 8) - t < 3 || v[-1] != ' ')
		return (http_fail(r, 400, "malformed request line"));
	mlen = (size_t)(t - line);
	t++;
	tlen = (size_t)(v - 1 - t);
	if (v[5] != '1')
		return (http_fail(r, 505, "HTTP version not supported"));
	r->r_minor = v[7] - '0';
	if (r->r_minor > 1)
		r->r_minor = 1;

	connect = 0;
	if (mlen == 3 && memcmp(line, "GET", 3) == 0)
		r->r_method = HTTP_M_GET;
	else if (mlen == 4 && memcmp(line, "HEAD", 4) == 0)
		r->r_method = HTTP_M_HEAD;
	else {
		r->r_method = HTTP_M_OTHER;
		connect = mlen == 7 && memcmp(line, "CONNECT", 7) == 0;
	}

	if (len < sizeof r->r_line_inline)
		r->r_line = r->r_line_inline;
	else if ((r->r_line = malloc(len + 1)) == NULL)
		return (http_fail(r, 500, "out of memory"));
	memcpy(r->r_line, line, len);
	r->r_line[len] = '\0';

	if ((why = target_parse(r, (size_t)(t - line), tlen, connect)) != NULL)
		return (http_fail(r, 400, why));
	r->r_state = HTTP_S_HEADERS;
	return (0);
}

/* Whether a comma-separated header value holds token (case-insensitive). */
static int
http_has_token(const char *v, size_t len, const char *token)
{
	size_t		 tlen = strlen(token), n;
	const char	*end = v + len, *e;

	while (v < end) {
		while (v < end && (IS_OWS(*v) || *v == ','))
			v++;
		for (e = v; e < end && *e != ','; e++)
			;
		n = (size_t)(e - v);
		while (n > 0 && IS_OWS(v[n - 1]))
			n--;
		if (n == tlen && strncasecmp(v, token, tlen) == 0)
			return (1);
		v = e;
	}
	return (0);
}

/* Content-Length: 1*DIGIT, or a list of identical ones (RFC 9112 6.3). */
static int
http_content_length(struct http_request *r, const char *v, size_t len)
{
	const char	*end = v + len;
	uint64_t	 n;
	int		 digits;

	if (v == end)
		return (http_fail(r, 400, "empty Content-Length"));
	while (v < end) {
		n = 0;
		digits = 0;
		for (; v < end && *v >= '0' && *v <= '9'; v++, digits++) {
			if (n > (UINT64_MAX - 9) / 10)
				return (http_fail(r, 400, "Content-Length "
				    "overflows"));
			n = n * 10 + (uint64_t)(*v - '0');
		}
		while (v < end && IS_OWS(*v))
			v++;
		if (digits == 0 || (v < end && *v != ','))
			return (http_fail(r, 400, "bad Content-Length"));
		if (v < end) {
			v++;
			while (v < end && IS_OWS(*v))
				v++;
			if (v == end)
				return (http_fail(r, 400, "bad "
				    "Content-Length"));
		}
		if (r->r_has_clen && r->r_clen != n)
			return (http_fail(r, 400, "conflicting "
			    "Content-Length"));
		r->r_has_clen = 1;
		r->r_clen = n;
	}
	return (0);
}

/* Transfer-Encoding: note whether chunked is there, and last. */
static void
http_transfer_encoding(struct http_request *r, const char *v, size_t len)
{
	const char	*end = v + len, *e;
	size_t		 n;

	r->r_has_te = 1;
	while (v < end) {
		while (v < end && (IS_OWS(*v) || *v == ','))
			v++;
		if (v == end)
			break;
		for (e = v; e < end && *e != ','; e++)
			;
		n = (size_t)(e - v);
		while (n > 0 && IS_OWS(v[n - 1]))
			n--;
		r->r_te_chunked = n == 7 && strncasecmp(v, "chunked", 7) == 0;
		if (r->r_te_chunked)
			r->r_te_nchunked++;
		v = e;
	}
}

/* A header field, its syntax judged: take what the server cares about. */
static int
http_header(struct http_request *r, const char *line, size_t len)
{
	const char	*end = line + len, *v, *ve;
	size_t		 nlen;

	nlen = (size_t)((const char *)memchr(line, ':', len) - line);
	for (v = line + nlen + 1; v < end && IS_OWS(*v); v++)
		;
	for (ve = end; ve > v && IS_OWS(ve[-1]); ve--)
		;

	switch (nlen) {
	case 4:
		if (strncasecmp(line, "host", 4) == 0 && ++r->r_nhost > 1)
			return (http_fail(r, 400, "more than one Host"));
		break;
	case 10:
		if (strncasecmp(line, "connection", 10) == 0) {
			if (http_has_token(v, (size_t)(ve - v), "close"))
				r->r_conn_close = 1;
			if (http_has_token(v, (size_t)(ve - v), "keep-alive"))
				r->r_conn_keepalive = 1;
		}
		break;
	case 13:
		if (strncasecmp(line, "if-none-match", 13) == 0)
			cond_if_none_match(r, v, (size_t)(ve - v));
		break;
	case 14:
		if (strncasecmp(line, "content-length", 14) == 0)
			return (http_content_length(r, v, (size_t)(ve - v)));
		break;
	case 17:
		if (strncasecmp(line, "transfer-encoding", 17) == 0)
			http_transfer_encoding(r, v, (size_t)(ve - v));
		else if (strncasecmp(line, "if-modified-since", 17) == 0)
			cond_if_modified_since(r, v, (size_t)(ve - v));
		break;
	}
	return (0);
}

/*
 * A chunk-size line, judged, its size (in r_body_left) already checked
 * against what the body may still hold: the chunk's data, or the
 * trailers after the last chunk.
 */
static int
http_chunk_size(struct http_request *r)
{
	if (r->r_body_left == 0) {
		r->r_state = HTTP_S_TRAILER;
		return (0);
	}
	r->r_body_total += r->r_body_left;
	r->r_state = HTTP_S_CHUNK_DATA;
	return (0);
}

/* The empty line: check the head as a whole and set up the body. */
static int
http_head_done(struct http_request *r)
{
	if (r->r_minor >= 1 && r->r_nhost == 0)
		return (http_fail(r, 400, "HTTP/1.1 request without Host"));
	if (r->r_has_te && r->r_has_clen)
		return (http_fail(r, 400, "both Content-Length and "
		    "Transfer-Encoding"));
	if (r->r_has_te) {
		/* RFC 9112 6.1: 1.0 has no chunked; chunked must be last. */
		if (r->r_minor == 0)
			return (http_fail(r, 400, "Transfer-Encoding in "
			    "HTTP/1.0"));
		if (!r->r_te_chunked || r->r_te_nchunked != 1)
			return (http_fail(r, 400, "chunked is not the final "
			    "transfer coding"));
		r->r_state = HTTP_S_CHUNK_SIZE;
		return (0);
	}
	if (r->r_clen > HELLOD_MAX_BODY)
		return (http_fail(r, 413, "request body too large"));
	r->r_body_left = r->r_clen;
	r->r_state = r->r_clen > 0 ? HTTP_S_BODY : HTTP_S_DONE;
	return (0);
}

/* Whether the client wants the connection kept open after this request. */
int
http_keepalive(const struct http_request *r)
{
	if (r->r_conn_close)
		return (0);
	if (r->r_minor >= 1)
		return (1);
	return (r->r_conn_keepalive);
}

/* The request's path without query or fragment. */
const char *
http_path(const struct http_request *r, size_t *len)
{
	if (r->r_line == NULL || r->r_path_off == SIZE_MAX) {
		*len = 1;
		return ("/");
	}
	*len = r->r_path_len;
	return (r->r_line + r->r_path_off);
}

/* Reason phrase of a status code. */
const char *
http_reason(int status)
{
	switch (status) {
	case 200: return ("OK");
	case 304: return ("Not Modified");
	case 400: return ("Bad Request");
	case 404: return ("Not Found");
	case 405: return ("Method Not Allowed");
	case 408: return ("Request Timeout");
	case 413: return ("Content Too Large");
	case 414: return ("URI Too Long");
	case 431: return ("Request Header Fields Too Large");
	case 500: return ("Internal Server Error");
	case 501: return ("Not Implemented");
	case 503: return ("Service Unavailable");
	case 505: return ("HTTP Version Not Supported");
	default: return ("Unknown");
	}
}

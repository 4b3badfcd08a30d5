/*
 * The HTTP/1.1 request parser (RFC 9112), kept pure: it sees an evbuffer
 * and a struct http_request, never a socket, a clock or a global.
 *
 * Input is judged one byte at a time as it arrives (http_lex()): the
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

/*
 * Where the lexer is within the current line (r_lex); 0 is a line's
 * start, whatever the line (r_state says which kind it is).
 */
enum http_lex {
	LX_START = 0,
	LX_EOL,			/* CR seen: LF must follow */
	LX_METHOD,		/* request line */
	LX_TARGET0,
	LX_TARGET,
	LX_VERSION,		/* r_lex_n bytes of "HTTP/d.d" matched */
	LX_NAME,		/* field line */
	LX_VALUE,
	LX_SIZE,		/* chunk line: chunk-size [ chunk-ext ] */
	LX_EXT_END,		/* after the size or a value: CR, ";" or BWS */
	LX_EXT_BWS,		/* BWS: ";" must come */
	LX_EXT_NAME0,		/* ";" BWS: a name must come */
	LX_EXT_NAME,
	LX_EXT_NAME_BWS,	/* BWS after a name: "=" or ";" */
	LX_EXT_VAL0,		/* "=" BWS: a value must come */
	LX_EXT_TOKEN,
	LX_EXT_QUOTED,
	LX_EXT_QPAIR,		/* after a backslash in a quoted-string */
};

static int	http_lex(struct http_request *, const unsigned char *, size_t,
		    size_t *);
static int	http_line(struct http_request *, const char *, size_t);
static int	http_request_line(struct http_request *, const char *, size_t);
static int	http_header(struct http_request *, const char *, size_t);
static int	http_head_done(struct http_request *);
static int	http_chunk_size(struct http_request *);

/* tchar from RFC 9110 5.6.2, as a table for speed. */
static const unsigned char http_tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

#define IS_TCHAR(c)	(http_tchar[(unsigned char)(c)])
/* A request-target byte: VCHAR but "#" (RFC 9112 3.2; a fragment is
 * never sent). */
#define IS_TARGET(c)	((c) > 0x20 && (c) < 0x7f && (c) != '#')
/* field-vchar / SP / HTAB: what a field value may hold (RFC 9110 5.5). */
#define IS_FIELD(c)	(((c) >= 0x20 && (c) != 0x7f) || (c) == '\t')
/* qdtext / the byte after a backslash (RFC 9110 5.6.4), without HTAB/SP. */
#define IS_QDTEXT(c)	((c) == 0x21 || ((c) >= 0x23 && (c) <= 0x7e && \
			    (c) != '\\') || (c) >= 0x80)
#define IS_QPAIR(c)	(((c) > 0x20 && (c) != 0x7f) || IS_OWS(c))

/* The first byte of a TLS record carrying a handshake (RFC 8446 5.1). */
#define TLS_HANDSHAKE	0x16

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
 * Mark the request bad; the connection answers status and closes. For
 * the parser's own files (lex.c, target.c, cond.c) too.
 */
int
http_fail(struct http_request *r, int status, const char *why)
{
	r->r_state = HTTP_S_ERROR;
	r->r_status = status;
	r->r_error = why;
	return (-1);
}

/*
 * Consume what can be consumed of in. Returns HTTP_COMPLETE once the
 * head and any body have been taken (a following pipelined request stays
 * in the buffer), HTTP_ERROR with r_status set, or HTTP_NEED_MORE.
 */
enum http_result
http_parse(struct http_request *r, struct evbuffer *in)
{
	struct evbuffer_ptr	 pos;
	struct evbuffer_iovec	 v;
	size_t			 total, limit, budget, n, used;
	unsigned char		*line;
	int			 chunkline, lexed;

	for (;;) {
		switch (r->r_state) {
		case HTTP_S_DONE:
			return (HTTP_COMPLETE);
		case HTTP_S_ERROR:
			return (HTTP_ERROR);
		case HTTP_S_BODY:
		case HTTP_S_CHUNK_DATA:
			n = evbuffer_get_length(in);
			if (n > r->r_body_left)
				n = (size_t)r->r_body_left;
			evbuffer_drain(in, n);
			r->r_body_left -= n;
			if (r->r_body_left != 0)
				return (HTTP_NEED_MORE);
			r->r_state = r->r_state == HTTP_S_BODY ? HTTP_S_DONE :
			    HTTP_S_CHUNK_CRLF;
			continue;
		default:
			break;
		}

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
			lexed = http_lex(r, v.iov_base, n, &used);
			r->r_scan += used;
		}
		if (lexed == -1)
			return (HTTP_ERROR);
		if (lexed == 0) {
			if (total > budget)
				goto toolong;
			return (HTTP_NEED_MORE);
		}

		/* A whole line, CRLF included. */
		n = r->r_scan;
		if ((line = evbuffer_pullup(in, (ev_ssize_t)n)) == NULL)
			return (http_fail(r, 500, "out of memory"), HTTP_ERROR);
		if (!chunkline)
			r->r_head += n;
		r->r_scan = 0;
		r->r_lex = LX_START;
		lexed = http_line(r, (const char *)line, n - 2);
		evbuffer_drain(in, n);
		if (lexed != 0)
			return (HTTP_ERROR);
	}

toolong:
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
 * Why a byte that cannot be where it is was refused: NUL, bare LF and
 * the rest have their own words in the log.
 */
static int
http_lex_fail(struct http_request *r, unsigned char c, const char *why)
{
	if (c == '\0')
		why = "NUL byte in request";
	else if (c == '\n')
		why = "bare LF in request";
	return (http_fail(r, 400, why));
}

/*
 * One more hex digit of a chunk size: the size, in r_body_left, may not
 * take the body past HELLOD_MAX_BODY (413 as soon as it does).
 */
static int
http_lex_size(struct http_request *r, unsigned char c)
{
	uint64_t	d;

	d = IS_DIGIT(c) ? (uint64_t)(c - '0') :
	    (uint64_t)((c | 0x20) - 'a' + 10);
	r->r_body_left = (r->r_body_left << 4) | d;
	if (r->r_body_left > HELLOD_MAX_BODY - r->r_body_total)
		return (http_fail(r, 413, "request body too large"));
	return (0);
}

/*
 * Judge the n bytes at p, the next of the current line (RFC 9112 3, 5
 * and 7.1.1). Returns 1 with *used the bytes up to and including the
 * line's LF; 0 with *used = n if the line goes on; -1 with the request
 * failed at the first byte that cannot belong to it.
 */
static int
http_lex(struct http_request *r, const unsigned char *p, size_t n,
    size_t *used)
{
	static const unsigned char version[] = "HTTP/";
	const unsigned char	*s = p, *end = p + n;
	unsigned char		 c;

	*used = 0;
	for (; p < end; p++) {
		c = *p;
		switch (r->r_lex) {
		case LX_START:
			if (c == '\r' && r->r_state != HTTP_S_CHUNK_SIZE) {
				r->r_lex = LX_EOL;
				break;
			}
			switch (r->r_state) {
			case HTTP_S_LINE:
				if (IS_TCHAR(c)) {
					r->r_lex = LX_METHOD;
					break;
				}
				if (c == TLS_HANDSHAKE) {
					r->r_tls = 1;
					return (http_fail(r, 400, "TLS "
					    "handshake on a plain HTTP "
					    "listener"));
				}
				return (http_lex_fail(r, c, "malformed "
				    "request line"));
			case HTTP_S_HEADERS:
			case HTTP_S_TRAILER:
				if (IS_TCHAR(c)) {
					r->r_lex = LX_NAME;
					break;
				}
				return (http_lex_fail(r, c, IS_OWS(c) ?
				    "obsolete line folding" :
				    "malformed header field"));
			case HTTP_S_CHUNK_SIZE:
				if (IS_HEXDIG(c)) {
					r->r_lex = LX_SIZE;
					r->r_body_left = 0;
					if (http_lex_size(r, c) == -1)
						return (-1);
					break;
				}
				return (http_lex_fail(r, c, "bad chunk size"));
			case HTTP_S_CHUNK_CRLF:
				return (http_lex_fail(r, c, "chunk data longer "
				    "than its size"));
			default:
				return (http_fail(r, 500, "parser misuse"));
			}
			break;
		case LX_EOL:
			if (c != '\n')
				return (http_fail(r, 400, "bare CR in "
				    "request"));
			*used = (size_t)(p - s) + 1;
			return (1);

		/* method SP request-target SP HTTP-version */
		case LX_METHOD:
			if (c == ' ')
				r->r_lex = LX_TARGET0;
			else if (!IS_TCHAR(c))
				return (http_lex_fail(r, c, "malformed "
				    "request line"));
			break;
		case LX_TARGET0:
		case LX_TARGET:
			while (IS_TARGET(c)) {
				r->r_lex = LX_TARGET;
				if (++p == end)
					goto more;
				c = *p;
			}
			if (c == ' ' && r->r_lex == LX_TARGET) {
				r->r_lex = LX_VERSION;
				r->r_lex_n = 0;
				break;
			}
			return (http_lex_fail(r, c, c == '#' ? "fragment in "
			    "request target" : "malformed request target"));
		case LX_VERSION:
			/* "HTTP/" DIGIT "." DIGIT, then CRLF */
			if ((r->r_lex_n < 5 && c == version[r->r_lex_n]) ||
			    ((r->r_lex_n == 5 || r->r_lex_n == 7) &&
			    IS_DIGIT(c)) || (r->r_lex_n == 6 && c == '.'))
				r->r_lex_n++;
			else if (r->r_lex_n == 8 && c == '\r')
				r->r_lex = LX_EOL;
			else
				return (http_lex_fail(r, c, "malformed HTTP "
				    "version"));
			break;

		/* field-name ":" OWS field-value OWS */
		case LX_NAME:
			if (c == ':')
				r->r_lex = LX_VALUE;
			else if (!IS_TCHAR(c))
				return (http_lex_fail(r, c, "malformed header "
				    "field"));
			break;
		case LX_VALUE:
			while (IS_FIELD(c)) {
				if (++p == end)
					goto more;
				c = *p;
			}
			if (c == '\r') {
				r->r_lex = LX_EOL;
				break;
			}
			return (http_lex_fail(r, c, "control character in "
			    "header value"));

		/*
		 * chunk-size [ chunk-ext ] CRLF, where
		 * chunk-ext = *( BWS ";" BWS chunk-ext-name
		 *     [ BWS "=" BWS chunk-ext-val ] )
		 */
		case LX_SIZE:
			if (IS_HEXDIG(c)) {
				if (http_lex_size(r, c) == -1)
					return (-1);
				break;
			}
			/* FALLTHROUGH */
		case LX_EXT_TOKEN:
			if (r->r_lex == LX_EXT_TOKEN && IS_TCHAR(c))
				break;
			/* FALLTHROUGH */
		case LX_EXT_END:
			if (c == '\r')
				r->r_lex = LX_EOL;
			else if (c == ';')
				r->r_lex = LX_EXT_NAME0;
			else if (IS_OWS(c))
				r->r_lex = LX_EXT_BWS;
			else
				return (http_lex_fail(r, c, r->r_lex == LX_SIZE ?
				    "bad chunk size" : "bad chunk extension"));
			break;
		case LX_EXT_BWS:
			if (c == ';')
				r->r_lex = LX_EXT_NAME0;
			else if (!IS_OWS(c))
				return (http_lex_fail(r, c, "bad chunk "
				    "extension"));
			break;
		case LX_EXT_NAME0:
			if (IS_TCHAR(c))
				r->r_lex = LX_EXT_NAME;
			else if (!IS_OWS(c))
				return (http_lex_fail(r, c, "bad chunk "
				    "extension"));
			break;
		case LX_EXT_NAME:
			if (IS_TCHAR(c))
				break;
			if (c == '\r') {
				r->r_lex = LX_EOL;
				break;
			}
			/* FALLTHROUGH */
		case LX_EXT_NAME_BWS:
			if (c == '=')
				r->r_lex = LX_EXT_VAL0;
			else if (c == ';')
				r->r_lex = LX_EXT_NAME0;
			else if (IS_OWS(c))
				r->r_lex = LX_EXT_NAME_BWS;
			else
				return (http_lex_fail(r, c, "bad chunk "
				    "extension"));
			break;
		case LX_EXT_VAL0:
			if (IS_TCHAR(c))
				r->r_lex = LX_EXT_TOKEN;
			else if (c == '"')
				r->r_lex = LX_EXT_QUOTED;
			else if (!IS_OWS(c))
				return (http_lex_fail(r, c, "bad chunk "
				    "extension"));
			break;
		case LX_EXT_QUOTED:
			if (c == '"')
				r->r_lex = LX_EXT_END;
			else if (c == '\\')
				r->r_lex = LX_EXT_QPAIR;
			else if (!IS_QDTEXT(c) && !IS_OWS(c))
				return (http_lex_fail(r, c, "bad chunk "
				    "extension"));
			break;
		case LX_EXT_QPAIR:
			if (!IS_QPAIR(c))
				return (http_lex_fail(r, c, "bad chunk "
				    "extension"));
			r->r_lex = LX_EXT_QUOTED;
			break;
		default:
			return (http_fail(r, 500, "parser misuse"));
		}
	}
more:
	*used = n;
	return (0);
}

/*
 * Take one whole line, without its CRLF, its syntax already judged by
 * http_lex(). Returns 0, or -1 with the request marked bad.
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
	const char	*end = line + len, *t, *v;
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

	if (target_parse(r, (size_t)(t - line), tlen, connect) == -1)
		return (-1);
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
				return (http_fail(r, 400, "bad Content-Length"));
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

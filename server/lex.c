/* SPDX-License-Identifier: ISC */
/*
 * The byte-level lexer of the HTTP/1.1 request parser (RFC 9112 3, 5
 * and 7.1.1): it judges each byte of the current line as it arrives,
 * and fails the request at the first one that cannot belong to a
 * request line, a field line or a chunk line. It only says where a
 * line ends; http.c takes the whole line for what it means. A line ends
 * with CRLF only (see http.c on bare LF). Pure, as http.c.
 */
#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "hellod.h"

/*
 * Where the lexer is within the current line (r_lex); 0 is a line's
 * start, whatever the line (r_state says which kind it is).
 */
enum lex_state {
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

/* tchar from RFC 9110 5.6.2, as a table for speed. */
static const unsigned char lex_tchar[256] = {
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

#define IS_TCHAR(c)	(lex_tchar[(unsigned char)(c)])
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

/*
 * Why a byte that cannot be where it is was refused: NUL, bare LF and
 * the rest have their own words in the log.
 */
static int
lex_fail(struct http_request *r, unsigned char c, const char *why)
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
lex_size(struct http_request *r, unsigned char c)
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
 * The first byte of a line, which r_state says the kind of: an empty
 * line's CR (but a chunk-size line's), or what the line must begin
 * with. Returns 0, or -1 with the request failed.
 */
static int
lex_start(struct http_request *r, unsigned char c)
{
	if (c == '\r' && r->r_state != HTTP_S_CHUNK_SIZE) {
		r->r_lex = LX_EOL;
		return (0);
	}
	switch (r->r_state) {
	case HTTP_S_LINE:
		if (IS_TCHAR(c)) {
			r->r_lex = LX_METHOD;
			return (0);
		}
		if (c == TLS_HANDSHAKE) {
			r->r_tls = 1;
			return (http_fail(r, 400, "TLS handshake on a plain "
			    "HTTP listener"));
		}
		return (lex_fail(r, c, "malformed request line"));
	case HTTP_S_HEADERS:
	case HTTP_S_TRAILER:
		if (IS_TCHAR(c)) {
			r->r_lex = LX_NAME;
			return (0);
		}
		return (lex_fail(r, c, IS_OWS(c) ? "obsolete line folding" :
		    "malformed header field"));
	case HTTP_S_CHUNK_SIZE:
		if (IS_HEXDIG(c)) {
			r->r_lex = LX_SIZE;
			r->r_body_left = 0;
			return (lex_size(r, c));
		}
		return (lex_fail(r, c, "bad chunk size"));
	case HTTP_S_CHUNK_CRLF:
		return (lex_fail(r, c, "chunk data longer than its size"));
	default:
		return (http_fail(r, 500, "parser misuse"));
	}
}

/*
 * method SP request-target SP HTTP-version, from the byte at p on: a run
 * of target bytes is taken at once. Returns the byte after those taken,
 * or NULL with the request failed.
 */
static const unsigned char *
lex_request_line(struct http_request *r, const unsigned char *p,
    const unsigned char *end)
{
	static const unsigned char version[] = "HTTP/";
	unsigned char		 c = *p;

	switch (r->r_lex) {
	case LX_METHOD:
		if (c == ' ')
			r->r_lex = LX_TARGET0;
		else if (!IS_TCHAR(c))
			return (lex_fail(r, c, "malformed request line"), NULL);
		return (p + 1);
	case LX_TARGET0:
	case LX_TARGET:
		while (IS_TARGET(c)) {
			r->r_lex = LX_TARGET;
			if (++p == end)
				return (p);
			c = *p;
		}
		if (c == ' ' && r->r_lex == LX_TARGET) {
			r->r_lex = LX_VERSION;
			r->r_lex_n = 0;
			return (p + 1);
		}
		return (lex_fail(r, c, c == '#' ? "fragment in request "
		    "target" : "malformed request target"), NULL);
	default:
		/* LX_VERSION: "HTTP/" DIGIT "." DIGIT, then CRLF */
		if ((r->r_lex_n < 5 && c == version[r->r_lex_n]) ||
		    ((r->r_lex_n == 5 || r->r_lex_n == 7) && IS_DIGIT(c)) ||
		    (r->r_lex_n == 6 && c == '.'))
			r->r_lex_n++;
		else if (r->r_lex_n == 8 && c == '\r')
			r->r_lex = LX_EOL;
		else
			return (lex_fail(r, c, "malformed HTTP version"), NULL);
		return (p + 1);
	}
}

/*
 * field-name ":" OWS field-value OWS, from the byte at p on: a run of
 * value bytes is taken at once. Returns the byte after those taken, or
 * NULL with the request failed.
 */
static const unsigned char *
lex_field(struct http_request *r, const unsigned char *p,
    const unsigned char *end)
{
	unsigned char	c = *p;

	if (r->r_lex == LX_NAME) {
		if (c == ':')
			r->r_lex = LX_VALUE;
		else if (!IS_TCHAR(c))
			return (lex_fail(r, c, "malformed header field"), NULL);
		return (p + 1);
	}
	/* LX_VALUE */
	while (IS_FIELD(c)) {
		if (++p == end)
			return (p);
		c = *p;
	}
	if (c == '\r') {
		r->r_lex = LX_EOL;
		return (p + 1);
	}
	return (lex_fail(r, c, "control character in header value"), NULL);
}

/*
 * chunk-size [ chunk-ext ] CRLF, where
 * chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ):
 * a size digit, or what may follow a size or a value (a token's next
 * byte, CR, ";" or BWS). Returns 0, or -1 with the request failed.
 */
static int
lex_chunk_size(struct http_request *r, unsigned char c)
{
	if (r->r_lex == LX_SIZE && IS_HEXDIG(c))
		return (lex_size(r, c));
	if (r->r_lex == LX_EXT_TOKEN && IS_TCHAR(c))
		return (0);
	/* LX_EXT_END, or the end of a size or a token */
	if (c == '\r')
		r->r_lex = LX_EOL;
	else if (c == ';')
		r->r_lex = LX_EXT_NAME0;
	else if (IS_OWS(c))
		r->r_lex = LX_EXT_BWS;
	else
		return (lex_fail(r, c, r->r_lex == LX_SIZE ? "bad chunk size" :
		    "bad chunk extension"));
	return (0);
}

/*
 * The rest of a chunk-ext: BWS, a name, "=", a token or a quoted-string
 * value. Returns 0, or -1 with the request failed.
 */
static int
lex_chunk_ext(struct http_request *r, unsigned char c)
{
	switch (r->r_lex) {
	case LX_EXT_BWS:
		if (c == ';')
			r->r_lex = LX_EXT_NAME0;
		else if (!IS_OWS(c))
			break;
		return (0);
	case LX_EXT_NAME0:
		if (IS_TCHAR(c))
			r->r_lex = LX_EXT_NAME;
		else if (!IS_OWS(c))
			break;
		return (0);
	case LX_EXT_NAME:
		if (IS_TCHAR(c))
			return (0);
		if (c == '\r') {
			r->r_lex = LX_EOL;
			return (0);
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
			break;
		return (0);
	case LX_EXT_VAL0:
		if (IS_TCHAR(c))
			r->r_lex = LX_EXT_TOKEN;
		else if (c == '"')
			r->r_lex = LX_EXT_QUOTED;
		else if (!IS_OWS(c))
			break;
		return (0);
	case LX_EXT_QUOTED:
		if (c == '"')
			r->r_lex = LX_EXT_END;
		else if (c == '\\')
			r->r_lex = LX_EXT_QPAIR;
		else if (!IS_QDTEXT(c) && !IS_OWS(c))
			break;
		return (0);
	case LX_EXT_QPAIR:
		if (!IS_QPAIR(c))
			break;
		r->r_lex = LX_EXT_QUOTED;
		return (0);
	default:
		return (http_fail(r, 500, "parser misuse"));
	}
	return (lex_fail(r, c, "bad chunk extension"));
}

/*
 * Judge the n bytes at p, the next of the current line. Returns 1 with
 * *used the bytes up to and including the line's LF; 0 with *used = n if
 * the line goes on; -1 with the request failed at the first byte that
 * cannot belong to it.
 */
int
lex_line(struct http_request *r, const unsigned char *p, size_t n,
    size_t *used)
{
	const unsigned char	*s = p, *end = p + n;
	int			 rv;

	*used = 0;
	while (p < end) {
		switch (r->r_lex) {
		case LX_EOL:
			if (*p != '\n')
				return (http_fail(r, 400, "bare CR in "
				    "request"));
			*used = (size_t)(p - s) + 1;
			return (1);
		case LX_METHOD:
		case LX_TARGET0:
		case LX_TARGET:
		case LX_VERSION:
			if ((p = lex_request_line(r, p, end)) == NULL)
				return (-1);
			continue;
		case LX_NAME:
		case LX_VALUE:
			if ((p = lex_field(r, p, end)) == NULL)
				return (-1);
			continue;
		case LX_START:
			rv = lex_start(r, *p);
			break;
		case LX_SIZE:
		case LX_EXT_TOKEN:
		case LX_EXT_END:
			rv = lex_chunk_size(r, *p);
			break;
		default:
			rv = lex_chunk_ext(r, *p);
			break;
		}
		if (rv == -1)
			return (-1);
		p++;
	}
	*used = n;
	return (0);
}

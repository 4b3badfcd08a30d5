/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for http.c: the incremental request parser (whole blocks
 * and byte by byte must agree), pipelining, body discard, the head size
 * limits, Connection handling and reason phrases. HTTP-dates are tested
 * in check_date.c, the preconditions of a conditional GET in
 * check_cond.c.
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
#define SMALL_HEAD	128	/* for the limit tests */

/* Expected outcome of parsing one input. */
struct http_case {
	const char		*in;
	size_t			 len;
	enum http_result	 res;
	int			 status;	/* HTTP_ERROR; 0: 400 or 413 */
	enum http_method	 method;	/* HTTP_COMPLETE: the rest */
	int			 minor;
	const char		*path;		/* NULL: don't check */
	int			 keepalive;
	size_t			 left;		/* bytes not consumed */
};

#define OK(in, m, minor, path, ka) \
	{ in, sizeof(in) - 1, HTTP_COMPLETE, 0, m, minor, path, ka, 0 }
#define OK_LEFT(in, m, minor, path, ka, left) \
	{ in, sizeof(in) - 1, HTTP_COMPLETE, 0, m, minor, path, ka, left }
#define BAD(in, status) \
	{ in, sizeof(in) - 1, HTTP_ERROR, status, HTTP_M_OTHER, 0, NULL, 0, 0 }
#define MORE(in) \
	{ in, sizeof(in) - 1, HTTP_NEED_MORE, 0, HTTP_M_OTHER, 0, NULL, 0, 0 }

/* The head of a chunked request. */
#define TE \
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"

#define G	HTTP_M_GET
#define H	HTTP_M_HEAD
#define O	HTTP_M_OTHER

static const struct http_case cases[] = {
	/* Good requests. */
	OK("GET / HTTP/1.1\r\nHost: a\r\n\r\n", G, 1, "/", 1),
	OK("HEAD /sleep HTTP/1.1\r\nHost: a\r\n\r\n", H, 1, "/sleep", 1),
	OK("GET /sleep?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", G, 1, "/sleep", 1),
	OK("GET /a?b?c HTTP/1.1\r\nHost: a\r\n\r\n", G, 1, "/a", 1),
	OK("GET /? HTTP/1.1\r\nHost: a\r\n\r\n", G, 1, "/", 1),
	OK("GET /hello.html HTTP/1.1\r\nHost: a\r\n\r\n", G, 1, "/hello.html",
	    1),
	OK("GET /a/b/../c%20d HTTP/1.1\r\nHost: a\r\n\r\n", G, 1,
	    "/a/b/../c%20d", 1),
	OK("GET / HTTP/1.0\r\n\r\n", G, 0, "/", 0),
	OK("HEAD / HTTP/1.0\r\n\r\n", H, 0, "/", 0),
	OK("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", G, 1, "/", 1),
	OK("GET / HTTP/1.2\r\nHost: a\r\n\r\n", G, 1, "/", 1),
	OK("GET / HTTP/1.9\r\nHost: a\r\n\r\n", G, 1, "/", 1),
	/* Absolute form. */
	OK("GET http://h:1/a?b HTTP/1.1\r\nHost: h:1\r\n\r\n", G, 1, "/a", 1),
	OK("GET http://h HTTP/1.1\r\nHost: h\r\n\r\n", G, 1, "/", 1),
	OK("GET http://127.0.0.1:7878/ HTTP/1.1\r\nHost: a\r\n\r\n", G, 1,
	    "/", 1),
	OK("GET HTTP://H/x HTTP/1.1\r\nHost: h\r\n\r\n", G, 1, "/x", 1),
	OK("GET Http://h/sleep HTTP/1.1\r\nHost: h\r\n\r\n", G, 1, "/sleep",
	    1),
	OK("GET https://h/s HTTP/1.1\r\nHost: h\r\n\r\n", G, 1, "/s", 1),
	OK("GET http://h/sleep?x=1 HTTP/1.0\r\n\r\n", G, 0, "/sleep", 0),
	/* The authority: RFC 3986 3.2.2-3.2.3. */
	OK("GET http://h?q HTTP/1.1\r\nHost: h\r\n\r\n", G, 1, "/", 1),
	OK("GET http://h:/a HTTP/1.1\r\nHost: h\r\n\r\n", G, 1, "/a", 1),
	OK("GET http://1.2.3.4:80/a HTTP/1.1\r\nHost: h\r\n\r\n", G, 1,
	    "/a", 1),
	OK("GET http://[::1]:8080/x HTTP/1.1\r\nHost: h\r\n\r\n", G, 1,
	    "/x", 1),
	OK("GET http://[2001:db8::7]/ HTTP/1.1\r\nHost: h\r\n\r\n", G, 1,
	    "/", 1),
	OK("GET http://[::ffff:1.2.3.4] HTTP/1.1\r\nHost: h\r\n\r\n", G, 1,
	    "/", 1),
	OK("GET http://[v7.a:b]/y HTTP/1.1\r\nHost: h\r\n\r\n", G, 1, "/y",
	    1),
	OK("GET http://h%41b/ HTTP/1.1\r\nHost: h\r\n\r\n", G, 1, "/", 1),
	OK("GET http://a.b-c_d~!$&'()*+,;=/z HTTP/1.1\r\nHost: h\r\n\r\n",
	    G, 1, "/z", 1),
	/* CONNECT: authority-form, answered 405 like any other method. */
	OK("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", O, 1, "/", 1),
	OK("CONNECT [::1]:1 HTTP/1.1\r\nHost: [::1]:1\r\n\r\n", O, 1, "/",
	    1),
	OK("CONNECT 127.0.0.1:65535 HTTP/1.0\r\n\r\n", O, 0, "/", 0),
	/* Other methods. */
	OK("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", O, 1, NULL, 1),
	OK("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", O, 1,
	    "/x", 1),
	OK("get / HTTP/1.1\r\nHost: a\r\n\r\n", O, 1, "/", 1),
	OK("Get / HTTP/1.1\r\nHost: a\r\n\r\n", O, 1, "/", 1),
	OK("GETS / HTTP/1.1\r\nHost: a\r\n\r\n", O, 1, "/", 1),
	OK("HEADER / HTTP/1.1\r\nHost: a\r\n\r\n", O, 1, "/", 1),
	OK("BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", O, 1, "/pot", 1),
	OK("DELETE / HTTP/1.0\r\n\r\n", O, 0, "/", 0),
	OK("M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n", O, 1, NULL, 1),
	OK("X!#$%&'*+-.^_`|~9 / HTTP/1.1\r\nHost: a\r\n\r\n", O, 1, "/", 1),
	/* Header syntax. */
	OK("GET / HTTP/1.1\r\nhost: a\r\n\r\n", G, 1, "/", 1),
	OK("GET / HTTP/1.1\r\nHOST:a\r\n\r\n", G, 1, "/", 1),
	OK("GET / HTTP/1.1\r\nHost:   a   \r\n\r\n", G, 1, "/", 1),
	OK("GET / HTTP/1.1\r\nHost:\ta\t\r\n\r\n", G, 1, "/", 1),
	OK("GET / HTTP/1.1\r\nHost: a\r\nX-Tab: a\tb\r\n\r\n", G, 1, "/", 1),
	OK("GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n", G, 1, "/", 1),
	OK("GET / HTTP/1.1\r\nHost: a\r\nX-Empty:   \r\n\r\n", G, 1, "/", 1),
	OK("GET / HTTP/1.1\r\nUser-Agent: x/1 (y; z)\r\nHost: a\r\n"
	    "Accept: */*\r\n\r\n", G, 1, "/", 1),
	OK("GET / HTTP/1.1\r\nHost: a\r\n!#$%&'*+-.^_`|~: v\r\n\r\n", G, 1,
	    "/", 1),
	/* Connection. */
	OK("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", G, 1, "/",
	    0),
	OK("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", G, 0, "/", 1),
	OK("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", G, 0, "/", 1),
	/* Content-Length. */
	OK("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", G, 1, "/",
	    1),
	OK("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  5 \r\n\r\nhello",
	    O, 1, "/", 1),
	OK("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello",
	    O, 1, "/", 1),
	OK("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "content-length: 5\r\n\r\nhello", O, 1, "/", 1),
	OK("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 005\r\n\r\nhello",
	    O, 1, "/", 1),
	OK("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\na\0\r\n",
	    O, 1, "/", 1),
	OK("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n\r\n", G, 1,
	    "/", 1),
	/* Chunked bodies are read and discarded. */
	OK(TE "5\r\nhello\r\n0\r\n\r\n", O, 1, "/", 1),
	OK(TE "0\r\n\r\n", O, 1, "/", 1),
	OK(TE "5;foo=bar\r\nhello\r\n0;x\r\n\r\n", O, 1, "/", 1),
	/* chunk-ext (RFC 9112 7.1.1): BWS ";" BWS name [BWS "=" BWS val] */
	OK(TE "5;a\r\nhello\r\n0\r\n\r\n", O, 1, "/", 1),
	OK(TE "5 ;a\r\nhello\r\n0\r\n\r\n", O, 1, "/", 1),
	OK(TE "5\t;a=b\r\nhello\r\n0\r\n\r\n", O, 1, "/", 1),
	OK(TE "5; a = b ;c\r\nhello\r\n0\r\n\r\n", O, 1, "/", 1),
	OK(TE "5;a=b;c;d=\"\"\r\nhello\r\n0\r\n\r\n", O, 1, "/", 1),
	OK(TE "5;a=\"b c\\\"d\t\x80\"\r\nhello\r\n0\r\n\r\n", O, 1, "/",
	    1),
	OK(TE "5;a=\"x\" ;b\r\nhello\r\n0;z=\";\"\r\n\r\n", O, 1, "/",
	    1),
	OK(TE "a\r\n0123456789\r\nA\r\n0123456789\r\n0\r\n\r\n", O, 1, "/",
	    1),
	OK(TE "0000a\r\n0123456789\r\n00\r\n\r\n", O, 1, "/", 1),
	OK(TE "4\r\n\r\n\0x\r\n0\r\n\r\n", O, 1, "/", 1),
	OK(TE "5\r\nhello\r\n0\r\nX-Trailer: v\r\nY: w\r\n\r\n", O, 1, "/",
	    1),
	OK("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked"
	    "\r\n\r\n3\r\nabc\r\n0\r\n\r\n", O, 1, "/c", 1),
	OK("POST /c HTTP/1.1\r\nHost: a\r\ntransfer-encoding: Chunked"
	    "\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n", O, 1,
	    "/c", 0),
	OK_LEFT(TE "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n", O, 1, "/", 1,
	    16),
	MORE(TE),
	MORE(TE "5\r\nhel"),
	MORE(TE "5\r\nhello\r\n"),
	MORE(TE "5\r\nhello\r\n0\r\n"),
	MORE(TE "5\r\nhello\r\n0\r\nX: y\r\n"),
	MORE(TE "5 "),
	MORE(TE "5;"),
	MORE(TE "5; a "),
	MORE(TE "5;a=\"b"),
	MORE(TE "5;a=\"\\"),
	MORE(TE "5;a=\"b\""),
	MORE(TE "5;a=b\r"),
	/* Something left over. */
	OK_LEFT("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /b", G, 1, "/", 1, 6),
	OK_LEFT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET",
	    O, 1, "/", 1, 3),
	OK_LEFT("GET / HTTP/1.1\r\nHost: a\r\n\r\n\r\n", G, 1, "/", 1, 2),
	OK_LEFT("GET / HTTP/1.1\r\nHost: a\r\n\r\n\0", G, 1, "/", 1, 1),

	/* Incomplete. */
	MORE(""),
	MORE("\r"),
	MORE("\r\n"),
	MORE("\r\n\r\n"),
	MORE("G"),
	MORE("GE"),
	MORE("GET"),
	MORE("GET "),
	MORE("GET /"),
	MORE("GET /a HT"),
	MORE("GET / HTTP/1."),
	MORE("GET / HTTP/1.1"),
	MORE("GET / HTTP/2.0"),
	MORE("GET / HTTP/1.1\r\nX"),
	MORE("GET / HTTP/1.1\r\nX:"),
	MORE("GET / HTTP/1.1\r\nX: a\t\x80"),
	MORE("GET http://h"),
	MORE("GET http://@@"),
	MORE("OPTIONS *"),
	MORE("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n"),
	MORE("X!#$%&'*+-.^_`|~9 /"),
	MORE("GET / HT"),
	MORE("GET / HTTP/1.1\r"),
	MORE("GET / HTTP/1.1\r\n"),
	MORE("GET / HTTP/1.1\r\nHost: a\r\n"),
	MORE("GET / HTTP/1.1\r\nHost: a\r\n\r"),
	MORE("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabc"),

	/* Host. */
	BAD("GET / HTTP/1.1\r\n\r\n", 400),
	BAD("GET http://h/ HTTP/1.1\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400),
	/* Bare CR. */
	BAD("GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\rHost: a\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\r\n\rX\r\n\r\n", 400),
	BAD("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("\r\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	/* Bare LF: a line ends with CRLF only (RFC 9112 2.2, strictly). */
	BAD("GET / HTTP/1.1\nHost: a\n\n", 400),
	BAD("GET / HTTP/1.1\nHost: a\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\r\n\n", 400),
	BAD("GET / HTTP/1.0\n\n", 400),
	BAD("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("\n\r\n", 400),
	BAD("GET /a\nb HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: x\r\nDummy: x\nContent-Length: 23\r\n"
	    "\r\nGET / HTTP/1.1\r\nDummy: GET /admin HTTP/1.1\r\nHost: x\r\n"
	    "\r\n", 400),
	/* TLS, SSH and other protocols' first bytes. */
	BAD("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),
	BAD("\x16", 400),
	BAD("\x80\x2e\x01\x00\x02", 400),
	BAD("SSH-2.0-OpenSSH_9.2\r\n", 400),
	BAD("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
	/* NUL. */
	BAD("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\0\r\nHost: a\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\0\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nX\0: a\r\nHost: a\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\r\n\0\r\n", 400),
	BAD("\0GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("\0", 400),
	BAD("\0\0\0\0", 400),
	BAD("G\0", 400),
	/* Request line. */
	BAD("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400),
	BAD(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET /\tHTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET /\r\nHost: a\r\n\r\n", 400),
	BAD("GET / \r\nHost: a\r\n\r\n", 400),
	BAD("GET\r\nHost: a\r\n\r\n", 400),
	BAD("GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n", 400),
	BAD("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GE\"T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET a HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET ftp://h/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("HEAD * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET /\x01", 400),
	BAD("GET /a\x7f", 400),
	BAD("GET /\x80", 400),
	BAD("GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET /\t", 400),
	/* A fragment is never sent (RFC 9112 3.2). */
	BAD("GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET /# HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET /?q#f HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http://h/#f HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET #", 400),
	/* The authority of an absolute-form target. */
	BAD("GET http://@@ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http://} HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http://| HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http://u@h/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http://u:p@h/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http:/// HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http://?q HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http://:80/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http://h:x/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http://h:80:80/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http://h%zz/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http://h%4/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http://h{}/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http://h\"/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http://[::1/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http://[zz]/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http://[]/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http://[::1]x/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http://[1:2:3:4:5:6:7:8:9]/ HTTP/1.1\r\nHost: a\r\n\r\n",
	    400),
	BAD("GET http://[v1]/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http://[v.a]/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http://[v1.]/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET http://[v1./]/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	/* CONNECT needs host:port; nothing else may use that form. */
	BAD("CONNECT h HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	BAD("CONNECT h: HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	BAD("CONNECT h:0 HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	BAD("CONNECT h:65536 HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	BAD("CONNECT h:99999999999999999999 HTTP/1.1\r\nHost: h\r\n\r\n",
	    400),
	BAD("CONNECT h:4x3 HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	BAD("CONNECT :443 HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	BAD("CONNECT u@h:443 HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	BAD("CONNECT h:443/ HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	BAD("CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	BAD("CONNECT http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	BAD("CONNECT * HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	BAD("connect h:443 HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	BAD("GET h:443 HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	BAD("OPTIONS h:443 HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	/* Version. */
	BAD("GET / HTTX/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET / HTTP/1\r\nHost: a\r\n\r\n", 400),
	BAD("GET / HTTP/11\r\nHost: a\r\n\r\n", 400),
	BAD("GET / HTTP/1.1x\r\nHost: a\r\n\r\n", 400),
	BAD("GET / HTTP/1.a\r\nHost: a\r\n\r\n", 400),
	BAD("GET / HTTP/1.\r\nHost: a\r\n\r\n", 400),
	BAD("GET / HTTP/\r\nHost: a\r\n\r\n", 400),
	BAD("GET / 1.1\r\nHost: a\r\n\r\n", 400),
	BAD("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
	BAD("GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505),
	BAD("GET / HTTP/2.0\r\n\r\n", 505),
	/* Header fields. */
	BAD("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\r\n: a\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\r\nX(: a\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\r\nX Y: a\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01" "b\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f" "b\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\r\nX: \x1b[31m\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\x0b\r\n\r\n", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\r\nX: \x01", 400),
	BAD("GET / HTTP/1.1\r\nHo st", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\r\n ", 400),
	BAD("GET / HTTP/1.1\r\nHost: a\r\n\t", 400),
	BAD("GET / HTTP/1.1\r\n:", 400),
	BAD("GET / HTTP/1.1\r\nX\x80", 400),
	/* Content-Length and Transfer-Encoding. */
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", 400),
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400),
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400),
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400),
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:   \r\n\r\n", 400),
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n"
	    "Content-Length: 3\r\n\r\nabc", 400),
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1.0\r\n\r\n", 400),
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", 400),
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n", 400),
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", 400),
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "Content-Length: 6\r\n\r\n", 400),
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 400),
	BAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n\r\n", 400),
	BAD("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\n\r\n", 400),
	BAD("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
	BAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
	    400),
	BAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip"
	    "\r\n\r\n", 400),
	BAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: gzip\r\n\r\n", 400),
	BAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, "
	    "chunked\r\n\r\n", 400),
	BAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400),
	/* Chunked bodies. */
	BAD(TE "5\r\nhelloX\r\n0\r\n\r\n", 400),
	BAD(TE "5\r\nhello0\r\n\r\n", 400),
	BAD(TE "xyz\r\nhello\r\n0\r\n\r\n", 400),
	BAD(TE "\r\nhello\r\n0\r\n\r\n", 400),
	BAD(TE "-5\r\nhello\r\n0\r\n\r\n", 400),
	BAD(TE "5x\r\nhello\r\n0\r\n\r\n", 400),
	BAD(TE "100001\r\n", 413),
	BAD(TE "100001", 413),
	BAD(TE "00000100001", 413),
	BAD(TE "ffffffffffffffffffff\r\n", 413),
	BAD(TE "\r", 400),
	BAD(TE " 5\r\nhello\r\n0\r\n\r\n", 400),
	BAD(TE "0x5\r\nhello\r\n0\r\n\r\n", 400),
	/* Chunk extensions. */
	BAD(TE "2;\r\nab\r\n0\r\n\r\n", 400),
	BAD(TE "2;\r", 400),
	BAD(TE "a \r\n0123456789\r\n0\r\n\r\n", 400),
	BAD(TE "a \r", 400),
	BAD(TE "a\t\r\n0123456789\r\n0\r\n\r\n", 400),
	BAD(TE "0 \r\n\r\n", 400),
	BAD(TE "2;a=\"b\r\nab\r\n0\r\n\r\n", 400),
	BAD(TE "2;a=\"b\r", 400),
	BAD(TE "2;a=\"b\\\r", 400),
	BAD(TE "2;=b\r\nab\r\n0\r\n\r\n", 400),
	BAD(TE "2;a=\r\nab\r\n0\r\n\r\n", 400),
	BAD(TE "2;a b\r\nab\r\n0\r\n\r\n", 400),
	BAD(TE "2;a \r\nab\r\n0\r\n\r\n", 400),
	BAD(TE "2;a=b c\r\nab\r\n0\r\n\r\n", 400),
	BAD(TE "2;a=b \r\nab\r\n0\r\n\r\n", 400),
	BAD(TE "2;a=\"b\"c\r\nab\r\n0\r\n\r\n", 400),
	BAD(TE "2;a=\"\x01\"\r\nab\r\n0\r\n\r\n", 400),
	BAD(TE "2;a=\"\\\x01\"\r\nab\r\n0\r\n\r\n", 400),
	BAD(TE "2;a=\"\x7f\"\r\nab\r\n0\r\n\r\n", 400),
	BAD(TE "2;a=b=c\r\nab\r\n0\r\n\r\n", 400),
	BAD(TE "2;a(\r\nab\r\n0\r\n\r\n", 400),
	BAD(TE "2;a=(\r\nab\r\n0\r\n\r\n", 400),
	BAD(TE "2;;a\r\nab\r\n0\r\n\r\n", 400),
	BAD(TE "2a;\x00\r\n", 400),
	/* Bare LF and bare CR in chunk lines, after data and in trailers. */
	BAD(TE "2\nab\r\n0\r\n\r\n", 400),
	BAD(TE "2;a=b\nab\r\n0\r\n\r\n", 400),
	BAD(TE "2\r\nab\n0\r\n\r\n", 400),
	BAD(TE "5\r\nhell\r\n0\r\n\r\n", 400),
	BAD(TE "2\r\nab\r\r\n0\r\n\r\n", 400),
	BAD(TE "2\rab\r\n0\r\n\r\n", 400),
	BAD(TE "0\n\r\n", 400),
	BAD(TE "0\r\n\n", 400),
	BAD(TE "0\r\nX: y\n\r\n", 400),
	BAD(TE "0\r\nX: y\r\n\n", 400),
	BAD(TE "0\r\nX: y\rz\r\n\r\n", 400),
	BAD(TE "0\r\n X: y\r\n\r\n", 400),
	BAD(TE "0\r\nX : y\r\n\r\n", 400),
	BAD(TE "0\r\nX: \x01\r\n\r\n", 400),
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n",
	    413),
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4294967296\r\n\r\n",
	    413),
	BAD("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 99999999999999999999999\r\n\r\n", 0),
};

/* Run one case with all the input in the buffer at once. */
static void
run_block(const struct http_case *c, int i)
{
	struct http_request	 req;
	struct evbuffer		*buf;
	enum http_result	 res;
	const char		*path, *esc;
	size_t			 len;

	esc = unit_escape(c->in, c->len);
	ck_assert_ptr_nonnull(buf = evbuffer_new());
	http_request_init(&req, MAX_HEAD);
	ck_assert_int_eq(evbuffer_add(buf, c->in, c->len), 0);
	res = http_parse(&req, buf);
	ck_assert_msg(res == c->res, "case %d (block) \"%s\": result %d, "
	    "want %d (status %d, %s)", i, esc, res, c->res, req.r_status,
	    req.r_error == NULL ? "" : req.r_error);
	switch (res) {
	case HTTP_ERROR:
		if (c->status == 0) {
			ck_assert_msg(req.r_status == 400 ||
			    req.r_status == 413,
			    "case %d (block) \"%s\": status %d, want 400 or "
			    "413", i, esc, req.r_status);
		} else {
			ck_assert_msg(req.r_status == c->status,
			    "case %d (block) \"%s\": status %d, want %d (%s)",
			    i, esc, req.r_status, c->status,
			    req.r_error == NULL ? "" : req.r_error);
		}
		ck_assert_msg(req.r_error != NULL && *req.r_error != '\0',
		    "case %d: no r_error", i);
		break;
	case HTTP_COMPLETE:
		ck_assert_msg(req.r_method == c->method,
		    "case %d \"%s\": method %d, want %d", i, esc,
		    req.r_method, c->method);
		ck_assert_msg(req.r_minor == c->minor,
		    "case %d \"%s\": minor %d, want %d", i, esc, req.r_minor,
		    c->minor);
		ck_assert_msg(http_keepalive(&req) == c->keepalive,
		    "case %d \"%s\": keepalive %d, want %d", i, esc,
		    http_keepalive(&req), c->keepalive);
		if (c->path != NULL) {
			path = http_path(&req, &len);
			ck_assert_msg(path != NULL && len == strlen(c->path) &&
			    memcmp(path, c->path, len) == 0,
			    "case %d \"%s\": path \"%.*s\", want \"%s\"", i,
			    esc, path == NULL ? 0 : (int)len,
			    path == NULL ? "" : path, c->path);
		}
		ck_assert_msg(evbuffer_get_length(buf) == c->left,
		    "case %d \"%s\": %zu bytes left, want %zu", i, esc,
		    evbuffer_get_length(buf), c->left);
		if (c->left > 0) {
			ck_assert(memcmp(evbuffer_pullup(buf, -1),
			    c->in + c->len - c->left, c->left) == 0);
		}
		break;
	case HTTP_NEED_MORE:
		break;
	}
	http_request_clear(&req);
	evbuffer_free(buf);
}

/*
 * Feed len bytes of in one at a time, calling http_parse() after each,
 * until it returns something other than HTTP_NEED_MORE. *fed is the
 * number of bytes given to the parser.
 */
static enum http_result
feed_bytes(struct http_request *req, struct evbuffer *buf, const char *in,
    size_t len, size_t *fed)
{
	enum http_result	 res = HTTP_NEED_MORE;
	size_t			 i;

	for (i = 0; i < len; i++) {
		ck_assert_int_eq(evbuffer_add(buf, in + i, 1), 0);
		res = http_parse(req, buf);
		if (res != HTTP_NEED_MORE) {
			i++;
			break;
		}
	}
	if (len == 0)
		res = http_parse(req, buf);
	*fed = i;
	return (res);
}

/* Run one case byte by byte. */
static void
run_bytes(const struct http_case *c, int i)
{
	struct http_request	 req;
	struct evbuffer		*buf;
	enum http_result	 res;
	const char		*path, *esc;
	size_t			 len, fed;

	esc = unit_escape(c->in, c->len);
	ck_assert_ptr_nonnull(buf = evbuffer_new());
	http_request_init(&req, MAX_HEAD);
	res = feed_bytes(&req, buf, c->in, c->len, &fed);
	ck_assert_msg(res == c->res, "case %d (bytes) \"%s\": result %d, "
	    "want %d (status %d, %s) after %zu bytes", i, esc, res, c->res,
	    req.r_status, req.r_error == NULL ? "" : req.r_error, fed);
	switch (res) {
	case HTTP_ERROR:
		if (c->status == 0) {
			ck_assert_msg(req.r_status == 400 ||
			    req.r_status == 413,
			    "case %d (bytes) \"%s\": status %d, want 400 or "
			    "413", i, esc, req.r_status);
		} else {
			ck_assert_msg(req.r_status == c->status,
			    "case %d (bytes) \"%s\": status %d, want %d (%s)",
			    i, esc, req.r_status, c->status,
			    req.r_error == NULL ? "" : req.r_error);
		}
		break;
	case HTTP_COMPLETE:
		ck_assert_msg(c->len - fed == c->left,
		    "case %d (bytes) \"%s\": complete after %zu bytes, want "
		    "%zu", i, esc, fed, c->len - c->left);
		ck_assert_msg(evbuffer_get_length(buf) == 0,
		    "case %d (bytes): %zu bytes not consumed", i,
		    evbuffer_get_length(buf));
		ck_assert_int_eq(req.r_method, c->method);
		ck_assert_int_eq(req.r_minor, c->minor);
		ck_assert_int_eq(http_keepalive(&req), c->keepalive);
		if (c->path != NULL) {
			path = http_path(&req, &len);
			ck_assert_msg(path != NULL && len == strlen(c->path) &&
			    memcmp(path, c->path, len) == 0,
			    "case %d (bytes) \"%s\": path \"%.*s\", "
			    "want \"%s\"", i, esc, path == NULL ? 0 : (int)len,
			    path == NULL ? "" : path, c->path);
		}
		break;
	case HTTP_NEED_MORE:
		ck_assert_uint_eq(fed, c->len);
		break;
	}
	http_request_clear(&req);
	evbuffer_free(buf);
}

START_TEST(test_case_block)
{
	run_block(&cases[_i], _i);
}
END_TEST

START_TEST(test_case_bytes)
{
	run_bytes(&cases[_i], _i);
}
END_TEST

/* Outcome of one parse, to compare block and byte-by-byte runs. */
struct outcome {
	enum http_result	 res;
	int			 status;
	const char		*error;
	int			 tls;
	enum http_method	 method;
	int			 minor;
	int			 keepalive;
	size_t			 consumed;
	size_t			 head;
	uint64_t		 clen;
	char			 path[256];
	enum http_inm		 inm;
	int			 inm_n;
	uint64_t		 inm_tag[HTTP_INM_MAX];
	int			 ims_ok;
	time_t			 ims;
};

static void
outcome_fill(struct outcome *o, const struct http_request *req,
    enum http_result res, size_t consumed)
{
	const char	*path;
	size_t		 len;

	memset(o, 0, sizeof *o);
	o->res = res;
	if (res == HTTP_ERROR) {
		o->status = req->r_status;
		o->error = req->r_error;
		o->tls = req->r_tls;
	}
	if (res != HTTP_COMPLETE)
		return;
	o->method = req->r_method;
	o->minor = req->r_minor;
	o->keepalive = http_keepalive(req);
	o->consumed = consumed;
	o->head = req->r_head;
	o->clen = req->r_clen;
	o->inm = req->r_inm;
	o->inm_n = req->r_inm_n;
	memcpy(o->inm_tag, req->r_inm_tag, sizeof o->inm_tag);
	o->ims_ok = req->r_ims_ok;
	o->ims = req->r_ims_ok ? req->r_ims : 0;
	if ((path = http_path(req, &len)) != NULL) {
		if (len >= sizeof o->path)
			len = sizeof o->path - 1;
		memcpy(o->path, path, len);
	}
}

/* Parse in, len with max_head in one block and byte by byte; compare. */
static void
compare_modes(const char *in, size_t len, size_t max_head, unsigned int n)
{
	struct http_request	 req;
	struct evbuffer		*buf;
	struct outcome		 a, b;
	enum http_result	 res;
	size_t			 fed;

	ck_assert_ptr_nonnull(buf = evbuffer_new());
	http_request_init(&req, max_head);
	evbuffer_add(buf, in, len);
	res = http_parse(&req, buf);
	outcome_fill(&a, &req, res, len - evbuffer_get_length(buf));
	http_request_clear(&req);
	evbuffer_drain(buf, evbuffer_get_length(buf));

	http_request_init(&req, max_head);
	res = feed_bytes(&req, buf, in, len, &fed);
	outcome_fill(&b, &req, res, fed - evbuffer_get_length(buf));
	http_request_clear(&req);
	evbuffer_free(buf);

	ck_assert_msg(a.res == b.res && a.status == b.status &&
	    a.error == b.error && a.tls == b.tls,
	    "mutation %u \"%s\" (max %zu): block %d/%d/%s, bytes %d/%d/%s", n,
	    unit_escape(in, len), max_head, a.res, a.status,
	    a.error == NULL ? "" : a.error, b.res, b.status,
	    b.error == NULL ? "" : b.error);
	ck_assert_msg(memcmp(&a, &b, sizeof a) == 0,
	    "mutation %u \"%s\": block and bytes disagree (method %d/%d "
	    "minor %d/%d keepalive %d/%d consumed %zu/%zu head %zu/%zu path "
	    "%s/%s)", n, unit_escape(in, len), a.method, b.method, a.minor,
	    b.minor, a.keepalive, b.keepalive, a.consumed, b.consumed, a.head,
	    b.head, a.path, b.path);
}

/* A small deterministic PRNG (so failures can be replayed). */
static uint32_t
lcg(uint32_t *state)
{
	*state = *state * 1103515245 + 12345;
	return ((*state >> 16) & 0x7fff);
}

/*
 * Thousands of mutated requests: whatever the parser makes of them, it
 * must make the same of them byte by byte as in one block.
 */
START_TEST(test_bytes_vs_block_mutations)
{
	static const char *const seeds[] = {
		"GET /sleep?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
		    "\r\n",
		"POST /p HTTP/1.0\r\nContent-Length: 3\r\nConnection: "
		    "keep-alive\r\n\r\nabcGET",
		"\r\nHEAD http://h:1/a?b HTTP/1.1\r\nHost: h\r\nX: y\r\n"
		    "\r\n",
		TE "5;e\r\nhello\r\n0\r\nT: v\r\n\r\n",
		TE "5 ; e = \"q\\\"\" ;f=g\r\nhello\r\n0\r\n\r\n",
		"CONNECT [::1]:443 HTTP/1.1\r\nHost: a\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n"
		    "\r\nz",
	};
	static const char	 alphabet[] = " \r\n\0:\t,;a0/1.?*\x7f\x80H#@[]=\"\\\x16";
	char			 in[512];
	size_t			 len, pos;
	uint32_t		 state = 20261121;
	unsigned int		 n, k, nmut;

	for (n = 0; n < 6000; n++) {
		const char	*seed = seeds[n % (sizeof seeds /
				    sizeof seeds[0])];

		len = strlen(seed);
		memcpy(in, seed, len);
		nmut = 1 + lcg(&state) % 3;
		for (k = 0; k < nmut; k++) {
			pos = lcg(&state) % (len + 1);
			switch (lcg(&state) % 3) {
			case 0:		/* replace */
				if (pos < len) {
					in[pos] = alphabet[lcg(&state) %
					    (sizeof alphabet - 1)];
				}
				break;
			case 1:		/* insert */
				if (len + 1 < sizeof in) {
					memmove(in + pos + 1, in + pos,
					    len - pos);
					in[pos] = alphabet[lcg(&state) %
					    (sizeof alphabet - 1)];
					len++;
				}
				break;
			case 2:		/* delete */
				if (pos < len) {
					memmove(in + pos, in + pos + 1,
					    len - pos - 1);
					len--;
				}
				break;
			}
		}
		compare_modes(in, len, n % 4 == 0 ? 40 : n % 4 == 1 ? 20 :
		    MAX_HEAD, n);
	}
}
END_TEST

/* Every split of a request into two pieces gives the same result. */
START_TEST(test_split_everywhere)
{
	static const char	 in[] = "\r\nPOST /sleep?q HTTP/1.1\r\n"
	    "Host: example\r\nConnection: close\r\nContent-Length: 7\r\n"
	    "X-Long: " "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789\r\n\r\nbodybodGET";
	struct http_request	 req;
	struct evbuffer		*buf;
	enum http_result	 res;
	const char		*path;
	size_t			 len = sizeof in - 1, cut, plen;

	ck_assert_ptr_nonnull(buf = evbuffer_new());
	for (cut = 0; cut <= len; cut++) {
		http_request_init(&req, MAX_HEAD);
		evbuffer_add(buf, in, cut);
		res = http_parse(&req, buf);
		if (cut < len - 3) {
			ck_assert_msg(res == HTTP_NEED_MORE, "cut %zu: %d", cut,
			    res);
			evbuffer_add(buf, in + cut, len - cut);
			res = http_parse(&req, buf);
		} else if (cut < len)
			evbuffer_add(buf, in + cut, len - cut);
		ck_assert_msg(res == HTTP_COMPLETE, "cut %zu: %d (%d %s)", cut,
		    res, req.r_status, req.r_error == NULL ? "" : req.r_error);
		ck_assert_int_eq(req.r_method, HTTP_M_OTHER);
		ck_assert_int_eq(req.r_minor, 1);
		ck_assert_int_eq(http_keepalive(&req), 0);
		ck_assert_int_eq(req.r_has_clen, 1);
		ck_assert_uint_eq(req.r_clen, 7);
		path = http_path(&req, &plen);
		ck_assert_uint_eq(plen, 6);
		ck_assert(memcmp(path, "/sleep", 6) == 0);
		ck_assert_str_eq(req.r_line, "POST /sleep?q HTTP/1.1");
		ck_assert_uint_eq(evbuffer_get_length(buf), 3);
		ck_assert(memcmp(evbuffer_pullup(buf, -1), "GET", 3) == 0);
		evbuffer_drain(buf, 3);
		http_request_clear(&req);
	}
	evbuffer_free(buf);
}
END_TEST

START_TEST(test_request_line)
{
	struct http_request	 req;
	struct evbuffer		*buf;
	static const char	 in[] = "GET /sleep?x=1 HTTP/1.1\r\nHost: a\r\n"
	    "\r\nHEAD http://h/a?b HTTP/1.0\r\n\r\n";

	ck_assert_ptr_nonnull(buf = evbuffer_new());
	http_request_init(&req, MAX_HEAD);
	evbuffer_add(buf, in, sizeof in - 1);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_COMPLETE);
	ck_assert_str_eq(req.r_line, "GET /sleep?x=1 HTTP/1.1");
	http_request_reset(&req);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_COMPLETE);
	ck_assert_str_eq(req.r_line, "HEAD http://h/a?b HTTP/1.0");
	http_request_clear(&req);
	evbuffer_free(buf);
}
END_TEST

/* Request lines around HTTP_LINE_INLINE and far beyond it. */
START_TEST(test_line_lengths)
{
	struct http_request	 req;
	struct evbuffer		*buf;
	char			 target[400], line[512];
	const char		*path;
	size_t			 n, plen, fed;
	int			 bytewise;

	ck_assert_ptr_nonnull(buf = evbuffer_new());
	for (bytewise = 0; bytewise < 2; bytewise++) {
		for (n = 1; n < 300; n++) {
			target[0] = '/';
			memset(target + 1, 'a' + n % 26, n - 1);
			target[n] = '\0';
			snprintf(line, sizeof line,
			    "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", target);
			http_request_init(&req, MAX_HEAD);
			if (bytewise) {
				ck_assert_int_eq(feed_bytes(&req, buf, line,
				    strlen(line), &fed), HTTP_COMPLETE);
			} else {
				evbuffer_add(buf, line, strlen(line));
				ck_assert_int_eq(http_parse(&req, buf),
				    HTTP_COMPLETE);
			}
			ck_assert_uint_eq(evbuffer_get_length(buf), 0);
			path = http_path(&req, &plen);
			ck_assert_uint_eq(plen, n);
			ck_assert(memcmp(path, target, n) == 0);
			ck_assert_uint_eq(strlen(req.r_line), n + 13);
			ck_assert(strncmp(req.r_line + 4, target, n) == 0);
			ck_assert_uint_eq(req.r_head, strlen(line));
			http_request_clear(&req);
		}
	}
	evbuffer_free(buf);
}
END_TEST

/* Three requests in one buffer are parsed in order. */
START_TEST(test_pipeline_three)
{
	static const char	 in[] =
	    "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	    "HEAD /sleep?z HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
	    "POST /x HTTP/1.0\r\nContent-Length: 4\r\n\r\nbody";
	static const size_t	 first = sizeof "GET / HTTP/1.1\r\nHost: a\r\n"
	    "\r\n" - 1;
	static const size_t	 third = sizeof "POST /x HTTP/1.0\r\n"
	    "Content-Length: 4\r\n\r\nbody" - 1;
	struct http_request	 req;
	struct evbuffer		*buf;
	const char		*path;
	size_t			 len;

	ck_assert_ptr_nonnull(buf = evbuffer_new());
	http_request_init(&req, MAX_HEAD);
	evbuffer_add(buf, in, sizeof in - 1);

	ck_assert_int_eq(http_parse(&req, buf), HTTP_COMPLETE);
	ck_assert_int_eq(req.r_method, HTTP_M_GET);
	path = http_path(&req, &len);
	ck_assert_uint_eq(len, 1);
	ck_assert(memcmp(path, "/", 1) == 0);
	ck_assert_int_eq(http_keepalive(&req), 1);
	ck_assert_int_eq(req.r_has_clen, 0);
	ck_assert_uint_eq(evbuffer_get_length(buf), sizeof in - 1 - first);
	ck_assert_uint_eq(req.r_head, first);

	http_request_reset(&req);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_COMPLETE);
	ck_assert_int_eq(req.r_method, HTTP_M_HEAD);
	path = http_path(&req, &len);
	ck_assert_uint_eq(len, 6);
	ck_assert(memcmp(path, "/sleep", 6) == 0);
	ck_assert_int_eq(http_keepalive(&req), 0);
	ck_assert_uint_eq(evbuffer_get_length(buf), third);
	ck_assert_str_eq(req.r_line, "HEAD /sleep?z HTTP/1.1");

	http_request_reset(&req);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_COMPLETE);
	ck_assert_int_eq(req.r_method, HTTP_M_OTHER);
	ck_assert_int_eq(req.r_minor, 0);
	path = http_path(&req, &len);
	ck_assert_uint_eq(len, 2);
	ck_assert(memcmp(path, "/x", 2) == 0);
	ck_assert_int_eq(http_keepalive(&req), 0);
	ck_assert_int_eq(req.r_has_clen, 1);
	ck_assert_uint_eq(req.r_clen, 4);
	ck_assert_uint_eq(evbuffer_get_length(buf), 0);

	http_request_reset(&req);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_NEED_MORE);
	http_request_clear(&req);
	evbuffer_free(buf);
}
END_TEST

/*
 * A stream of requests fed byte by byte, resetting after each: the
 * requests come out in order with their paths.
 */
START_TEST(test_pipeline_bytes)
{
	static const char	 in[] =
	    "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n"
	    "0123456789"
	    "GET /b HTTP/1.1\r\nHost: a\r\n\r\n"
	    "\r\n"
	    "PUT /c HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nGET"
	    "HEAD /d HTTP/1.0\r\n\r\n"
	    "PATCH /e HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n2\r\nab\r\n1;x=y\r\nc\r\n0\r\nT: t\r\n\r\n"
	    "GET /f?g HTTP/1.1\r\nHost: a\r\n\r\n";
	static const char *const paths[] = { "/a", "/b", "/c", "/d", "/e",
	    "/f" };
	static const enum http_method methods[] = {
		HTTP_M_OTHER, HTTP_M_GET, HTTP_M_OTHER, HTTP_M_HEAD,
		HTTP_M_OTHER, HTTP_M_GET
	};
	struct http_request	 req;
	struct evbuffer		*buf;
	enum http_result	 res;
	const char		*path;
	size_t			 i, n = 0, len;

	ck_assert_ptr_nonnull(buf = evbuffer_new());
	http_request_init(&req, MAX_HEAD);
	for (i = 0; i < sizeof in - 1; i++) {
		evbuffer_add(buf, in + i, 1);
		res = http_parse(&req, buf);
		ck_assert_msg(res != HTTP_ERROR, "byte %zu: error %d %s", i,
		    req.r_status, req.r_error);
		if (res != HTTP_COMPLETE)
			continue;
		ck_assert_uint_lt(n, 6);
		ck_assert_int_eq(req.r_method, methods[n]);
		path = http_path(&req, &len);
		ck_assert_uint_eq(len, 2);
		ck_assert(memcmp(path, paths[n], 2) == 0);
		ck_assert_uint_eq(evbuffer_get_length(buf), 0);
		n++;
		http_request_reset(&req);
	}
	ck_assert_uint_eq(n, 6);
	http_request_clear(&req);
	evbuffer_free(buf);
}
END_TEST

/* The body is discarded exactly, leaving the next request intact. */
START_TEST(test_body_discard)
{
	static const char	 head[] = "POST /a HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 10\r\n\r\n";
	static const char	 next[] = "GET /b HTTP/1.1\r\nHost: a\r\n\r\n";
	struct http_request	 req;
	struct evbuffer		*buf;
	const char		*path;
	size_t			 len;

	ck_assert_ptr_nonnull(buf = evbuffer_new());
	http_request_init(&req, MAX_HEAD);

	evbuffer_add(buf, head, sizeof head - 1);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_NEED_MORE);
	evbuffer_add(buf, "01234", 5);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_NEED_MORE);
	evbuffer_add(buf, "5678", 4);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_NEED_MORE);
	evbuffer_add(buf, "9", 1);
	evbuffer_add(buf, next, sizeof next - 1);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_COMPLETE);
	ck_assert_int_eq(req.r_has_clen, 1);
	ck_assert_uint_eq(req.r_clen, 10);
	ck_assert_uint_eq(req.r_head, sizeof head - 1);
	ck_assert_uint_eq(evbuffer_get_length(buf), sizeof next - 1);
	ck_assert(memcmp(evbuffer_pullup(buf, -1), next, sizeof next - 1) ==
	    0);

	http_request_reset(&req);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_COMPLETE);
	ck_assert_int_eq(req.r_method, HTTP_M_GET);
	ck_assert_int_eq(req.r_has_clen, 0);
	path = http_path(&req, &len);
	ck_assert_uint_eq(len, 2);
	ck_assert(memcmp(path, "/b", 2) == 0);
	ck_assert_uint_eq(evbuffer_get_length(buf), 0);
	http_request_clear(&req);
	evbuffer_free(buf);
}
END_TEST

/* A body of exactly HELLOD_MAX_BODY bytes is read; one more is 413. */
START_TEST(test_body_max)
{
	struct http_request	 req;
	struct evbuffer		*buf;
	char			 head[128];
	char			*body;

	ck_assert_ptr_nonnull(buf = evbuffer_new());
	ck_assert_ptr_nonnull(body = calloc(1, HELLOD_MAX_BODY + 16));
	memcpy(body + HELLOD_MAX_BODY, "GET", 3);

	http_request_init(&req, MAX_HEAD);
	snprintf(head, sizeof head, "PUT / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: %d\r\n\r\n", HELLOD_MAX_BODY);
	evbuffer_add(buf, head, strlen(head));
	ck_assert_int_eq(http_parse(&req, buf), HTTP_NEED_MORE);
	evbuffer_add(buf, body, HELLOD_MAX_BODY - 1);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_NEED_MORE);
	evbuffer_add(buf, body + HELLOD_MAX_BODY - 1, 4);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_COMPLETE);
	ck_assert_uint_eq(req.r_clen, HELLOD_MAX_BODY);
	ck_assert_uint_eq(evbuffer_get_length(buf), 3);
	http_request_clear(&req);
	evbuffer_drain(buf, evbuffer_get_length(buf));

	http_request_init(&req, MAX_HEAD);
	snprintf(head, sizeof head, "PUT / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: %d\r\n\r\n", HELLOD_MAX_BODY + 1);
	evbuffer_add(buf, head, strlen(head));
	ck_assert_int_eq(http_parse(&req, buf), HTTP_ERROR);
	ck_assert_int_eq(req.r_status, 413);
	http_request_clear(&req);

	free(body);
	evbuffer_free(buf);
}
END_TEST

/* Chunked bodies may add up to HELLOD_MAX_BODY bytes; one more is 413. */
START_TEST(test_chunked_max)
{
	struct http_request	 req;
	struct evbuffer		*buf;
	char			 size[32];
	char			*data;
	size_t			 half = HELLOD_MAX_BODY / 2;

	ck_assert_ptr_nonnull(buf = evbuffer_new());
	ck_assert_ptr_nonnull(data = calloc(1, half + 1));
	snprintf(size, sizeof size, "%zx\r\n", half);

	http_request_init(&req, MAX_HEAD);
	evbuffer_add(buf, TE, strlen(TE));
	evbuffer_add(buf, size, strlen(size));
	evbuffer_add(buf, data, half);
	evbuffer_add(buf, "\r\n", 2);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_NEED_MORE);
	evbuffer_add(buf, size, strlen(size));
	evbuffer_add(buf, data, half);
	evbuffer_add(buf, "\r\n0\r\n\r\nGET", 10);
	ck_assert_msg(http_parse(&req, buf) == HTTP_COMPLETE, "%d %s",
	    req.r_status, req.r_error == NULL ? "" : req.r_error);
	ck_assert_uint_eq(evbuffer_get_length(buf), 3);
	http_request_clear(&req);
	evbuffer_drain(buf, evbuffer_get_length(buf));

	http_request_init(&req, MAX_HEAD);
	evbuffer_add(buf, TE, strlen(TE));
	evbuffer_add(buf, size, strlen(size));
	evbuffer_add(buf, data, half);
	evbuffer_add(buf, "\r\n", 2);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_NEED_MORE);
	snprintf(size, sizeof size, "%zx\r\n", half + 1);
	evbuffer_add(buf, size, strlen(size));
	ck_assert_int_eq(http_parse(&req, buf), HTTP_ERROR);
	ck_assert_int_eq(req.r_status, 413);
	http_request_clear(&req);

	free(data);
	evbuffer_free(buf);
}
END_TEST

/*
 * A chunk line (size and extensions, CRLF included) may take
 * HTTP_CHUNK_LINE_MAX bytes, whatever the head's budget; one byte more
 * is refused (400) without looking past the budget for the line's end.
 */
START_TEST(test_chunk_line_max)
{
	struct http_request	 req;
	struct evbuffer		*buf;
	char			 line[HTTP_CHUNK_LINE_MAX + 1];
	size_t			 len;

	ck_assert_ptr_nonnull(buf = evbuffer_new());
	for (len = HTTP_CHUNK_LINE_MAX; len <= HTTP_CHUNK_LINE_MAX + 1;
	    len++) {
		memset(line, 'x', len);
		memcpy(line, "1;", 2);
		memcpy(line + len - 2, "\r\n", 2);
		http_request_init(&req, SMALL_HEAD);
		evbuffer_add(buf, TE, strlen(TE));
		evbuffer_add(buf, line, len);
		evbuffer_add(buf, "x\r\n0\r\n\r\n", 8);
		if (len > HTTP_CHUNK_LINE_MAX) {
			ck_assert_int_eq(http_parse(&req, buf), HTTP_ERROR);
			ck_assert_int_eq(req.r_status, 400);
			ck_assert_str_eq(req.r_error, "chunk line too long");
		} else {
			ck_assert_msg(http_parse(&req, buf) == HTTP_COMPLETE,
			    "%d %s", req.r_status, req.r_error == NULL ? "" :
			    req.r_error);
			ck_assert_uint_eq(evbuffer_get_length(buf), 0);
		}
		http_request_clear(&req);
		evbuffer_drain(buf, evbuffer_get_length(buf));
	}
	evbuffer_free(buf);
}
END_TEST

/* Nothing of a request survives http_request_reset(). */
START_TEST(test_reset)
{
	static const char	 in[] =
	    "POST /long/path/that/does/not/fit/inline/in/the/request/struct"
	    "?q=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
	    "Content-Length: 2\r\n\r\nxx"
	    "GET / HTTP/1.1\r\nHost: b\r\n\r\n"
	    "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
	    "GET / HTTP/1.0\r\n\r\n";
	struct http_request	 req;
	struct evbuffer		*buf;
	const char		*path;
	size_t			 len;

	ck_assert_ptr_nonnull(buf = evbuffer_new());
	http_request_init(&req, MAX_HEAD);
	evbuffer_add(buf, in, sizeof in - 1);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_COMPLETE);
	ck_assert_int_eq(http_keepalive(&req), 0);
	ck_assert_int_eq(req.r_has_clen, 1);

	/* A second Host would be an error if r_nhost survived. */
	http_request_reset(&req);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_COMPLETE);
	ck_assert_int_eq(req.r_method, HTTP_M_GET);
	ck_assert_int_eq(http_keepalive(&req), 1);
	ck_assert_int_eq(req.r_has_clen, 0);
	ck_assert_uint_eq(req.r_clen, 0);
	path = http_path(&req, &len);
	ck_assert_uint_eq(len, 1);
	ck_assert(memcmp(path, "/", 1) == 0);
	ck_assert_str_eq(req.r_line, "GET / HTTP/1.1");
	ck_assert_uint_eq(req.r_max_head, MAX_HEAD);

	http_request_reset(&req);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_COMPLETE);
	ck_assert_int_eq(http_keepalive(&req), 1);

	http_request_reset(&req);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_COMPLETE);
	ck_assert_int_eq(req.r_minor, 0);
	ck_assert_int_eq(http_keepalive(&req), 0);

	http_request_clear(&req);
	evbuffer_free(buf);
}
END_TEST

/* Content-Length values. */
START_TEST(test_content_length)
{
	static const struct {
		const char	*in;
		int		 has;
		uint64_t	 clen;
	} cl[] = {
		{ "GET / HTTP/1.0\r\n\r\n", 0, 0 },
		{ "GET / HTTP/1.0\r\nContent-Length: 0\r\n\r\n", 1, 0 },
		{ "PUT / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc", 1, 3 },
		{ "PUT / HTTP/1.0\r\nContent-Length: 3,3\r\n\r\nabc", 1, 3 },
		{ "PUT / HTTP/1.0\r\nContent-Length: 3 , 3 ,3\r\n\r\nabc",
		    1, 3 },
		{ "PUT / HTTP/1.0\r\ncontent-length: 3\r\nCONTENT-LENGTH: 3\r\n"
		    "\r\nabc", 1, 3 },
	};
	struct http_request	 req;
	struct evbuffer		*buf;
	size_t			 i;

	ck_assert_ptr_nonnull(buf = evbuffer_new());
	for (i = 0; i < sizeof cl / sizeof cl[0]; i++) {
		http_request_init(&req, MAX_HEAD);
		evbuffer_add(buf, cl[i].in, strlen(cl[i].in));
		ck_assert_msg(http_parse(&req, buf) == HTTP_COMPLETE,
		    "\"%s\": %d %s", cl[i].in, req.r_status, req.r_error);
		ck_assert_int_eq(req.r_has_clen, cl[i].has);
		ck_assert_uint_eq(req.r_clen, cl[i].clen);
		ck_assert_uint_eq(evbuffer_get_length(buf), 0);
		http_request_clear(&req);
	}
	evbuffer_free(buf);
}
END_TEST

/* --- Connection and keep-alive --- */

static const struct {
	int		 minor;
	const char	*headers;
	int		 keepalive;
} conns[] = {
	{ 1, "", 1 },
	{ 1, "Connection: close\r\n", 0 },
	{ 1, "Connection: Close\r\n", 0 },
	{ 1, "Connection: CLOSE\r\n", 0 },
	{ 1, "connection: close\r\n", 0 },
	{ 1, "Connection:close\r\n", 0 },
	{ 1, "Connection: keep-alive\r\n", 1 },
	{ 1, "Connection: Upgrade, close\r\n", 0 },
	{ 1, "Connection: close, Upgrade\r\n", 0 },
	{ 1, "Connection: foo,close\r\n", 0 },
	{ 1, "Connection: keep-alive, close\r\n", 0 },
	{ 1, "Connection: foo\r\nConnection: close\r\n", 0 },
	{ 1, "Connection: closed\r\n", 1 },
	{ 1, "Connection: xclose\r\n", 1 },
	{ 1, "Connection: Upgrade\r\n", 1 },
	{ 1, "X-Connection: close\r\n", 1 },
	{ 1, "X: Connection: close\r\n", 1 },
	{ 0, "", 0 },
	{ 0, "Connection: keep-alive\r\n", 1 },
	{ 0, "Connection: Keep-Alive\r\n", 1 },
	{ 0, "Connection: KEEP-ALIVE\r\n", 1 },
	{ 0, "Connection: keep-alive, Upgrade\r\n", 1 },
	{ 0, "Connection: Upgrade, keep-alive\r\n", 1 },
	{ 0, "Connection: Upgrade\r\nConnection: keep-alive\r\n", 1 },
	{ 0, "Connection:   keep-alive   \r\n", 1 },
	{ 0, "Connection: close\r\n", 0 },
	{ 0, "Connection: keep-alivex\r\n", 0 },
	{ 0, "Connection: xkeep-alive\r\n", 0 },
	{ 0, "Connection: keep\r\n", 0 },
	{ 0, "Keep-Alive: timeout=5\r\n", 0 },
};

START_TEST(test_keepalive)
{
	struct http_request	 req;
	struct evbuffer		*buf;
	enum http_result	 res;
	size_t			 fed;
	char			 in[256];
	int			 bytewise;

	snprintf(in, sizeof in, "GET / HTTP/1.%d\r\nHost: a\r\n%s\r\n",
	    conns[_i].minor, conns[_i].headers);
	ck_assert_ptr_nonnull(buf = evbuffer_new());
	for (bytewise = 0; bytewise < 2; bytewise++) {
		http_request_init(&req, MAX_HEAD);
		if (bytewise)
			res = feed_bytes(&req, buf, in, strlen(in), &fed);
		else {
			evbuffer_add(buf, in, strlen(in));
			res = http_parse(&req, buf);
		}
		ck_assert_msg(res == HTTP_COMPLETE, "\"%s\": %d %d %s",
		    unit_escape(in, strlen(in)), res, req.r_status,
		    req.r_error == NULL ? "" : req.r_error);
		ck_assert_msg(http_keepalive(&req) == conns[_i].keepalive,
		    "\"%s\": keepalive %d, want %d",
		    unit_escape(in, strlen(in)), http_keepalive(&req),
		    conns[_i].keepalive);
		http_request_clear(&req);
	}
	evbuffer_free(buf);
}
END_TEST

/* --- head size limits --- */

/*
 * "GET /aaa... HTTP/1.0" eol eol, padded to exactly total bytes: a head
 * with no header field.
 */
static char *
head10(size_t total, const char *eol)
{
	size_t	 fixed = strlen("GET / HTTP/1.0") + 2 * strlen(eol);
	char	*s;

	ck_assert_uint_gt(total, fixed);
	ck_assert_ptr_nonnull(s = malloc(total + 1));
	memcpy(s, "GET /", 5);
	memset(s + 5, 'a', total - fixed);
	snprintf(s + 5 + total - fixed, total + 1 - 5 - (total - fixed),
	    " HTTP/1.0%s%s", eol, eol);
	ck_assert_uint_eq(strlen(s), total);
	return (s);
}

/* "GET / HTTP/1.1" eol "Host: a" eol "X: bbb..." eol eol, total bytes. */
static char *
head11(size_t total, const char *eol)
{
	size_t	 fixed, pad;
	char	*s;

	fixed = strlen("GET / HTTP/1.1Host: aX: ") + 4 * strlen(eol);
	ck_assert_uint_gt(total, fixed);
	pad = total - fixed;
	ck_assert_ptr_nonnull(s = malloc(total + 1));
	snprintf(s, total + 1, "GET / HTTP/1.1%sHost: a%sX: ", eol, eol);
	memset(s + strlen(s), 'b', pad);
	snprintf(s + total - 2 * strlen(eol), 2 * strlen(eol) + 1, "%s%s",
	    eol, eol);
	ck_assert_uint_eq(strlen(s), total);
	return (s);
}

/*
 * Parse in with max_head, in one block and byte by byte; both must give
 * res (and status with HTTP_ERROR). Returns the bytes fed byte by byte.
 */
static size_t
limit_check(const char *in, size_t max_head, enum http_result res,
    int status)
{
	struct http_request	 req;
	struct evbuffer		*buf;
	enum http_result	 got;
	size_t			 fed = 0;
	int			 bytewise;

	ck_assert_ptr_nonnull(buf = evbuffer_new());
	for (bytewise = 0; bytewise < 2; bytewise++) {
		http_request_init(&req, max_head);
		if (bytewise)
			got = feed_bytes(&req, buf, in, strlen(in), &fed);
		else {
			evbuffer_add(buf, in, strlen(in));
			got = http_parse(&req, buf);
		}
		ck_assert_msg(got == res, "%s, %zu bytes, max %zu: result %d, "
		    "want %d (status %d %s)", bytewise ? "bytes" : "block",
		    strlen(in), max_head, got, res, req.r_status,
		    req.r_error == NULL ? "" : req.r_error);
		if (res == HTTP_ERROR) {
			ck_assert_msg(req.r_status == status,
			    "%s, %zu bytes, max %zu: status %d, want %d",
			    bytewise ? "bytes" : "block", strlen(in), max_head,
			    req.r_status, status);
		}
		if (res == HTTP_COMPLETE) {
			ck_assert_uint_eq(req.r_head, strlen(in));
			ck_assert_uint_eq(evbuffer_get_length(buf), 0);
		}
		http_request_clear(&req);
		evbuffer_drain(buf, evbuffer_get_length(buf));
	}
	evbuffer_free(buf);
	return (fed);
}

/*
 * A head of exactly max_head bytes is accepted; one byte more is 431.
 * The same heads with bare LF line ends are 400, whatever their size.
 */
START_TEST(test_limit_head)
{
	static const char *const eols[] = { "\r\n", "\n" };
	static const size_t	 maxes[] = { SMALL_HEAD, 256, 1000 };
	enum http_result	 ok;
	char			*s;
	size_t			 e, m, max;
	int			 big;

	for (m = 0; m < sizeof maxes / sizeof maxes[0]; m++) {
		max = maxes[m];
		for (e = 0; e < 2; e++) {
			ok = e == 0 ? HTTP_COMPLETE : HTTP_ERROR;
			big = e == 0 ? 431 : 400;
			s = head10(max, eols[e]);
			limit_check(s, max, ok, 400);
			free(s);
			s = head10(max + 1, eols[e]);
			limit_check(s, max, HTTP_ERROR, big);
			free(s);

			s = head11(max, eols[e]);
			limit_check(s, max, ok, 400);
			free(s);
			s = head11(max + 1, eols[e]);
			limit_check(s, max, HTTP_ERROR, big);
			free(s);
			s = head11(max + 100, eols[e]);
			limit_check(s, max, HTTP_ERROR, big);
			free(s);
		}
	}
}
END_TEST

/* Many small header lines add up to 431. */
START_TEST(test_limit_many_headers)
{
	char	 in[2048];
	size_t	 i;

	snprintf(in, sizeof in, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 0; i < 40; i++)
		strncat(in, "X-Y: z\r\n", sizeof in - strlen(in) - 1);
	strncat(in, "\r\n", sizeof in - strlen(in) - 1);
	ck_assert_uint_gt(strlen(in), 256);
	limit_check(in, 256, HTTP_ERROR, 431);
	limit_check(in, strlen(in), HTTP_COMPLETE, 0);
	limit_check(in, strlen(in) - 1, HTTP_ERROR, 431);
}
END_TEST

/* Request line: more than max_head bytes without LF is 414. */
START_TEST(test_limit_request_line)
{
	struct http_request	 req;
	struct evbuffer		*buf;
	char			 line[SMALL_HEAD * 4];
	size_t			 fed;

	/* A request line of max_head + 1 bytes, then a complete head. */
	memset(line, 0, sizeof line);
	memcpy(line, "GET /", 5);
	memset(line + 5, 'a', SMALL_HEAD + 1 - 5 - 9);
	strcat(line, " HTTP/1.1");
	ck_assert_uint_eq(strlen(line), SMALL_HEAD + 1);
	strcat(line, "\r\nHost: a\r\n\r\n");
	fed = limit_check(line, SMALL_HEAD, HTTP_ERROR, 414);
	ck_assert_msg(fed == SMALL_HEAD + 1, "414 after %zu bytes, want %d",
	    fed, SMALL_HEAD + 1);

	/* The same with LF endings. */
	memset(line, 0, sizeof line);
	memcpy(line, "GET /", 5);
	memset(line + 5, 'a', SMALL_HEAD + 1 - 5 - 9);
	strcat(line, " HTTP/1.0\n\n");
	limit_check(line, SMALL_HEAD, HTTP_ERROR, 414);

	/* Much longer. */
	memset(line, 0, sizeof line);
	memcpy(line, "GET /", 5);
	memset(line + 5, 'a', SMALL_HEAD * 3);
	strcat(line, " HTTP/1.1\r\nHost: a\r\n\r\n");
	fed = limit_check(line, SMALL_HEAD, HTTP_ERROR, 414);
	ck_assert_uint_eq(fed, SMALL_HEAD + 1);

	/* No LF yet: max_head bytes wait for more, max_head + 1 are 414. */
	ck_assert_ptr_nonnull(buf = evbuffer_new());
	memset(line, 'a', sizeof line);
	memcpy(line, "GET /", 5);
	http_request_init(&req, SMALL_HEAD);
	ck_assert_int_eq(feed_bytes(&req, buf, line, SMALL_HEAD, &fed),
	    HTTP_NEED_MORE);
	ck_assert_uint_eq(fed, SMALL_HEAD);
	evbuffer_add(buf, line, 1);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_ERROR);
	ck_assert_int_eq(req.r_status, 414);
	http_request_clear(&req);
	evbuffer_drain(buf, evbuffer_get_length(buf));

	http_request_init(&req, SMALL_HEAD);
	evbuffer_add(buf, line, SMALL_HEAD);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_NEED_MORE);
	http_request_clear(&req);
	evbuffer_drain(buf, evbuffer_get_length(buf));

	http_request_init(&req, SMALL_HEAD);
	evbuffer_add(buf, line, SMALL_HEAD + 1);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_ERROR);
	ck_assert_int_eq(req.r_status, 414);
	http_request_clear(&req);
	evbuffer_drain(buf, evbuffer_get_length(buf));

	http_request_init(&req, SMALL_HEAD);
	evbuffer_add(buf, line, sizeof line);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_ERROR);
	ck_assert_int_eq(req.r_status, 414);
	http_request_clear(&req);
	evbuffer_free(buf);
}
END_TEST

/*
 * A request line of exactly max_head bytes fits by itself but its line
 * ending does not: the head is too large (414 or 431 are both fair).
 */
START_TEST(test_limit_request_line_exact)
{
	struct http_request	 req;
	struct evbuffer		*buf;
	char			 line[SMALL_HEAD + 32];
	size_t			 fed;
	int			 bytewise;

	memset(line, 0, sizeof line);
	memcpy(line, "GET /", 5);
	memset(line + 5, 'a', SMALL_HEAD - 5 - 9);
	strcat(line, " HTTP/1.0");
	ck_assert_uint_eq(strlen(line), SMALL_HEAD);
	strcat(line, "\r\n\r\n");

	ck_assert_ptr_nonnull(buf = evbuffer_new());
	for (bytewise = 0; bytewise < 2; bytewise++) {
		http_request_init(&req, SMALL_HEAD);
		if (bytewise) {
			ck_assert_int_eq(feed_bytes(&req, buf, line,
			    strlen(line), &fed), HTTP_ERROR);
		} else {
			evbuffer_add(buf, line, strlen(line));
			ck_assert_int_eq(http_parse(&req, buf), HTTP_ERROR);
		}
		ck_assert_msg(req.r_status == 414 || req.r_status == 431,
		    "status %d", req.r_status);
		http_request_clear(&req);
		evbuffer_drain(buf, evbuffer_get_length(buf));
	}
	evbuffer_free(buf);
}
END_TEST

/* A header line that never ends is 431 once the head passes max_head. */
START_TEST(test_limit_header_line)
{
	struct http_request	 req;
	struct evbuffer		*buf;
	char			 in[SMALL_HEAD * 4];
	size_t			 fed;

	memset(in, 'b', sizeof in);
	memcpy(in, "GET / HTTP/1.1\r\nHost: a\r\nX: ", 28);

	ck_assert_ptr_nonnull(buf = evbuffer_new());
	http_request_init(&req, SMALL_HEAD);
	ck_assert_int_eq(feed_bytes(&req, buf, in, sizeof in, &fed),
	    HTTP_ERROR);
	ck_assert_int_eq(req.r_status, 431);
	ck_assert_msg(fed <= SMALL_HEAD + 1, "431 only after %zu bytes", fed);
	http_request_clear(&req);
	evbuffer_drain(buf, evbuffer_get_length(buf));

	http_request_init(&req, SMALL_HEAD);
	evbuffer_add(buf, in, sizeof in);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_ERROR);
	ck_assert_int_eq(req.r_status, 431);
	http_request_clear(&req);
	evbuffer_free(buf);
}
END_TEST

/* A long line within a large max_head is fine. */
START_TEST(test_limit_large)
{
	char	*s;

	s = head10(MAX_HEAD, "\r\n");
	limit_check(s, MAX_HEAD, HTTP_COMPLETE, 0);
	free(s);
	s = head11(MAX_HEAD, "\r\n");
	limit_check(s, MAX_HEAD, HTTP_COMPLETE, 0);
	free(s);
	s = head11(MAX_HEAD + 1, "\r\n");
	limit_check(s, MAX_HEAD, HTTP_ERROR, 431);
	free(s);
}
END_TEST

/* --- bad bytes answered at once --- */

/*
 * Inputs whose last byte, and no byte before it, makes them bad: the
 * parser must say so at that byte, fed byte by byte or in one block,
 * without waiting for a line's end.
 */
static const struct {
	const char	*in;
	size_t		 len;
	int		 status;
} at_once[] = {
#define AT_ONCE(in, status)	{ in, sizeof(in) - 1, status }
	AT_ONCE("\x16", 400),			/* TLS handshake record */
	AT_ONCE("\0", 400),
	AT_ONCE("\r\n\0", 400),
	AT_ONCE("\x80", 400),
	AT_ONCE(" ", 400),
	AT_ONCE("\n", 400),
	AT_ONCE("\r\r", 400),
	AT_ONCE("\r\n\n", 400),
	AT_ONCE("G\0", 400),
	AT_ONCE("GE@", 400),
	AT_ONCE("GET\t", 400),
	AT_ONCE("GET\r", 400),
	AT_ONCE("GET  ", 400),
	AT_ONCE("GET /\x01", 400),
	AT_ONCE("GET /a\x7f", 400),
	AT_ONCE("GET /\xc3", 400),
	AT_ONCE("GET /\r", 400),
	AT_ONCE("GET /a#", 400),
	AT_ONCE("GET / X", 400),
	AT_ONCE("GET / h", 400),
	AT_ONCE("GET / HTTP/x", 400),
	AT_ONCE("GET / HTTP/1,", 400),
	AT_ONCE("GET / HTTP/1.x", 400),
	AT_ONCE("GET / HTTP/1.1x", 400),
	AT_ONCE("GET / HTTP/1.1 ", 400),
	AT_ONCE("GET / HTTP/1.1\n", 400),
	AT_ONCE("GET / HTTP/1.1\r\r", 400),
	AT_ONCE("GET / HTTP/1.1\r\n ", 400),
	AT_ONCE("GET / HTTP/1.1\r\n\n", 400),
	AT_ONCE("GET / HTTP/1.1\r\nHo ", 400),
	AT_ONCE("GET / HTTP/1.1\r\nHost\0", 400),
	AT_ONCE("GET / HTTP/1.1\r\nHost: a\n", 400),
	AT_ONCE("GET / HTTP/1.1\r\nHost: a\0", 400),
	AT_ONCE("GET / HTTP/1.1\r\nHost: a\x1b", 400),
	AT_ONCE("GET / HTTP/1.1\r\nHost: a\rb", 400),
	AT_ONCE("GET / HTTP/1.1\r\nHost: a\r\n\r\r", 400),
	AT_ONCE(TE "\r", 400),
	AT_ONCE(TE "g", 400),
	AT_ONCE(TE "5\n", 400),
	AT_ONCE(TE "a \r", 400),
	AT_ONCE(TE "2;\r", 400),
	AT_ONCE(TE "2;a=\"b\r", 400),
	AT_ONCE(TE "2;a b", 400),
	AT_ONCE(TE "100001", 413),
	AT_ONCE(TE "5\r\nhelloX", 400),
	AT_ONCE(TE "5\r\nhello\n", 400),
	AT_ONCE(TE "5\r\nhello\r\r", 400),
	AT_ONCE(TE "0\r\nX: y\n", 400),
	AT_ONCE(TE "0\r\n\n", 400),
#undef AT_ONCE
};

START_TEST(test_at_once)
{
	struct http_request	 req;
	struct evbuffer		*buf;
	const char		*in = at_once[_i].in, *esc;
	size_t			 len = at_once[_i].len, fed;

	esc = unit_escape(in, len);
	ck_assert_ptr_nonnull(buf = evbuffer_new());
	http_request_init(&req, MAX_HEAD);
	ck_assert_int_eq(feed_bytes(&req, buf, in, len, &fed), HTTP_ERROR);
	ck_assert_msg(fed == len, "\"%s\": error after %zu of %zu bytes", esc,
	    fed, len);
	ck_assert_msg(req.r_status == at_once[_i].status, "\"%s\": status %d, "
	    "want %d", esc, req.r_status, at_once[_i].status);
	http_request_clear(&req);
	evbuffer_drain(buf, evbuffer_get_length(buf));

	/* One byte short, it is only unfinished. */
	http_request_init(&req, MAX_HEAD);
	evbuffer_add(buf, in, len - 1);
	ck_assert_msg(http_parse(&req, buf) == HTTP_NEED_MORE, "\"%s\" less "
	    "its last byte: %d %s", esc, req.r_status,
	    req.r_error == NULL ? "" : req.r_error);
	evbuffer_add(buf, in + len - 1, 1);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_ERROR);
	ck_assert_int_eq(req.r_status, at_once[_i].status);
	http_request_clear(&req);
	evbuffer_free(buf);
}
END_TEST

/*
 * A TLS handshake is told apart from other bad first bytes, for the log:
 * a ClientHello, whole or its first byte, sets r_tls; nothing else does.
 */
START_TEST(test_tls)
{
	static const char	 hello[] = "\x16\x03\x01\x00\xf1\x01\x00\x00"
	    "\xed\x03\x03\x5c\x1a";
	static const char *const other[] = { "\0", "\x15\x03\x01", "\x17",
	    "\x80\x2e\x01", "GET / HTTP/1.1\r\n\x16" };
	struct http_request	 req;
	struct evbuffer		*buf;
	size_t			 i, fed;

	ck_assert_ptr_nonnull(buf = evbuffer_new());
	http_request_init(&req, MAX_HEAD);
	evbuffer_add(buf, hello, sizeof hello - 1);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_ERROR);
	ck_assert_int_eq(req.r_status, 400);
	ck_assert_int_eq(req.r_tls, 1);
	ck_assert_ptr_nonnull(req.r_error);
	ck_assert_ptr_nonnull(strstr(req.r_error, "TLS handshake"));
	http_request_clear(&req);
	evbuffer_drain(buf, evbuffer_get_length(buf));

	http_request_init(&req, MAX_HEAD);
	ck_assert_int_eq(feed_bytes(&req, buf, hello, sizeof hello - 1, &fed),
	    HTTP_ERROR);
	ck_assert_uint_eq(fed, 1);
	ck_assert_int_eq(req.r_tls, 1);
	http_request_clear(&req);
	evbuffer_drain(buf, evbuffer_get_length(buf));

	/* A TLS record after an empty line still starts the request. */
	http_request_init(&req, MAX_HEAD);
	evbuffer_add(buf, "\r\n\x16\x03", 4);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_ERROR);
	ck_assert_int_eq(req.r_tls, 1);
	http_request_clear(&req);
	evbuffer_drain(buf, evbuffer_get_length(buf));

	for (i = 0; i < sizeof other / sizeof other[0]; i++) {
		http_request_init(&req, MAX_HEAD);
		evbuffer_add(buf, other[i], strlen(other[i]) +
		    (other[i][0] == '\0'));
		ck_assert_int_eq(http_parse(&req, buf), HTTP_ERROR);
		ck_assert_int_eq(req.r_status, 400);
		ck_assert_msg(req.r_tls == 0, "\"%s\" taken for TLS",
		    unit_escape(other[i], strlen(other[i])));
		ck_assert_ptr_null(strstr(req.r_error, "TLS"));
		http_request_clear(&req);
		evbuffer_drain(buf, evbuffer_get_length(buf));
	}

	/* A good request leaves it clear. */
	http_request_init(&req, MAX_HEAD);
	evbuffer_add(buf, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27);
	ck_assert_int_eq(http_parse(&req, buf), HTTP_COMPLETE);
	ck_assert_int_eq(req.r_tls, 0);
	http_request_clear(&req);
	evbuffer_free(buf);
}
END_TEST

/*
 * CONNECT with a well-formed authority is parsed, and routed like any
 * method but GET and HEAD: 405, with Allow.
 */
START_TEST(test_connect)
{
	static const char *const in[] = {
		"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
		    "\r\n",
		"CONNECT [2001:db8::1]:8443 HTTP/1.1\r\nHost: x\r\n\r\n",
		"CONNECT 10.0.0.1:80 HTTP/1.0\r\n\r\n",
	};
	struct http_request	 req;
	struct evbuffer		*buf;
	const char		*path;
	size_t			 i, len;
	enum route_id		 id;

	ck_assert_ptr_nonnull(buf = evbuffer_new());
	for (i = 0; i < sizeof in / sizeof in[0]; i++) {
		http_request_init(&req, MAX_HEAD);
		evbuffer_add(buf, in[i], strlen(in[i]));
		ck_assert_msg(http_parse(&req, buf) == HTTP_COMPLETE,
		    "\"%s\": %d %s", unit_escape(in[i], strlen(in[i])),
		    req.r_status, req.r_error == NULL ? "" : req.r_error);
		ck_assert_int_eq(req.r_method, HTTP_M_OTHER);
		ck_assert_uint_eq(evbuffer_get_length(buf), 0);
		path = http_path(&req, &len);
		id = route_match(req.r_method, path, len);
		ck_assert_int_eq(id, ROUTE_BAD_METHOD);
		ck_assert_int_eq(route_page(id), PAGE_405);
		http_request_clear(&req);
	}
	evbuffer_free(buf);
}
END_TEST

/* --- reasons and dates --- */

START_TEST(test_reason)
{
	const char	*r413;

	ck_assert_str_eq(http_reason(200), "OK");
	ck_assert_str_eq(http_reason(304), "Not Modified");
	ck_assert_str_eq(http_reason(400), "Bad Request");
	ck_assert_str_eq(http_reason(404), "Not Found");
	ck_assert_str_eq(http_reason(405), "Method Not Allowed");
	ck_assert_str_eq(http_reason(408), "Request Timeout");
	r413 = http_reason(413);
	ck_assert_msg(strcmp(r413, "Content Too Large") == 0 ||
	    strcmp(r413, "Payload Too Large") == 0, "413 %s", r413);
	ck_assert_str_eq(http_reason(414), "URI Too Long");
	ck_assert_str_eq(http_reason(431), "Request Header Fields Too Large");
	ck_assert_str_eq(http_reason(500), "Internal Server Error");
	ck_assert_str_eq(http_reason(501), "Not Implemented");
	ck_assert_str_eq(http_reason(503), "Service Unavailable");
	ck_assert_str_eq(http_reason(505), "HTTP Version Not Supported");
}
END_TEST

static Suite *
http_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("http");

	tc = tcase_create("cases");
	tcase_set_timeout(tc, 60);	/* mutations, under ASan */
	tcase_add_loop_test(tc, test_case_block, 0, NELEM(cases));
	tcase_add_loop_test(tc, test_case_bytes, 0, NELEM(cases));
	tcase_add_test(tc, test_split_everywhere);
	tcase_add_loop_test(tc, test_at_once, 0, NELEM(at_once));
	tcase_add_test(tc, test_tls);
	tcase_add_test(tc, test_connect);
	tcase_add_test(tc, test_bytes_vs_block_mutations);
	tcase_add_test(tc, test_request_line);
	tcase_add_test(tc, test_line_lengths);
	tcase_add_test(tc, test_content_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("stream");
	tcase_set_timeout(tc, 60);	/* 1 MiB bodies */
	tcase_add_test(tc, test_pipeline_three);
	tcase_add_test(tc, test_pipeline_bytes);
	tcase_add_test(tc, test_body_discard);
	tcase_add_test(tc, test_body_max);
	tcase_add_test(tc, test_chunked_max);
	tcase_add_test(tc, test_chunk_line_max);
	tcase_add_test(tc, test_reset);
	suite_add_tcase(s, tc);

	tc = tcase_create("keepalive");
	tcase_add_loop_test(tc, test_keepalive, 0, NELEM(conns));
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_limit_head);
	tcase_add_test(tc, test_limit_many_headers);
	tcase_add_test(tc, test_limit_request_line);
	tcase_add_test(tc, test_limit_request_line_exact);
	tcase_add_test(tc, test_limit_header_line);
	tcase_add_test(tc, test_limit_large);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_test(tc, test_reason);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (unit_run(http_suite()));
}

/* SPDX-License-Identifier: ISC */
/*
 * The request-target of a request line (RFC 9112 3.2), its bytes already
 * judged by lex.c: which of the four forms it has, whether its authority
 * is one, and where its path is. Pure, as http.c.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "hellod.h"

/* unreserved / sub-delims of RFC 3986 2.2-2.3: what a reg-name holds
 * besides pct-encoded. */
static int
target_regname_char(unsigned char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    IS_DIGIT(c) || (c != '\0' && strchr("-._~!$&'()*+,;=", c) !=
	    NULL));
}

/*
 * IP-literal without its brackets (RFC 3986 3.2.2): IPv6address or
 * IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ).
 */
static int
target_ip_literal(const char *s, size_t len)
{
	struct in6_addr	 a6;
	char		 buf[INET6_ADDRSTRLEN];
	size_t		 i;

	if (len > 0 && (s[0] == 'v' || s[0] == 'V')) {
		for (i = 1; i < len && IS_HEXDIG(s[i]); i++)
			;
		if (i == 1 || i == len || s[i] != '.' || ++i == len)
			return (0);
		for (; i < len; i++) {
			if (s[i] != ':' && !target_regname_char((unsigned char)
			    s[i]))
				return (0);
		}
		return (1);
	}
	if (len == 0 || len >= sizeof buf)
		return (0);
	memcpy(buf, s, len);
	buf[len] = '\0';
	return (inet_pton(AF_INET6, buf, &a6) == 1);
}

/*
 * authority = host [ ":" port ] (RFC 3986 3.2), without userinfo: RFC
 * 9110 4.2.4 has a recipient treat userinfo in an http(s) URI as an
 * error. The host may not be empty (RFC 9110 4.2.1). CONNECT's
 * authority-form needs a port, 1 to 65535 (RFC 9110 9.3.6).
 */
static int
target_authority(const char *a, size_t len, int connect)
{
	const char	*p = a, *end = a + len, *h;
	unsigned long	 port = 0;
	size_t		 digits = 0;

	if (p < end && *p == '[') {
		for (h = ++p; p < end && *p != ']'; p++)
			;
		if (p == end || !target_ip_literal(h, (size_t)(p - h)))
			return (0);
		p++;
	} else {
		for (h = p; p < end && *p != ':'; p++) {
			if (*p == '%') {
				if (end - p < 3 || !IS_HEXDIG(p[1]) ||
				    !IS_HEXDIG(p[2]))
					return (0);
				p += 2;
			} else if (!target_regname_char((unsigned char)*p))
				return (0);
		}
		if (p == h)
			return (0);
	}
	if (p == end)
		return (!connect);
	if (*p++ != ':')
		return (0);
	for (; p < end; p++, digits++) {
		if (!IS_DIGIT(*p))
			return (0);
		if (port <= 65535)
			port = port * 10 + (unsigned long)(*p - '0');
	}
	return (!connect || (digits > 0 && port >= 1 && port <= 65535));
}

/*
 * The absolute-form: "http://" or "https://", an authority, then the
 * path, if any, from its "/". The len bytes at r_line + off are the
 * whole target. Returns NULL, or why the target is bad (a 400).
 */
static const char *
target_absolute(struct http_request *r, size_t off, size_t len)
{
	const char	*t = r->r_line + off;
	size_t		 i;

	if (len > 7 && strncasecmp(t, "http://", 7) == 0)
		i = 7;
	else if (len > 8 && strncasecmp(t, "https://", 8) == 0)
		i = 8;
	else
		return ("malformed request target");
	off += i;
	for (t += i, len -= i, i = 0; i < len && t[i] != '/' &&
	    t[i] != '?'; i++)
		;
	if (!target_authority(t, i, 0))
		return ("malformed authority in request target");
	if (i == len || t[i] != '/')
		r->r_path_off = SIZE_MAX;	/* "/" */
	else
		r->r_path_off = off + i;
	return (NULL);
}

/*
 * Find the path of the tlen-byte target at r_line + off, which the
 * request line's SP follows: origin-form, absolute-form, asterisk-form,
 * or CONNECT's authority-form (which only CONNECT may use, and CONNECT
 * only that: RFC 9112 3.2.3), answered like any other method but GET and
 * HEAD. Sets r_path_off and r_path_len and returns NULL, or returns why
 * the target is bad (a 400: http.c, above, marks the request).
 */
const char *
target_parse(struct http_request *r, size_t off, size_t tlen, int connect)
{
	const char	*t = r->r_line + off, *why;
	size_t		 i;

	if (connect) {
		if (!target_authority(t, tlen, 1))
			return ("CONNECT without host:port target");
		r->r_path_off = SIZE_MAX;	/* "/" */
	} else if (t[0] == '/') {
		r->r_path_off = off;
	} else if (tlen == 1 && t[0] == '*') {
		if (r->r_method != HTTP_M_OTHER)
			return ("'*' target with GET/HEAD");
		r->r_path_off = off;
	} else if ((why = target_absolute(r, off, tlen)) != NULL)
		return (why);
	if (r->r_path_off == SIZE_MAX) {
		r->r_path_len = 1;
		return (NULL);
	}
	for (i = r->r_path_off; r->r_line[i] != ' ' && r->r_line[i] != '?';
	    i++)
		;
	r->r_path_len = i - r->r_path_off;
	return (NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * The preconditions of a conditional GET or HEAD (RFC 9110 13): what the
 * parser keeps of If-None-Match and If-Modified-Since, as numbers, and
 * whether they let a representation be answered 304. Pure, as http.c.
 */
#include <sys/types.h>

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "hellod.h"

/*
 * If-None-Match = "*" / #entity-tag, entity-tag = [ "W/" ] opaque-tag
 * (RFC 9110 8.8.3, 13.1.2). Each opaque-tag is kept as its hash: the
 * weak comparison the field calls for ignores W/ and compares the rest
 * octet by octet. Several field lines make one list. A malformed value,
 * "*" with anything else, or more tags than HTTP_INM_MAX make the field
 * unusable: it then matches nothing, so the full page is sent, which is
 * always a correct answer.
 */
void
cond_if_none_match(struct http_request *r, const char *v, size_t len)
{
	const char	*end = v + len, *t;

	if (r->r_inm == HTTP_INM_UNUSABLE)
		return;
	if (r->r_inm == HTTP_INM_ANY)
		goto bad;
	if (len == 1 && *v == '*') {
		if (r->r_inm != HTTP_INM_NONE)
			goto bad;
		r->r_inm = HTTP_INM_ANY;
		return;
	}
	r->r_inm = HTTP_INM_LIST;
	while (v < end) {
		if (IS_OWS(*v) || *v == ',') {
			v++;	/* RFC 9110 5.6.1: empty elements are fine */
			continue;
		}
		if (end - v >= 2 && v[0] == 'W' && v[1] == '/')
			v += 2;
		if (v == end || *v != '"')
			goto bad;
		/* etagc: %x21 / %x23-7E / obs-text */
		for (t = v + 1; t < end && *t != '"'; t++) {
			if ((unsigned char)*t <= 0x20 || *t == 0x7f)
				goto bad;
		}
		if (t == end || r->r_inm_n == HTTP_INM_MAX)
			goto bad;
		t++;
		r->r_inm_tag[r->r_inm_n++] = cond_hash(v, (size_t)(t - v));
		for (v = t; v < end && IS_OWS(*v); v++)
			;
		if (v < end && *v != ',')
			goto bad;
	}
	return;
bad:
	r->r_inm = HTTP_INM_UNUSABLE;
	r->r_inm_n = 0;
}

/*
 * If-Modified-Since = HTTP-date. An invalid date is ignored (RFC 9110
 * 13.1.3), and so is a field sent more than once.
 */
void
cond_if_modified_since(struct http_request *r, const char *v, size_t len)
{
	r->r_nims++;
	r->r_ims_ok = r->r_nims == 1 && date_parse(v, len, &r->r_ims) == 0;
}

/* 64-bit FNV-1a of len bytes at p. */
uint64_t
cond_hash(const void *p, size_t len)
{
	const unsigned char	*s = p;
	uint64_t		 h = 14695981039346656037ULL;

	while (len-- > 0)
		h = (h ^ *s++) * 1099511628211ULL;
	return (h);
}

/*
 * Whether a GET or HEAD of a representation with entity-tag hash tag and
 * modification time mtime should be answered 304 (RFC 9110 13.2.2):
 * If-None-Match when present, else If-Modified-Since.
 */
int
cond_not_modified(const struct http_request *r, uint64_t tag, time_t mtime)
{
	int	i;

	if (r->r_method != HTTP_M_GET && r->r_method != HTTP_M_HEAD)
		return (0);
	switch (r->r_inm) {
	case HTTP_INM_NONE:
		break;
	case HTTP_INM_ANY:
		return (1);
	case HTTP_INM_LIST:
		for (i = 0; i < r->r_inm_n; i++) {
			if (r->r_inm_tag[i] == tag)
				return (1);
		}
		return (0);
	case HTTP_INM_UNUSABLE:
		return (0);
	}
	return (r->r_ims_ok && mtime <= r->r_ims);
}

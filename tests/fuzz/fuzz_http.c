/* SPDX-License-Identifier: ISC */
/*
 * Fuzz harness for the HTTP request parser (server/http.c).
 *
 * The stream (fuzz.h: a header of flags and split points, then the bytes)
 * is parsed three times, as a connection would: requests one after
 * another until the input runs out or a request is bad. Once fed whole,
 * once segment by segment at the fuzzer's split points, and once byte by
 * byte, each segment its own evbuffer chain in a heap block of its exact
 * size. All runs must give the same requests with the same fields (and
 * the same errors, for the same reason), consume the same bytes and end
 * in the same state: a request is framed the same however it arrives.
 * Every complete request must be sane (its request line free of controls
 * and of a fragment, CONNECT only with host:port) and every error a
 * 4xx/5xx status the server can send; r_tls is set exactly when the
 * refused request began with a TLS handshake record's first byte. What a
 * request kept of its preconditions must agree with cond_not_modified().
 *
 * Flags (byte 0): bits 0-1 pick max_header_size (256, 1024, 8192 or
 * 65536 bytes).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define FUZZ_HTTP_LONG_AGO	((time_t)INT64_MIN)	/* before any date */

/* What one call of http_parse() that did not ask for more gave. */
struct fuzz_http_rec {
	enum http_result	 hr_result;
	enum http_state		 hr_state;
	enum http_method	 hr_method;
	int			 hr_minor;
	int			 hr_status;
	const char		*hr_error;	/* r_error: a literal */
	int			 hr_tls;
	int			 hr_keepalive;
	size_t			 hr_head;
	size_t			 hr_consumed;	/* of the stream, so far */
	uint64_t		 hr_clen;
	uint64_t		 hr_body_total;
	uint64_t		 hr_line_hash;	/* of r_line */
	size_t			 hr_path_off;	/* in r_line; SIZE_MAX: "/" */
	size_t			 hr_path_len;
	enum http_inm		 hr_inm;
	int			 hr_inm_n;
	uint64_t		 hr_inm_tag[HTTP_INM_MAX];
	int			 hr_ims_ok;
	time_t			 hr_ims;
};

/* One run over the stream. */
struct fuzz_http_run {
	const uint8_t		*hr_data;	/* the whole stream */
	size_t			 hr_start;	/* where this request began */
	size_t			 hr_fed;	/* bytes given to the parser */
	struct fuzz_http_rec	*hr_recs;
	size_t			 hr_nrecs;
	size_t			 hr_cap;
	size_t			 hr_consumed;
	enum http_state		 hr_end_state;	/* the last, unfinished one */
};

static const size_t	fuzz_http_heads[4] = { 256, 1024, 8192, 65536 };

/* FNV-1a, to compare request lines. */
static uint64_t
fuzz_http_hash(const char *s)
{
	uint64_t	h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (h);
}

/* The preconditions kept must be sane, and decide as promised. */
static void
fuzz_http_check_cond(const struct http_request *r)
{
	int	getlike, i;

	getlike = r->r_method == HTTP_M_GET || r->r_method == HTTP_M_HEAD;
	FUZZ_CHECK(r->r_inm_n >= 0 && r->r_inm_n <= HTTP_INM_MAX,
	    "%d If-None-Match tags", r->r_inm_n);
	FUZZ_CHECK(r->r_inm == HTTP_INM_LIST || r->r_inm_n == 0,
	    "tags kept with If-None-Match state %d", (int)r->r_inm);
	FUZZ_CHECK(!r->r_ims_ok || r->r_nims == 1, "If-Modified-Since used "
	    "with %d fields", r->r_nims);
	if (!getlike) {
		FUZZ_CHECK(!cond_not_modified(r, 0, 0), "304 for a method "
		    "other than GET and HEAD");
		return;
	}
	for (i = 0; i < r->r_inm_n; i++)
		FUZZ_CHECK(cond_not_modified(r, r->r_inm_tag[i], 0),
		    "If-None-Match tag %d does not match", i);
	switch (r->r_inm) {
	case HTTP_INM_ANY:
		FUZZ_CHECK(cond_not_modified(r, 1, 0), "* does not match");
		break;
	case HTTP_INM_UNUSABLE:
		FUZZ_CHECK(!cond_not_modified(r, 1, 0) &&
		    !cond_not_modified(r, 0, FUZZ_HTTP_LONG_AGO),
		    "unusable If-None-Match matched");
		break;
	case HTTP_INM_LIST:
		/* A tag not in the list (0, unless it is) matches nothing,
		 * whatever If-Modified-Since says. */
		for (i = 0; i < r->r_inm_n && r->r_inm_tag[i] != 0; i++)
			;
		FUZZ_CHECK(i < r->r_inm_n || !cond_not_modified(r, 0,
		    FUZZ_HTTP_LONG_AGO), "If-Modified-Since decided despite "
		    "If-None-Match");
		break;
	case HTTP_INM_NONE:
		if (r->r_ims_ok) {
			/* A date is years 0 to 9999: no overflow here. */
			FUZZ_CHECK(cond_not_modified(r, 0, r->r_ims) &&
			    !cond_not_modified(r, 0, r->r_ims + 1),
			    "If-Modified-Since compares wrong");
		} else
			FUZZ_CHECK(!cond_not_modified(r, 0,
			    FUZZ_HTTP_LONG_AGO), "304 without a precondition");
		break;
	}
}

/* A complete request must make sense whatever the input was. */
static void
fuzz_http_check_complete(const struct http_request *r, size_t max_head)
{
	const char	*path, *sp, *m;
	size_t		 len, i, mlen, tlen;
	enum route_id	 id;

	FUZZ_CHECK(r->r_state == HTTP_S_DONE, "state %d", (int)r->r_state);
	FUZZ_CHECK(r->r_line != NULL, "no request line");
	FUZZ_CHECK(r->r_head <= max_head, "head %zu > %zu", r->r_head,
	    max_head);
	FUZZ_CHECK(strlen(r->r_line) + 1 <= r->r_head,
	    "line longer than the head");
	FUZZ_CHECK(r->r_minor == 0 || r->r_minor == 1, "minor %d",
	    r->r_minor);
	len = strlen(r->r_line);
	FUZZ_CHECK(len > 9 && memcmp(r->r_line + len - 9, " HTTP/1.", 8) == 0,
	    "version in '%s'", r->r_line);

	/* The method token, as classified. */
	m = r->r_line;
	sp = strchr(m, ' ');
	FUZZ_CHECK(sp != NULL && sp > m, "method in '%s'", r->r_line);
	mlen = (size_t)(sp - m);
	switch (r->r_method) {
	case HTTP_M_GET:
		FUZZ_CHECK(mlen == 3 && memcmp(m, "GET", 3) == 0, "GET '%s'",
		    r->r_line);
		break;
	case HTTP_M_HEAD:
		FUZZ_CHECK(mlen == 4 && memcmp(m, "HEAD", 4) == 0, "HEAD '%s'",
		    r->r_line);
		break;
	case HTTP_M_OTHER:
		FUZZ_CHECK(!(mlen == 3 && memcmp(m, "GET", 3) == 0) &&
		    !(mlen == 4 && memcmp(m, "HEAD", 4) == 0), "OTHER '%s'",
		    r->r_line);
		break;
	default:
		FUZZ_CHECK(0, "method %d", (int)r->r_method);
	}
	for (i = 0; i < mlen; i++)
		FUZZ_CHECK(m[i] > ' ' && m[i] < 0x7f, "method byte %#x",
		    (unsigned char)m[i]);
	/* Nothing but visible ASCII and two single spaces; no fragment. */
	for (i = 0; i < len; i++)
		FUZZ_CHECK(r->r_line[i] >= ' ' && r->r_line[i] < 0x7f &&
		    (r->r_line[i] != ' ' || r->r_line[i + 1] != ' '),
		    "byte %#x at %zu of '%s'", (unsigned char)r->r_line[i], i,
		    r->r_line);
	tlen = (size_t)(strrchr(r->r_line, ' ') - sp - 1);
	FUZZ_CHECK(memchr(sp + 1, '#', tlen) == NULL, "fragment in '%s'",
	    r->r_line);
	if (mlen == 7 && memcmp(m, "CONNECT", 7) == 0) {
		FUZZ_CHECK(r->r_path_off == SIZE_MAX && r->r_method ==
		    HTTP_M_OTHER, "CONNECT '%s' with a path", r->r_line);
		FUZZ_CHECK(tlen >= 3 && memchr(sp + 1, ':', tlen) != NULL &&
		    memchr(sp + 1, '@', tlen) == NULL &&
		    memchr(sp + 1, '/', tlen) == NULL, "CONNECT target in '%s'",
		    r->r_line);
	}

	/* The path: origin-form without query, "/" or "*". */
	path = http_path(r, &len);
	FUZZ_CHECK(path != NULL && len >= 1, "empty path");
	if (path[0] == '*')
		FUZZ_CHECK(len == 1 && r->r_method == HTTP_M_OTHER,
		    "'*' path with GET/HEAD or longer");
	else
		FUZZ_CHECK(path[0] == '/', "path '%.*s'", (int)len, path);
	if (r->r_path_off != SIZE_MAX)
		FUZZ_CHECK(path > r->r_line && path + len <= r->r_line +
		    strlen(r->r_line), "path outside the line");
	for (i = 0; i < len; i++) {
		FUZZ_CHECK(path[i] > ' ' && path[i] < 0x7f && path[i] != '?' &&
		    path[i] != '#', "path byte %#x", (unsigned char)path[i]);
	}
	id = route_match(r->r_method, path, len);
	FUZZ_CHECK(id == ROUTE_HELLO || id == ROUTE_SLEEP ||
	    id == ROUTE_NOT_FOUND || id == ROUTE_BAD_METHOD, "route %d",
	    (int)id);

	/* Framing and Host, as the head check promised. */
	FUZZ_CHECK(r->r_nhost <= 1, "%d Host fields", r->r_nhost);
	FUZZ_CHECK(r->r_minor == 0 || r->r_nhost == 1, "1.1 without Host");
	FUZZ_CHECK(!(r->r_has_clen && r->r_has_te), "both CL and TE");
	FUZZ_CHECK(!r->r_has_te || (r->r_minor == 1 && r->r_te_chunked),
	    "TE without chunked last, or in 1.0");
	FUZZ_CHECK(r->r_clen <= HELLOD_MAX_BODY &&
	    r->r_body_total <= HELLOD_MAX_BODY, "body over the limit");
	FUZZ_CHECK(r->r_body_left == 0, "body left %llu",
	    (unsigned long long)r->r_body_left);
	FUZZ_CHECK(http_keepalive(r) == 0 || http_keepalive(r) == 1,
	    "keepalive");
	FUZZ_CHECK(!r->r_conn_close || !http_keepalive(r),
	    "Connection: close kept alive");
	fuzz_http_check_cond(r);
}

/*
 * A refused request has r_tls set exactly when its first byte, after any
 * empty lines, is 0x16 (unless the empty lines alone were too long).
 */
static void
fuzz_http_check_tls(const struct fuzz_http_run *run,
    const struct http_request *r)
{
	const uint8_t	*p = run->hr_data + run->hr_start;
	const uint8_t	*end = run->hr_data + run->hr_fed;
	int		 tls;

	while (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		p += 2;
	tls = p < end && *p == 0x16;
	if (r->r_tls)
		FUZZ_CHECK(tls, "r_tls, first byte %#x", p < end ? *p : 0);
	else if (r->r_status != 414)
		FUZZ_CHECK(!tls, "0x16 first, no r_tls (%s)", r->r_error);
}

/* Note what http_parse() gave, checking it on the way. */
static void
fuzz_http_record(struct fuzz_http_run *run, enum http_result res,
    const struct http_request *r)
{
	struct fuzz_http_rec	*rec;

	if (run->hr_nrecs == run->hr_cap) {
		run->hr_cap = run->hr_cap == 0 ? 16 : run->hr_cap * 2;
		run->hr_recs = reallocarray(run->hr_recs, run->hr_cap,
		    sizeof *run->hr_recs);
		if (run->hr_recs == NULL)
			abort();
	}
	rec = &run->hr_recs[run->hr_nrecs++];
	memset(rec, 0, sizeof *rec);
	rec->hr_result = res;
	rec->hr_state = r->r_state;
	rec->hr_method = r->r_method;
	rec->hr_minor = r->r_minor;
	rec->hr_status = r->r_status;
	rec->hr_head = r->r_head;
	rec->hr_consumed = run->hr_consumed;
	rec->hr_tls = r->r_tls;
	if (res == HTTP_ERROR) {
		rec->hr_error = r->r_error;
		FUZZ_CHECK(r->r_state == HTTP_S_ERROR, "state %d",
		    (int)r->r_state);
		FUZZ_CHECK(r->r_status == 400 || r->r_status == 413 ||
		    r->r_status == 414 || r->r_status == 431 ||
		    r->r_status == 505, "error status %d (%s)", r->r_status,
		    r->r_error != NULL ? r->r_error : "no reason");
		FUZZ_CHECK(r->r_error != NULL, "error without a reason");
		FUZZ_CHECK(!r->r_tls || r->r_status == 400, "TLS with %d",
		    r->r_status);
		fuzz_http_check_tls(run, r);
		return;
	}
	FUZZ_CHECK(!r->r_tls, "r_tls on a good request");
	rec->hr_keepalive = http_keepalive(r);
	rec->hr_clen = r->r_clen;
	rec->hr_body_total = r->r_body_total;
	rec->hr_line_hash = fuzz_http_hash(r->r_line);
	rec->hr_path_off = r->r_path_off;
	rec->hr_path_len = r->r_path_len;
	rec->hr_inm = r->r_inm;
	rec->hr_inm_n = r->r_inm_n;
	memcpy(rec->hr_inm_tag, r->r_inm_tag, sizeof rec->hr_inm_tag);
	rec->hr_ims_ok = r->r_ims_ok;
	rec->hr_ims = r->r_ims_ok ? r->r_ims : 0;
}

/*
 * Parse what in holds, request after request, as conn.c does. Returns -1
 * once a request was bad (the connection would close), else 0.
 */
static int
fuzz_http_drain(struct fuzz_http_run *run, struct http_request *r,
    struct evbuffer *in, size_t max_head)
{
	enum http_result	res;
	size_t			before;

	for (;;) {
		before = evbuffer_get_length(in);
		res = http_parse(r, in);
		FUZZ_CHECK(evbuffer_get_length(in) <= before,
		    "the parser added input");
		run->hr_consumed += before - evbuffer_get_length(in);
		switch (res) {
		case HTTP_NEED_MORE:
			FUZZ_CHECK(r->r_error == NULL && r->r_tls == 0,
			    "an error noted, but more wanted");
			FUZZ_CHECK(r->r_state != HTTP_S_DONE &&
			    r->r_state != HTTP_S_ERROR, "NEED_MORE in state %d",
			    (int)r->r_state);
			return (0);
		case HTTP_ERROR:
			fuzz_http_record(run, res, r);
			return (-1);
		case HTTP_COMPLETE:
			fuzz_http_check_complete(r, max_head);
			fuzz_http_record(run, res, r);
			/* Asking again must not change anything. */
			before = evbuffer_get_length(in);
			FUZZ_CHECK(http_parse(r, in) == HTTP_COMPLETE &&
			    evbuffer_get_length(in) == before,
			    "COMPLETE not sticky");
			http_request_reset(r);
			run->hr_start = run->hr_consumed;
			break;
		default:
			FUZZ_CHECK(0, "result %d", (int)res);
		}
	}
}

/* Parse the stream fed in the given segments. */
static void
fuzz_http_run(struct fuzz_http_run *run, const uint8_t *data,
    const size_t *seg, size_t nseg, size_t max_head)
{
	struct evbuffer		*in;
	struct http_request	 r;
	size_t			 i, off = 0;
	int			 bad = 0;

	memset(run, 0, sizeof *run);
	run->hr_data = data;
	if ((in = evbuffer_new()) == NULL)
		abort();
	http_request_init(&r, max_head);
	for (i = 0; i < nseg; i++) {
		fuzz_add_segment(in, data + off, seg[i]);
		off += seg[i];
		run->hr_fed = off;
		if (!bad && fuzz_http_drain(run, &r, in, max_head) == -1)
			bad = 1;	/* the rest would be dropped */
	}
	FUZZ_CHECK(run->hr_consumed + evbuffer_get_length(in) == off,
	    "%zu bytes fed, %zu consumed, %zu left", off, run->hr_consumed,
	    evbuffer_get_length(in));
	run->hr_end_state = r.r_state;
	http_request_clear(&r);
	evbuffer_free(in);
}

/* Whole and split runs must agree on everything. */
static void
fuzz_http_compare(const struct fuzz_http_run *a, const struct fuzz_http_run *b)
{
	const struct fuzz_http_rec	*x, *y;
	size_t				 i;

	FUZZ_CHECK(a->hr_nrecs == b->hr_nrecs, "%zu results whole, %zu split",
	    a->hr_nrecs, b->hr_nrecs);
	for (i = 0; i < a->hr_nrecs; i++) {
		x = &a->hr_recs[i];
		y = &b->hr_recs[i];
		FUZZ_CHECK(x->hr_result == y->hr_result &&
		    x->hr_status == y->hr_status, "request %zu: %d/%d whole, "
		    "%d/%d split", i, (int)x->hr_result, x->hr_status,
		    (int)y->hr_result, y->hr_status);
		FUZZ_CHECK(memcmp(x, y, sizeof *x) == 0,
		    "request %zu: fields differ whole and split", i);
	}
	FUZZ_CHECK(a->hr_consumed == b->hr_consumed, "consumed %zu whole, "
	    "%zu split", a->hr_consumed, b->hr_consumed);
	FUZZ_CHECK(a->hr_end_state == b->hr_end_state, "end state %d whole, "
	    "%d split", (int)a->hr_end_state, (int)b->hr_end_state);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input	 fi;
	struct fuzz_http_run	 whole, split, bytewise;
	size_t			 max_head, *bytes, i;

	if (fuzz_input(&fi, data, size) == -1)
		return (0);
	max_head = fuzz_http_heads[fi.fi_flags & 3];

	fuzz_http_run(&whole, fi.fi_data, &fi.fi_len, 1, max_head);
	fuzz_http_run(&split, fi.fi_data, fi.fi_seg, fi.fi_nseg, max_head);
	fuzz_http_compare(&whole, &split);

	if ((bytes = calloc(fi.fi_len + 1, sizeof *bytes)) == NULL)
		abort();
	for (i = 0; i < fi.fi_len; i++)
		bytes[i] = 1;
	fuzz_http_run(&bytewise, fi.fi_data, bytes, fi.fi_len, max_head);
	free(bytes);
	fuzz_http_compare(&whole, &bytewise);

	free(whole.hr_recs);
	free(split.hr_recs);
	free(bytewise.hr_recs);
	return (0);
}

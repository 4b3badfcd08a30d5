/* SPDX-License-Identifier: ISC */
/*
 * Helpers shared by the fuzz harnesses: failing loudly, and cutting an
 * input into its header and segments (fuzz.h describes the layout).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* Report a broken invariant and abort(): libFuzzer saves the input. */
void
fuzz_fail(const char *file, int line, const char *expr, const char *fmt,
    ...)
{
	va_list	ap;

	fprintf(stderr, "%s:%d: invariant broken: %s: ", file, line, expr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* Split data into flags and segments; -1 if it is too short for that. */
int
fuzz_input(struct fuzz_input *fi, const uint8_t *data, size_t size)
{
	size_t	n, i, left;

	memset(fi, 0, sizeof *fi);
	if (size < 2)
		return (-1);
	fi->fi_flags = data[0];
	n = data[1] & 0x0f;
	if (size < 2 + n)
		return (-1);
	fi->fi_data = data + 2 + n;
	fi->fi_len = left = size - 2 - n;
	for (i = 0; i < n; i++) {
		fi->fi_seg[i] = data[2 + i] < left ? data[2 + i] : left;
		left -= fi->fi_seg[i];
	}
	fi->fi_seg[n] = left;
	fi->fi_nseg = n + 1;
	return (0);
}

/* Free a segment's copy once the evbuffer lets go of it. */
static void
fuzz_segment_free(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)(uintptr_t)data);
}

/*
 * Append len bytes to buf as a chain of their own, in a heap block of
 * exactly that size: the parser then sees the segment boundaries as
 * evbuffer chain boundaries, and AddressSanitizer sees any read past a
 * segment's end.
 */
void
fuzz_add_segment(struct evbuffer *buf, const uint8_t *data, size_t len)
{
	uint8_t	*copy;

	if (len == 0)
		return;
	if ((copy = malloc(len)) == NULL)
		abort();
	memcpy(copy, data, len);
	if (evbuffer_add_reference(buf, copy, len, fuzz_segment_free,
	    NULL) == -1)
		abort();
}

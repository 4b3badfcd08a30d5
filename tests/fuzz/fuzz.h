/* SPDX-License-Identifier: ISC */
/*
 * Shared by the fuzz harnesses (tests/fuzz/fuzz_*.c), built two ways:
 * with clang's libFuzzer by `make fuzz`, and with the ordinary compiler
 * and replay.c as their main() by `make check`, which replays the seed
 * corpus and the regression inputs through them.
 */
#ifndef HELLOD_FUZZ_H
#define HELLOD_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "hellod.h"

/* What libFuzzer (or replay.c) calls. Every harness defines both. */
int	 LLVMFuzzerInitialize(int *, char ***);
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A broken invariant: say which, then abort() so that the input is kept. */
#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond))							\
		fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);	\
} while (0)

hellod_dead void fuzz_fail(const char *, int, const char *, const char *,
		     ...) printflike(4, 5);

/*
 * Inputs of the stream harnesses (fuzz_http, fuzz_conn) start with a
 * small header the fuzzer mutates like the rest:
 *
 *	byte 0		flags, each harness's own
 *	byte 1		low 4 bits: n, the number of split points
 *	n bytes		lengths of the first n segments (0 is allowed)
 *	the rest	the byte stream; what the lengths leave is the last
 *			segment
 *
 * so the stream reaches the code under test cut where the fuzzer chose.
 */
#define FUZZ_MAX_SEGS	17

struct fuzz_input {
	unsigned int	 fi_flags;
	const uint8_t	*fi_data;	/* the stream */
	size_t		 fi_len;
	size_t		 fi_nseg;
	size_t		 fi_seg[FUZZ_MAX_SEGS];	/* lengths, adding up to
						   fi_len */
};

int		 fuzz_input(struct fuzz_input *, const uint8_t *, size_t);
void		 fuzz_add_segment(struct evbuffer *, const uint8_t *, size_t);

#endif /* HELLOD_FUZZ_H */

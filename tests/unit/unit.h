/* SPDX-License-Identifier: ISC */
/*
 * Shared by the Check unit tests: run one suite and turn its result into
 * the exit status automake expects; bytes escaped for a failure message.
 */
#ifndef HELLOD_UNIT_H
#define HELLOD_UNIT_H

#include <stdio.h>
#include <stdlib.h>

#include <check.h>

/* Elements of an array, as the int that tcase_add_loop_test() takes. */
#define NELEM(a)	((int)(sizeof (a) / sizeof (a)[0]))

/* in, len with CR, LF, NUL and other controls escaped, for messages. */
static inline const char *
unit_escape(const char *in, size_t len)
{
	static char	 out[4096];
	size_t		 i, o = 0;
	unsigned char	 ch;

	for (i = 0; i < len && o + 5 < sizeof out; i++) {
		ch = (unsigned char)in[i];
		if (ch == '\r')
			o += snprintf(out + o, sizeof out - o, "\\r");
		else if (ch == '\n')
			o += snprintf(out + o, sizeof out - o, "\\n");
		else if (ch < 0x20 || ch >= 0x7f || ch == '\\')
			o += snprintf(out + o, sizeof out - o, "\\x%02x", ch);
		else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
	return (out);
}

static inline int
unit_run(Suite *s)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

#endif /* HELLOD_UNIT_H */

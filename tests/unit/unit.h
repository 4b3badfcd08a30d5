/* SPDX-License-Identifier: ISC */
/*
 * Shared by the Check unit tests: run one suite and turn its result into
 * the exit status automake expects.
 */
#ifndef HELLOD_UNIT_H
#define HELLOD_UNIT_H

#include <stdlib.h>

#include <check.h>

/* Elements of an array, as the int that tcase_add_loop_test() takes. */
#define NELEM(a)	((int)(sizeof (a) / sizeof (a)[0]))

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

/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for priv.c: user lookup, what is done for each combination
 * of `user` and effective uid (priv_plan), the refusal of root without
 * `user` (priv_check), and, when run as root, the switch itself
 * (priv_drop) in a forked child.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"
#include "unit.h"

#define TPATH	"/etc/hellod/test.conf"

/* A config with only what priv.c looks at. */
static struct config *
conf(const char *user)
{
	struct config	*cf;
	char		*errors, text[128];

	snprintf(text, sizeof text, "%s%s%s\n", user != NULL ? "user = " : "",
	    user != NULL ? user : "", user != NULL ? "" : "# no user");
	cf = config_parse(TPATH, text, strlen(text), &errors);
	ck_assert_msg(cf != NULL, "%s: %s", text, errors);
	return (cf);
}

START_TEST(test_lookup)
{
	uid_t	 uid = 1;
	gid_t	 gid = 1;
	char	*cause = NULL;

	ck_assert_int_eq(priv_lookup("root", &uid, &gid, &cause), 0);
	ck_assert_uint_eq(uid, 0);
	ck_assert_uint_eq(gid, 0);
	ck_assert_ptr_null(cause);

	ck_assert_int_eq(priv_lookup("nobody", &uid, &gid, &cause), 0);
	ck_assert_uint_eq(uid, getpwnam("nobody")->pw_uid);
	ck_assert_uint_eq(gid, getpwnam("nobody")->pw_gid);

	ck_assert_int_eq(priv_lookup("no-such-user-hellod", &uid, &gid,
	    &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, "unknown user 'no-such-user-hellod'") !=
	    NULL, "%s", cause);
	free(cause);

	ck_assert_int_eq(priv_lookup("", &uid, &gid, &cause), -1);
	free(cause);
}
END_TEST

/* Every combination of `user` (none, uid 0, other) and euid (0, other). */
START_TEST(test_plan)
{
	struct config	*none = conf(NULL), *root = conf("root");
	struct config	*nobody = conf("nobody");

	ck_assert_int_eq(priv_plan(none, 0), PRIV_REFUSE);
	ck_assert_int_eq(priv_plan(root, 0), PRIV_ROOT);
	ck_assert_int_eq(priv_plan(nobody, 0), PRIV_DROP);
	ck_assert_int_eq(priv_plan(none, 1000), PRIV_KEEP);
	ck_assert_int_eq(priv_plan(root, 1000), PRIV_KEEP);
	ck_assert_int_eq(priv_plan(nobody, 1000), PRIV_KEEP);
	ck_assert_int_eq(priv_plan(nobody, nobody->cf_uid), PRIV_KEEP);
	config_free(none);
	config_free(root);
	config_free(nobody);
}
END_TEST

/* priv_check() refuses root without `user`, and nothing else. */
START_TEST(test_check)
{
	struct config	*none = conf(NULL), *nobody = conf("nobody");
	char		*cause = NULL;
	int		 r;

	r = priv_check(none, &cause);
	if (geteuid() == 0) {
		ck_assert_int_eq(r, -1);
		ck_assert_ptr_nonnull(cause);
		ck_assert_msg(strncmp(cause, TPATH ": `user` is not set",
		    strlen(TPATH ": `user` is not set")) == 0, "%s", cause);
		ck_assert_msg(strstr(cause, "user = root") != NULL, "%s",
		    cause);
		free(cause);
	} else {
		ck_assert_int_eq(r, 0);
		ck_assert_ptr_null(cause);
	}
	ck_assert_int_eq(priv_check(nobody, &cause), 0);
	ck_assert_ptr_null(cause);
	config_free(none);
	config_free(nobody);
}
END_TEST

/*
 * Run fn in a forked child (the switch cannot be undone) and return its
 * exit status; the child reports failures on stderr.
 */
static int
in_child(int (*fn)(void))
{
	pid_t	pid;
	int	status;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0)
		_exit(fn());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "child did not exit: %d", status);
	return (WEXITSTATUS(status));
}

/* As root: switch to nobody, then check ids, groups and no way back. */
static int
drop_nobody(void)
{
	struct config	*cf = conf("nobody");
	struct passwd	*pw;
	gid_t		 groups[64];
	uid_t		 r, e, s;
	char		*cause = NULL;
	int		 n;

	/* A supplementary group root has must not survive. */
	if (setgroups(1, (gid_t[]){ 0 }) == -1)
		return (10);
	if (priv_drop(cf, &cause) == -1) {
		fprintf(stderr, "priv_drop: %s\n", cause);
		return (11);
	}
	pw = getpwnam("nobody");
	if (getresuid(&r, &e, &s) == -1 || r != pw->pw_uid ||
	    e != pw->pw_uid || s != pw->pw_uid)
		return (12);
	if (getgid() != pw->pw_gid || getegid() != pw->pw_gid)
		return (13);
	if ((n = getgroups(64, groups)) == -1)
		return (14);
	while (n-- > 0) {
		if (groups[n] == 0)
			return (15);
	}
	if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1)
		return (16);
	config_free(cf);
	return (0);
}

/* As root with `user = root`: nothing changes. */
static int
stay_root(void)
{
	struct config	*cf = conf("root");
	char		*cause = NULL;

	if (priv_drop(cf, &cause) == -1)
		return (20);
	if (getuid() != 0 || geteuid() != 0)
		return (21);
	config_free(cf);
	return (0);
}

/* Not root, `user` another account: served as is, not an error. */
static int
keep_unprivileged(void)
{
	struct config	*cf = conf("root");
	struct passwd	*pw = getpwnam("nobody");
	char		*cause = NULL;

	if (geteuid() == 0 && (setgroups(0, NULL) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1))
		return (30);
	if (priv_drop(cf, &cause) == -1) {
		fprintf(stderr, "priv_drop: %s\n", cause);
		return (31);
	}
	if (geteuid() == 0)
		return (32);
	config_free(cf);
	return (0);
}

/* As root without `user`: priv_drop refuses too, and changes nothing. */
static int
refuse_root(void)
{
	struct config	*cf = conf(NULL);
	char		*cause = NULL;

	if (priv_drop(cf, &cause) != -1 || cause == NULL)
		return (40);
	if (geteuid() != 0)
		return (41);
	free(cause);
	config_free(cf);
	return (0);
}

START_TEST(test_drop)
{
	if (geteuid() != 0) {
		fprintf(stderr, "check_priv: not root, the switch itself is "
		    "tested by tests/e2e/test_privileges.py as root\n");
		ck_assert_int_eq(in_child(keep_unprivileged), 0);
		return;
	}
	ck_assert_int_eq(in_child(drop_nobody), 0);
	ck_assert_int_eq(in_child(stay_root), 0);
	ck_assert_int_eq(in_child(keep_unprivileged), 0);
	ck_assert_int_eq(in_child(refuse_root), 0);
}
END_TEST

static Suite *
priv_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("priv");
	tc = tcase_create("priv");
	tcase_add_test(tc, test_lookup);
	tcase_add_test(tc, test_plan);
	tcase_add_test(tc, test_check);
	tcase_add_test(tc, test_drop);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	log_init();
	return (unit_run(priv_suite()));
}

/* SPDX-License-Identifier: ISC */
/*
 * Least privilege. Nothing hellod does while serving needs root. Started
 * as root (to bind a port below 1024, say), it binds its sockets and loads
 * its config and pages, then becomes the config's `user`, with that
 * account's primary group and supplementary groups, before any worker
 * thread exists and before it tells anyone it is ready; then it checks
 * that root cannot be had back. Reloads (SIGHUP) then read the files as
 * that user.
 *
 * What is done (priv_plan()):
 *
 *   started as root, `user` not set     refuse to serve (exit 78): hellod
 *                                       cannot guess the account to use,
 *                                       and silently serving as root is
 *                                       what this module is against
 *   started as root, `user` has uid 0   stay root, as asked: the opt-in
 *                                       (`user = root`), logged as a warning
 *   started as root, any other `user`   setgroups, setgid, setuid, check
 *   not started as root                 serve as is. A `user` naming another
 *                                       account cannot be applied and is
 *                                       logged, not an error (nginx does the
 *                                       same): under the systemd unit,
 *                                       DynamicUser= picks the account and
 *                                       hellod starts unprivileged with the
 *                                       same hellod.conf
 *
 * Changing `user` on a reload cannot take effect (there is no way back to
 * root to switch again); daemon.c keeps the running one and warns.
 */
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"

#define PRIV_PW_BUF_MAX	((size_t)1024 * 1024)	/* getpwnam_r buffer, at most */

static int	priv_groups(const struct config *, gid_t **, int *, char **);
static int	priv_verify(const struct config *, gid_t *, int, char **);

/*
 * Look a user name up in the password database (files, or whatever
 * nsswitch.conf says). Returns 0 with its uid and primary gid, or -1 and
 * a cause: unknown user, or the lookup's error.
 */
int
priv_lookup(const char *name, uid_t *uid, gid_t *gid, char **cause)
{
	struct passwd	 pw, *res = NULL;
	char		*buf = NULL, *nbuf;
	size_t		 size = 1024;
	int		 r;

	*cause = NULL;
	for (;;) {
		if ((nbuf = realloc(buf, size)) == NULL) {
			free(buf);
			*cause = strdup("out of memory");
			return (-1);
		}
		buf = nbuf;
		r = getpwnam_r(name, &pw, buf, size, &res);
		if (r != ERANGE || size >= PRIV_PW_BUF_MAX)
			break;
		size *= 2;
	}
	if (res != NULL) {
		*uid = pw.pw_uid;
		*gid = pw.pw_gid;
		free(buf);
		return (0);
	}
	free(buf);
	/* getpwnam_r(3): 0, ENOENT, ESRCH, EBADF, EPERM all mean "none". */
	if (r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM) {
		if (asprintf(cause, "unknown user '%.64s' (not in the password "
		    "database)", name) == -1)
			*cause = NULL;
	} else if (asprintf(cause, "cannot look up user '%.64s': %s", name,
	    strerror(r)) == -1)
		*cause = NULL;
	return (-1);
}

/* What to do about privileges for cf, with effective uid euid. */
enum priv_plan
priv_plan(const struct config *cf, uid_t euid)
{
	if (euid != 0)
		return (PRIV_KEEP);
	if (cf->cf_user == NULL)
		return (PRIV_REFUSE);
	if (cf->cf_uid == 0)
		return (PRIV_ROOT);
	return (PRIV_DROP);
}

/*
 * Whether cf may be served by this process: -1 and a cause if hellod
 * runs as root and cf has no `user`. `hellod -t` checks this too.
 */
int
priv_check(const struct config *cf, char **cause)
{
	*cause = NULL;
	if (priv_plan(cf, geteuid()) != PRIV_REFUSE)
		return (0);
	if (asprintf(cause, "%s: `user` is not set and hellod was started as "
	    "root: set `user = NAME` to serve as the account NAME (one of its "
	    "own, or nobody), or `user = root` to serve as root", cf->cf_path)
	    == -1)
		*cause = NULL;
	return (-1);
}

/*
 * The groups of cf's user, primary group included, as initgroups(3) would
 * set them; *groups is malloc'd.
 */
static int
priv_groups(const struct config *cf, gid_t **groups, int *ngroups,
    char **cause)
{
	gid_t	*g = NULL, *ng;
	long	 max;
	int	 n = 16, want;

	if ((max = sysconf(_SC_NGROUPS_MAX)) < 1)
		max = 65536;
	for (;;) {
		if ((ng = reallocarray(g, (size_t)n, sizeof *g)) == NULL) {
			free(g);
			*cause = strdup("out of memory");
			return (-1);
		}
		g = ng;
		want = n;
		if (getgrouplist(cf->cf_user, cf->cf_gid, g, &want) != -1)
			break;
		/* glibc sets want to the number needed. */
		if (n >= max) {
			free(g);
			if (asprintf(cause, "user %s is in more than %ld "
			    "groups", cf->cf_user, max) == -1)
				*cause = NULL;
			return (-1);
		}
		n = want > n ? want : n * 2;
		if (n > max)
			n = (int)max;
	}
	*groups = g;
	*ngroups = want;
	return (0);
}

/* For qsort: gids in ascending order. */
static int
priv_gid_cmp(const void *a, const void *b)
{
	gid_t	x = *(const gid_t *)a, y = *(const gid_t *)b;

	return (x < y ? -1 : x > y);
}

/*
 * After the switch: real, effective and saved ids are all cf's, the
 * groups are exactly want, and neither uid 0 nor (unless it is the
 * user's own) gid 0 can be set again.
 */
static int
priv_verify(const struct config *cf, gid_t *want, int nwant, char **cause)
{
	uid_t	 ru, eu, su;
	gid_t	 rg, eg, sg, *got = NULL;
	int	 n;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1) {
		if (asprintf(cause, "getresuid: %s", strerror(errno)) == -1)
			*cause = NULL;
		return (-1);
	}
	if (ru != cf->cf_uid || eu != cf->cf_uid || su != cf->cf_uid ||
	    rg != cf->cf_gid || eg != cf->cf_gid || sg != cf->cf_gid) {
		if (asprintf(cause, "uids %lu/%lu/%lu and gids %lu/%lu/%lu "
		    "after the switch, not %lu and %lu", (unsigned long)ru,
		    (unsigned long)eu, (unsigned long)su, (unsigned long)rg,
		    (unsigned long)eg, (unsigned long)sg,
		    (unsigned long)cf->cf_uid,
		    (unsigned long)cf->cf_gid) == -1)
			*cause = NULL;
		return (-1);
	}

	if ((n = getgroups(0, NULL)) == -1 ||
	    (got = calloc((size_t)n + 1, sizeof *got)) == NULL ||
	    (n = getgroups(n, got)) == -1) {
		if (asprintf(cause, "getgroups: %s", strerror(errno)) == -1)
			*cause = NULL;
		free(got);
		return (-1);
	}
	qsort(got, (size_t)n, sizeof *got, priv_gid_cmp);
	qsort(want, (size_t)nwant, sizeof *want, priv_gid_cmp);
	if (n != nwant || memcmp(got, want, (size_t)n * sizeof *got) != 0) {
		free(got);
		if (asprintf(cause, "%d supplementary group(s) after the "
		    "switch, not the %d of user %s", n, nwant,
		    cf->cf_user) == -1)
			*cause = NULL;
		return (-1);
	}
	free(got);

	if (setuid(0) != -1 || seteuid(0) != -1) {
		*cause = strdup("uid 0 can still be set after the switch");
		return (-1);
	}
	if (cf->cf_gid != 0 && (setgid(0) != -1 || setegid(0) != -1)) {
		*cause = strdup("gid 0 can still be set after the switch");
		return (-1);
	}
	return (0);
}

/*
 * Do what priv_plan() says for this process: switch to cf's user and its
 * groups (in that order: groups and gid need root, so the uid goes last),
 * then verify. Must run before any other thread exists. Returns -1 and a
 * cause if the switch failed or did not hold; the caller exits.
 */
int
priv_drop(const struct config *cf, char **cause)
{
	gid_t	*groups = NULL;
	int	 ngroups = 0;
	uid_t	 euid = geteuid();
	char	 where[PATH_MAX + 32];

	*cause = NULL;
	switch (priv_plan(cf, euid)) {
	case PRIV_REFUSE:
		return (priv_check(cf, cause));
	case PRIV_KEEP:
		if (cf->cf_user != NULL && cf->cf_uid != euid)
			log_info("%s: user %s not applied: hellod was not "
			    "started as root and serves as uid %lu",
			    config_where(cf, cf->cf_user_line, "user",
			    cf->cf_user, where, sizeof where), cf->cf_user,
			    (unsigned long)euid);
		return (0);
	case PRIV_ROOT:
		log_warnx("%s: user %s has uid 0: serving as root, with "
		    "every privilege", config_where(cf, cf->cf_user_line,
		    "user", cf->cf_user, where, sizeof where), cf->cf_user);
		return (0);
	case PRIV_DROP:
		break;
	}

	if (priv_groups(cf, &groups, &ngroups, cause) == -1)
		return (-1);
	if (setgroups((size_t)ngroups, groups) == -1) {
		if (asprintf(cause, "setgroups: %s", strerror(errno)) == -1)
			*cause = NULL;
		goto fail;
	}
	if (setresgid(cf->cf_gid, cf->cf_gid, cf->cf_gid) == -1) {
		if (asprintf(cause, "setresgid %lu: %s",
		    (unsigned long)cf->cf_gid, strerror(errno)) == -1)
			*cause = NULL;
		goto fail;
	}
	if (setresuid(cf->cf_uid, cf->cf_uid, cf->cf_uid) == -1) {
		if (asprintf(cause, "setresuid %lu: %s",
		    (unsigned long)cf->cf_uid, strerror(errno)) == -1)
			*cause = NULL;
		goto fail;
	}
	if (priv_verify(cf, groups, ngroups, cause) == -1)
		goto fail;
	log_info("dropped root: serving as user %s (uid %lu, gid %lu, %d "
	    "group(s))", cf->cf_user, (unsigned long)cf->cf_uid,
	    (unsigned long)cf->cf_gid, ngroups);
	free(groups);
	return (0);

fail:
	free(groups);
	return (-1);
}

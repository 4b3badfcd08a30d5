/* SPDX-License-Identifier: ISC */
/*
 * priv.h: least privilege: dropping root to `user`.
 * Included by hellod.h, after the headers before it in the map there.
 */
#ifndef HELLOD_PRIV_H
#define HELLOD_PRIV_H

/*
 * priv.c: least privilege. Started as root, hellod binds its sockets and
 * loads its files, then becomes `user` (priv_drop()) before any worker
 * thread exists; priv_plan() says what is to be done for a config and an
 * effective uid.
 */
enum priv_plan {
	PRIV_KEEP,		/* not root: serve as we are */
	PRIV_ROOT,		/* root, and `user` has uid 0: stay root */
	PRIV_DROP,		/* root: become cf_uid, cf_gid and groups */
	PRIV_REFUSE,		/* root, and `user` not set */
};

int		 priv_lookup(const char *, uid_t *, gid_t *, char **);
enum priv_plan	 priv_plan(const struct config *, uid_t);
int		 priv_check(const struct config *, char **);
int		 priv_drop(const struct config *, char **);

#endif /* HELLOD_PRIV_H */

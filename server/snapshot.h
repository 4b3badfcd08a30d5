/* SPDX-License-Identifier: ISC */
/*
 * snapshot.h: one loaded configuration and its pages.
 * Included by hellod.h, after the headers before it in the map there.
 */
#ifndef HELLOD_SNAPSHOT_H
#define HELLOD_SNAPSHOT_H

/*
 * snapshot.c: one loaded configuration and its pages, immutable once made
 * and shared by the main thread and every worker. Each holder owns one
 * reference; the last to let go frees it, in whichever thread that is.
 */
struct snapshot {
	atomic_uint		 sn_refs;
	struct config		*sn_cf;
	struct pages		*sn_pages;
};

struct snapshot	*snapshot_new(struct config *, struct pages *);
struct snapshot	*snapshot_ref(struct snapshot *);
void		 snapshot_unref(struct snapshot *);

#endif /* HELLOD_SNAPSHOT_H */

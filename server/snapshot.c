/* SPDX-License-Identifier: ISC */
/*
 * A snapshot is one loaded configuration with its pages. The main thread
 * makes one at start-up and on each good reload, and hands a reference to
 * every worker; nothing in it changes afterwards, so workers read it
 * without locks. The last holder to let go frees it: usually the last
 * worker to swap to a newer one, which is why the count is atomic.
 */
#include <stdlib.h>

#include "hellod.h"

/* Take ownership of cf and ps; the caller holds the one reference. */
struct snapshot *
snapshot_new(struct config *cf, struct pages *ps)
{
	struct snapshot	*sn;

	if ((sn = calloc(1, sizeof *sn)) == NULL)
		return (NULL);
	atomic_init(&sn->sn_refs, 1);
	sn->sn_cf = cf;
	sn->sn_pages = ps;
	return (sn);
}

/* One more holder. */
struct snapshot *
snapshot_ref(struct snapshot *sn)
{
	atomic_fetch_add_explicit(&sn->sn_refs, 1, memory_order_relaxed);
	return (sn);
}

/*
 * A holder lets go; the last one frees. acq_rel: the freeing thread must
 * see every other holder's reads finished before it frees.
 */
void
snapshot_unref(struct snapshot *sn)
{
	if (sn == NULL)
		return;
	if (atomic_fetch_sub_explicit(&sn->sn_refs, 1,
	    memory_order_acq_rel) != 1)
		return;
	pages_free(sn->sn_pages);
	config_free(sn->sn_cf);
	free(sn);
}

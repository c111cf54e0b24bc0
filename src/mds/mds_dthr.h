/*
 * The MDS's destroy thread: objects of unlinked files are destroyed on
 * the OSTs after the unlink's commit, batched per OST (OST_DESTROY_MANY),
 * never in a request's path. See mds_dthr.c for the contract.
 */
#ifndef MDS_DTHR_H
#define MDS_DTHR_H

#include <stdint.h>

struct mds_ns;
struct mds_osts;
struct mds_dthr;

/* Start the thread on the store's queue; it drains what the last run
 * left at once. 0 or -errno. */
int		mds_dthr_start(struct mds_ns *ns, struct mds_osts *osts,
		    struct mds_dthr **out);
/* Stop and free it (NULL: nothing); the store's hook is cleared first. */
void		mds_dthr_stop(struct mds_dthr *m);
/* Objects destroyed since the start. */
uint64_t	mds_dthr_destroyed(struct mds_dthr *m);

#endif

/*
 * A snapshot of a whole file system at one instant, taken by its MDS for a
 * backup (MSG_OP_MDS_SNAP, msg.h; docs/backups.md).
 */
#ifndef FSX_MDS_SNAP_H
#define FSX_MDS_SNAP_H

#include "mds/mds_ns.h"
#include "mds/mds_ost.h"

/*
 * Hold namespace changes (the store lock, once no batch is open), freeze
 * every OST of `osts`, copy the store to DIR/snap/NAME/mds.db (DIR: the
 * store's directory), have every OST open its snapshot snap/NAME (MARK),
 * thaw them all (also after an error) and let changes go on. The caller
 * then has each OSS LINK its objects (msg.h).
 * 0 or -errno; on error the MDS's copy is removed.
 */
int	mds_snap_take(struct mds_ns *ns, struct mds_osts *osts,
	    const char *name);

/* Microseconds namespace changes were held by the last snapshot. */
unsigned long long mds_snap_last_hold_us(void);

#endif

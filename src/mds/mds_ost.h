/*
 * The MDS's view of the OSTs: the OST map (IDX HOST PORT CAPACITY_BYTES per
 * line, from --ost-map, re-read on SIGHUP, extended by MSG_OP_MDS_OSTADD)
 * and one client connection per OST for the MDS's own requests
 * (OST_DESTROY, OST_GETATTR, OST_STATFS). OSTs are only ever added or
 * moved, never removed. Thread-safe.
 */
#ifndef FSX_MDS_OST_H
#define FSX_MDS_OST_H

#include <stdint.h>

#include "msg/msg.h"

struct mds_osts;

struct mds_osts	*mds_ost_new(const uint8_t *secret);
void	mds_ost_free(struct mds_osts *o);

/* Parse a map file and merge it in (adds new OSTs, updates moved ones).
 * On a malformed file nothing changes: -EINVAL. Returns 0 or -errno. */
int	mds_ost_load(struct mds_osts *o, const char *path);
/* Merge entries (host must be NUL-terminated). 0 or -EINVAL. */
int	mds_ost_merge(struct mds_osts *o, const struct msg_ost_ent *e,
	    unsigned n);
/* Write the current map to path (atomically). */
int	mds_ost_save(struct mds_osts *o, const char *path);
/* Snapshot: up to max entries, sorted by index; returns the total. */
unsigned mds_ost_list(struct mds_osts *o, struct msg_ost_ent *out,
	    unsigned max);
unsigned mds_ost_count(struct mds_osts *o);

/*
 * One request to the OSS serving `ost` over the MDS's connection
 * (connected on demand, reconnected once after a transport error).
 * Returns the reply status or a negative errno; -ENODEV for an unknown OST.
 */
int	mds_ost_call(struct mds_osts *o, uint32_t ost, uint16_t op,
	    const void *body, uint32_t len, void *rbody, uint32_t cap,
	    uint32_t *rlen);

#endif

/*
 * The MDS's view of the OSTs: the OST map in memory (a copy of the store's
 * table, see mds_ns_ost_put(); filled at start and by MSG_OP_MDS_OSTADD and
 * MSG_OP_OST_SETCAP) and one client connection per OST for the MDS's own
 * requests (OST_DESTROY, OST_GETATTR, OST_STATFS). OSTs are only ever added
 * or moved, never removed. Thread-safe.
 */
#ifndef FSX_MDS_OST_H
#define FSX_MDS_OST_H

#include <stdint.h>

#include "msg/msg.h"

struct mds_osts;

struct mds_osts	*mds_ost_new(const uint8_t *secret);
void	mds_ost_free(struct mds_osts *o);

/* Merge entries: adds new OSTs, updates known ones (a moved OST's
 * connection is closed). 0, or -EINVAL (then nothing changed) when an
 * entry has no port or a host that is empty or not NUL-terminated. */
int	mds_ost_merge(struct mds_osts *o, const struct msg_ost_ent *e,
	    unsigned n);
/* 1 if every entry would pass mds_ost_merge's checks. */
int	mds_ost_valid(const struct msg_ost_ent *e, unsigned n);
/* The capacity of a known OST. 0 or -ENODEV. */
int	mds_ost_setcap(struct mds_osts *o, uint32_t ost, uint64_t capacity);
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
/* The same with a request bulk of blen bytes. */
int	mds_ost_call_bulk(struct mds_osts *o, uint32_t ost, uint16_t op,
	    const void *body, uint32_t len, const void *bulk, uint32_t blen,
	    void *rbody, uint32_t cap, uint32_t *rlen);

#endif

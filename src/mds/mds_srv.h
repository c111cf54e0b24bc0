/*
 * fsx-mds: the metadata server process. Wires the namespace store
 * (mds_ns) and the OST table (mds_ost) to the engine protocol server
 * (msg_srv), runs the destroy-queue thread, glimpses sizes of files open
 * for write, and sums statfs over the OSTs.
 *
 * Request conventions beyond msg.h (the MDS side of the contract):
 *  - Names follow their body struct; namelen > 255 is -ENAMETOOLONG, a body
 *    shorter than struct + names is -EPROTO.
 *  - CREATE opens the new (or, without MSG_CR_EXCL, the existing regular)
 *    file read-write; reply msg_open_rep + layout bulk.
 *  - OPEN of a non-regular file: handle 0 and no bulk. O_TRUNC (with write
 *    access) sets the MDS size to 0; the client punches the objects.
 *  - CLOSE with an unknown handle (for example after an MDS restart) still
 *    applies the written size (max of current and client size).
 *  - GETXATTR: the reply bulk is always the whole value (so msg_xattr.size 0
 *    asks for the size: it is the bulk length); -ERANGE when size > 0 and
 *    smaller than the value. LISTXATTR: bulk is the whole NUL-separated list.
 *  - `lustre.lov` GETXATTR gives the layout (on a dir: its own default, or
 *    -ENODATA); SETXATTR of it is SETLAYOUT; it is not listed.
 *  - SETLAYOUT on a regular file: only while size is 0 and no data was ever
 *    written (else -EEXIST); new objects are allocated from the header
 *    (entries in the request are ignored), the old ones are destroyed.
 *  - Open handles belong to their connection: when it ends they are
 *    dropped (an unlinked file then goes away).
 *  - Sessions, leases and locks: mds_lease.h and mds_lock.h, the protocol
 *    in docs/leases.md. A change revokes the leases of other sessions on
 *    what it changed before its reply is sent; a connection of an evicted
 *    session gets -ESTALE for everything.
 *  - The OST map lives in the store (mds_ns_ost_*) and changes only by
 *    MDS_OSTADD and OST_SETCAP (see msg.h), accepted at any time; STATFS
 *    counts an unreachable OST's capacity as used.
 */
#ifndef FSX_MDS_SRV_H
#define FSX_MDS_SRV_H

#include <stdint.h>

#include "msg/msg.h"

struct mds_srv;

struct mds_srv_conf {
	const char	*dir;		/* store directory */
	const char	*host;		/* listen */
	int		 port;
	const char	*port_file;	/* NULL: none */
	uint8_t		 secret[32];
	int		 revoke_ms;	/* 0: MDS_LEASE_REVOKE_MS */
	unsigned	 lease_max;	/* per session; 0: MDS_LEASE_MAX */
};

int	mds_srv_new(const struct mds_srv_conf *conf, struct mds_srv **out);
/* Serve until mds_srv_stop(). 0 or -errno. */
int	mds_srv_run(struct mds_srv *m);
void	mds_srv_stop(struct mds_srv *m);	/* async-signal-safe */
/*
 * Add or update OSTs (what MSG_OP_MDS_OSTADD does): the entries are stored
 * in the namespace store first, then take effect (new layouts may use new
 * OSTs at once). Callable before mds_srv_run() too. 0, -EINVAL for a bad
 * entry (nothing changes), or -errno.
 */
int	mds_srv_ostadd(struct mds_srv *m, const struct msg_ost_ent *e,
	    unsigned n);
void	mds_srv_free(struct mds_srv *m);

#endif

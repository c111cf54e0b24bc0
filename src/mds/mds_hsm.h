/*
 * The MDS's HSM state (msg.h "HSM state per file", docs/hsm.md): each
 * file's Lustre HSM flags, archive id and origin in table hsm of the store,
 * the agent's registration and the restore waits.
 *
 * Contract with mds_srv.c (the hooks):
 *  - mds_hsm_dispatch serves MDS_HSM_REGISTER/DONE/GET/SET/IMPORT/LIST;
 *    -EOPNOTSUPP for other opcodes. *changed is the inode whose attributes
 *    or data the request changed (0: none) so the caller revokes leases;
 *    for IMPORT *parent is set too (a name there changed).
 *  - mds_hsm_open, before an open is granted: a RELEASED file is restored
 *    first (the agent is asked once; every opener waits, only openers
 *    wait), or -EIO after the agent's restore_ms. O_TRUNC for write clears
 *    RELEASED without a restore (the data goes anyway).
 *  - mds_hsm_closed after a CLOSE that wrote: an archived file turns
 *    DIRTY; the agent hears of every written file (ARCHIVE action), and
 *    of every directory and symlink made (to export them too).
 *  - mds_hsm_renamed after a RENAME: an archived, clean file's copy is
 *    under its old name: it turns DIRTY, the agent hears REMOVE (the old
 *    origin) and ARCHIVE, so the policy exports it under the new name
 *    (a released file keeps its origin); mds_hsm_dir_renamed tells the
 *    agent of a renamed directory or released file (MOVED), which moves
 *    its objects.
 *  - mds_hsm_unlinked after an UNLINK (or a RENAME over a file): when the inode is gone, its row
 *    goes, and the agent hears of an archived one (REMOVE with origin).
 *  - Nothing of this costs a request anything while no agent ever
 *    registered and the table is empty (one atomic load).
 */
#ifndef FSX_MDS_HSM_H
#define FSX_MDS_HSM_H

#include <stdint.h>

#include "mds/mds_ns.h"
#include "msg/msg.h"
#include "msg/msg_srv.h"

#define MDS_HSM_RESTORE_MS	300000
#define MDS_HSM_ORIGIN_MAX	2048
#define MDS_HSM_PROG_MAX	64	/* running actions hsm_action shows */

struct mds_hsm;

int	mds_hsm_new(struct mds_ns *ns, struct mds_hsm **out);
void	mds_hsm_free(struct mds_hsm *hs);

int	mds_hsm_dispatch(struct mds_hsm *hs, struct msg_srv_conn *c,
	    const struct msg_hdr *h, const void *body, const void *bulk,
	    uint64_t *changed, uint64_t *parent);
int	mds_hsm_open(struct mds_hsm *hs, struct msg_srv_conn *c, uint64_t ino,
	    uint32_t flags);
void	mds_hsm_closed(struct mds_hsm *hs, struct msg_srv_conn *c,
	    uint64_t ino);
/* After a RENAME of a directory or of a released file (not by the
 * agent): MOVED to the agent with the old parent and name, so it moves
 * the objects (a released file's by an S3-side copy). */
void	mds_hsm_dir_renamed(struct mds_hsm *hs, struct msg_srv_conn *c,
	    uint64_t ino, uint64_t oldparent, const char *name,
	    size_t namelen);
void	mds_hsm_renamed(struct mds_hsm *hs, struct msg_srv_conn *c,
	    uint64_t ino);
void	mds_hsm_unlinked(struct mds_hsm *hs, struct msg_srv_conn *c,
	    uint64_t ino);
void	mds_hsm_conn_fini(struct mds_hsm *hs, struct msg_srv_conn *c);
/* The "lustre.hsm" xattr (msg.h): -ENODATA on what is not a file. */
int	mds_hsm_xattr_get(struct mds_hsm *hs, uint64_t ino, char *buf,
	    size_t cap, size_t *len);
int	mds_hsm_xattr_set(struct mds_hsm *hs, uint64_t ino,
	    const struct msg_cred *cr, const void *val, size_t len,
	    uint64_t *changed);
size_t	mds_hsm_stats(struct mds_hsm *hs, char *buf, size_t cap);

/* Pure rules, for the state machine's unit tests (tests/unit/check_hsm.c). */
/* The flags after `event` on a file with flags f, or -EBUSY/-EINVAL when
 * the transition is not allowed. Events: */
#define MDS_HSM_EV_IMPORT	1	/* created from an archive object */
#define MDS_HSM_EV_WRITTEN	2	/* closed after a write */
#define MDS_HSM_EV_ARCHIVED	3	/* the agent stored a current copy */
#define MDS_HSM_EV_RELEASE	4	/* free the data */
#define MDS_HSM_EV_RESTORED	5	/* data back from the archive */
#define MDS_HSM_EV_TRUNCATED	6	/* opened with O_TRUNC for write */
#define MDS_HSM_EV_LOST		7	/* archive copy gone */
int	mds_hsm_next(uint32_t f, int event);

#endif

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
 */
#ifndef FSX_MDS_SRV_H
#define FSX_MDS_SRV_H

#include <stdint.h>

struct mds_srv;

struct mds_srv_conf {
	const char	*dir;		/* store directory */
	const char	*ost_map;	/* OST map file */
	const char	*host;		/* listen */
	int		 port;
	const char	*port_file;	/* NULL: none */
	uint8_t		 secret[32];
};

int	mds_srv_new(const struct mds_srv_conf *conf, struct mds_srv **out);
/* Serve until mds_srv_stop(). 0 or -errno. */
int	mds_srv_run(struct mds_srv *m);
void	mds_srv_stop(struct mds_srv *m);	/* async-signal-safe */
/* Re-read the OST map file (SIGHUP). */
int	mds_srv_reload(struct mds_srv *m);
void	mds_srv_free(struct mds_srv *m);

#endif

/*
 * The agent as a privileged client of its file system (hsm_fs.c): one
 * struct fsc (libfsx) for names and data, plus the registered callback
 * connection on which the MDS sends HSM_ACTION frames (msg.h).
 *
 * Contract:
 *  - hsm_fs_get() connects (or reconnects after the MDS address in
 *    HSM_CONF changed) and registers; NULL while the MDS is unknown or
 *    unreachable. The struct fsc stays valid until hsm_fs_fini().
 *  - Every action the MDS sends is answered at once and queued on
 *    h->actions (hsm.h); RESTOREs are served by the restore threads
 *    (hsm_xfer.c), ARCHIVE/REMOVE by the worker.
 *  - Paths are absolute in the file system ("/ns1/a/b"); a path's
 *    components are looked up one by one as root (uid 0).
 */
#ifndef FSX_HSM_FS_H
#define FSX_HSM_FS_H

#include <stdint.h>

#include "fsc/fsc.h"
#include "hsm/hsm.h"

extern const struct msg_cred hsm_root;

struct fsc	*hsm_fs_get(struct hsm *h);
void	hsm_fs_fini(struct hsm *h);
/* Connected and registered with the MDS HSM_CONF names (h->mu held). */
int	hsm_registered(struct hsm *h);

/* The MDS's HSM requests (msg.h, opcodes 96..102). origin: cap bytes. */
int	hsm_fs_state(struct fsc *fs, uint64_t ino, struct msg_hsm_state *st,
	    char *origin, size_t cap);
int	hsm_fs_set(struct fsc *fs, uint64_t ino, uint32_t set, uint32_t clear,
	    const char *origin, struct msg_hsm_state *st);
int	hsm_fs_import(struct fsc *fs, uint64_t parent, const char *name,
	    const struct msg_hsm_import *im, const char *origin,
	    struct msg_attr *attr);
int	hsm_fs_done(struct fsc *fs, uint64_t ino, int status);
/* What lfs hsm_action shows: action (MSG_HSM_RESTORE/_ARCHIVE) running
 * with bytes moved, or ended (running 0). */
int	hsm_fs_progress(struct fsc *fs, uint64_t ino, uint32_t action,
	    uint64_t bytes, int running);

/* Walk the path from the root: 0 with *attr, or -errno. */
int	hsm_fs_resolve(struct fsc *fs, const char *path, struct msg_attr *attr);
/* mkdir -p of the directory part of rel under dir (rel "a/b/c" makes
 * a and a/b); *parent is the inode the last component goes in, *leaf
 * points into rel at it. */
int	hsm_fs_mkdirs(struct fsc *fs, uint64_t dir, const char *rel,
	    uint64_t *parent, const char **leaf);

/* Every entry under dir, depth first: fn(arg, rel path, attr) with rel
 * relative to dir ("a/b"); a non-zero return stops the walk. */
typedef int (*hsm_walk_fn)(void *arg, const char *rel,
    const struct msg_attr *attr);
int	hsm_fs_walk(struct fsc *fs, uint64_t dir, hsm_walk_fn fn, void *arg);

#endif

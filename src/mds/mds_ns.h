/*
 * The MDS namespace store: inodes, directory entries, xattrs, layouts,
 * object id allocation and the durable destroy queue, in one SQLite
 * database (DIR/mds.db, WAL; commits written to the kernel, not fsync'd:
 * the durability of synchronous=NORMAL, see mds_vfs.h) behind one mutex.
 * The database belongs to one process at a time (unix-excl locking).
 *
 * Every function here is thread-safe (it takes the store's lock), runs its
 * changes in one transaction that is committed before it returns (so a
 * change acknowledged to a client survives kill -9 of the process; group
 * commit may share that transaction with concurrent requests), reads only
 * committed state, and returns 0 or a negative errno with POSIX meaning.
 *
 * Open handles live in memory only. A file unlinked while open keeps its
 * inode with nlink 0 (an orphan) until its last handle is closed; orphans
 * left by a crash are destroyed when the store is opened.
 *
 * Who does what on truncation: the MDS only records the new size (SETATTR
 * with MSG_SA_SIZE, OPEN with O_TRUNC); the client punches the objects.
 *
 * Layouts are stored and returned as a struct msg_layout followed by
 * nent struct msg_layout_ent (the lustre.lov xattr value). A directory's
 * layout is its default for new files (nent 0) and is copied to new
 * subdirectories; a file created in a directory without one takes the
 * root's default, else the file system default (1 stripe of 1 MiB).
 *
 * The store is one object in several files; a function's prefix names its
 * file: mds_ns_* (namespace, mds_ns.c), mds_open_* (open files,
 * mds_open.c), mds_xattr_* (mds_xattr.c), mds_layout_* (mds_layout.c),
 * mds_destroy_* (the destroy queue, mds_destroy.c).
 */
#ifndef FSX_MDS_NS_H
#define FSX_MDS_NS_H

#include <stddef.h>
#include <stdint.h>

#include "msg/msg.h"

#define MDS_ROOT_INO		1
#define MDS_LINK_MAX		65000
#define MDS_STRIPE_SIZE_DEF	(1024u * 1024u)
#define MDS_OID_BATCH		1024
#define MDS_LAYOUT_MAX	(sizeof(struct msg_layout) + \
	MSG_MAX_STRIPES * sizeof(struct msg_layout_ent))

struct mds_ns;

/* A layout in memory. */
struct mds_layout {
	struct msg_layout	hdr;
	struct msg_layout_ent	ent[MSG_MAX_STRIPES];
};

/* A destroy queue row. */
struct mds_destroy {
	int64_t		id;
	uint32_t	ost;
	uint64_t	oid;
};

int	mds_ns_open(const char *dir, struct mds_ns **out);
void	mds_ns_close(struct mds_ns *ns);

/* The OSTs new layouts may use (the default pool), sorted or not. */
int	mds_layout_set_pool(struct mds_ns *ns, const uint32_t *osts,
	    unsigned n);

int	mds_ns_lookup(struct mds_ns *ns, uint64_t parent, const char *name,
	    size_t namelen, struct msg_attr *out);
int	mds_ns_getattr(struct mds_ns *ns, uint64_t ino, struct msg_attr *out);
/*
 * A write or truncate by a caller without CAP_FSETID clears the mode
 * bits msg_killpriv names, as Linux does. Root stands for CAP_FSETID: the
 * MDS knows the caller's uid, not its capabilities. A SETATTR of the size
 * by another uid clears them (unless it sets the mode itself), so do
 * MSG_SA_KILLPRIV, an OPEN with O_TRUNC (MDS_OPEN_KILLPRIV) and an APPEND
 * (MSG_AP_KILLPRIV).
 *
 * 0 and *out; 1 and *out when sa asked only MSG_SA_KILLPRIV and there was
 * nothing to clear (nothing stored, nothing for others to drop). */
int	mds_ns_setattr(struct mds_ns *ns, const struct msg_setattr *sa,
	    struct msg_attr *out);

/*
 * Create a regular file and open it for writing. Without MSG_CR_EXCL an
 * existing regular file is opened instead (*created = 0). `dir_out`
 * (may be NULL) gets the parent's attributes as this change left them.
 */
int	mds_ns_create(struct mds_ns *ns, const struct msg_create *cr,
	    const char *name, uint64_t owner, struct msg_attr *out,
	    uint64_t *handle, struct mds_layout *lay, int *created,
	    struct msg_attr *dir_out);
/* Directories, fifos, sockets, devices and (handle-less) regular files. */
int	mds_ns_mknod(struct mds_ns *ns, const struct msg_create *cr,
	    const char *name, struct msg_attr *out);
int	mds_ns_symlink(struct mds_ns *ns, const struct msg_create *cr,
	    const char *name, const char *target, size_t targetlen,
	    struct msg_attr *out);
int	mds_ns_link(struct mds_ns *ns, uint64_t ino, uint64_t newparent,
	    const char *name, size_t namelen, struct msg_attr *out);
/* `dir_out` (may be NULL): the parent's attributes after the removal. */
int	mds_ns_unlink(struct mds_ns *ns, uint64_t parent, const char *name,
	    size_t namelen, struct msg_attr *dir_out);
/* The same; *child is the inode the name named, *gone 1 if it was
 * destroyed (no name and no open left); dir_time (may be NULL: now) the
 * directory's new mtime and ctime, unless its mtime is later. */
int	mds_ns_unlink_ino(struct mds_ns *ns, uint64_t parent, const char *name,
	    size_t namelen, struct msg_attr *dir_out, uint64_t *child,
	    int *gone, const struct timespec *dir_time);
int	mds_ns_rmdir(struct mds_ns *ns, uint64_t parent, const char *name,
	    size_t namelen);
int	mds_ns_rename(struct mds_ns *ns, uint64_t oldparent,
	    const char *oldname, size_t oldlen, uint64_t newparent,
	    const char *newname, size_t newlen, uint32_t flags);

/*
 * Fill buf (cap bytes) with msg_dirent records after `cookie`; "." and ".."
 * come first (cookies 1 and 2). -EINVAL when not even one entry fits.
 */
int	mds_ns_readdir(struct mds_ns *ns, uint64_t ino, uint64_t cookie,
	    void *buf, size_t cap, size_t *used, uint32_t *count, int *eof);
int	mds_ns_readlink(struct mds_ns *ns, uint64_t ino, char *buf,
	    size_t cap, size_t *len);

/* Handles belong to an owner (a connection): drop_owner closes them all
 * (without size updates) and returns how many. Opening a non-regular file
 * gives handle 0 and an empty layout (hdr.magic 0). */
/* in mds_open_file's flags: the O_TRUNC of a caller without CAP_FSETID
 * (not an open(2) flag; never stored with the handle) */
#define MDS_OPEN_KILLPRIV	0x80000000u
int	mds_open_file(struct mds_ns *ns, uint64_t ino, uint32_t flags,
	    uint64_t owner, struct msg_attr *out, uint64_t *handle,
	    struct mds_layout *lay);
int	mds_open_drop_owner(struct mds_ns *ns, uint64_t owner);
int	mds_open_close(struct mds_ns *ns, const struct msg_close *c,
	    struct msg_attr *out);
/* killpriv: clear S_ISUID, and S_ISGID with S_IXGRP (*mode_changed 1
 * if they were set), as a write by a writer without CAP_FSETID does */
int	mds_open_append(struct mds_ns *ns, uint64_t ino, uint64_t handle,
	    uint64_t length, int killpriv, uint64_t *offset, int *mode_changed);

/*
 * Xattrs. getxattr copies up to cap bytes and sets *len to the full size;
 * `want` is the caller's buffer size (0 = only asking the size), -ERANGE
 * when the value does not fit it. uid is the caller's (trusted.* is root's).
 */
int	mds_xattr_get(struct mds_ns *ns, uint64_t ino, uint32_t uid,
	    const char *name, size_t namelen, uint32_t want, void *buf,
	    size_t cap, size_t *len);
int	mds_xattr_set(struct mds_ns *ns, uint64_t ino, uint32_t uid,
	    const char *name, size_t namelen, const void *val, size_t vlen,
	    uint32_t flags);
int	mds_xattr_list(struct mds_ns *ns, uint64_t ino, uint32_t uid,
	    void *buf, size_t cap, size_t *len);
int	mds_xattr_remove(struct mds_ns *ns, uint64_t ino, uint32_t uid,
	    const char *name, size_t namelen);

int	mds_layout_get(struct mds_ns *ns, uint64_t ino,
	    struct mds_layout *lay);
/* On a dir: its default (stripe_count 0 and stripe_size 0 clears it). On a
 * regular file of size 0 never written: a new layout (old objects are
 * queued for destroy); -EEXIST when the file has data. */
int	mds_layout_set(struct mds_ns *ns, uint64_t ino, const void *blob,
	    size_t len);

/* Layout blob codec: validated decode of a hostile blob, and its size. */
int	mds_layout_decode(const void *blob, size_t len, struct mds_layout *l);
size_t	mds_layout_size(const struct mds_layout *l);

/*
 * The OST map, kept in the store (table ost) so it survives restarts: the
 * MDS learns OSTs only from MSG_OP_MDS_OSTADD and MSG_OP_OST_SETCAP.
 * ost_put inserts or updates (same index: new host, port, capacity) every
 * entry in one transaction; ost_setcap changes one capacity (-ENODEV for an
 * OST never added); ost_list gives the whole map sorted by index in a new
 * array (*out, free() it; NULL when empty).
 */
int	mds_ns_ost_put(struct mds_ns *ns, const struct msg_ost_ent *e,
	    unsigned n);
int	mds_ns_ost_setcap(struct mds_ns *ns, uint32_t ost, uint64_t capacity);
int	mds_ns_ost_list(struct mds_ns *ns, struct msg_ost_ent **out,
	    unsigned *nout);

/* Number of inodes (for statfs). */
uint64_t mds_ns_files(struct mds_ns *ns);
/* Bytes SQLite holds in memory in this process, its page caches above
 * all (each store connection's is bounded by cache_size, 64 MiB). */
uint64_t mds_ns_mem_bytes(void);

/* Destroy queue: up to max rows with id > after (returns how many), and
 * removal of done rows (one, or n in one transaction). The hook runs
 * (under the store's lock: it must only signal) after a commit that
 * queued rows. */
int	mds_destroy_next(struct mds_ns *ns, int64_t after,
	    struct mds_destroy *rows, int max);
void	mds_destroy_set_hook(struct mds_ns *ns, void (*fn)(void *),
	    void *arg);
int	mds_destroy_done(struct mds_ns *ns, int64_t id);
int	mds_destroy_done_many(struct mds_ns *ns, const int64_t *ids,
	    int n);
uint64_t mds_destroy_pending(struct mds_ns *ns);

#endif

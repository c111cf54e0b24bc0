/*
 * libfsx: the client library of the data path. It speaks the engine
 * protocol (src/msg/msg.h) to one fsx-mds for names and attributes and to
 * the fsx-oss processes for file data, mapping byte ranges onto stripes.
 * fsx-mount (FUSE) and lfs are built on it.
 *
 * Threads: every function may be called from many threads at once. Each
 * server (MDS, each OSS) has a small pool of connections; a request holds
 * one connection for its round trip. Reads and writes that touch several
 * objects issue the per-object requests in parallel (a few worker threads).
 *
 * Failures: a server that drops the connection (kill -9 and restart by the
 * provisioner) is reconnected with backoff for conf.retry_secs (default 60)
 * before the call fails with -EIO. Every request is resent as it is, with
 * the same request id, on a connection whose HELLO names this client (a
 * random id for the life of the struct fsc): the MDS answers a resent
 * request it already executed with that execution's reply, rebuilt
 * (mds_reply.h), also after it restarted, so a resent exclusive create or
 * unlink succeeds as its first attempt did and no answer is guessed here.
 * That includes APPEND: a resend gets the range the first one reserved.
 *
 * Every function returns 0 or a negative errno unless it says otherwise.
 * Data from servers is checked before use: a malformed reply is -EIO.
 *
 * Files: fsc_lease.c (sessions, callbacks, locks, held calls), fsc.c
 * (setup, inode cache, namespace, statfs), fsc_file.c
 * (fsc_file_*: open files and their I/O), fsc_xattr.c (fsc_xattr_*),
 * fsc_layout.c, fsc_ra.c (read-ahead), fsc_conn.c (connections, the OST
 * map), fsc_spec.c (mount specs), fsc_mountinfo.c (asking fsxd where
 * the MDS is), fsc_mcache.c (what a mount keeps under leases).
 */
#ifndef FSX_FSC_H
#define FSX_FSC_H

#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "msg/msg.h"

#define FSC_ROOT_INO		1	/* the MDS's root directory */
#define FSC_POOL_DEFAULT	4	/* connections per server */
#define FSC_RETRY_DEFAULT	60	/* seconds of reconnecting before EIO */

/*
 * Called after the MDS could not be reached, to learn where it listens now
 * (fsx-mount asks fsxd again). Returns 0 with host/port filled, or -errno to
 * keep the old address.
 */
typedef int (*fsc_resolve_fn)(void *arg, char *host, size_t hostlen,
    int *port);

/*
 * Leases (docs/leases.md): with conf.leases the client names itself to
 * the MDS (a session) and keeps a callback connection, read by a thread
 * of its own (fsc_session_start). The MDS revokes leases on it: on_revoke
 * is called for each REVOKE (before the answer goes back, so the change
 * that caused it is not acknowledged before the caller dropped what it
 * cached), on_drop when everything cached must go (the callback
 * connection was lost or re-made, the session was evicted). Both run in
 * the callback thread, never inside another libfsx call. on_revoke
 * returns 0, or 1 to have the answer wait until no call is held
 * (fsc_hold_begin): the recall of a delegation.
 */
typedef int (*fsc_revoke_fn)(void *arg, const struct msg_revoke *rv,
    const char *name);
typedef void (*fsc_drop_fn)(void *arg);

struct fsc_conf {
	const char	*mds_host;
	int		 mds_port;
	uint8_t		 secret[MSG_SECRET_LEN];
	int		 retry_secs;	/* 0: FSC_RETRY_DEFAULT; <0: no retry */
	int		 pool_size;	/* 0: FSC_POOL_DEFAULT */
	int		 workers;	/* parallel object I/O threads; 0: 4 */
	int		 readahead_kb;	/* per-handle sequential read-ahead
					   window; 0: 8192; <0: off (FUSE
					   does its own) */
	int		 noatime;	/* reads never move atime (else
					   relatime, reported at close) */
	int		 nolocal;	/* never read objects from their
					   files here (fsc_local.c) */
	fsc_resolve_fn	 resolve_mds;	/* optional */
	void		*resolve_arg;
	int		 leases;	/* open a session (see above) */
	fsc_revoke_fn	 on_revoke;
	fsc_drop_fn	 on_drop;
	void		*cb_arg;
};

/* A file's layout: stripe size and its objects, stripe k on ent[k]. */
struct fsc_layout {
	uint32_t		stripe_size;
	uint32_t		count;		/* number of entries */
	int32_t			stripe_offset;
	uint32_t		pad;
	struct msg_layout_ent	ent[];
};

struct fsc;
struct fsc_file;

struct fsc	*fsc_open(const struct fsc_conf *conf, int *err);
void		 fsc_free(struct fsc *fs);

/*
 * Sessions (fsc_lease.c). fsc_session_start starts the callback thread
 * (after a fork, when the caller daemonizes: threads do not survive it).
 * fsc_session_epoch: a number that changes whenever the callback
 * connection is lost or made, 0 while there is none: a lease in a reply
 * counts only if the epoch was the same, and not 0, before the request
 * and after the reply.
 */
int		 fsc_session_start(struct fsc *fs);

/*
 * The round trips this process sent, by opcode, as "rt_<op> N" lines for
 * the nonzero ones (msg_op_name); writes at most cap bytes (whole lines)
 * and returns their length.
 */
size_t		 fsc_rt_stats(char *buf, size_t cap);
/* The reads served from objects' files here (fsc_local.c), as
 * "local_reads N" and "local_read_bytes N" lines; fsc_rt_stats ends
 * with them. */
size_t		 fsc_local_stats(char *buf, size_t cap);
/* The nonzero counters of v[0..n) as "<prefix><name(i)> N" lines, the
 * same way (fsc_rt_stats; fsx-mount's FUSE counters). */
size_t		 fsc_counters_text(char *buf, size_t cap, const char *prefix,
		    const char *(*name)(int), const atomic_uint_fast64_t *v,
		    int n);
uint64_t	 fsc_session_epoch(struct fsc *fs);

/*
 * Calls acknowledged before they are made (docs/leases.md, "Delegated
 * directories"): fsc_hold_begin when one is promised (before the
 * caller's answer), fsc_hold_end when it has been made (or failed).
 * While any is held, every other MDS call of this client waits
 * (fsc_mds_call), except those of a thread that said fsc_hold_exempt:
 * the one that makes the held calls, in the order promised. The answer
 * to a REVOKE whose on_revoke returned 1 goes when none is held.
 * fsc_hold_wait: wait until none is held. fsc_hold_begin refuses
 * (-EBUSY) while a call waits, so that waiting ends.
 */
int		 fsc_hold_begin(struct fsc *fs);
void		 fsc_hold_end(struct fsc *fs);
void		 fsc_hold_exempt(void);
void		 fsc_hold_wait(struct fsc *fs);

/*
 * Cluster-wide locks (fsc_lease.c): lk as msg.h's LOCK (ino, owner,
 * range, type, MSG_LK_* flags); TEST fills lk with the conflicting lock
 * or type MSG_LK_UN. With MSG_LK_WAIT the request waits on a connection
 * of its own for as long as it takes; fsc_lockwait_cancel (from another
 * thread: an interrupt) makes it return -EINTR. -EAGAIN: a conflict and
 * no wait; -EDEADLK.
 */
struct fsc_lockwait {
	pthread_mutex_t	mu;
	int		fd;
	int		cancelled;
};
void	fsc_lockwait_init(struct fsc_lockwait *w);
void	fsc_lockwait_fini(struct fsc_lockwait *w);
void	fsc_lockwait_cancel(struct fsc_lockwait *w);
int	fsc_lock(struct fsc *fs, struct msg_lock *lk, struct fsc_lockwait *w);

/* Root inode (MDS numbering) and the OST count last seen in the OST map. */
uint64_t	 fsc_root(const struct fsc *fs);
int		 fsc_ost_count(struct fsc *fs);

/* Namespace. `cred` is the caller's uid/gid, checked by the MDS. */
/* -ENOENT with attr->lease MSG_LEASE_ENTRY (ino 0): the name's absence is
 * leased, revoked like the name (docs/leases.md). */
int	fsc_lookup(struct fsc *fs, uint64_t parent, const char *name,
	    const struct msg_cred *cred, struct msg_attr *attr);
/* Attributes; when the file is open for write somewhere, the size is
 * the largest of the MDS's and the one the objects imply (glimpse). */
int	fsc_getattr(struct fsc *fs, uint64_t ino, const struct msg_cred *cred,
	    struct msg_attr *attr);
/*
 * The sole writer (docs/leases.md, "Writers"). fsc_sole_writer: 1 if
 * attr, as the MDS sent it, is a regular file whose every open for write
 * (attr->open_writers) is a handle of this client. fsc_writer_attr:
 * while such a file is still open for write here, what a GETATTR would
 * answer, from the attributes the MDS sent then (nobody else can have
 * changed them while the lease holds): the size as this client knows it,
 * st_blocks from the objects' files (local reads). 1 with attr's size and
 * blocks set, 0 when the MDS must be asked.
 */
int	fsc_sole_writer(struct fsc *fs, const struct msg_attr *attr);
/* 1 if ino is open for write here: its size is this client's to say, so
 * attributes leased from the MDS must not answer for it (the MDS forgets
 * open handles when it restarts, and then leases their files). */
int	fsc_writing(struct fsc *fs, uint64_t ino);
int	fsc_writer_attr(struct fsc *fs, struct msg_attr *attr);
/*
 * A directory's attributes as the MDS returned them with this client's
 * last change in it (a create or unlink), when that is less than max_age_ns
 * old and no change to the directory has been made here since: 1, *attr and
 * *age_ns; else 0. The kernel forgets a directory's attributes after every
 * change in it and asks again at the next permission check; answering
 * from here saves that GETATTR (it is what a GETATTR sent at the time of
 * the change would have answered). Replies that overlapped another change
 * made here are not kept, as their order at the MDS is unknown.
 */
int	fsc_dir_attr(struct fsc *fs, uint64_t ino, uint64_t max_age_ns,
	    struct msg_attr *attr, uint64_t *age_ns);
/* Keep attr as directory ino's attributes now (an unlink acknowledged
 * under a delegation, whose times the client sets), unless a change
 * made here is in flight: 1 if kept. */
int	fsc_dir_note(struct fsc *fs, uint64_t ino, const struct msg_attr *attr);
/* Drop what is kept for directory ino. */
void	fsc_dir_forget(struct fsc *fs, uint64_t ino);
/* UNLINK of name in parent, leaving the directory attributes kept above
 * alone: the caller noted them when it acknowledged the unlink, with
 * mtime and ctime dir_time, which the MDS is asked to set too. */
int	fsc_unlink_held(struct fsc *fs, uint64_t parent, const char *name,
	    const struct msg_cred *cred, const struct msg_time *dir_time);
/* sa->ino/cred/valid and the fields named by valid. With MSG_SA_SIZE on a
 * regular file the objects are punched to the new size (shrink) after the
 * MDS accepted it. `f` may be NULL (then the layout is fetched). */
int	fsc_setattr(struct fsc *fs, struct fsc_file *f,
	    const struct msg_setattr *sa, struct msg_attr *attr);
/* Create a regular file and open it with open(2) flags `flags`. */
int	fsc_create(struct fsc *fs, uint64_t parent, const char *name,
	    uint32_t mode, int flags, const struct msg_cred *cred,
	    struct msg_attr *attr, struct fsc_file **fp);
/* Directories, fifos, sockets, devices; a regular file is created and
 * closed again. */
int	fsc_mknod(struct fsc *fs, uint64_t parent, const char *name,
	    uint32_t mode, uint64_t rdev, const struct msg_cred *cred,
	    struct msg_attr *attr);
int	fsc_mkdir(struct fsc *fs, uint64_t parent, const char *name,
	    uint32_t mode, const struct msg_cred *cred, struct msg_attr *attr);
int	fsc_symlink(struct fsc *fs, uint64_t parent, const char *name,
	    const char *target, const struct msg_cred *cred,
	    struct msg_attr *attr);
/* Copies the target into buf (cap bytes, NUL added when it fits); *len is
 * the target's length. -ERANGE when cap is too small for target + NUL. */
int	fsc_readlink(struct fsc *fs, uint64_t ino, const struct msg_cred *cred,
	    char *buf, size_t cap, size_t *len);
int	fsc_link(struct fsc *fs, uint64_t ino, uint64_t newparent,
	    const char *newname, const struct msg_cred *cred,
	    struct msg_attr *attr);
int	fsc_unlink(struct fsc *fs, uint64_t parent, const char *name,
	    const struct msg_cred *cred);
int	fsc_rmdir(struct fsc *fs, uint64_t parent, const char *name,
	    const struct msg_cred *cred);
/* flags: MSG_RN_NOREPLACE, MSG_RN_EXCHANGE */
int	fsc_rename(struct fsc *fs, uint64_t oldparent, const char *oldname,
	    uint64_t newparent, const char *newname, uint32_t flags,
	    const struct msg_cred *cred);

/*
 * One page of a directory, starting after `cookie` (0: the start). `cb` is
 * called per entry with the entry's own cookie (resume point after it); a
 * non-zero return from cb stops the walk (*eof is then 0). At most about
 * max_bytes of entries are asked for.
 */
typedef int (*fsc_dirent_fn)(void *arg, const char *name, size_t namelen,
    uint64_t ino, uint32_t mode, uint64_t cookie);
int	fsc_readdir(struct fsc *fs, uint64_t ino, const struct msg_cred *cred,
	    uint64_t cookie, uint32_t max_bytes, fsc_dirent_fn cb, void *arg,
	    int *eof);

/* Files. open with O_TRUNC truncates (punching the objects). */
int	fsc_file_open(struct fsc *fs, uint64_t ino, int flags,
	    const struct msg_cred *cred, struct msg_attr *attr,
	    struct fsc_file **fp);
/* Sends the size and mtime when written, releases the MDS handle, frees f. */
int	fsc_file_close(struct fsc *fs, struct fsc_file *f);
/* The same; *a is the MDS's answer to the CLOSE (a->ino 0: none was
 * sent), with the lease it granted. */
int	fsc_file_close_attr(struct fsc *fs, struct fsc_file *f,
	    struct msg_attr *a);
/* The file's layout (borrowed; valid until the handle is closed). */
const struct fsc_layout *fsc_file_layout(const struct fsc_file *f);

/* Read up to len bytes at off into buf; *done is what was read (short at
 * EOF). Holes and short objects read as zeros up to the file size. */
int	fsc_file_read(struct fsc *fs, struct fsc_file *f, void *buf, size_t len,
	    uint64_t off, size_t *done);
/* Write len bytes at off; *done is len on success. */
int	fsc_file_write(struct fsc *fs, struct fsc_file *f, const void *buf,
	    size_t len, uint64_t off, size_t *done);
/*
 * Write-behind, for a caller that acknowledges a write before it is done
 * (fsx-mount replies to the kernel, then writes from the same buffer):
 * fsc_file_write_begin registers [off, off+len) as in flight (waiting while it
 * overlaps another or FSC_WB_MAX are in flight) and returns an earlier
 * write-behind failure not yet told to this handle; fsc_file_write_end
 * takes the outcome. Reads, truncates, fsync, flush and close wait for the
 * writes in flight; a failure is told once to every handle open for write
 * when it happened, by its next begin, fsync, flush or close (fsc_file.c).
 */
int	fsc_file_write_begin(struct fsc *fs, struct fsc_file *f, uint64_t off,
	    size_t len);
void	fsc_file_write_end(struct fsc *fs, struct fsc_file *f, uint64_t off,
	    size_t len, int rc);
/* Wait for write-behind, then report (and clear) its failure. */
int	fsc_file_flush(struct fsc *fs, struct fsc_file *f);

/* Append: the MDS reserves the offset (returned in *off), then write. */
/* fsx-mount's max_write: the kernel splits an O_APPEND write(2) of up to
 * this many bytes from a buffer that is not page-aligned into a piece of
 * 256 pages less the buffer's offset in its page, then the rest. */
#define FSC_APPEND_SPLIT	(1u << 20)
/* killpriv: the writer lacks CAP_FSETID (MSG_AP_KILLPRIV) */
int	fsc_file_append(struct fsc *fs, struct fsc_file *f, const void *buf,
	    size_t len, int killpriv, uint64_t *off);
/* fdatasync every object (in parallel), then store size/mtime if dirty. */
int	fsc_file_fsync(struct fsc *fs, struct fsc_file *f);
/*
 * fallocate(2) on [off, off+len): mode 0 or MSG_FA_KEEP_SIZE (allocate),
 * MSG_FA_PUNCH_HOLE|MSG_FA_KEEP_SIZE, MSG_FA_ZERO_RANGE (optionally with
 * KEEP_SIZE), each object getting its share of the range. Without
 * KEEP_SIZE the size grows to off+len (sent at close, as for a write).
 * -EOPNOTSUPP for other modes, -EINVAL for len 0, -EBADF read-only.
 */
int	fsc_file_fallocate(struct fsc *fs, struct fsc_file *f, uint32_t mode,
	    uint64_t off, uint64_t len);

int	fsc_statfs(struct fsc *fs, struct msg_statfs *st);

/*
 * Extended attributes. cap 0 asks for the size only (*len). Two names are
 * special: "lustre.lov" reads/sets the layout (struct msg_layout + entries,
 * as GETLAYOUT/SETLAYOUT), and "lustre.fsx.ostdf" is a read-only text:
 *	MDT 0 <bsize> <blocks> <bfree> <bavail> <files> <ffree>
 *	OST <idx> <bsize> <blocks> <bfree> <bavail> <files> <ffree>
 * one line per OST.
 */
#define FSC_XATTR_LOV	"lustre.lov"
#define FSC_XATTR_OSTDF	"lustre.fsx.ostdf"
int	fsc_xattr_get(struct fsc *fs, uint64_t ino, const char *name,
	    const struct msg_cred *cred, void *buf, size_t cap, size_t *len);
/* flags: MSG_XA_CREATE, MSG_XA_REPLACE */
int	fsc_xattr_set(struct fsc *fs, uint64_t ino, const char *name,
	    const void *val, size_t len, uint32_t flags,
	    const struct msg_cred *cred);
int	fsc_xattr_list(struct fsc *fs, uint64_t ino,
	    const struct msg_cred *cred,
	    void *buf, size_t cap, size_t *len);
int	fsc_xattr_remove(struct fsc *fs, uint64_t ino, const char *name,
	    const struct msg_cred *cred);

/* Layout of any inode (free with free()); and setting one (lfs setstripe). */
int	fsc_getlayout(struct fsc *fs, uint64_t ino, const struct msg_cred *cred,
	    struct fsc_layout **out);
int	fsc_xattr_setlayout(struct fsc *fs, uint64_t ino,
	    const struct msg_cred *cred,
	    uint32_t stripe_size, int32_t stripe_count, int32_t stripe_offset);
/* Parse a msg_layout (+ entries) from untrusted bytes; NULL if malformed. */
struct fsc_layout *fsc_layout_parse(const void *buf, size_t len);

/*
 * Layout math (fsc_layout.c). A file of stripe count c and stripe size s
 * puts file offset x on stripe k = (x / s) mod c at object offset
 * (x / (s*c)) * s + x mod s.
 */
struct fsc_extent {
	uint32_t	stripe;		/* index into the layout */
	uint32_t	pad;
	uint64_t	obj_off;	/* offset in that object */
	uint64_t	file_off;
	uint64_t	len;		/* never crosses a stripe unit */
};
void	 fsc_layout_locate(uint64_t off, uint32_t ssize, uint32_t count,
	    uint32_t *stripe, uint64_t *obj_off);
uint64_t fsc_layout_file_off(uint32_t stripe, uint64_t obj_off,
	    uint32_t ssize, uint32_t count);
/* Size object `stripe` has when the file is `fsize` bytes long. */
uint64_t fsc_layout_obj_size(uint64_t fsize, uint32_t stripe,
	    uint32_t ssize, uint32_t count);
/* File size implied by object `stripe` being `osize` bytes long. */
uint64_t fsc_layout_file_end(uint32_t stripe, uint64_t osize,
	    uint32_t ssize, uint32_t count);
/* Split [off, off+len) into stripe units in file order. Returns the number
 * of extents (at most max; -E2BIG when more are needed, -EINVAL for a
 * zero stripe size or count). */
int	 fsc_layout_map(uint64_t off, uint64_t len, uint32_t ssize,
	    uint32_t count, struct fsc_extent *ext, int max);

/*
 * A mount spec (fsc_spec.c): "fs-<hex>", "fs-<hex>@tcp:/<name>[/<dir>]"
 * or "fs-<hex>.fsx.<region>.amazonaws.com@tcp:/<name>[/<dir>]".
 * Empty strings for the parts not given. 0 or -EINVAL/-ENAMETOOLONG.
 */
struct fsc_spec {
	char	fsid[24];
	char	region[64];
	char	mount_name[16];		/* FSx: [A-Za-z0-9_-]{1,8} */
	char	subdir[MSG_PATH_MAX];	/* without leading '/' */
};
int	fsc_spec_parse(const char *spec, struct fsc_spec *out);

/*
 * Ask fsxd at endpoint where the MDS of fsid is (fsc_mountinfo.c). A
 * mount_name (may be empty) must match the file system's. On failure
 * *msg says why ("<AWS error type>: <message>" for an error answer).
 * Returns 0 (host, port, secret filled), -EINVAL (bad endpoint),
 * -EPROTO (bad reply), -EHOSTUNREACH (fsxd unreachable) or -EACCES (an
 * error answer, a file system not available, a mount name that differs).
 */
int	fsc_mount_info(const char *endpoint, const char *fsid,
	    const char *mount_name, const char *region, char *host,
	    size_t hostlen, int *port, uint8_t *secret, char *msg,
	    size_t msglen);

#endif

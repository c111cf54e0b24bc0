/*
 * fsx-mount's FUSE side, shared between src/cmd/fsx-mount.c (the
 * namespace and file handlers, options, main) and its parts in the
 * library: fm_close.c (RELEASE, and the CLOSEs in flight), fm_dir.c
 * (directory listings), fm_lock.c (flock and POSIX locks through the
 * MDS's lock manager), fm_xattr.c (extended attributes, and the
 * privileges a write clears), fm_io.c (/dev/fuse reads and writes, for
 * what libfuse cannot negotiate), fm_uring.c (requests over io_uring,
 * where the kernel allows it), fm_wb.c (write-behind senders for the
 * rings), fm_unl.c (unlinks under a directory delegation), fm_stats.c
 * (counters of FUSE requests and round trips, and the stats file) and
 * fm_opts.c (the command line's -o options and usage).
 *
 * Contract: fm_fs is set before the FUSE session starts and stays valid
 * until it ends; every handler here replies to its request exactly once.
 */
#ifndef FSC_FM_H
#define FSC_FM_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <limits.h>
#include <stdint.h>

#include "auth/sigv4.h"
#include "fsc/fsc.h"

extern struct fsc	*fm_fs;

/* What the command line said (fm_opts.c fills -o; fsx-mount.c the rest). */
struct fm_conf {
	const char	*spec;
	const char	*mnt;
	char		 fsid[32];
	char		 mount_name[64];
	char		 subdir[MSG_PATH_MAX];
	char		 region[SIGV4_SCOPE_PART_MAX];
	char		 endpoint[512];
	char		 mds_arg[128];
	char		 secret_file[PATH_MAX];
	int		 foreground;
	int		 debug;
	int		 writeback;
	int		 sync_write;	/* no write-behind */
	int		 retry_secs;
	int		 readahead_kb;
	unsigned	 stat_blksize;	/* -o stat_blksize=N: st_blksize */
	int		 noleases;
	int		 nolocal;	/* -o nolocalread (fsc_local.c) */
	int		 nouring;	/* -o nouring (fm_uring.c) */
	int		 nodeleg;	/* -o nodeleg (fm_unl.c) */
	char		 stats_path[PATH_MAX];	/* -o stats=PATH (fm_stats.c) */
	char		 fuse_opts[2048];
};
extern struct fm_conf	 fm;

/* ---- options (fm_opts.c) ---- */

/* Split one -o string: ours are taken into fm, mount(8)-only ones
 * dropped, the rest added to fm.fuse_opts for FUSE. */
void	fm_opts(const char *s);
int	fm_opt_has(const char *o);	/* in fm.fuse_opts */
void	fm_opt_add(const char *o);	/* to fm.fuse_opts; fatal if full */
void	fm_usage(int code);		/* prints it and exits with code */

extern struct fuse_session *fm_se;	/* NULL until mounted */

uint64_t	fm_ino(uint64_t i);		/* FUSE <-> MDS inode number */
void		fm_err(fuse_req_t req, int rc);	/* reply -rc (EIO if odd) */
void		fm_cred(fuse_req_t req, struct msg_cred *c);	/* caller's */

struct fsc_mc_guard;
/* The mount cache's guard (fsc_mcache.h) with this mount's session epoch
 * (none with -o noleases); check takes the cache's mutex. */
void	fm_guard_begin(struct fsc_mc_guard *g);
int	fm_guard_check(const struct fsc_mc_guard *g);

/* ---- closes (fm_close.c) ---- */

void	fm_release(fuse_req_t req, fuse_ino_t ino,
	    struct fuse_file_info *fi);
/* Wait (bounded) for this mount's CLOSEs of MDS inode ino in flight;
 * 1 if there were any. */
int	fm_closing_wait(uint64_t ino);

/* ---- locks (fm_lock.c) ---- */

/* 1 if this mount may hold POSIX locks on ino (a hint, see fm_lock.c) */
int	fm_locked_maybe(uint64_t ino);
/* Release every lock of fi's owner on ino: POSIX ones, or flock ones. */
void	fm_unlock_all(fuse_ino_t ino, struct fuse_file_info *fi,
	    uint32_t flags);
void	fm_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
	    struct flock *fl);
void	fm_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
	    struct flock *fl, int sleep);
void	fm_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
	    int op);

/* ---- extended attributes (fm_xattr.c) ---- */

/* Forget what fm_kill_privs knows of ino (its lease was revoked), or of
 * every inode (the session was lost). */
void	fm_privs_forget(uint64_t ino);
/* The MDS just sent ino's attributes a (an open for write, or a create:
 * created 1, so no security.capability): without S_ISUID or S_ISGID to
 * clear, its writes need not ask for FM_PRIV_NS. */
void	fm_privs_seen(uint64_t ino, const struct msg_attr *a, int created);
void	fm_privs_forget_all(void);
/*
 * Before a write to FUSE inode ino, when the kernel leaves it to us
 * (fm_io_killpriv; else nothing): remove its security.capability, and with sid (a
 * writer without CAP_FSETID) clear S_ISUID, and S_ISGID with group
 * execute, as Linux does for any write. What the mount holds under a
 * lease, or learnt from the MDS in the last second, answers without a
 * round trip. 0, or a negative errno for the write.
 */
int	fm_kill_privs(uint64_t ino, int sid);
void	fm_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
	    const char *value, size_t size, int flags);
void	fm_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
	    size_t size);
void	fm_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void	fm_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

/* ---- directories (fm_dir.c) ---- */

void	fm_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void	fm_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	    struct fuse_file_info *fi);
void	fm_releasedir(fuse_req_t req, fuse_ino_t ino,
	    struct fuse_file_info *fi);
void	fm_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
	    struct fuse_file_info *fi);

/* ---- /dev/fuse I/O (fm_io.c) ---- */

/* Read and write the session's /dev/fuse through fm_io (after
 * fuse_session_mount). 0 or a negative errno. */
int	fm_io_attach(struct fuse_session *se);
/* 1 if the kernel agreed to FUSE_HANDLE_KILLPRIV_V2: writes leave the
 * privileges they clear to us (fm_kill_privs). */
int	fm_io_killpriv(void);
/* 1 if the request this thread handles asks us to clear S_ISUID and
 * S_ISGID: a WRITE by a caller without CAP_FSETID
 * (FUSE_WRITE_KILL_SUIDGID), a chown or such a truncate (a SETATTR with
 * FATTR_KILL_SUIDGID). */
int	fm_io_kills(void);
/* Reads of /dev/fuse that brought FORGETs, and the inodes they dropped. */
void	fm_io_forget_stats(unsigned long *reads, unsigned long *forgets);
/* Note what a request (n bytes in /dev/fuse's layout) asks of us: the
 * KILL_SUIDGID mark, the INIT offer. Before libfuse handles it. */
void	fm_io_note(const void *buf, size_t n);

/* ---- requests over io_uring (fm_uring.c) ---- */

/* 1 if the kernel's INIT (its flags and flags2) offers FUSE over
 * io_uring and this mount takes it (not -o nouring, not writeback). */
int	fm_uring_want(uint32_t in_flags, uint32_t in_flags2);
/* Start the queues' threads for requests of up to max_write bytes
 * (max_pages pages), before the INIT reply: 1 if every CPU's queue has
 * one, so the reply may ask (fm_uring_flag2 in its flags2); else 0 and
 * nothing is left running. */
int	fm_uring_prepare(uint32_t max_write, uint32_t max_pages);
uint32_t fm_uring_flag2(void);
/* A reply on its way to /dev/fuse: if its request came over io_uring,
 * staged there; its length, or -1 (write it to /dev/fuse). */
ssize_t	fm_uring_reply(const struct iovec *iov, int count);
unsigned long fm_uring_requests(void);	/* that came over io_uring */
/* 1 if the request this thread handles came over io_uring and its payload
 * was copied out of the entry, its reply sent at once (a WRITE of up to
 * 128 KiB): the next request may already be in the entry. */
int	fm_uring_copied(void);
/* After the session loop: wait (bounded) for the threads to end; how
 * many have not. */
int	fm_uring_stop(void);

/* ---- write-behind senders for ring threads (fm_wb.c) ---- */

/* After fsc_file_write_begin and the reply: queue a copy of the write
 * for a sender thread (fsc_file_write, fsc_file_write_end). 0, or -1
 * when not queued: the caller sends it itself. */
int	fm_wb_send(struct fsc_file *f, const void *buf, size_t len,
	    uint64_t off);
/* After the session loop: finish what is queued, end the senders. */
void	fm_wb_stop(void);
unsigned long fm_wb_sent(void);	/* writes the senders ran */

/* ---- unlinks under a delegation (fm_unl.c) ---- */

/* 1 if req was answered (the unlink acknowledged, made by the sender
 * thread); 0: the caller unlinks as before. */
int	fm_unl_try(fuse_req_t req, fuse_ino_t parent, const char *name);
/* fm_revoke: dir's delegation is recalled; returns on_revoke's 1 (the
 * answer waits until the acknowledged unlinks are made). */
int	fm_unl_recall(uint64_t dir);
/* fsyncdir: wait until they are made; dir's error since the last call
 * (negative errno), 0 if none. */
int	fm_unl_sync(uint64_t dir);
/* After the session loop: make what is queued, end the sender. */
void	fm_unl_stop(void);
void	fm_unl_counts(unsigned long *early, unsigned long *errors,
	    unsigned long *recalls);

/* ---- counters and the stats file (fm_stats.c) ---- */

#define FM_FUSE_OPS(X) X(lookup) X(getattr) X(setattr) \
	X(readlink) X(mknod) X(mkdir) X(unlink) X(rmdir) X(symlink) \
	X(rename) X(link) X(open) X(read) X(write) X(flush) X(release) \
	X(fsync) X(fallocate) X(opendir) X(readdir) X(releasedir) \
	X(fsyncdir) X(statfs) \
	X(setxattr) X(getxattr) X(listxattr) X(removexattr) X(create) \
	X(getlk) X(setlk) X(flock)

enum fm_fuse_op {
#define FM_X(n) FM_OP_##n,
	FM_FUSE_OPS(FM_X)
#undef FM_X
	FM_OP_COUNT
};

/* Count one FUSE request of kind op. */
void	fm_count(enum fm_fuse_op op);

/*
 * The counters as "fuse_<op> N" and fsc_rt_stats's "rt_<op> N" lines
 * (nonzero ones only) into buf; returns the length (at most cap).
 */
size_t	fm_stats_text(char *buf, size_t cap);

/*
 * fm_stats_block blocks SIGUSR1 and SIGUSR2 in the caller: call it before
 * any other thread starts, so that every thread inherits the mask. With
 * path set, fm_stats_start starts a thread that writes fm_stats_text to
 * path (atomically, by rename) at every SIGUSR1; fm_stats_stop writes the
 * file once more and ends it. Both are no-ops when path is NULL or empty.
 */
int	fm_stats_block(void);
int	fm_stats_start(const char *path);
void	fm_stats_stop(void);

#endif

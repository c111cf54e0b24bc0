/*
 * fsx-mount's reads and writes of /dev/fuse (see fm.h): libfuse's own,
 * through its custom I/O hooks, so that the mount can answer for what
 * Debian's libfuse (3.14) cannot negotiate: FUSE_HANDLE_KILLPRIV_V2.
 *
 * Why: without it the kernel asks for security.capability (a GETXATTR)
 * before every buffered write, to clear it and S_ISUID/S_ISGID as Linux
 * does; a build on the mount sent one per write (6,467 of its 29,000
 * FUSE requests). With it the kernel asks only once per inode until its
 * next attribute refresh (4,066 in the build; 4 KiB writes of one
 * process went from 13.9k/s to 20.8k/s), leaves the clearing to the
 * file system, and marks each WRITE of a caller without CAP_FSETID with
 * FUSE_WRITE_KILL_SUIDGID (and a chown's or truncate's SETATTR with
 * FATTR_KILL_SUIDGID); fsx-mount clears what the file has
 * (fm_kill_privs, fm_setattr), from what it knows under its leases.
 *
 * Contract:
 * - fm_io_attach, once, after fuse_session_mount and before the loop.
 * - The INIT reply asks for FUSE_HANDLE_KILLPRIV_V2 when the kernel
 *   offered it and the mount does not use the writeback cache (whose
 *   writes come from the kernel's flusher, not from the writer);
 *   fm_io_killpriv is 1 from then on.
 * - fm_io_kills: the KILL_SUIDGID mark of the WRITE or SETATTR request
 *   this thread is handling (libfuse 3.14 passes neither on). libfuse
 *   reads a request and handles it in the same worker thread, so the
 *   read hook notes it in a thread variable that the next read
 *   overwrites.
 * - The INIT reply also asks for FUSE over io_uring when the kernel
 *   offers it and fm_uring_prepare has every CPU's queue ready
 *   (fm_uring.c); from then on a reply to a request that came from a ring
 *   goes back to that ring (fm_uring_reply), not to /dev/fuse.
 *   fm_io_note is the read hook's look at a request, for both paths.
 * - Once requests come over io_uring, /dev/fuse carries only what the
 *   kernel keeps off the rings: FORGETs (one per inode it drops, so one
 *   per unlink) and INTERRUPTs. fsx-mount keeps no lookup counts, so a
 *   FORGET needs no answer and no haste: a thread that has just read
 *   one waits FM_IO_FORGET_PAUSE_NS before its next read, and what the
 *   kernel queued meanwhile comes in one BATCH_FORGET. Each read wakes a
 *   thread (with interrupts to another CPU on this VM); an unlink went
 *   from five context switches in the mount to four. An INTERRUPT may
 *   wait that long too. Counted: forget_reads (reads that brought
 *   forgets), forgets (inodes forgotten).
 * - Everything else passes through unchanged; a short or odd request is
 *   left to libfuse, which rejects it.
 */
#include <errno.h>
#include <linux/fuse.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "fsc/fm.h"

#define FM_IO_FORGET_PAUSE_NS	2000000	/* 2 ms: a BATCH_FORGET's worth */

static _Thread_local int	fm_io_kill;	/* this thread's request */
static _Thread_local int	fm_io_forgot;	/* last read brought forgets */
static unsigned long		fm_io_forget_reads, fm_io_forgets;
static uint64_t			fm_io_init_unique;	/* 0: none seen */
static int			fm_io_offered;	/* the kernel offered V2 */
static int			fm_io_v2;	/* and we asked for it */

static uint32_t			fm_io_in_flags, fm_io_in_flags2;

void
fm_io_note(const void *buf, size_t n)
{
	struct fuse_in_header h;
	struct fuse_setattr_in sa;
	struct fuse_write_in w;
	struct fuse_init_in in;

	fm_io_kill = 0;
	if (n < sizeof(h))
		return;
	memcpy(&h, buf, sizeof(h));
	if (h.opcode == FUSE_WRITE && n >= sizeof(h) + sizeof(w)) {
		memcpy(&w, (const char *)buf + sizeof(h), sizeof(w));
		fm_io_kill = (w.write_flags & FUSE_WRITE_KILL_SUIDGID) != 0;
	} else if (h.opcode == FUSE_SETATTR && n >= sizeof(h) + sizeof(sa)) {
		memcpy(&sa, (const char *)buf + sizeof(h), sizeof(sa));
		fm_io_kill = (sa.valid & FATTR_KILL_SUIDGID) != 0;
	} else if (h.opcode == FUSE_INIT &&
	    n >= sizeof(h) + offsetof(struct fuse_init_in, flags2)) {
		memset(&in, 0, sizeof(in));
		memcpy(&in, (const char *)buf + sizeof(h),
		    n >= sizeof(h) + offsetof(struct fuse_init_in, unused) ?
		    offsetof(struct fuse_init_in, unused) :
		    offsetof(struct fuse_init_in, flags2));
		__atomic_store_n(&fm_io_offered,
		    (in.flags & FUSE_HANDLE_KILLPRIV_V2) != 0,
		    __ATOMIC_RELEASE);
		fm_io_in_flags = in.flags;
		fm_io_in_flags2 = in.flags2;
		__atomic_store_n(&fm_io_init_unique, h.unique,
		    __ATOMIC_RELEASE);
	}
}

/* How many inodes a FORGET or BATCH_FORGET read of n bytes drops; 0 for
 * any other request. */
static unsigned long
fm_io_forget_count(const void *buf, size_t n)
{
	struct fuse_batch_forget_in b;
	struct fuse_in_header h;

	if (n < sizeof(h))
		return 0;
	memcpy(&h, buf, sizeof(h));
	if (h.opcode == FUSE_FORGET)
		return 1;
	if (h.opcode != FUSE_BATCH_FORGET || n < sizeof(h) + sizeof(b))
		return 0;
	memcpy(&b, (const char *)buf + sizeof(h), sizeof(b));
	return b.count;
}

static ssize_t
fm_io_read(int fd, void *buf, size_t len, void *ud)
{
	struct timespec pause = { 0, FM_IO_FORGET_PAUSE_NS };
	unsigned long k;
	ssize_t n;

	(void)ud;
	if (fm_io_forgot && fm_uring_requests() > 0)
		(void)nanosleep(&pause, NULL);	/* contract: FORGETs */
	n = read(fd, buf, len);
	fm_io_forgot = 0;
	if (n > 0) {
		if ((k = fm_io_forget_count(buf, (size_t)n)) > 0) {
			fm_io_forgot = 1;
			__atomic_add_fetch(&fm_io_forget_reads, 1,
			    __ATOMIC_RELAXED);
			__atomic_add_fetch(&fm_io_forgets, k,
			    __ATOMIC_RELAXED);
		}
		fm_io_note(buf, (size_t)n);
	} else {
		fm_io_kill = 0;
	}
	return n;
}

void
fm_io_forget_stats(unsigned long *reads, unsigned long *forgets)
{
	*reads = __atomic_load_n(&fm_io_forget_reads, __ATOMIC_RELAXED);
	*forgets = __atomic_load_n(&fm_io_forgets, __ATOMIC_RELAXED);
}

static ssize_t
fm_io_writev(int fd, struct iovec *iov, int count, void *ud)
{
	struct fuse_out_header *o;
	struct fuse_init_out *io;
	uint64_t init = __atomic_load_n(&fm_io_init_unique, __ATOMIC_ACQUIRE);
	ssize_t n;

	(void)ud;
	if (count < 1 || iov[0].iov_len < sizeof(*o))
		return writev(fd, iov, count);
	o = iov[0].iov_base;
	if (init != 0 && o->unique == init && count >= 2) {
		if (o->error == 0 &&
		    iov[1].iov_len >= offsetof(struct fuse_init_out,
		    max_background)) {
			/* libfuse built the reply in its own frame and sends
			 * it from there: the flags are ours to add */
			io = iov[1].iov_base;
			if (!fm.writeback && __atomic_load_n(&fm_io_offered,
			    __ATOMIC_ACQUIRE)) {
				io->flags |= FUSE_HANDLE_KILLPRIV_V2;
				__atomic_store_n(&fm_io_v2, 1,
				    __ATOMIC_RELEASE);
			}
			if (iov[1].iov_len >= offsetof(struct fuse_init_out,
			    unused) && (io->flags & FUSE_INIT_EXT) &&
			    fm_uring_want(fm_io_in_flags, fm_io_in_flags2) &&
			    fm_uring_prepare(io->max_write, io->max_pages)) {
				io->flags2 |= fm_uring_flag2();
			}
		}
	} else if ((n = fm_uring_reply(iov, count)) >= 0) {
		return n;	/* its request came over io_uring */
	}
	return writev(fd, iov, count);
}

int
fm_io_attach(struct fuse_session *se)
{
	static const struct fuse_custom_io io = {
		.read = fm_io_read,
		.writev = fm_io_writev,
	};

	return fuse_session_custom_io(se, &io, fuse_session_fd(se));
}

int
fm_io_killpriv(void)
{
	return __atomic_load_n(&fm_io_v2, __ATOMIC_ACQUIRE);
}

int
fm_io_kills(void)
{
	return fm_io_kill;
}

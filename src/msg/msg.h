/*
 * The engine wire protocol: one framing for every engine process (fsx-mds,
 * fsx-oss) and every client of them (libfsx, lfs, fsxd's provisioner).
 *
 * A frame is a fixed 40-byte little-endian header, then `body_len` bytes of
 * body (a fixed struct per opcode, optionally followed by variable bytes such
 * as a name), then `bulk_len` bytes of bulk (file data, directory entries,
 * xattr values) whose CRC32C is in the header and is checked at both ends.
 *
 *   off size field
 *     0    4 magic      MSG_MAGIC
 *     4    2 version    MSG_VERSION
 *     6    2 opcode     enum msg_op
 *     8    4 flags      MSG_F_*
 *    12    4 status     0 or negative errno (replies)
 *    16    8 reqid      chosen by the client, echoed in the reply
 *    24    4 body_len   <= MSG_BODY_MAX
 *    28    4 bulk_len   <= MSG_BULK_MAX
 *    32    4 bulk_crc   CRC32C of the bulk bytes (0 when bulk_len == 0)
 *    36    4 hdr_crc    CRC32C of bytes 0..35
 *
 * Connection: the first frame a client sends is MSG_OP_HELLO carrying the
 * file system's secret; anything else first, or a wrong secret, closes the
 * connection, and so does silence: a server closes a connection that has
 * not completed HELLO within a short deadline (2 s by default, see
 * msg_srv.h). Every other opcode, the admin ones included, is served only
 * after HELLO. A frame that fails decoding is answered with -EPROTO (when its
 * header could be read) and the connection is closed.
 *
 * Requests may be pipelined; replies carry the request's reqid and opcode
 * with MSG_F_REPLY set. All integers are little-endian (the structs below are
 * naturally aligned, no padding holes, and are sent as-is on x86-64/aarch64).
 */
#ifndef FSX_MSG_H
#define FSX_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/uio.h>

#define MSG_MAGIC	0x4d585346u	/* "FSXM" on the wire */
#define MSG_VERSION	1
#define MSG_HDR_SIZE	40
#define MSG_BODY_MAX	(64 * 1024)
#define MSG_BULK_MAX	(8 * 1024 * 1024)
#define MSG_SECRET_LEN	32		/* bytes; hex in files */
#define MSG_NAME_MAX	255
#define MSG_PATH_MAX	4096
#define MSG_MAX_STRIPES	128
#define MSG_XATTR_MAX	(64 * 1024)

#define MSG_F_REPLY	0x1u
#define MSG_F_SYNC	0x2u		/* write: fdatasync before reply */
#define MSG_F_RESENT	0x4u		/* a request sent again with its
					   reqid: it may have run (mds_reply.h) */

struct msg_hdr {
	uint32_t	magic;
	uint16_t	version;
	uint16_t	opcode;
	uint32_t	flags;
	int32_t		status;
	uint64_t	reqid;
	uint32_t	body_len;
	uint32_t	bulk_len;
	uint32_t	bulk_crc;
	uint32_t	hdr_crc;
};
_Static_assert(sizeof(struct msg_hdr) == MSG_HDR_SIZE, "header is 40 bytes");

enum msg_op {
	/* every server */
	MSG_OP_HELLO = 1,	/* body: msg_hello; reply: msg_hello_rep */
	MSG_OP_PING = 2,	/* health; reply body: msg_ping_rep */
	MSG_OP_STATS = 3,	/* reply bulk: "name value\n" text lines */
	MSG_OP_SHUTDOWN = 4,	/* orderly exit after replying */

	/* fsx-oss: objects on an OST */
	MSG_OP_OST_CREATE = 20,	/* body: msg_obj */
	MSG_OP_OST_DESTROY,	/* body: msg_obj; ENOENT is success */
	MSG_OP_OST_READ,	/* body: msg_io; reply bulk: data (short at EOF) */
	MSG_OP_OST_WRITE,	/* body: msg_io, bulk: data; reply: msg_io_rep */
	MSG_OP_OST_PUNCH,	/* body: msg_io (offset = new size): truncate object */
	MSG_OP_OST_SYNC,	/* body: msg_obj: fdatasync the object */
	MSG_OP_OST_GETATTR,	/* body: msg_obj; reply: msg_obj_attr (glimpse) */
	MSG_OP_OST_STATFS,	/* body: msg_obj (only ost used); reply: msg_statfs */
	MSG_OP_OST_FALLOC,	/* body: msg_falloc; reply: msg_io_rep (28) */

	/* fsx-mds: namespace */
	MSG_OP_MDS_OSTMAP = 40,	/* reply bulk: msg_ost_ent[] */
	MSG_OP_MDS_LOOKUP,	/* body: msg_name; reply: msg_attr */
	MSG_OP_MDS_GETATTR,	/* body: msg_ino; reply: msg_attr */
	MSG_OP_MDS_SETATTR,	/* body: msg_setattr; reply: msg_attr */
	MSG_OP_MDS_CREATE,	/* body: msg_create + name; reply: msg_create_rep + layout bulk */
	MSG_OP_MDS_MKNOD,	/* body: msg_create + name (dirs, fifos, sockets, devs); reply: msg_attr */
	MSG_OP_MDS_SYMLINK,	/* body: msg_create + name, bulk: target; reply: msg_attr */
	MSG_OP_MDS_LINK,	/* body: msg_link + newname; reply: msg_attr */
	MSG_OP_MDS_UNLINK,	/* body: msg_name; reply: msg_attr of the parent */
	MSG_OP_MDS_RMDIR,	/* body: msg_name */
	MSG_OP_MDS_RENAME,	/* body: msg_rename + oldname + newname */
	MSG_OP_MDS_READDIR,	/* body: msg_readdir; reply: msg_readdir_rep + bulk msg_dirent[] */
	MSG_OP_MDS_READLINK,	/* body: msg_ino; reply bulk: target */
	MSG_OP_MDS_OPEN,	/* body: msg_open; reply: msg_open_rep + layout bulk */
	MSG_OP_MDS_CLOSE,	/* body: msg_close; reply: msg_attr */
	MSG_OP_MDS_GETXATTR,	/* body: msg_xattr + name; reply bulk: value */
	MSG_OP_MDS_SETXATTR,	/* body: msg_xattr + name, bulk: value */
	MSG_OP_MDS_LISTXATTR,	/* body: msg_ino; reply bulk: names, NUL-separated */
	MSG_OP_MDS_RMXATTR,	/* body: msg_xattr + name */
	MSG_OP_MDS_STATFS,	/* reply: msg_statfs (summed over the OSTs) */
	MSG_OP_MDS_GETLAYOUT,	/* body: msg_ino; reply bulk: msg_layout (+ entries) */
	MSG_OP_MDS_SETLAYOUT,	/* body: msg_ino, bulk: msg_layout; on a dir: default for children;
				   on an empty file with no objects written: its layout */
	MSG_OP_MDS_APPEND,	/* body: msg_append; reply: msg_append_rep (reserved offset) */
	MSG_OP_MDS_OSTADD,	/* admin: bulk msg_ost_ent[]: add OSTs, or update
				   host/port/capacity of known ones (63) */

	/* both: appended here so that no existing opcode number changes */
	MSG_OP_OST_SETCAP,	/* admin: body msg_ost_cap; MDS: the capacity in
				   its OST map; OSS: the OST's quota (64) */

	/* fsx-mds: sessions, leases and locks (docs/leases.md) */
	MSG_OP_MDS_SESSION,	/* body: msg_session; reply: msg_session_rep (65) */
	MSG_OP_MDS_REVOKE,	/* MDS -> client, on the session's callback
				   connection: body msg_revoke + name; the
				   client answers with a reply frame (66) */
	MSG_OP_MDS_LOCK,	/* body: msg_lock; reply: msg_lock (67) */

	/*
	 * Reserved ranges, numbered explicitly so that work on separate
	 * features never renumbers another's opcodes:
	 *   68..79   engine coherence and speed
	 *   80..89   backups: MDS and OST snapshots (docs/backups.md)
	 *   90..95   fsxd <-> fsx-hsm (docs/hsm.md)
	 *   96..109  fsx-hsm <-> MDS and OSS (docs/hsm.md)
	 */
	MSG_OP_OST_DESTROY_MANY = 68,	/* body: msg_obj (ost; oid unused),
				   bulk: uint64_t oid[] (at most
				   MSG_DESTROY_MANY_MAX); 0 when every one
				   is gone (ENOENT counts), else the first
				   error (the rest may be left) */
	MSG_OP_OST_LOCAL = 69,	/* body: msg_obj (ost; oid unused); reply:
				   msg_ost_local + bulk: the absolute path
				   of the OST's object directory, NUL-ended
				   (local reads, docs/design.md) */

	/* backups (docs/backups.md, src/mds/mds_snap.c, src/oss/oss_snap.c) */
	MSG_OP_OST_SNAP = 80,	/* admin: body msg_snap (phase FREEZE, MARK,
				   THAW, LINK) for one OST of the OSS */
	MSG_OP_MDS_SNAP = 81,	/* admin: body msg_snap (name): snapshot the
				   namespace and every OST at one instant */

	/* fsxd -> fsx-hsm (docs/hsm.md): bulk and reply bulk are JSON */
	MSG_OP_HSM_CONF = 90,	/* bulk: the configuration; reply bulk: {} */
	MSG_OP_HSM_STATUS = 91,	/* bulk: {}; reply bulk: status document */
	MSG_OP_HSM_TASK = 92,	/* bulk: one task; reply bulk: {} */
	MSG_OP_HSM_CANCEL = 93,	/* bulk: {"id": ...}; -ENOENT if unknown */

	/* fsx-hsm <-> fsx-mds: HSM state per file (docs/hsm.md) */
	MSG_OP_MDS_HSM_REGISTER = 96,	/* agent: this connection takes
					   HSM_ACTION frames; body msg_hsm_reg */
	MSG_OP_MDS_HSM_ACTION = 97,	/* MDS -> agent: body msg_hsm_action +
					   origin; answered by a reply frame */
	MSG_OP_MDS_HSM_DONE = 98,	/* agent: body msg_hsm_done */
	MSG_OP_MDS_HSM_GET = 99,	/* body msg_ino; reply msg_hsm_state +
					   bulk origin */
	MSG_OP_MDS_HSM_SET = 100,	/* body msg_hsm_set, bulk: origin (or
					   none: kept); reply msg_hsm_state */
	MSG_OP_MDS_HSM_IMPORT = 101,	/* body msg_hsm_import + name, bulk:
					   origin; reply msg_attr */
	MSG_OP_MDS_HSM_LIST = 102,	/* body msg_hsm_list; reply bulk
					   msg_hsm_state[] */
	MSG_OP_MDS_HSM_PROGRESS = 103,	/* agent: body msg_hsm_progress: an
					   action running (bytes moved) or
					   ended; shown by lfs hsm_action */

	MSG_OP_MAX = 110
};

#define MSG_DESTROY_MANY_MAX	1024	/* oids in one OST_DESTROY_MANY */

/*
 * HELLO: the secret proves the client may use this file system. With
 * MSG_HELLO_CLIENT_ID in flags, a uint64_t client id follows the struct:
 * chosen by the client (random, non-zero), the same on every connection
 * it makes for as long as it lives, so the MDS knows a resent request
 * (same client id, same reqid) on a new connection and answers it with
 * the reply of the first execution instead of running it again (Lustre's
 * reply reconstruction; which requests, see mds_reply.h). The client keeps
 * a request's reqid across its resends.
 */
#define MSG_HELLO_CLIENT_ID 0x1u
struct msg_hello {
	uint8_t		secret[MSG_SECRET_LEN];
	uint32_t	client_uid;	/* for logs only; permission checks use the creds in each request */
	uint32_t	flags;		/* MSG_HELLO_* */
};
struct msg_hello_rep {
	uint64_t	server_id;	/* random per server process start */
	uint32_t	kind;		/* 1 = MDS, 2 = OSS */
	uint32_t	nost;		/* OSTs served (OSS) or known (MDS) */
};

struct msg_ping_rep {
	uint64_t	uptime_ns;
	uint32_t	kind;
	uint32_t	pad;
};

/* --- objects (OSS) --- */
struct msg_obj {
	uint32_t	ost;		/* OST index */
	uint32_t	pad;
	uint64_t	oid;		/* object id, unique per OST */
};
struct msg_io {
	uint32_t	ost;
	uint32_t	pad;
	uint64_t	oid;
	uint64_t	offset;		/* object offset */
	uint64_t	length;		/* bytes to read; for writes == bulk_len */
};
struct msg_io_rep {
	uint64_t	length;		/* bytes done */
	uint64_t	obj_size;	/* object size after the op */
};
/*
 * OST_LOCAL: where the OST keeps its objects, for a client on the same
 * host that reads them itself (docs/design.md, "Local reads"). The client
 * opens the path and uses it only when its device and inode numbers, the
 * kernel's boot id (/proc/sys/kernel/random/boot_id; zeros when unknown:
 * never local) and the network namespace (the inode of /proc/self/ns/net:
 * the emulated cluster's hosts share a kernel but not a network) are
 * these. An object is the file msg_obj_name(oid) under it; missing, it
 * reads as a hole.
 */
#define MSG_BOOT_ID_LEN	40
struct msg_ost_local {
	uint64_t	dev;
	uint64_t	ino;
	uint64_t	netns;
	char		boot_id[MSG_BOOT_ID_LEN];	/* NUL-padded */
};
#define MSG_OBJ_NAME_MAX	24	/* "xx/" + 20 digits + NUL */
/* An object's file name under its OST's object directory: "%02x/%llu"
 * of (oid & 0xff, oid). Returns buf. */
char	*msg_obj_name(char buf[MSG_OBJ_NAME_MAX], uint64_t oid);
/* This kernel's boot id into out (NUL-padded) and this process's network
 * namespace (*netns); 0, or -errno (then out is zeros). */
int	 msg_boot_id(char out[MSG_BOOT_ID_LEN], uint64_t *netns);

struct msg_obj_attr {
	uint64_t	size;
	uint64_t	blocks;		/* 512-byte blocks on disk */
	int64_t		mtime_sec;
	int64_t		mtime_nsec;
};
/*
 * OST_FALLOC: fallocate(2) on [offset, offset+length) of one object. Modes
 * (the Linux values): 0 allocates (and grows the object), MSG_FA_KEEP_SIZE
 * allocates without growing; MSG_FA_PUNCH_HOLE|MSG_FA_KEEP_SIZE frees the
 * range (a missing object stays missing); MSG_FA_ZERO_RANGE, with or
 * without KEEP_SIZE, makes the range read as zeros. Other modes are
 * -EOPNOTSUPP; length 0 is -EINVAL; growth past the capacity -ENOSPC.
 */
#define MSG_FA_KEEP_SIZE	0x01u
#define MSG_FA_PUNCH_HOLE	0x02u
#define MSG_FA_ZERO_RANGE	0x10u
struct msg_falloc {
	uint32_t	ost;
	uint32_t	mode;		/* MSG_FA_* */
	uint64_t	oid;
	uint64_t	offset;		/* object offset */
	uint64_t	length;
};
struct msg_statfs {
	uint64_t	bsize;
	uint64_t	blocks;		/* capacity, in bsize units */
	uint64_t	bfree;
	uint64_t	bavail;
	uint64_t	files;
	uint64_t	ffree;
	uint32_t	namemax;
	uint32_t	pad;
};

/* --- namespace (MDS) --- */
struct msg_cred {
	uint32_t	uid;
	uint32_t	gid;
};

struct msg_attr {
	uint64_t	ino;
	uint64_t	size;
	uint64_t	blocks;
	uint32_t	mode;		/* type and permission bits, as st_mode */
	uint32_t	nlink;
	uint32_t	uid;
	uint32_t	gid;
	uint64_t	rdev;
	int64_t		atime_sec, atime_nsec;
	int64_t		mtime_sec, mtime_nsec;
	int64_t		ctime_sec, ctime_nsec;
	uint64_t	generation;
	uint32_t	open_writers;	/* >0: size may be stale, glimpse the OSTs */
	uint32_t	lease;		/* replies: MSG_LEASE_* granted */
};

struct msg_ino {
	uint64_t	ino;
	struct msg_cred	cred;
};

/* Body followed by namelen bytes of name (no NUL). */
struct msg_name {
	uint64_t	parent;
	struct msg_cred	cred;
	uint32_t	namelen;
	uint32_t	flags;		/* MSG_NM_* (UNLINK), else 0 */
};
/*
 * UNLINK with MSG_NM_TIME: the name is followed by a struct msg_time,
 * the directory's new mtime and ctime as its delegate told its kernel
 * when it acknowledged the unlink (docs/leases.md, "Delegated
 * directories"); the MDS keeps the later of it and the directory's
 * mtime. Without it the MDS takes its own clock.
 */
#define MSG_NM_TIME	0x1u
struct msg_time {
	int64_t		sec;
	int64_t		nsec;
};

#define MSG_SA_MODE	0x01u
#define MSG_SA_UID	0x02u
#define MSG_SA_GID	0x04u
#define MSG_SA_SIZE	0x08u
#define MSG_SA_ATIME	0x10u
#define MSG_SA_MTIME	0x20u
#define MSG_SA_ATIME_NOW 0x40u
#define MSG_SA_MTIME_NOW 0x80u
#define MSG_SA_CTIME	0x100u
/* Clear S_ISUID, and S_ISGID with S_IXGRP, from the mode the MDS holds
 * (what a write by a user without CAP_FSETID does); nothing is stored
 * when neither is set. For clients that answer FUSE's
 * FUSE_HANDLE_KILLPRIV_V2: the kernel leaves it to the file system. */
#define MSG_SA_KILLPRIV	0x200u

/* The mode bits such a write clears: S_ISUID, and S_ISGID with group
 * execute (without it, S_ISGID marks mandatory locking). */
static inline uint32_t
msg_killpriv(uint32_t mode)
{
	return mode & (S_ISUID | ((mode & S_IXGRP) ? S_ISGID : 0));
}

/* SETATTR with MSG_SA_SIZE changes the MDS size only; the client punches the
 * objects itself (see fsc) before or after, as the direction requires. */
struct msg_setattr {
	uint64_t	ino;
	struct msg_cred	cred;
	uint32_t	valid;		/* MSG_SA_* */
	uint32_t	mode;
	uint32_t	uid;
	uint32_t	gid;
	uint64_t	size;
	int64_t		atime_sec, atime_nsec;
	int64_t		mtime_sec, mtime_nsec;
	int64_t		ctime_sec, ctime_nsec;
};

#define MSG_CR_EXCL	0x1u		/* fail with EEXIST if the name exists */

/* Body followed by namelen bytes of name. */
struct msg_create {
	uint64_t	parent;
	struct msg_cred	cred;
	uint32_t	mode;		/* type and permission bits (umask applied) */
	uint32_t	flags;		/* MSG_CR_* */
	uint64_t	rdev;
	uint32_t	namelen;
	uint32_t	pad;
};

/* Body followed by newnamelen bytes. */
struct msg_link {
	uint64_t	ino;
	uint64_t	newparent;
	struct msg_cred	cred;
	uint32_t	newnamelen;
	uint32_t	pad;
};

#define MSG_RN_NOREPLACE 0x1u
#define MSG_RN_EXCHANGE	 0x2u

/* Body followed by oldnamelen bytes, then newnamelen bytes. */
struct msg_rename {
	uint64_t	oldparent;
	uint64_t	newparent;
	struct msg_cred	cred;
	uint32_t	oldnamelen;
	uint32_t	newnamelen;
	uint32_t	flags;		/* MSG_RN_* */
	uint32_t	pad;
};

struct msg_readdir {
	uint64_t	ino;
	struct msg_cred	cred;
	uint64_t	cookie;		/* 0 = start; else from the last entry */
	uint32_t	max_bytes;	/* bulk budget for the reply */
	uint32_t	pad;
};
struct msg_readdir_rep {
	uint32_t	count;
	uint32_t	eof;
};
/* Bulk entry: header then namelen bytes, padded to 8. */
struct msg_dirent {
	uint64_t	ino;
	uint64_t	cookie;		/* resume after this entry */
	uint32_t	mode;		/* type bits only */
	uint16_t	namelen;
	uint16_t	reclen;		/* sizeof + namelen rounded up to 8 */
};

/* Open flags are the client's open(2) flags (O_ACCMODE, O_TRUNC, O_APPEND). */
struct msg_open {
	uint64_t	ino;
	struct msg_cred	cred;
	uint32_t	flags;
	uint32_t	pad;
};
/* Reply to OPEN and CREATE: attributes, an open handle, and the layout in
 * the bulk (struct msg_layout + its entries). */
struct msg_open_rep {
	struct msg_attr	attr;
	uint64_t	handle;		/* MDS open handle; 0 if none */
};

/*
 * Reply to CREATE: the open, then the parent directory's attributes as the
 * create left them (UNLINK replies with those alone). The kernel asks for
 * a directory's attributes again after each change in it; a client answers
 * from these instead of a GETATTR. Servers before this field sent only the
 * msg_open_rep (and nothing for UNLINK): clients check the reply length.
 */
struct msg_create_rep {
	struct msg_open_rep	open;
	struct msg_attr		dir;
};

#define MSG_CLOSE_WRITTEN 0x1u	/* the client wrote through this handle */
#define MSG_CLOSE_READ	0x2u	/* ... read through it: atime, relatime rules */
#define MSG_CLOSE_BLOCKS 0x4u	/* with WRITTEN: `blocks` is what the
				   objects hold (their st_blocks summed) */
struct msg_close {
	uint64_t	ino;
	uint64_t	handle;
	struct msg_cred	cred;
	uint32_t	written;	/* MSG_CLOSE_* */
	uint32_t	pad;
	uint64_t	size;		/* client's view of the size when written */
	int64_t		mtime_sec, mtime_nsec;
	uint64_t	blocks;		/* 512-byte blocks, MSG_CLOSE_BLOCKS */
};

/* Body followed by namelen bytes of xattr name. */
#define MSG_XA_CREATE	0x1u
#define MSG_XA_REPLACE	0x2u
struct msg_xattr {
	uint64_t	ino;
	struct msg_cred	cred;
	uint32_t	flags;		/* MSG_XA_* for SETXATTR */
	uint32_t	namelen;
	uint32_t	size;		/* GETXATTR: caller's buffer; 0 asks for the size */
	uint32_t	pad;
};

/* A layout, as stored by the MDS and exposed as the lustre.lov xattr. */
#define MSG_LOV_MAGIC	0x0BD10BD0u
struct msg_layout {
	uint32_t	magic;		/* MSG_LOV_MAGIC */
	uint32_t	stripe_size;	/* bytes; multiple of 64 KiB */
	int32_t		stripe_count;	/* -1 on a default layout = every OST */
	int32_t		stripe_offset;	/* first OST index, -1 = MDS chooses */
	uint32_t	nent;		/* entries that follow (0 for dir defaults) */
	uint32_t	pad;
};
struct msg_layout_ent {
	uint32_t	ost;
	uint32_t	pad;
	uint64_t	oid;
};

#define MSG_AP_MORE	0x1u	/* a piece of a write the kernel split: its
				   rest follows at once from this handle */
#define MSG_AP_KILLPRIV	0x2u	/* the writer may not keep S_ISUID/S_ISGID
				   (no CAP_FSETID): the MDS clears them as
				   a write(2) would (the kernel leaves it to
				   the file system for O_APPEND's direct I/O) */
struct msg_append {
	uint64_t	ino;
	uint64_t	handle;
	uint64_t	length;		/* bytes the client will append */
	uint32_t	flags;		/* MSG_AP_* */
	uint32_t	pad;
};
#define MSG_APR_MODE	0x1u	/* MSG_AP_KILLPRIV cleared mode bits */
struct msg_append_rep {
	uint64_t	offset;		/* where they go */
	uint32_t	flags;		/* MSG_APR_* */
	uint32_t	pad;
};

/*
 * Topology travels one way, from fsxd to the engines, by these two admin
 * opcodes (sent, like everything, on a connection that passed HELLO):
 *
 *   MDS_OSTADD (fsx-mds only): bulk msg_ost_ent[] (a whole number of them;
 *     an empty bulk changes nothing). Idempotent: an OST already known by
 *     its index takes the new host, port and capacity. The map is stored in
 *     the MDS's database before the reply; connected clients find new OSTs
 *     with MDS_OSTMAP. -EINVAL for a bad entry (then nothing changes).
 *   OST_SETCAP (fsx-mds and fsx-oss): body msg_ost_cap. The MDS records the
 *     capacity in its map (-ENODEV if the OST was never added); the OSS
 *     makes it the OST's quota (-ENODEV if it does not serve the OST):
 *     writes past it fail with -ENOSPC, OST_STATFS reports it, and it is
 *     kept in DIR/CAPACITY so a restarted OSS enforces it at once.
 *     capacity_bytes 0 is -EINVAL.
 */
struct msg_ost_cap {
	uint32_t	ost;
	uint32_t	pad;
	uint64_t	capacity_bytes;
};

/*
 * MSG_OP_MDS_SNAP and MSG_OP_OST_SNAP (docs/backups.md). `name` is
 * [A-Za-z0-9-], NUL-terminated; anything else is -EINVAL.
 *   MDS_SNAP (fsxd -> MDS): the MDS holds namespace changes, sends
 *     FREEZE to every OST, copies its store to DIR/snap/NAME/mds.db,
 *     sends MARK then THAW to every OST (THAW also after an error), and
 *     lets namespace changes go on. fsxd then sends LINK to each OSS.
 *   OST_SNAP FREEZE: the OSS holds new writes, punches and fallocates
 *     and waits for those running; MARK: opens OSTDIR/snap/NAME as the
 *     OST's snapshot (an object is linked into it before its next change
 *     or destroy); THAW: writes go on; LINK: links every object not
 *     captured yet and closes the snapshot (-ESTALE: NAME is not open
 *     there; -EIO: a capture failed). An object with more than one link
 *     is copied before its next change. A freeze not thawed within 10 s
 *     thaws itself.
 */
#define MSG_SNAP_FREEZE	1u
#define MSG_SNAP_LINK	2u
#define MSG_SNAP_THAW	3u
#define MSG_SNAP_MARK	4u
#define MSG_SNAP_NAME	64

struct msg_snap {
	uint32_t	ost;		/* OST_SNAP: the OST */
	uint32_t	phase;		/* OST_SNAP: MSG_SNAP_* */
	char		name[MSG_SNAP_NAME];
};

/* OST map entry (MDS_OSTMAP reply, MDS_OSTADD request). */
struct msg_ost_ent {
	uint32_t	ost;
	uint16_t	port;
	uint16_t	pad;
	char		host[48];	/* NUL-terminated */
	uint64_t	capacity;	/* bytes */
};

/*
 * HSM state per file (docs/hsm.md, "Engine side"). Flags as Lustre's
 * hsm_state: EXISTS (a copy was archived once), ARCHIVED (the copy is
 * current), RELEASED (the data is only in the archive: opening the file
 * restores it first), DIRTY (changed since archived), LOST. `origin` is
 * the archive copy's name, "bucket/key", in the bulk.
 *
 * The agent (fsx-hsm) sends REGISTER on a connection of its own; the MDS
 * then sends HSM_ACTION frames on it (flags 0, the MDS's reqid; the agent
 * answers each with a reply frame at once) and treats every connection
 * whose HELLO named the same client id as the agent's: its opens never
 * wait for a restore, its closes never mark a file dirty. The agent ends
 * a RESTORE with HSM_DONE (status 0: the data is in the objects; the MDS
 * clears RELEASED and lets the waiting openers go; else they get -EIO).
 * An opener waits at most reg.restore_ms (default 300 s) for the agent.
 */
#define MSG_HSM_EXISTS		0x01u	/* Lustre's HS_* values */
#define MSG_HSM_DIRTY		0x02u
#define MSG_HSM_RELEASED	0x04u
#define MSG_HSM_ARCHIVED	0x08u
#define MSG_HSM_LOST		0x40u
#define MSG_HSM_ALL		0x4fu

#define MSG_HSM_RESTORE		1	/* actions */
#define MSG_HSM_ARCHIVE		2	/* a file was closed after a write */
#define MSG_HSM_REMOVE		3	/* an archived file was unlinked */
#define MSG_HSM_ARCHIVE_NOW	4	/* lfs hsm_archive: whatever the policy */
#define MSG_HSM_MOVED		5	/* a directory was renamed; origin:
					   "<old parent ino>/<old name>" */

/*
 * The "lustre.hsm" xattr of a regular file (GETXATTR/SETXATTR, so lfs
 * works through any mount): reading gives the text
 * "<flags> <archive_id> <action> <state> <bytes>" (flags in hex, action
 * NOOP, RESTORE or ARCHIVE, state WAITING or STARTED, bytes moved so far
 * as the agent reported them); writing "archive", "release" or
 * "restore" asks for that (the owner or root; -EBUSY for a release the
 * state forbids).
 */
#define MSG_XATTR_HSM		"lustre.hsm"

struct msg_hsm_reg {
	uint32_t	restore_ms;	/* openers' wait; 0: 300000 */
	uint32_t	pad;
};
struct msg_hsm_action {
	uint64_t	ino;
	uint64_t	size;
	uint32_t	action;		/* MSG_HSM_RESTORE ... */
	uint32_t	flags;		/* the file's, MSG_HSM_* */
	uint32_t	origin_len;	/* bytes of origin after the struct */
	uint32_t	pad;
};
struct msg_hsm_progress {
	uint64_t	ino;
	uint64_t	bytes;		/* moved so far */
	uint32_t	action;		/* MSG_HSM_RESTORE or _ARCHIVE */
	uint32_t	running;	/* 0: ended, forget it */
};
struct msg_hsm_done {
	uint64_t	ino;
	uint32_t	action;
	int32_t		status;		/* 0 or -errno */
};
struct msg_hsm_state {
	uint64_t	ino;
	uint32_t	flags;		/* MSG_HSM_* */
	uint32_t	archive_id;
	uint64_t	size;
	int64_t		mtime_sec;
};
/* SET: flags = (flags & ~clear) | set. Setting RELEASED frees the file's
 * objects (it must be ARCHIVED, not DIRTY, not open for write: else
 * -EBUSY). */
struct msg_hsm_set {
	uint64_t	ino;
	struct msg_cred	cred;
	uint32_t	set;
	uint32_t	clear;
	uint32_t	archive_id;
	uint32_t	pad;
};
/* IMPORT: a regular file `name` in `parent` with the given attributes,
 * striped over stripe_count OSTs (0: the directory's default), in state
 * EXISTS|ARCHIVED|RELEASED, no data. An existing regular file that is not
 * DIRTY and has the same origin is updated in place (size, times, owner,
 * mode) and released again; anything else there is -EEXIST. */
struct msg_hsm_import {
	uint64_t	parent;
	struct msg_cred	cred;
	uint32_t	mode;
	uint32_t	uid;
	uint32_t	gid;
	uint32_t	stripe_count;
	uint64_t	size;
	int64_t		mtime_sec, mtime_nsec;
	int64_t		atime_sec, atime_nsec;
	uint32_t	archive_id;
	uint32_t	namelen;
};
/* LIST: files with all of `all` and none of `none` set, ino > after. */
struct msg_hsm_list {
	uint64_t	after;
	uint32_t	all;
	uint32_t	none;
	uint32_t	max;
	uint32_t	pad;
};

/*
 * Sessions, leases and locks (docs/leases.md has the whole protocol).
 *
 * SESSION is the first request after HELLO on every MDS connection of a
 * client that caches: it names the client (a random id, new for every
 * session) and, with MSG_SESS_CALLBACK, makes this connection the
 * session's callback connection, on which the MDS sends REVOKE frames
 * (flags 0, the MDS's own reqid) and the client answers each with a reply
 * frame (MSG_F_REPLY, same opcode and reqid). -ESTALE: the id was evicted;
 * start a new session. Connections without SESSION get no leases (their
 * changes still revoke the leases of others) and cannot lock.
 */
#define MSG_SESS_CALLBACK 0x1u
struct msg_session {
	uint64_t	client;		/* random, non-zero */
	uint32_t	flags;		/* MSG_SESS_* */
	uint32_t	pad;
};
struct msg_session_rep {
	uint32_t	revoke_ms;	/* answer a REVOKE within this */
	uint32_t	pad;
};

/*
 * Leases granted with a reply, in msg_attr.lease of LOOKUP, GETATTR and
 * OPEN replies: MSG_LEASE_ATTR, the inode's attributes and pages;
 * MSG_LEASE_ENTRY (LOOKUP), the name in its parent. Held until revoked.
 */
#define MSG_LEASE_ATTR	0x1u
#define MSG_LEASE_ENTRY	0x2u
/* Instead of MSG_LEASE_ATTR for a file open for write somewhere: the MDS
 * holds the attribute lease (a change it sees revokes it), but the size
 * changes on the OSSes unseen, so the client keeps the attributes only a
 * short while. Without either bit, nothing of the reply may be kept. */
#define MSG_LEASE_WATCHED 0x4u
/*
 * In a MKDIR reply (MKNOD of a directory), with MSG_LEASE_ATTR and
 * MSG_LEASE_ENTRY: the new directory is delegated to its maker
 * (docs/leases.md, "Delegated directories"). Every request of another
 * session or connection that names the directory (as a parent, or
 * itself) first recalls the delegation: a REVOKE of the entry lease
 * (dir, MSG_DELEG_NAME), a name no directory can hold, which the holder
 * answers once every unlink it acknowledged early has reached the MDS.
 */
#define MSG_LEASE_DELEG	0x8u
#define MSG_DELEG_NAME	"/"
/* Not a lease: in a CREATE reply's msg_attr.lease, this CREATE made the
 * file (its objects are new and empty; the client needs no glimpse for
 * the st_blocks of what it then writes densely, fsc_file.dense). */
#define MSG_ATTR_CREATED 0x80000000u
/* Not a lease: in a CLOSE reply, this CLOSE changed what a stat shows
 * (size, times). The MDS revoked every other session's copy but not the
 * closer's: its client drops what its kernel holds of the attributes
 * (and keeps the new ones if MSG_LEASE_ATTR is set too). */
#define MSG_ATTR_CHANGED 0x40000000u

/* REVOKE: body followed by namelen bytes of name. MSG_RV_ATTR: drop the
 * attributes and pages of ino; MSG_RV_ENTRY: drop the name in parent. */
#define MSG_RV_ATTR	0x1u
#define MSG_RV_ENTRY	0x2u
struct msg_revoke {
	uint64_t	ino;
	uint64_t	parent;
	uint32_t	flags;		/* MSG_RV_* */
	uint32_t	namelen;
};

/*
 * LOCK: POSIX byte-range locks (per owner, ranges split and merged) and
 * flock locks (MSG_LK_FLOCK: whole file, per open file), held by the MDS
 * for the session of the connection. type: MSG_LK_RD, MSG_LK_WR,
 * MSG_LK_UN. MSG_LK_TEST (getlk): the reply is the first conflicting lock,
 * or type MSG_LK_UN. MSG_LK_WAIT: the reply comes when the lock is granted
 * (the MDS queues the request; closing the connection cancels it); without
 * it a conflict is -EAGAIN. -EDEADLK: waiting would deadlock (POSIX locks).
 * end is inclusive; UINT64_MAX is "to EOF".
 */
#define MSG_LK_RD	0
#define MSG_LK_WR	1
#define MSG_LK_UN	2
#define MSG_LK_WAIT	0x1u
#define MSG_LK_FLOCK	0x2u
#define MSG_LK_TEST	0x4u
struct msg_lock {
	uint64_t	ino;
	uint64_t	owner;		/* the client's lock owner */
	uint64_t	start;
	uint64_t	end;
	uint32_t	type;		/* MSG_LK_RD/WR/UN */
	uint32_t	flags;		/* MSG_LK_* */
	uint32_t	pid;
	uint32_t	pad;
};

/*
 * Codec and I/O (msg.c). Every decode checks lengths against the frame and
 * against the per-opcode limits before touching memory.
 */
uint32_t msg_crc32c(uint32_t crc, const void *buf, size_t len);

/* Fill and seal a header (computes hdr_crc; bulk_crc must be set). */
void	msg_hdr_init(struct msg_hdr *h, uint16_t op, uint32_t flags,
	    uint64_t reqid, int32_t status, uint32_t body_len, uint32_t bulk_len,
	    uint32_t bulk_crc);
/* Check a received header: magic, version, hdr_crc, opcode range, lengths
 * against MSG_BODY_MAX/MSG_BULK_MAX. 0 or -EPROTO. An error reply
 * (MSG_F_REPLY, status < 0, no body or bulk) may carry any opcode. */
int	msg_hdr_check(const struct msg_hdr *h);
/* Minimum body size an opcode's request needs (0 when none). */
size_t	msg_req_body_min(uint16_t op);

/* Blocking frame I/O on a socket. send: header + body + bulk with writev.
 * recv: reads header and body into caller buffers; bulk goes to `bulk`
 * (cap bytes) and its CRC is checked. Return 0 or negative errno
 * (-EPROTO for malformed frames, -ECONNRESET on EOF). */
int	msg_send(int fd, uint16_t op, uint32_t flags, uint64_t reqid,
	    int32_t status, const void *body, uint32_t body_len,
	    const struct iovec *bulk, int nbulk);
int	msg_recv(int fd, struct msg_hdr *h, void *body, uint32_t body_cap,
	    void *bulk, uint32_t bulk_cap);

/*
 * The one place engine sockets are opened (servers, libfsx, the MDS's OSS
 * connections, tools): getaddrinfo(host, port) and, for each address in
 * turn, a SOCK_CLOEXEC socket that either listens (backlog > 0:
 * SO_REUSEADDR, bind, listen; host NULL = any; port 0 = ephemeral) or
 * connects (backlog 0; with timeout_ms > 0 SO_SNDTIMEO and SO_RCVTIMEO are
 * set first and stay set, and a connect that takes longer is -ETIMEDOUT).
 * Returns the descriptor or -errno: -EHOSTUNREACH (connect) or
 * -EADDRNOTAVAIL (listen) when the name does not resolve.
 *
 * Same-host shortcut: a connect first tries the abstract unix socket a
 * server listening on exactly (host, port) opened with msg_sock_local
 * (abstract names live in the network namespace, so only a server of
 * this host, and of this namespace, can answer there); if none listens,
 * TCP as above. The framing and HELLO (the secret) are the same on both.
 * FSX_NO_LOCAL_SOCKET=1 in the environment turns the shortcut off.
 */
int	msg_sock_open(const char *host, int port, int backlog, int timeout_ms);
/* The listening abstract unix socket of a server on (host, port), for the
 * shortcut above; -errno (the server then serves TCP only). */
int	msg_sock_local(const char *host, int port, int backlog);
/* Say HELLO on a new connection: 0 with *rep, or -errno (-EACCES: wrong
 * secret; -EPROTO: not an engine). */
int	msg_hello(int fd, const uint8_t *secret, struct msg_hello_rep *rep);
/* The same, naming the client (client_id 0: anonymous, as msg_hello). */
int	msg_hello_client(int fd, const uint8_t *secret, uint64_t client_id,
	    struct msg_hello_rep *rep);

/* Client connection helpers. */
int	msg_connect(const char *host, int port, const uint8_t *secret,
	    uint32_t *kind_out);	/* returns fd or negative errno */
/* The same, with every later send and receive on the fd bounded by
 * timeout_ms (SO_SNDTIMEO/SO_RCVTIMEO; 0: unbounded): a peer that accepts
 * but never answers (stopped, deadlocked) gives -ETIMEDOUT or -EAGAIN. */
int	msg_connect_timeout(const char *host, int port, const uint8_t *secret,
	    uint32_t *kind_out, int timeout_ms);
int	msg_call(int fd, uint16_t op, uint32_t flags, const void *body,
	    uint32_t body_len, const struct iovec *bulk, int nbulk,
	    void *rbody, uint32_t rbody_cap, uint32_t *rbody_len,
	    void *rbulk, uint32_t rbulk_cap, uint32_t *rbulk_len);
	/* one request, one reply; returns the reply status (0/-errno) or a
	   transport error (then close fd). A reply body longer than
	   rbody_cap is truncated (*rbody_len = bytes kept); a reply bulk
	   longer than rbulk_cap is drained and gives -EMSGSIZE with the
	   connection still usable. */

/* Secret files hold 64 hex chars. */
int	msg_secret_load(const char *path, uint8_t *secret);

/*
 * Extensions (msg.c). Frame I/O in two steps, so a server can look at the
 * header before choosing buffers: msg_recv_hdr() reads and checks the
 * header; msg_recv_payload() reads the body (body_len > body_cap: -EPROTO,
 * nothing read) and the bulk (bulk_len > bulk_cap or bulk NULL: -EMSGSIZE,
 * bulk left in the socket; CRC mismatch: -EBADMSG). Any EOF is -ECONNRESET,
 * a socket timeout (SO_RCVTIMEO) is -ETIMEDOUT.
 */
#define MSG_IOV_MAX	256		/* bulk iovecs per send or receive */

int	msg_op_valid(uint16_t op);	/* 1 if op is a defined opcode */
/* op's short name for counters ("lookup", "ost_write"); "unknown" if none */
const char *msg_op_name(uint16_t op);
int	msg_read_full(int fd, void *buf, size_t len);
int	msg_recv_hdr(int fd, struct msg_hdr *h);
int	msg_recv_payload(int fd, const struct msg_hdr *h, void *body,
	    uint32_t body_cap, void *bulk, uint32_t bulk_cap);
/* Read and discard len bytes. */
int	msg_drain(int fd, uint32_t len);
/* A process-wide unique request id. */
uint64_t msg_reqid_new(void);
/* TCP_NODELAY and 4 MiB socket buffers. */
void	msg_sock_tune(int fd);

/*
 * The frame decoder (msg.c), used by every receiver: msg_srv for requests,
 * msg_call and libfsx (fsc) for replies, msg_recv* above. A struct msg_in
 * reads a socket through a read-ahead buffer given by the caller (NULL: no
 * read-ahead, every byte read exactly when needed), so a header, its body
 * and a small bulk usually come in one read(2); larger bulks go straight
 * from the socket into the caller's iovecs (readv). Bytes read ahead belong
 * to the next frame: keep the same msg_in for the whole connection, or
 * check msg_in_pending() == 0 when one reply was all there was to read.
 * Errors are those of the frame I/O above.
 */
#define MSG_IN_BUF	4096		/* a good read-ahead size */
/* Before the read(2) that waits for a frame to begin, msg_in polls for
 * POLLIN for at most this long (a unix socket's reader in read(2) is also
 * woken when the peer reads; msg.c, in_wait_readable). */
#define MSG_IN_POLL_MS	100

struct msg_in {
	int		 fd;
	char		*buf;
	size_t		 cap, off, len;
};

void	msg_in_init(struct msg_in *in, int fd, void *buf, size_t cap);
size_t	msg_in_pending(const struct msg_in *in);	/* read, not taken */
/* Buffer at least `want` (<= cap) bytes. With `idle`, a socket timeout
 * before any byte is buffered is not an error: the read goes on waiting
 * (a server between requests). With nothing buffered, it polls for
 * POLLIN (up to MSG_IN_POLL_MS) before it reads. */
int	msg_in_fill(struct msg_in *in, size_t want, int idle);
/* The next len bytes into dst (NULL: read and dropped). */
int	msg_in_take(struct msg_in *in, void *dst, size_t len);
/* The next header, checked with msg_hdr_check(). */
int	msg_in_hdr(struct msg_in *in, struct msg_hdr *h, int idle);
/* Body (must fit body_cap: else -EPROTO) and bulk into the nbulk iovecs
 * (too small: -EMSGSIZE, the bulk is left unread), CRC checked. */
int	msg_in_payload(struct msg_in *in, const struct msg_hdr *h,
	    void *body, uint32_t body_cap, const struct iovec *bulk,
	    int nbulk);
/*
 * The reply to request (reqid, op): 0 with *status (the reply's status)
 * and the lengths set, or a connection error (-EPROTO for a reply that
 * does not match or decode). A longer body than rbody_cap is truncated (the
 * rest dropped); a bulk larger than the iovecs is drained and gives
 * -EMSGSIZE with the stream still in sync.
 */
int	msg_in_reply(struct msg_in *in, uint64_t reqid, uint16_t op,
	    void *rbody, uint32_t rbody_cap, uint32_t *rbody_len,
	    const struct iovec *rbulk, int nrbulk, uint32_t *rbulk_len,
	    int32_t *status);

#endif

/*
 * The object storage server: one or more OSTs, each a directory of object
 * files DIR/O/<oid % 256 as 2 hex>/<oid>, served over the engine protocol
 * through msg_srv (see msg/msg_srv.h).
 *
 * Space: each OST has a capacity (bytes, a quota); its usage is the sum of
 * the allocated bytes (st_blocks * 512) of its objects, scanned at start and
 * adjusted on every write, punch and destroy. A write reserves its possible
 * growth before it runs, so concurrent writes never together exceed the
 * capacity; past it, OST_WRITE fails with -ENOSPC. The capacity is the one
 * last set by OST_SETCAP or --ost IDX:DIR:CAP, kept in DIR/CAPACITY
 * (decimal bytes, written atomically by this process only) so a restart
 * enforces it at once; an OST never told one is bounded by its file
 * system's size until it is. Lowering it below the usage is allowed: then
 * every write that needs space fails.
 *
 * Descriptors: the process may hold at most 20,000 descriptors, so object
 * files are opened through a bounded LRU cache (struct oss_obj, refcounted;
 * an entry in use is never closed). Modifications of one object (write,
 * punch, destroy) are serialized by the entry's mutex, which also guards its
 * space accounting; reads run concurrently.
 *
 * Opcode semantics (request body, reply):
 *   OST_CREATE   msg_obj; creates the empty object, exists is fine
 *   OST_DESTROY  msg_obj; unlinks it; a missing object is success
 *   OST_READ     msg_io (length <= MSG_BULK_MAX); reply body msg_io_rep
 *                (length read, last known object size), bulk the data:
 *                short at EOF, empty for a missing object (a hole)
 *   OST_WRITE    msg_io + bulk (length must equal bulk_len); creates the
 *                object if missing; MSG_F_SYNC: fdatasync before the reply;
 *                reply msg_io_rep; -ENOSPC past the capacity
 *   OST_PUNCH    msg_io, offset = new size: ftruncate; a missing object
 *                with offset 0 stays missing, with offset > 0 is created
 *                sparse; reply msg_io_rep
 *   OST_FALLOC   msg_falloc: fallocate on the object (modes in msg.h);
 *                reply msg_io_rep; counted with the punches
 *   OST_SYNC     msg_obj: fdatasync (plus an fsync of the directory when
 *                the object was created by this process and not yet
 *                synced); a missing object is success
 *   OST_GETATTR  msg_obj; reply msg_obj_attr; missing: -ENOENT
 *   OST_STATFS   msg_obj (ost only); reply msg_statfs, bsize 4096,
 *                blocks = capacity / 4096, files = objects
 *   OST_SETCAP   msg_ost_cap (admin): the OST's capacity, stored before
 *                the reply; 0 bytes is -EINVAL
 *   OST_LOCAL    msg_obj (ost); reply msg_ost_local (the object directory's
 *                device and inode, boot id, network namespace) and bulk
 *                its resolved path: for clients on this host that read
 *                objects from their files (fsc_local.c); -EOPNOTSUPP when
 *                the path or the boot id is unknown
 * An unknown OST index is -ENODEV; any other opcode -EOPNOTSUPP.
 */
#ifndef FSX_OSS_H
#define FSX_OSS_H

#include <stdint.h>

#include "msg/msg.h"
#include "msg/msg_srv.h"

#define OSS_OST_MAX		256	/* OSTs per OSS process */
#define OSS_FDCACHE_DEFAULT	1024
#define OSS_DIO_ALIGN		4096u		/* O_DIRECT offset/length/buffer */
#define OSS_DIO_MIN		(128u * 1024)	/* smaller transfers are cached */

struct oss;
struct oss_ost;

/* A new, empty OSS with an fd cache of `fdcache` entries (0 = default). */
struct oss	*oss_new(int fdcache);
void		 oss_free(struct oss *o);	/* NULL ok */
/* Large aligned reads and writes use O_DIRECT (default on). */
void		 oss_set_direct(struct oss *o, int on);
/*
 * Serve OST `idx` from `dir` (DIR/O is created if missing; the O/xx
 * subdirectories on first use) with `capacity` bytes (0: the one stored in
 * DIR/CAPACITY, see above); scans the existing objects.
 * 0, -EEXIST for a duplicate index, -E2BIG past OSS_OST_MAX, or -errno.
 */
int		 oss_ost_add(struct oss *o, uint32_t idx, const char *dir,
		    uint64_t capacity);
int		 oss_nost(const struct oss *o);
/* OST_SETCAP: store and apply. 0, -ENODEV, -EINVAL (0 bytes), -errno. */
int		 oss_ost_setcap(struct oss *o, uint32_t idx, uint64_t capacity);

/* Parse "IDX:DIR" or "IDX:DIR:CAPACITY_BYTES" (*capacity 0 when absent).
 * DIR may contain ':', but a last ":..." starting with a digit or '-' is
 * read as the capacity (and must be one). 0 or -EINVAL. */
int		 oss_ost_parse(const char *spec, uint32_t *idx, char *dir,
		    size_t dircap, uint64_t *capacity);

/* msg_srv callbacks: ctx is the struct oss. */
int		 oss_dispatch(void *ctx, struct msg_srv_conn *c,
		    const struct msg_hdr *h, const void *body,
		    const void *bulk);
size_t		 oss_stats(void *ctx, char *buf, size_t cap);

/* Space accounting, for tests and STATS. -ENODEV for an unknown OST. */
int		 oss_ost_usage(struct oss *o, uint32_t idx, uint64_t *used,
		    uint64_t *objects);

int		 oss_open_objects(struct oss *o);	/* cached fds */

/* --- object cache (oss_obj.c) --- */
struct oss_obj;
struct oss_obj_cache;

struct oss_obj_cache *oss_obj_cache_new(int cap);
void		 oss_obj_cache_free(struct oss_obj_cache *oc);
int		 oss_obj_cache_count(struct oss_obj_cache *oc);

#define OSS_OBJ_CREATE	0x1	/* create the file if missing */

/*
 * A referenced entry for object `oid` of the OST whose O directory is
 * `odirfd`, opening the file if it is not cached. *created is set to 1
 * when this call created the file. 0, -ENOENT (missing, no CREATE), -errno.
 */
int		 oss_obj_get(struct oss_obj_cache *oc, uint32_t ost, int odirfd,
		    uint64_t oid, int flags, struct oss_obj **out,
		    int *created);
void		 oss_obj_put(struct oss_obj_cache *oc, struct oss_obj *ob);
/* Forget the entry (its fd closes when the last reference goes); a later
 * get opens the path anew. The caller holds a reference and the lock. */
void		 oss_obj_kill(struct oss_obj_cache *oc, struct oss_obj *ob);

int		 oss_obj_fd(const struct oss_obj *ob);
/* The object's O_DIRECT descriptor (opened on first use), or -1. */
int		 oss_obj_dfd(struct oss_obj *ob);
void		 oss_obj_lock(struct oss_obj *ob);
void		 oss_obj_unlock(struct oss_obj *ob);
int		 oss_obj_dead(const struct oss_obj *ob);	/* under lock */
/* Allocated bytes and size as last recorded (under lock to be exact). */
uint64_t	 oss_obj_alloc(const struct oss_obj *ob);
uint64_t	 oss_obj_size(const struct oss_obj *ob);
void		 oss_obj_set(struct oss_obj *ob, uint64_t alloc, uint64_t size);
/* The file was created by this process and its directory entry may not be
 * durable yet (cleared by oss_obj_name_synced after an fsync of its dir). */
int		 oss_obj_name_dirty(const struct oss_obj *ob);
void		 oss_obj_name_synced(struct oss_obj *ob);

#endif

/*
 * OST snapshots for backups (docs/backups.md): a write barrier, hard links
 * of every object into a snapshot directory, and copy-up of an object that
 * a snapshot (or a backup) still links before it changes.
 *
 * The barrier: every change of object data (OST_WRITE, OST_PUNCH,
 * OST_FALLOC) runs between oss_snap_enter() and oss_snap_leave();
 * oss_snap_freeze() holds new changes and waits for those running, so a
 * snapshot marked while frozen is every object as of one instant.
 * Freezes nest (one per OST of the OSS); a freeze older than
 * OSS_SNAP_FREEZE_MAX_MS thaws itself, so a lost THAW cannot stop writes.
 *
 * Invariant (copy-up): the OSS never changes the data of an object file
 * that has more than one link. oss_snap_cow() copies such an object to a
 * new file and renames it over the object's name; the caller must then
 * drop its cached descriptor (it still points at the snapshot's inode).
 */
#ifndef FSX_OSS_SNAP_H
#define FSX_OSS_SNAP_H

#include <stdint.h>

#define OSS_SNAP_FREEZE_MAX_MS	10000
#define OSS_SNAP_MAX_OSTS	256	/* as OSS_OST_MAX */

struct oss_snap;

struct oss_snap	*oss_snap_new(void);
void		 oss_snap_free(struct oss_snap *s);	/* NULL ok */

void		 oss_snap_enter(struct oss_snap *s);
void		 oss_snap_leave(struct oss_snap *s);
/* 0, or -ETIMEDOUT when changes did not drain in time (not frozen then). */
int		 oss_snap_freeze(struct oss_snap *s);
void		 oss_snap_thaw(struct oss_snap *s);

/*
 * Snapshots are captured lazily (docs/backups.md): oss_snap_mark(), while
 * frozen, opens OSTDIR/snap/NAME (made, emptied first) as the OST's open
 * snapshot; from then on oss_snap_capture() links an object into it
 * before any change or destroy of that object (an object linked already
 * was captured, and stays as it was); oss_snap_link() links every object
 * not captured yet and closes the snapshot. One open snapshot per OST: a
 * new mark ends an abandoned one. 0 / number linked, -ESTALE when NAME
 * is not the OST's open snapshot (never marked, or the OSS restarted),
 * -EIO when a capture failed (the snapshot is incomplete), or -errno.
 */
#define OSS_SNAP_EPOCHS	OSS_SNAP_MAX_OSTS
int		 oss_snap_mark(struct oss_snap *s, uint32_t ost,
		    const char *ostdir, const char *name);
int		 oss_snap_capture(struct oss_snap *s, uint32_t ost, int odirfd,
		    uint64_t oid);
int		 oss_snap_link(struct oss_snap *s, uint32_t ost, int odirfd,
		    const char *name);
/* Remove OSTDIR/snap/NAME. */
int		 oss_snap_drop(const char *ostdir, const char *name);
/*
 * Copy-up (see above) of object `oid` whose open descriptor is `fd`,
 * called with the object's modification lock held. 1 when it was copied
 * (the caller reopens it), 0 when it has one link, or -errno.
 */
int		 oss_snap_cow(struct oss_snap *s, int odirfd, uint64_t oid,
		    int fd);

/* A name is [A-Za-z0-9-], 1..MSG_SNAP_NAME-1 chars, NUL-terminated. */
int		 oss_snap_name_ok(const char *name, unsigned cap);

/* Counters for STATS: freezes, copy-ups, longest freeze (us). */
void		 oss_snap_counters(struct oss_snap *s, uint64_t *freezes,
		    uint64_t *cows, uint64_t *max_freeze_us);

#endif

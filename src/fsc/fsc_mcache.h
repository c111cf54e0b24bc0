/*
 * What a mount keeps under leases (docs/leases.md), and the guard that
 * keeps a reply racing a revocation from installing stale data.
 *
 * Items: an inode's attributes (FSC_MC_ATTR, with the attributes the
 * MDS sent when it leased them), its pages (FSC_MC_PAGES: cached under a
 * lease since an open that dropped older ones), a name in a directory
 * (FSC_MC_ENTRY, with the inode it names). fsx-mount told the kernel to
 * keep each for long; a revocation or a lost session drops it again.
 * While an entry and the attributes of the inode it names are both held,
 * a LOOKUP is answered from here without a round trip (fsc_mc_lookup):
 * the MDS revokes before any other client's change is acknowledged, and
 * the mount drops what its own changes make stale (fsc_mc_changed...).
 *
 * The race it closes: a REVOKE may be handled while the reply it makes
 * stale is on its way to the kernel. A reply keeps its lease only when
 * the generation and the session epoch did not move between sending the
 * request and answering the kernel (fsc_mc_guard_*), and the answer is
 * given with the cache's mutex held; a revocation takes the mutex before
 * notifying, so its notify comes after that answer and removes what it
 * installed.
 *
 * Threads: any. Functions marked "locked" expect the caller to hold the
 * mutex (fsc_mc_lock, or a successful fsc_mc_guard_check).
 */
#ifndef FSX_FSC_MCACHE_H
#define FSX_FSC_MCACHE_H

#include <stdint.h>

#include "msg/msg.h"

/*
 * FSC_MC_DIRALL on a directory: this mount made it (MKDIR) and holds its
 * attribute lease, which any other session's name change in it revokes;
 * so every name in it is one this mount made, and each such name has an
 * FSC_MC_ENTRY item here (a name made without one drops DIRALL:
 * fsc_mc_dir_unknown). A LOOKUP of any other name there is answered "no
 * such name" with no round trip (fsc_mc_dir_absent): the LOOKUP before
 * each create of tar -x or a git checkout.
 */
/*
 * FSC_MC_WATCH on a regular file open for write here and nowhere else:
 * the attributes the MDS sent with a MSG_LEASE_WATCHED lease when every
 * writer it counted was a handle of this client (fsc_sole_writer). Until
 * the lease is revoked (another session opens it for write, changes or
 * closes it) or this mount changes what the MDS holds (its CLOSE, fsync,
 * APPEND, SETATTR...), a GETATTR is those attributes with the size and
 * blocks this client knows (fsc_writer_attr): what the MDS would answer.
 * An attribute lease of the inode (FSC_MC_ATTR) replaces it.
 */
/*
 * FSC_MC_DELEG on a directory: the MDS delegated it to this mount with
 * the MKDIR that made it (msg.h MSG_LEASE_DELEG), and has not recalled
 * it: no other session has named it since. With FSC_MC_DIRALL, an
 * unlink there may be acknowledged before the MDS makes it (fm_unl.c).
 */
enum { FSC_MC_ATTR, FSC_MC_PAGES, FSC_MC_ENTRY, FSC_MC_DIRALL,
       FSC_MC_WATCH, FSC_MC_DELEG };

/*
 * Items remembered. Past it an add is refused and what it would have held
 * costs a round trip each time, so it is sized to what the MDS can lease
 * one session (MDS_LEASE_MAX, 128 Ki), at most two items each (an
 * attribute lease is an ATTR and a PAGES item): at 64 Ki, a second git
 * clone of /usr/include on the same mount made 40,478 GETATTR round trips
 * where the first made 7,913. About 200 bytes an item.
 */
#define FSC_MC_MAX	(256 * 1024)

struct fsc_mc_item {
	int			kind;
	uint64_t		ino;	/* FSC_MC_ENTRY: the parent */
	char			*name;
	uint64_t		child;	/* FSC_MC_ENTRY: what it names */
	int			has_attr;
	struct msg_attr		attr;	/* FSC_MC_ATTR with has_attr */
	struct fsc_mc_item	*next;
};

struct fsc_mc_guard {
	uint64_t	gen;
	uint64_t	tick;	/* fsc_mc_bump_ino's clock at begin */
	uint64_t	epoch;	/* 0: no session, nothing may be kept */
};

/* Items held now (at most FSC_MC_MAX). */
unsigned fsc_mc_count(void);
void	fsc_mc_lock(void);
void	fsc_mc_unlock(void);
/* Note the generation; epoch is the session's (fsc_session_epoch). */
void	fsc_mc_guard_begin(struct fsc_mc_guard *g, uint64_t epoch);
/* Take the mutex; 1 if no revocation, drop or own change came since
 * begin and the session epoch (now) is still g's. The caller answers
 * the kernel, then calls fsc_mc_unlock(). */
int	fsc_mc_guard_check(const struct fsc_mc_guard *g, uint64_t now);

/* locked: 1 if (kind, ino, name) is held */
int	fsc_mc_has(int kind, uint64_t ino, const char *name);
/* locked: remember an item; a (FSC_MC_ATTR) or child (FSC_MC_ENTRY) may
 * be 0/NULL. 0 when it could not be remembered: then the caller must not
 * tell the kernel to keep it. */
int	fsc_mc_add(int kind, uint64_t ino, const char *name, uint64_t child,
	    const struct msg_attr *a);
/* locked: forget ino's attributes and pages (name NULL) or the entry */
void	fsc_mc_del(uint64_t ino, const char *name);
/* locked: forget ino's item of one kind (not an entry) */
void	fsc_mc_del_kind(int kind, uint64_t ino);
/* locked: the attributes of what parent/name names, 1 if held (an entry
 * and its inode's attributes, of an inode with one name or a directory) */
int	fsc_mc_lookup(uint64_t parent, const char *name, struct msg_attr *a);
/* locked: ino's leased attributes, 1 if held */
int	fsc_mc_attr(uint64_t ino, struct msg_attr *a);
/* locked: ino's FSC_MC_WATCH attributes, 1 if held */
int	fsc_mc_watched(uint64_t ino, struct msg_attr *a);
/* locked: the inode parent/name names here, 0 if not held */
uint64_t fsc_mc_child(uint64_t parent, const char *name);
/* locked: 1 if parent holds FSC_MC_DIRALL and name has no entry naming
 * an inode there: the name does not exist */
int	fsc_mc_dir_absent(uint64_t parent, const char *name);
/* A name was made in parent without its entry kept here: parent's
 * names are no longer all known (drops FSC_MC_DIRALL). */
void	fsc_mc_dir_unknown(uint64_t parent);
/* locked: advance the generation (replies in flight keep nothing) */
void	fsc_mc_bump(void);
/* locked: ino's attributes changed by this mount's own CLOSE: replies in
 * flight keep nothing of ino (others are not disturbed) */
void	fsc_mc_bump_ino(uint64_t ino);
/* locked: 1 if no fsc_mc_bump_ino of ino (or of an inode sharing its
 * slot) came since g began: a reply may keep ino's attributes */
int	fsc_mc_ino_fresh(const struct fsc_mc_guard *g, uint64_t ino);
/* Detach every item (the session was lost or made again); the caller
 * notifies and frees them with fsc_mc_item_free. */
struct fsc_mc_item *fsc_mc_take_all(void);
void	fsc_mc_item_free(struct fsc_mc_item *it);

/*
 * The mount's own change, after the MDS acknowledged it: the MDS does
 * not revoke the changer's leases, so what it made stale is dropped here
 * (and replies in flight keep nothing). ino's attributes; a name's entry,
 * its inode's attributes and its directory's attributes (not the
 * directory's FSC_MC_DIRALL: the caller keeps the name's new entry, or
 * calls fsc_mc_dir_unknown).
 */
void	fsc_mc_changed(uint64_t ino);
void	fsc_mc_name_changed(uint64_t parent, const char *name);

#endif

/*
 * The OSS's cache of open object files: a hash of (ost, oid) -> entry, and
 * an LRU list of every entry; entries with no reference are closed from the
 * cold end when the cache is over capacity. Invariants:
 *
 *   1. An entry is in the hash iff !dead; it is on the LRU list iff in the
 *      hash.
 *   2. An entry's fd stays open while refs > 0 (so a thread's pread or
 *      pwrite never hits a closed or reused descriptor).
 *   3. An entry is freed when it is out of the hash and refs == 0.
 *
 * oc->mu guards the hash, the list, refs and dead; ob->mu (oss_obj_lock)
 * guards alloc/size and serializes modifications of one object.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/dlist.h"
#include "core/log.h"
#include "oss/oss.h"

#define OC_BUCKETS	4096	/* power of two */
#define OBJ_DFD_UNSET	(-2)	/* not opened yet */
#define OBJ_DFD_NONE	(-1)	/* the file system refused O_DIRECT */

struct oss_obj {
	struct dlink		 link;		/* first: the cache's lru */
	uint32_t		 ost;
	uint64_t		 oid;
	int			 fd;
	_Atomic int		 dfd;		/* O_DIRECT twin, OBJ_DFD_* */
	int			 refs;
	int			 dead;
	int			 name_dirty;	/* made here, dir not synced */
	pthread_mutex_t		 mu;
	_Atomic uint64_t	 alloc;		/* bytes allocated */
	_Atomic uint64_t	 size;
	struct oss_obj		*hnext;
};

struct oss_obj_cache {
	pthread_mutex_t		 mu;
	unsigned		 cap;
	struct dlist		 lru;		/* every entry of the hash,
						 * cold (head) to hot */
	struct oss_obj		*bucket[OC_BUCKETS];
};

static unsigned
oc_hash(uint32_t ost, uint64_t oid)
{
	uint64_t x = oid * 0x9e3779b97f4a7c15ull ^ ((uint64_t)ost << 32 | ost);

	x ^= x >> 29;
	return (unsigned)(x & (OC_BUCKETS - 1));
}

struct oss_obj_cache *
oss_obj_cache_new(int cap)
{
	struct oss_obj_cache *oc = calloc(1, sizeof(*oc));

	if (oc == NULL)
		return NULL;
	oc->cap = cap > 0 ? (unsigned)cap : OSS_FDCACHE_DEFAULT;
	pthread_mutex_init(&oc->mu, NULL);
	return oc;
}

static void
ob_free(struct oss_obj *ob)
{
	close(ob->fd);
	if (ob->dfd >= 0)
		close(ob->dfd);
	pthread_mutex_destroy(&ob->mu);
	free(ob);
}

static void
lru_unlink(struct oss_obj_cache *oc, struct oss_obj *ob)
{
	dlist_remove(&oc->lru, &ob->link);
}

static void
lru_push_hot(struct oss_obj_cache *oc, struct oss_obj *ob)
{
	dlist_append(&oc->lru, &ob->link);
}

static void
hash_remove(struct oss_obj_cache *oc, struct oss_obj *ob)
{
	struct oss_obj **pp = &oc->bucket[oc_hash(ob->ost, ob->oid)];

	while (*pp != NULL && *pp != ob)
		pp = &(*pp)->hnext;
	if (*pp == ob)
		*pp = ob->hnext;
	ob->hnext = NULL;
	lru_unlink(oc, ob);
}

/* Close unreferenced entries from the cold end while over capacity. */
static void
oc_trim(struct oss_obj_cache *oc)
{
	struct oss_obj *ob = (struct oss_obj *)oc->lru.head;

	while (oc->lru.n > oc->cap && ob != NULL) {
		struct oss_obj *hotter = (struct oss_obj *)ob->link.next;

		if (ob->refs == 0) {
			hash_remove(oc, ob);
			ob_free(ob);
		}
		ob = hotter;
	}
}

void
oss_obj_cache_free(struct oss_obj_cache *oc)
{
	if (oc == NULL)
		return;
	for (int i = 0; i < OC_BUCKETS; i++) {
		struct oss_obj *ob = oc->bucket[i], *next;

		for (; ob != NULL; ob = next) {
			next = ob->hnext;
			ob_free(ob);
		}
	}
	pthread_mutex_destroy(&oc->mu);
	free(oc);
}

int
oss_obj_cache_count(struct oss_obj_cache *oc)
{
	int n;

	pthread_mutex_lock(&oc->mu);
	n = (int)oc->lru.n;
	pthread_mutex_unlock(&oc->mu);
	return n;
}

static struct oss_obj *
hash_find(struct oss_obj_cache *oc, uint32_t ost, uint64_t oid)
{
	struct oss_obj *ob = oc->bucket[oc_hash(ost, oid)];

	for (; ob != NULL; ob = ob->hnext)
		if (ob->ost == ost && ob->oid == oid)
			return ob;
	return NULL;
}

/* Open the object's file; *created = 1 when this call made it. */
static int
obj_open(int odirfd, uint64_t oid, int flags, int *created)
{
	char name[MSG_OBJ_NAME_MAX];
	int fd;

	*created = 0;
	msg_obj_name(name, oid);
	for (int tries = 0; tries < 4; tries++) {
		fd = openat(odirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0)
			return fd;
		if (errno != ENOENT || !(flags & OSS_OBJ_CREATE))
			return -errno;
		fd = openat(odirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW |
		    O_CREAT | O_EXCL, 0600);
		if (fd >= 0) {
			*created = 1;
			return fd;
		}
		if (errno == ENOENT) {
			/* subdirectories are made on first use */
			name[2] = '\0';
			if (mkdirat(odirfd, name, 0700) < 0 &&
			    errno != EEXIST)
				return -errno;
			name[2] = '/';
			continue;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EAGAIN;
}

int
oss_obj_get(struct oss_obj_cache *oc, uint32_t ost, int odirfd,
    uint64_t oid, int flags, struct oss_obj **out, int *created)
{
	struct oss_obj *ob, *nob;
	struct stat st;
	int fd, made = 0;

	*out = NULL;
	if (created != NULL)
		*created = 0;
	pthread_mutex_lock(&oc->mu);
	ob = hash_find(oc, ost, oid);
	if (ob != NULL) {
		ob->refs++;
		lru_unlink(oc, ob);
		lru_push_hot(oc, ob);
		pthread_mutex_unlock(&oc->mu);
		*out = ob;
		return 0;
	}
	pthread_mutex_unlock(&oc->mu);

	/* open outside the lock; another thread may race us */
	fd = obj_open(odirfd, oid, flags, &made);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	nob = calloc(1, sizeof(*nob));
	if (nob == NULL) {
		close(fd);
		return -ENOMEM;
	}
	nob->ost = ost;
	nob->oid = oid;
	nob->fd = fd;
	nob->dfd = OBJ_DFD_UNSET;
	nob->refs = 1;
	nob->alloc = (uint64_t)st.st_blocks * 512;
	nob->size = (uint64_t)st.st_size;
	nob->name_dirty = made;
	pthread_mutex_init(&nob->mu, NULL);

	pthread_mutex_lock(&oc->mu);
	ob = hash_find(oc, ost, oid);
	if (ob != NULL) {
		/* lost the race: use the cached one */
		ob->refs++;
		if (made)
			__atomic_store_n(&ob->name_dirty, 1, __ATOMIC_RELAXED);
		lru_unlink(oc, ob);
		lru_push_hot(oc, ob);
		pthread_mutex_unlock(&oc->mu);
		ob_free(nob);
		*out = ob;
		if (created != NULL)
			*created = made;
		return 0;
	}
	{
		unsigned b = oc_hash(ost, oid);

		nob->hnext = oc->bucket[b];
		oc->bucket[b] = nob;
	}
	lru_push_hot(oc, nob);
	oc_trim(oc);
	pthread_mutex_unlock(&oc->mu);
	*out = nob;
	if (created != NULL)
		*created = made;
	return 0;
}

void
oss_obj_put(struct oss_obj_cache *oc, struct oss_obj *ob)
{
	int gone;

	if (ob == NULL)
		return;
	pthread_mutex_lock(&oc->mu);
	ob->refs--;
	gone = ob->dead && ob->refs == 0;
	if (!ob->dead && oc->lru.n > oc->cap)
		oc_trim(oc);
	pthread_mutex_unlock(&oc->mu);
	if (gone)
		ob_free(ob);
}

void
oss_obj_kill(struct oss_obj_cache *oc, struct oss_obj *ob)
{
	pthread_mutex_lock(&oc->mu);
	if (!ob->dead) {
		hash_remove(oc, ob);
		__atomic_store_n(&ob->dead, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&oc->mu);
}

int
oss_obj_fd(const struct oss_obj *ob)
{
	return ob->fd;
}

/*
 * A second descriptor of the same file opened O_DIRECT, for large aligned
 * transfers that should not pass through (and evict) the page cache. It is
 * opened through /proc/self/fd so it names the very inode of `fd` even if
 * the object was destroyed and re-created meanwhile. -1 where the file
 * system refuses O_DIRECT (the caller then uses oss_obj_fd).
 */
int
oss_obj_dfd(struct oss_obj *ob)
{
	char path[40];
	int fd, expect = OBJ_DFD_UNSET;

	fd = atomic_load(&ob->dfd);
	if (fd != OBJ_DFD_UNSET)
		return fd;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", ob->fd);
	fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		fd = OBJ_DFD_NONE;
	if (!atomic_compare_exchange_strong(&ob->dfd, &expect, fd)) {
		/* another reader opened it first */
		if (fd >= 0)
			close(fd);
		fd = expect;
	}
	return fd;
}

void
oss_obj_lock(struct oss_obj *ob)
{
	pthread_mutex_lock(&ob->mu);
}

void
oss_obj_unlock(struct oss_obj *ob)
{
	pthread_mutex_unlock(&ob->mu);
}

int
oss_obj_dead(const struct oss_obj *ob)
{
	/* written under the cache lock before the object lock is dropped by
	   the killer, read under the object lock */
	return __atomic_load_n(&ob->dead, __ATOMIC_ACQUIRE);
}

uint64_t
oss_obj_alloc(const struct oss_obj *ob)
{
	return ob->alloc;
}

uint64_t
oss_obj_size(const struct oss_obj *ob)
{
	return ob->size;
}

int
oss_obj_name_dirty(const struct oss_obj *ob)
{
	return __atomic_load_n(&ob->name_dirty, __ATOMIC_RELAXED);
}

void
oss_obj_name_synced(struct oss_obj *ob)
{
	__atomic_store_n(&ob->name_dirty, 0, __ATOMIC_RELAXED);
}

void
oss_obj_set(struct oss_obj *ob, uint64_t alloc, uint64_t size)
{
	ob->alloc = alloc;
	ob->size = size;
}

/*
 * A mount's leased items (fsc_mcache.h): one table per process, hashed by
 * inode (an entry by its directory), at most FSC_MC_MAX items.
 *
 * Invariants (under mc_mu):
 *  1. An item is in the table only while its lease is believed held; a
 *     revocation, a lost session or the mount's own change removes it.
 *  2. mc_gen moves on every removal a reply in flight could undo; a
 *     reply installs only if it saw the same mc_gen (fsc_mc_guard_*).
 *  3. An entry's child and an attribute item's attributes are what the
 *     MDS sent with the lease, so a hit is the MDS's current answer.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsc/fsc_mcache.h"

#define MC_HASH_BITS	16
#define MC_HASH		(1u << MC_HASH_BITS)

static pthread_mutex_t	 mc_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t		 mc_gen;
static struct fsc_mc_item *mc_tab[MC_HASH];
static unsigned		 mc_n;
static uint64_t		 mc_tick;		/* fsc_mc_bump_ino's clock */
static uint64_t		 mc_ino_tick[MC_HASH];	/* its last, by ino slot */

/* An inode's items by inode, an entry by directory and name (a
 * directory's many names must not share one chain). */
static unsigned
mc_hash(uint64_t ino, const char *name)
{
	uint64_t h = ino;

	for (; name != NULL && *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ull;
	return (unsigned)((h * 0x9e3779b97f4a7c15ull) >> (64 - MC_HASH_BITS));
}

void
fsc_mc_lock(void)
{
	pthread_mutex_lock(&mc_mu);
}

void
fsc_mc_unlock(void)
{
	pthread_mutex_unlock(&mc_mu);
}

void
fsc_mc_guard_begin(struct fsc_mc_guard *g, uint64_t epoch)
{
	/*
	 * No mutex (it made the readers of a data loader wait on each
	 * other): both only grow, and are changed under the mutex before
	 * anything a reply could undo is dropped; whatever moved them before
	 * this request goes out is older than its reply.
	 */
	g->gen = __atomic_load_n(&mc_gen, __ATOMIC_ACQUIRE);
	g->tick = __atomic_load_n(&mc_tick, __ATOMIC_ACQUIRE);
	g->epoch = epoch;
}

int
fsc_mc_guard_check(const struct fsc_mc_guard *g, uint64_t now)
{
	pthread_mutex_lock(&mc_mu);
	return g->epoch != 0 && g->gen == mc_gen && now == g->epoch;
}

/* name is given for FSC_MC_ENTRY only */
static struct fsc_mc_item *
mc_find(int kind, uint64_t ino, const char *name)
{
	for (struct fsc_mc_item *it = mc_tab[mc_hash(ino, name)]; it != NULL;
	    it = it->next)
		if (it->kind == kind && it->ino == ino &&
		    (name == NULL || strcmp(it->name, name) == 0))
			return it;
	return NULL;
}

int
fsc_mc_has(int kind, uint64_t ino, const char *name)
{
	return mc_find(kind, ino, name) != NULL;
}

void
fsc_mc_del_kind(int kind, uint64_t ino)
{
	struct fsc_mc_item **pp = &mc_tab[mc_hash(ino, NULL)], *it;

	while ((it = *pp) != NULL) {
		if (it->kind != kind || it->ino != ino) {
			pp = &it->next;
			continue;
		}
		*pp = it->next;
		fsc_mc_item_free(it);
		mc_n--;
	}
}

int
fsc_mc_add(int kind, uint64_t ino, const char *name, uint64_t child,
    const struct msg_attr *a)
{
	struct fsc_mc_item *it = mc_find(kind, ino, name);

	if (kind == FSC_MC_ATTR)
		fsc_mc_del_kind(FSC_MC_WATCH, ino);	/* nobody writes now */
	if (it == NULL) {
		if (mc_n >= FSC_MC_MAX)
			return 0;
		it = calloc(1, sizeof(*it));
		if (it == NULL)
			return 0;
		it->name = name != NULL ? strdup(name) : NULL;
		if (name != NULL && it->name == NULL) {
			free(it);
			return 0;
		}
		it->kind = kind;
		it->ino = ino;
		it->next = mc_tab[mc_hash(ino, name)];
		mc_tab[mc_hash(ino, name)] = it;
		mc_n++;
	}
	if (child != 0)
		it->child = child;
	if (a != NULL) {
		it->attr = *a;
		it->has_attr = 1;
	}
	return 1;
}

void
fsc_mc_item_free(struct fsc_mc_item *it)
{
	free(it->name);
	free(it);
}

void
fsc_mc_del(uint64_t ino, const char *name)
{
	struct fsc_mc_item **pp = &mc_tab[mc_hash(ino, name)], *it;

	while ((it = *pp) != NULL) {
		int entry = it->kind == FSC_MC_ENTRY;

		if (it->ino != ino || entry != (name != NULL) ||
		    (entry && strcmp(it->name, name) != 0)) {
			pp = &it->next;
			continue;
		}
		*pp = it->next;
		fsc_mc_item_free(it);
		mc_n--;
	}
}


int
fsc_mc_dir_absent(uint64_t parent, const char *name)
{
	return mc_find(FSC_MC_DIRALL, parent, NULL) != NULL &&
	    fsc_mc_child(parent, name) == 0;
}

void
fsc_mc_dir_unknown(uint64_t parent)
{
	pthread_mutex_lock(&mc_mu);
	fsc_mc_del_kind(FSC_MC_DIRALL, parent);
	pthread_mutex_unlock(&mc_mu);
}

int
fsc_mc_watched(uint64_t ino, struct msg_attr *a)
{
	struct fsc_mc_item *it = mc_find(FSC_MC_WATCH, ino, NULL);

	/* other names: as fsc_mc_attr */
	if (it == NULL || !it->has_attr || it->attr.nlink > 1)
		return 0;
	*a = it->attr;
	return 1;
}

int
fsc_mc_attr(uint64_t ino, struct msg_attr *a)
{
	struct fsc_mc_item *it = mc_find(FSC_MC_ATTR, ino, NULL);

	/* a file with other names: an unlink of one of them here would
	 * change its nlink without this mount knowing which inode it was */
	if (it == NULL || !it->has_attr ||
	    (!S_ISDIR(it->attr.mode) && it->attr.nlink > 1) ||
	    it->attr.open_writers > 0)
		return 0;
	*a = it->attr;
	return 1;
}

uint64_t
fsc_mc_child(uint64_t parent, const char *name)
{
	struct fsc_mc_item *it = mc_find(FSC_MC_ENTRY, parent, name);

	return it != NULL ? it->child : 0;
}

int
fsc_mc_lookup(uint64_t parent, const char *name, struct msg_attr *a)
{
	uint64_t child = fsc_mc_child(parent, name);

	return child != 0 && fsc_mc_attr(child, a);
}

unsigned
fsc_mc_count(void)
{
	unsigned n;

	pthread_mutex_lock(&mc_mu);
	n = mc_n;
	pthread_mutex_unlock(&mc_mu);
	return n;
}

void
fsc_mc_bump(void)
{
	__atomic_add_fetch(&mc_gen, 1, __ATOMIC_RELEASE);
}

void
fsc_mc_bump_ino(uint64_t ino)
{
	mc_ino_tick[mc_hash(ino, NULL)] = __atomic_add_fetch(&mc_tick, 1,
	    __ATOMIC_RELEASE);
}

int
fsc_mc_ino_fresh(const struct fsc_mc_guard *g, uint64_t ino)
{
	return mc_ino_tick[mc_hash(ino, NULL)] <= g->tick;
}

struct fsc_mc_item *
fsc_mc_take_all(void)
{
	struct fsc_mc_item *all = NULL, *it, *next;

	pthread_mutex_lock(&mc_mu);
	__atomic_add_fetch(&mc_gen, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < MC_HASH; i++) {
		for (it = mc_tab[i]; it != NULL; it = next) {
			next = it->next;
			it->next = all;
			all = it;
		}
		mc_tab[i] = NULL;
	}
	mc_n = 0;
	pthread_mutex_unlock(&mc_mu);
	return all;
}

void
fsc_mc_changed(uint64_t ino)
{
	pthread_mutex_lock(&mc_mu);
	__atomic_add_fetch(&mc_gen, 1, __ATOMIC_RELEASE);
	fsc_mc_del(ino, NULL);
	pthread_mutex_unlock(&mc_mu);
}

void
fsc_mc_name_changed(uint64_t parent, const char *name)
{
	uint64_t child;

	pthread_mutex_lock(&mc_mu);
	__atomic_add_fetch(&mc_gen, 1, __ATOMIC_RELEASE);
	child = fsc_mc_child(parent, name);
	if (child != 0)
		fsc_mc_del(child, NULL);
	fsc_mc_del(parent, name);
	fsc_mc_del_kind(FSC_MC_ATTR, parent);
	fsc_mc_del_kind(FSC_MC_PAGES, parent);
	pthread_mutex_unlock(&mc_mu);
}

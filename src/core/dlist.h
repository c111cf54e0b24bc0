/*
 * An intrusive doubly linked list in arrival order (the front door's and
 * the guard's connection records, the MDS's leases of a session): a
 * record starts with a struct dlink, so a link pointer is a record
 * pointer. Not thread-safe: the owner locks. Removing a link that is not
 * on the list is a caller bug.
 */
#ifndef FSX_CORE_DLIST_H
#define FSX_CORE_DLIST_H

struct dlink {
	struct dlink	*prev, *next;
};

struct dlist {
	struct dlink	*head, *tail;
	unsigned	 n;
};

static inline void
dlist_append(struct dlist *l, struct dlink *k)
{
	k->prev = l->tail;
	k->next = NULL;
	if (l->tail != NULL)
		l->tail->next = k;
	else
		l->head = k;
	l->tail = k;
	l->n++;
}

static inline void
dlist_remove(struct dlist *l, struct dlink *k)
{
	if (k->prev != NULL)
		k->prev->next = k->next;
	else
		l->head = k->next;
	if (k->next != NULL)
		k->next->prev = k->prev;
	else
		l->tail = k->prev;
	k->prev = k->next = NULL;
	l->n--;
}

#endif

/*
 * An intrusive doubly linked list in arrival order, for the front door's
 * and the guard's connection records: a record starts with a struct
 * http_link, so a link pointer is a record pointer. Not thread-safe: the
 * owner locks. Removing a link that is not on the list is a caller bug.
 */
#ifndef FSX_HTTP_LIST_H
#define FSX_HTTP_LIST_H

struct http_link {
	struct http_link	*prev, *next;
};

struct http_list {
	struct http_link	*head, *tail;
	unsigned		 n;
};

static inline void
http_list_append(struct http_list *l, struct http_link *k)
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
http_list_remove(struct http_list *l, struct http_link *k)
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

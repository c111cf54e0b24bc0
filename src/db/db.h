/*
 * fsxd's data layer: every table of the control plane behind typed
 * functions. Nothing outside src/db/ sees SQL or SQLite; this header does
 * not include sqlite3.h. Values cross as C types and the enums of
 * core/kinds.h; JSON documents cross as text the caller parses.
 *
 * Connections: one per thread (WAL lets readers run beside the writer),
 * opened on first use from the path given to db_init(); statements are
 * prepared once per connection and kept (db_int.h).
 *
 * Transactions: db_tx(fn, arg) runs fn inside BEGIN IMMEDIATE and commits
 * when fn returns >= 0, rolls back otherwise. Every function below may run
 * inside or outside one; outside, each statement is its own transaction.
 *
 * Returns: 0 (or a count) on success, -ENOENT when a named row does not
 * exist, -EEXIST on a uniqueness conflict, -EBUSY when the database stayed
 * locked, -EIO for anything else.
 */
#ifndef FSX_DB_H
#define FSX_DB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/kinds.h"

/* Open (creating 0600) the database, apply pending migrations. */
int		 db_init(const char *path);
/* Close this thread's connection (threads call it before they exit). */
void		 db_thread_fini(void);
/* Run fn(arg) in one write transaction; returns fn's result, or the
 * commit's error. fn < 0 rolls back. */
int		 db_tx(int (*fn)(void *arg), void *arg);
/*
 * A number that changes after every commit by any connection of this
 * process (the only writer of the database), for caches of query
 * results: read it before the query, and a result is current while
 * db_generation() still returns the same number. 0 means "do not cache"
 * (a connection is not in WAL mode, so commits are not seen).
 */
uint64_t	 db_generation(void);
/* The schema version the migrations reached, or -EIO. */
int		 db_user_version(void);

/* --- file_systems (db_fs.c) --- */

#define DB_ID_MAX	32
#define DB_SECRET_HEX	65		/* 32 bytes as hex, NUL */

struct db_fs {
	long long		 seq;		/* creation order, listing cursor */
	char			 id[DB_ID_MAX];
	char			 account[16];
	char			 region[32];
	enum fs_lifecycle	 lifecycle;	/* the truth; doc has none */
	char			 deployment[32];
	long long		 capacity;	/* GiB, as reported */
	double			 created;
	int			 nost;		/* OSTs provisioned */
	char			 secret[DB_SECRET_HEX];	/* engine protocol secret */
	char			 arn[160];	/* ResourceARN, the key of its tags */
	char			*doc;		/* description JSON with its Tags
						   (db_tag_*); owned */
};

/* Insert a new row (f->seq is assigned). f->doc carries no Tags: tags are
 * rows (db_tag_put); every doc read back has them as its "Tags" member
 * (omitted when there are none). */
int	 db_fs_insert(struct db_fs *f);
/* The row of id; account and region NULL: any owner. Free with db_fs_fini. */
int	 db_fs_get(const char *id, const char *account, const char *region,
	    struct db_fs *out);
void	 db_fs_fini(struct db_fs *f);
/* Replace the description and capacity; lifecycle too unless it is -1. */
int	 db_fs_update(const char *id, const char *doc, int lifecycle,
	    long long capacity);
int	 db_fs_set_lifecycle(const char *id, enum fs_lifecycle lc);
int	 db_fs_set_nost(const char *id, int nost);
/* Delete the row and its tags. */
int	 db_fs_delete(const char *id);
/*
 * The owner's rows with seq > after, in seq order: fn(arg, seq, doc,
 * lifecycle) for each until it returns non-zero. Returns 0 or -EIO.
 */
typedef int (*db_fs_row_fn)(void *arg, long long seq, const char *doc,
    enum fs_lifecycle lc);
int	 db_fs_list(const char *account, const char *region, long long after,
	    db_fs_row_fn fn, void *arg);
/* Count and summed capacity of the owner's rows whose deployment type
 * starts with `prefix`. */
int	 db_fs_usage(const char *account, const char *region,
	    const char *prefix, long long *count, long long *storage);
/* Ids of every row whose lifecycle bit (1u << lc) is in mask, in seq
 * order: up to max into ids; returns how many there are (may be > max). */
int	 db_fs_ids(unsigned mask, char (*ids)[DB_ID_MAX], int max);
/* AVAILABLE or UPDATING file systems whose description has
   AutomaticBackupRetentionDays > 0, in listing order (the automatic
   backup tick reads only these: idle scale). Returns the count. */
int	 db_fs_ids_auto_backup(char (*ids)[DB_ID_MAX], int max);
/* Rows per lifecycle, over every owner. */
int	 db_fs_count_by_lifecycle(long long counts[FS_LIFECYCLE__COUNT]);

/* --- tags (db_tag.c): per resource ARN, in order of first tagging --- */

#define DB_TAG_KEY_MAX		129	/* 128 + NUL */
#define DB_TAG_VALUE_MAX	257

struct db_tag {
	char	key[DB_TAG_KEY_MAX];
	char	value[DB_TAG_VALUE_MAX];
};

/* Tags of arn from position `start`, up to max into out; returns how
 * many the resource has in all (may exceed start + max). */
int	 db_tag_list(const char *arn, long long start, struct db_tag *out,
	    int max);
/* Add, or change the value of, one tag (its position stays). */
int	 db_tag_put(const char *arn, const char *key, const char *value);
/* Remove one tag; a key that is not there is no error. */
int	 db_tag_delete(const char *arn, const char *key);
/* How many of keys[0..n) arn does not have yet. */
int	 db_tag_new_keys(const char *arn, const char *const *keys, int n);

/* --- idem_tokens (db_token.c): ClientRequestToken per (owner, op) --- */

/* The stored request params (malloc'd, *params) and resource id. */
int	 db_token_get(const char *account, const char *region, const char *op,
	    const char *token, char **params, char *resource_id, size_t len);
int	 db_token_put(const char *account, const char *region, const char *op,
	    const char *token, const char *params, const char *resource_id);

/* --- jobs (db_job.c): work that outlives a request --- */

struct db_job {
	long long	 id;
	enum job_kind	 kind;
	enum job_state	 state;
	char		 fs_id[DB_ID_MAX];
	long long	 capacity;	/* grow: target GiB */
	int		 nost;		/* create, grow: target OSTs */
	int		 attempts;
};

int	 db_job_add(enum job_kind kind, const char *fs_id, long long capacity,
	    int nost);
/* The oldest pending or running job; -ENOENT when there is none. */
int	 db_job_next(struct db_job *out);
int	 db_job_set(long long id, enum job_state state, int attempts,
	    const char *error);
/* Open (pending or running) jobs of fs_id. */
int	 db_job_open_count(const char *fs_id);

/* --- procs and osts (db_engine.c): the engine processes of each file
 * system and the OSTs they serve --- */

struct db_proc {
	char		 node[32];	/* the storage node it runs on */
	enum proc_role	 role;
	int		 idx;		/* OSS number; 0 for the MDS */
	pid_t		 pid;		/* last known; the store lock is the truth */
	long long	 starttime;	/* /proc/<pid>/stat field 22 */
	int		 port;
};

struct db_ost {
	int			 idx;		/* OST index */
	int			 oss;		/* db_proc.idx serving it */
	unsigned long long	 capacity;	/* bytes */
};

/* Rows of fs_id, MDS first then OSSes by idx; up to max; returns count. */
int	 db_proc_list(const char *fs_id, struct db_proc *out, int max);
int	 db_proc_put(const char *fs_id, const struct db_proc *p);
/* 1 when a process of any file system on `node` has `port` recorded. */
int	 db_proc_port_used(const char *node, int port);
/* Bytes of OST capacity placed on `node`, over every file system. */
long long db_node_used(const char *node);
/* Rows of fs_id by index; up to max; returns the count. */
int	 db_ost_list(const char *fs_id, struct db_ost *out, int max);
int	 db_ost_put(const char *fs_id, const struct db_ost *o);
/* Every OST of fs_id gets `capacity` bytes. */
int	 db_ost_set_capacity(const char *fs_id, unsigned long long capacity);
/* Forget every proc and OST row of fs_id. */
int	 db_engine_forget(const char *fs_id);
/* Forget one process row. */
int	 db_proc_delete(const char *fs_id, enum proc_role role, int idx);

/* --- dras (db_dra.c): data repository associations, and a file
 * system's legacy ImportPath link as the association "legacy" --- */

#define DB_DRA_LEGACY	"legacy"

struct db_dra {
	long long		 seq;
	char			 id[DB_ID_MAX];
	char			 fs_id[DB_ID_MAX];
	char			 account[16];
	char			 region[32];
	enum fs_lifecycle	 lifecycle;	/* the truth; doc has none */
	char			 arn[192];
	char			*fs_path;	/* owned */
	char			*repo_path;	/* owned: s3://bucket/prefix/ */
	char			*doc;		/* owned: description with Tags */
	char			*conf;		/* owned: HSM_CONF entry, no state */
	double			 created;
};

/* Insert (d->seq is assigned); -EEXIST when (fs_id, id) exists. */
int	 db_dra_insert(struct db_dra *d);
/* The association id (of fs_id when not NULL; of the owner when account
 * is not NULL). Free with db_dra_fini. */
int	 db_dra_get(const char *id, const char *fs_id, const char *account,
	    const char *region, struct db_dra *out);
void	 db_dra_fini(struct db_dra *d);
/* Replace doc and conf (either may be NULL: kept), lifecycle unless -1. */
int	 db_dra_update(const char *fs_id, const char *id, const char *doc,
	    const char *conf, int lifecycle);
/* Delete the row and its tags. */
int	 db_dra_delete(const char *fs_id, const char *id);
/*
 * Rows in seq order after `after`: of the owner (account not NULL), of
 * fs_id (not NULL), or both; the legacy rows only when `legacy`.
 * fn(arg, row) for each until it returns non-zero. 0 or -EIO.
 */
typedef int (*db_dra_row_fn)(void *arg, const struct db_dra *d);
int	 db_dra_list(const char *account, const char *region,
	    const char *fs_id, long long after, int legacy, db_dra_row_fn fn,
	    void *arg);

/* --- tasks (db_task.c): data repository tasks --- */

struct db_task {
	long long		 seq;
	char			 id[DB_ID_MAX];
	char			 fs_id[DB_ID_MAX];
	char			 account[16];
	char			 region[32];
	enum task_lifecycle	 lifecycle;	/* the truth; doc has none */
	char			 arn[192];
	char			*doc;		/* owned: description with Tags */
	char			*spec;		/* owned: the HSM_TASK document */
	double			 created;
};

int	 db_task_insert(struct db_task *t);
int	 db_task_get(const char *id, const char *account, const char *region,
	    struct db_task *out);
void	 db_task_fini(struct db_task *t);
/* Replace doc (NULL: kept) and lifecycle (-1: kept). */
int	 db_task_update(const char *id, const char *doc, int lifecycle);
/* As db_dra_list, for tasks. */
typedef int (*db_task_row_fn)(void *arg, const struct db_task *t);
int	 db_task_list(const char *account, const char *region,
	    const char *fs_id, long long after, db_task_row_fn fn, void *arg);
/* Tasks of fs_id whose lifecycle bit (1u << lc) is in mask. */
int	 db_task_count(const char *fs_id, unsigned mask);

#endif

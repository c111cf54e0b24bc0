/*
 * fsx-hsm: the S3 agent of one file system (docs/hsm.md).
 *
 * Contract with fsxd (opcodes 90..93, JSON in the bulk):
 *   HSM_CONF replaces the whole configuration; HSM_STATUS reports each
 *   association's and each task's state and counters; HSM_TASK queues a
 *   task (a known id is a no-op); HSM_CANCEL cancels one (-ENOENT when
 *   unknown). A malformed document is -EINVAL and changes nothing.
 *
 * Files: hsm_state.c (the in-memory record, its JSON forms, its durable
 * copy in STORE/state.json), hsm_srv.c (the dispatcher), hsm_run.c (the
 * worker thread: bucket checks, association lifecycles, tasks),
 * hsm_task.c (imports, auto-import snapshots in STORE/snap-<id>,
 * auto-export), hsm_dra.c (repository tasks), hsm_move.c (renamed
 * directories), hsm_xfer.c (restores, one file's export).
 *
 * Invariants:
 *  - Every field of struct hsm below `mu` is read and written with mu held.
 *  - The worker is the only thread that talks to S3 or to the file system;
 *    the dispatcher only records and wakes it (cond), so a request never
 *    waits on the network.
 *  - After any change a request or the worker makes, state.json is
 *    rewritten (atomically) before the reply or the next step, so a
 *    restarted agent reports what it last reported.
 */
#ifndef FSX_HSM_H
#define FSX_HSM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "msg/msg.h"
#include "msg/msg_srv.h"
#include "s3/s3.h"

#define HSM_ASSOC_MAX	8		/* per file system, as FSx */
#define HSM_TASK_MAX	256		/* kept; the oldest ended go first */
#define HSM_DOC_MAX	(1u << 20)	/* a JSON document, bytes */
#define HSM_ID_MAX	64
#define HSM_STATE_MAX	16
#define HSM_MSG_MAX	512
#define HSM_RESTORE_MS_DEF 300000	/* HSM_CONF restore_ms */
#define HSM_RECHECK_MS_DEF 60000	/* HSM_CONF recheck_ms: MISCONFIGURED */

/* AutoImport/AutoExport events */
#define HSM_EV_NEW	0x1u
#define HSM_EV_CHANGED	0x2u
#define HSM_EV_DELETED	0x4u

struct fsc;

struct hsm_assoc {
	char		id[HSM_ID_MAX];
	char		fs_path[MSG_PATH_MAX];
	char		bucket[64];
	char		prefix[S3_KEY_MAX + 1];
	/* legacy link: where exports go (ExportPath's prefix, same bucket,
	   "" = the bucket's root) when export_set, else prefix */
	char		export_prefix[S3_KEY_MAX + 1];
	int		export_set;
	int		batch_import;
	unsigned	import_ev;	/* HSM_EV_* */
	unsigned	export_ev;
	uint32_t	chunk_mib;
	char		want[HSM_STATE_MAX];	/* fsxd's lifecycle */
	int		delete_data;
	/* the agent's */
	char		state[HSM_STATE_MAX];	/* what HSM_STATUS reports */
	char		message[HSM_MSG_MAX];	/* "" = null */
	uint64_t	imported, exported;
	int		work;		/* the worker has something to do */
	uint64_t	retry_ns;	/* ... not before (monotonic) */
	int		mark;		/* scratch for CONF replacement */
};

struct hsm_task {
	char		id[HSM_ID_MAX];
	char		type[40];
	json_t		*doc;		/* the task as received */
	char		state[HSM_STATE_MAX];
	uint64_t	total, succeeded, failed, released;
	char		message[HSM_MSG_MAX];
	char		report_path[MSG_PATH_MAX];
	int		cancel;		/* asked while EXECUTING */
	uint64_t	seq;		/* order received */
};

/* An action the MDS sent (msg_hsm_action), queued for a thread. */
struct hsm_action {
	uint32_t		action;		/* MSG_HSM_* */
	uint32_t		flags;
	uint64_t		ino;
	uint64_t		size;
	char			origin[2048];	/* "bucket/key" */
	struct hsm_action	*next;
};

#define HSM_RESTORE_THREADS	2	/* files restored at once */
#define HSM_RESTORE_STREAMS	4	/* ranged GETs per file */
#define HSM_RESTORE_RANGE	(8u << 20)

struct hsm {
	char		 dir[MSG_PATH_MAX];	/* the store */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cond;		/* work for the worker, or stop */
	pthread_t	 worker;
	int		 worker_up;
	int		 stop;
	uint64_t	 gen;		/* bumped by every CONF */
	char		 mds[128];	/* "host:port", "" = none yet */
	uint8_t		 secret[MSG_SECRET_LEN];	/* the file system's */
	struct s3_conf	 s3;
	int		 have_s3;
	int		 poll_ms;
	struct hsm_assoc assoc[HSM_ASSOC_MAX];
	int		 nassoc;
	struct hsm_task	 task[HSM_TASK_MAX];
	int		 ntask;
	uint64_t	 task_seq;
	int		 restore_ms;	/* HSM_CONF "restore_ms" */
	int		 recheck_ms;	/* ... "recheck_ms" */
	/* the file system (hsm_fs.c), under fs_mu */
	pthread_mutex_t	 fs_mu;
	struct fsc	*fs;
	char		 fs_at[128];
	int		 cb_fd;		/* callback connection, -1: none */
	pthread_t	 cb_thr;
	int		 cb_up;
	/* actions from the MDS (under mu) */
	struct hsm_action *restores;	/* for the restore threads */
	struct hsm_action *events;	/* ARCHIVE, REMOVE: the worker */
	pthread_cond_t	 rcond;		/* restores queued, or stop */
	pthread_t	 rthr[HSM_RESTORE_THREADS];
	int		 nrthr;
	/* counters for STATS */
	uint64_t	 n_restored, n_restore_failed, n_exported,
			 n_export_failed, n_imported, n_removed;
	uint64_t	 n_conf, n_task, n_checks;
	int		 wake_ms_min;	/* tests: shortest poll, 0 = 100 */
};

/* hsm_state.c */
int	hsm_init(struct hsm *h, const char *dir);	/* loads state.json */
void	hsm_fini(struct hsm *h);
int	hsm_save(struct hsm *h);			/* mu held */
unsigned hsm_events_parse(const json_t *arr, int *err);
int	hsm_conf_apply(struct hsm *h, const char *doc, size_t len);
json_t	*hsm_status_json(struct hsm *h);		/* mu held */
int	hsm_task_add(struct hsm *h, const char *doc, size_t len);
int	hsm_task_cancel(struct hsm *h, const char *doc, size_t len);
void	hsm_action_push(struct hsm_action **q, struct hsm_action *a);
struct hsm_action *hsm_action_pop(struct hsm_action **q);
struct hsm_assoc *hsm_assoc_find(struct hsm *h, const char *id);
struct hsm_task *hsm_task_find(struct hsm *h, const char *id);
/* The prefix exports of a go to: export_prefix, else prefix. */
const char *hsm_export_prefix(const struct hsm_assoc *a);
void	hsm_set_msg(char *dst, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	hsm_task_ended(const struct hsm_task *t);

/* hsm_srv.c */
int	hsm_dispatch(void *ctx, struct msg_srv_conn *c, const struct msg_hdr *hd,
	    const void *body, const void *bulk);
size_t	hsm_stats(void *ctx, char *buf, size_t cap);

/* hsm_xfer.c: restore threads */
int	hsm_restore_start(struct hsm *h);
void	hsm_restore_stop(struct hsm *h);

/* hsm_run.c */
int	hsm_worker_start(struct hsm *h);
void	hsm_worker_stop(struct hsm *h);
/* The association's state after a bucket check's result (err from
 * s3_head_bucket/s3_list): state and message filled. Exposed for tests. */
/* An association found MISCONFIGURED is checked again every recheck_ms
 * (FSx: it recovers after the fix); a poll that finds the bucket gone or
 * denied turns an AVAILABLE one FAILED or MISCONFIGURED (hsm_run.c). */
void	hsm_assoc_verdict(struct hsm *h, struct hsm_assoc *a, const char *state,
	    const char *message);
void	hsm_check_verdict(int rc, const struct s3_error *e, const char *bucket,
	    char *state, char *message);

#endif

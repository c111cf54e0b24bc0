/*
 * The agent's worker thread: it alone talks to S3 and the file system.
 *
 * Loop, with mu held except around network work:
 *   1. an association with `work` set: CREATING/UPDATING -> check the
 *      bucket (HeadBucket, then one ListObjectsV2 page under the prefix)
 *      -> AVAILABLE, FAILED or MISCONFIGURED (hsm_check_verdict); a
 *      MISCONFIGURED one is checked again every recheck_ms;
 *      DELETING -> DELETED. Work that needs the file system while
 *      it cannot be reached (-ENOTCONN) is tried again a second later.
 *   2. else the oldest PENDING task -> EXECUTING -> hsm_task_run() ->
 *      SUCCEEDED / FAILED / CANCELED.
 *   3. else sleep until woken or poll_ms passed.
 * Nothing is done before the first HSM_CONF with credentials arrived.
 * A result is applied only if the association still exists; a CONF that
 * arrived meanwhile and set `work` again makes the worker go round again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "hsm/hsm.h"
#include "hsm/hsm_fs.h"
#include "hsm/hsm_task.h"

void
hsm_check_verdict(int rc, const struct s3_error *e, const char *bucket,
    char *state, char *message)
{
	const char *why = e->message[0] ? e->message : e->code;

	if (rc == 0) {
		snprintf(state, HSM_STATE_MAX, "AVAILABLE");
		message[0] = '\0';
	} else if (rc == -ENOENT) {
		snprintf(state, HSM_STATE_MAX, "FAILED");
		hsm_set_msg(message, "Amazon FSx is unable to validate access "
		    "to the S3 bucket %s: the bucket does not exist "
		    "(NoSuchBucket).", bucket);
	} else if (rc == -EACCES) {
		snprintf(state, HSM_STATE_MAX, "MISCONFIGURED");
		hsm_set_msg(message, "Amazon FSx does not have the required "
		    "permissions for the S3 bucket %s: %s (%s). Check the "
		    "bucket policy and the file system's access to it.",
		    bucket, why[0] ? why : "Access Denied",
		    e->code[0] ? e->code : "AccessDenied");
	} else {
		snprintf(state, HSM_STATE_MAX, "FAILED");
		hsm_set_msg(message, "Amazon FSx is unable to reach the S3 "
		    "bucket %s: %s.", bucket,
		    why[0] ? why : strerror(-rc));
	}
}

static int
first_only(void *arg, const struct s3_object *o)
{
	(void)arg;
	(void)o;
	return 1;
}

/* HeadBucket, then the first listing page under the prefix. */
static int
bucket_check(struct s3_client *s3, const struct hsm_assoc *a,
    struct s3_error *e)
{
	int rc;

	memset(e, 0, sizeof(*e));
	rc = s3_head_bucket(s3, a->bucket, e);
	if (rc == 0)
		rc = s3_list(s3, a->bucket, a->prefix, first_only, NULL, e);
	return rc;
}

/* The client for the current configuration (mu held on entry and exit). */
static struct s3_client *
client_get(struct hsm *h, struct s3_client *cur, uint64_t *gen)
{
	struct s3_conf c;
	struct s3_client *s;

	if (cur != NULL && *gen == h->gen)
		return cur;
	s3_client_free(cur);
	c = h->s3;
	*gen = h->gen;
	s = s3_client_new(&c);
	explicit_bzero(&c, sizeof(c));
	if (s == NULL)
		log_warn("S3 client for %s: cannot create", h->s3.endpoint);
	return s;
}

/* One association's pending work (mu held; dropped around S3). */
static void
assoc_step(struct hsm *h, struct hsm_assoc *a, struct s3_client *s3,
    struct hsm_task_ctx *tc)
{
	struct hsm_assoc copy = *a;
	char state[HSM_STATE_MAX], message[HSM_MSG_MAX];
	struct s3_error e;
	int rc;

	a->work = 0;
	memset(&e, 0, sizeof(e));
	pthread_mutex_unlock(&h->mu);
	if (strcmp(copy.state, "DELETING") == 0) {
		rc = 0;
		if (copy.delete_data)
			rc = hsm_assoc_delete_data(tc, &copy);
		snprintf(state, sizeof(state), rc == 0 ? "DELETED" : "FAILED");
		message[0] = '\0';
		if (rc < 0)
			hsm_set_msg(message, "Deleting the data under %s "
			    "failed: %s", copy.fs_path, strerror(-rc));
	} else {
		rc = bucket_check(s3, &copy, &e);
		hsm_check_verdict(rc, &e, copy.bucket, state, message);
		log_info("association %s: bucket %s: %s%s%s", copy.id,
		    copy.bucket, state, message[0] ? ": " : "", message);
		if (rc == 0 && (strcmp(copy.state, "CREATING") == 0 ||
		    (strcmp(copy.state, "MISCONFIGURED") == 0 &&
		    !hsm_snap_have(tc, copy.id)))) {
			/* the listing auto-import starts from, and the
			   batch import if asked (also when a fix made one
			   MISCONFIGURED since its creation work) */
			rc = hsm_assoc_import(tc, &copy);
			if (rc < 0 && rc != -ENOTSUP) {
				snprintf(state, sizeof(state), "FAILED");
				hsm_set_msg(message, "Importing the metadata "
				    "of s3://%s/%s failed: %s", copy.bucket,
				    copy.prefix, strerror(-rc));
			}
		}
	}
	pthread_mutex_lock(&h->mu);
	h->n_checks++;
	a = hsm_assoc_find(h, copy.id);
	if (a == NULL || a->work)
		return;		/* forgotten, or changed again meanwhile */
	if (rc == -ENOTCONN) {
		/* the file system is not there yet: again in a second */
		a->work = 1;
		a->retry_ns = now_mono_ns() + 1000000000ull;
		return;
	}
	hsm_assoc_verdict(h, a, state, message);
}

void
hsm_assoc_verdict(struct hsm *h, struct hsm_assoc *a, const char *state,
    const char *message)
{
	snprintf(a->state, sizeof(a->state), "%s", state);
	snprintf(a->message, sizeof(a->message), "%s", message);
	if (strcmp(state, "MISCONFIGURED") == 0)
		a->retry_ns = now_mono_ns() + (uint64_t)h->recheck_ms *
		    1000000ull;
	(void)hsm_save(h);
}

static struct hsm_task *
next_task(struct hsm *h)
{
	struct hsm_task *best = NULL;

	for (int i = 0; i < h->ntask; i++) {
		struct hsm_task *t = &h->task[i];

		if (strcmp(t->state, "PENDING") == 0 &&
		    (best == NULL || t->seq < best->seq))
			best = t;
	}
	return best;
}

static void *
worker_main(void *arg)
{
	struct hsm *h = arg;
	struct s3_client *s3 = NULL;
	struct hsm_task_ctx tc;
	uint64_t gen = 0, reg_next = 0;

	memset(&tc, 0, sizeof(tc));
	tc.h = h;
	pthread_mutex_lock(&h->mu);
	while (!h->stop) {
		struct hsm_assoc *a = NULL;
		struct hsm_task *t;
		struct timespec ts;

		if (h->have_s3) {
			s3 = client_get(h, s3, &gen);
			tc.s3 = s3;
		}
		for (int i = 0; s3 != NULL && i < h->nassoc; i++) {
			struct hsm_assoc *x = &h->assoc[i];

			/* MISCONFIGURED: checked again (FSx recovers) */
			if (!x->work && strcmp(x->state, "MISCONFIGURED") == 0 &&
			    x->retry_ns <= now_mono_ns())
				x->work = 1;
		}
		for (int i = 0; s3 != NULL && i < h->nassoc; i++)
			if (h->assoc[i].work &&
			    h->assoc[i].retry_ns <= now_mono_ns()) {
				a = &h->assoc[i];
				break;
			}
		if (a != NULL) {
			assoc_step(h, a, s3, &tc);
			hsm_snap_flush(&tc);
			continue;
		}
		t = s3 != NULL ? next_task(h) : NULL;
		if (t != NULL) {
			hsm_task_exec(&tc, t);	/* drops mu while it works */
			hsm_snap_flush(&tc);
			continue;
		}
		if (h->mds[0] != '\0' && now_mono_ns() >= reg_next &&
		    hsm_registered(h) == 0) {
			/* the MDS must know us before anyone opens a
			   released file */
			pthread_mutex_unlock(&h->mu);
			(void)hsm_fs_get(h);
			pthread_mutex_lock(&h->mu);
			reg_next = now_mono_ns() + 1000000000ull;
			continue;
		}
		if (s3 != NULL && hsm_poll_due(&tc)) {
			hsm_poll(&tc);		/* drops mu while it works */
			hsm_snap_flush(&tc);
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		{
			int ms = h->poll_ms > 0 && h->poll_ms < 1000 ?
			    h->poll_ms : 1000;

			ts.tv_nsec += (long)ms * 1000000L;
			ts.tv_sec += ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
		}
		pthread_cond_timedwait(&h->cond, &h->mu, &ts);
	}
	pthread_mutex_unlock(&h->mu);
	hsm_task_ctx_fini(&tc);
	s3_client_free(s3);
	return NULL;
}

int
hsm_worker_start(struct hsm *h)
{
	int rc = pthread_create(&h->worker, NULL, worker_main, h);

	if (rc != 0)
		return -rc;
	h->worker_up = 1;
	return 0;
}

void
hsm_worker_stop(struct hsm *h)
{
	pthread_mutex_lock(&h->mu);
	h->stop = 1;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->mu);
	if (h->worker_up)
		pthread_join(h->worker, NULL);
	h->worker_up = 0;
}

/*
 * The agent's dispatcher: HSM_CONF, HSM_STATUS, HSM_TASK, HSM_CANCEL
 * (docs/hsm.md). Each request is answered from the record (hsm_state.c)
 * without waiting on S3 or the file system; the worker does that.
 *
 * Contract: the request bulk is a JSON document (at most HSM_DOC_MAX
 * bytes, empty = "{}" for STATUS); a malformed one is -EINVAL. Replies
 * carry a JSON document in the bulk ("{}" unless STATUS). Other opcodes
 * are -EOPNOTSUPP.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "hsm/hsm.h"

static int
reply_doc(struct msg_srv_conn *c, const struct msg_hdr *hd, const char *txt)
{
	struct iovec iov = { (void *)txt, strlen(txt) };

	if (iov.iov_len > HSM_DOC_MAX)
		return -E2BIG;
	return msg_srv_reply(c, hd, 0, NULL, 0, &iov, 1);
}

static int
status_reply(struct hsm *h, struct msg_srv_conn *c, const struct msg_hdr *hd)
{
	json_t *doc;
	char *txt;
	int rc;

	pthread_mutex_lock(&h->mu);
	doc = hsm_status_json(h);
	pthread_mutex_unlock(&h->mu);
	txt = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (txt == NULL)
		return -ENOMEM;
	rc = reply_doc(c, hd, txt);
	free(txt);
	return rc;
}

int
hsm_dispatch(void *ctx, struct msg_srv_conn *c, const struct msg_hdr *hd,
    const void *body, const void *bulk)
{
	struct hsm *h = ctx;
	const char *doc = bulk != NULL ? bulk : "{}";
	size_t len = bulk != NULL ? hd->bulk_len : 2;
	int rc;

	(void)body;
	if (len > HSM_DOC_MAX)
		return -EINVAL;
	switch (hd->opcode) {
	case MSG_OP_HSM_CONF:
		rc = hsm_conf_apply(h, doc, len);
		break;
	case MSG_OP_HSM_STATUS:
		return status_reply(h, c, hd);
	case MSG_OP_HSM_TASK:
		rc = hsm_task_add(h, doc, len);
		break;
	case MSG_OP_HSM_CANCEL:
		rc = hsm_task_cancel(h, doc, len);
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (rc < 0)
		return rc;
	return reply_doc(c, hd, "{}");
}

size_t
hsm_stats(void *ctx, char *buf, size_t cap)
{
	struct hsm *h = ctx;
	int n, pending = 0;

	pthread_mutex_lock(&h->mu);
	for (int i = 0; i < h->ntask; i++)
		if (!hsm_task_ended(&h->task[i]))
			pending++;
	n = snprintf(buf, cap, "hsm_conf %llu\nhsm_tasks %llu\n"
	    "hsm_tasks_open %d\nhsm_associations %d\nhsm_bucket_checks %llu\n",
	    (unsigned long long)h->n_conf, (unsigned long long)h->n_task,
	    pending, h->nassoc, (unsigned long long)h->n_checks);
	pthread_mutex_unlock(&h->mu);
	return n < 0 ? 0 : ((size_t)n < cap ? (size_t)n : cap - 1);
}

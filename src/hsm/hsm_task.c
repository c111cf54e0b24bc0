/*
 * Repository work on the file system (see hsm_task.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "fsc/fsc.h"
#include "hsm/hsm_task.h"

void
hsm_task_exec(struct hsm_task_ctx *tc, struct hsm_task *t)
{
	struct hsm *h = tc->h;

	snprintf(t->state, sizeof(t->state), "FAILED");
	hsm_set_msg(t->message, "%s is not supported by this agent yet",
	    t->type);
	(void)hsm_save(h);
}

int
hsm_assoc_import(struct hsm_task_ctx *tc, struct hsm_assoc *a)
{
	(void)tc;
	(void)a;
	return -ENOTSUP;
}

int
hsm_assoc_delete_data(struct hsm_task_ctx *tc, struct hsm_assoc *a)
{
	(void)tc;
	(void)a;
	return -ENOTSUP;
}

int
hsm_poll_due(struct hsm_task_ctx *tc)
{
	(void)tc;
	return 0;
}

void
hsm_poll(struct hsm_task_ctx *tc)
{
	(void)tc;
}

void
hsm_task_ctx_fini(struct hsm_task_ctx *tc)
{
	if (tc->fs != NULL)
		fsc_free(tc->fs);
	tc->fs = NULL;
}

/*
 * What the worker does beyond bucket checks (hsm_task.c): repository
 * tasks, an association's batch import and data deletion, and the
 * auto-import poll. Called from the worker thread only.
 *
 * hsm_task_exec and hsm_poll are entered with h->mu held, drop it while
 * they work and hold it again when they return; the others run without it.
 */
#ifndef FSX_HSM_TASK_H
#define FSX_HSM_TASK_H

#include "hsm/hsm.h"

struct fsc;

struct hsm_task_ctx {
	struct hsm		*h;
	struct s3_client	*s3;
	struct fsc		*fs;		/* the file system, once reached */
	char			 fs_at[128];	/* its MDS address */
	uint64_t		 poll_next_ns;
};

void	hsm_task_exec(struct hsm_task_ctx *tc, struct hsm_task *t);
int	hsm_assoc_import(struct hsm_task_ctx *tc, struct hsm_assoc *a);
int	hsm_assoc_delete_data(struct hsm_task_ctx *tc, struct hsm_assoc *a);
int	hsm_poll_due(struct hsm_task_ctx *tc);
void	hsm_poll(struct hsm_task_ctx *tc);
void	hsm_task_ctx_fini(struct hsm_task_ctx *tc);

#endif

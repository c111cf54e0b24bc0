/*
 * fsx-mount's write-behind senders for WRITEs that came over io_uring
 * (see fm.h).
 *
 * Why: a write-behind WRITE is acknowledged first and sent to the OSS
 * after. On /dev/fuse the thread that acknowledged it sends it while the
 * kernel hands the next WRITE to another thread. Over io_uring the kernel
 * gives the next request to the entry just committed, whose thread is
 * busy with that send: each small write from one process waited for the
 * previous one's OSS round trip (4 KiB writes 14.8-15.6k/s against
 * 17.7-18k/s on /dev/fuse). Here the ring thread queues the write and
 * goes back to its ring; a sender thread makes the round trip.
 *
 * Contract:
 * - fm_wb_send(f, buf, len, off) after fsc_file_write_begin and the
 *   reply: takes a copy of buf and queues it; a sender runs
 *   fsc_file_write and fsc_file_write_end, as the caller would have. It
 *   returns -1 without queueing when FM_WB_QMAX writes wait already or no
 *   sender could start: the caller then sends it itself.
 * - The write stays registered in flight (fsc_file_write_begin) until a
 *   sender ends it, so fsync, close, reads of its range and truncates
 *   wait for it as for any write-behind, and f outlives it (closing a
 *   file drains its inode's write-behind first).
 * - Writes run in the order queued, by FM_WB_THREADS senders at once
 *   (the stripes of one file go to several OSTs in parallel). Writes
 *   that overlap never run together: fsc_file_write_begin made the later
 *   one wait until the earlier one ended.
 * - fm_wb_stop after the session loop: the senders finish what is queued
 *   and exit. fm_wb_sent: how many writes the senders ran (the stats
 *   file's wb_sent).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "fsc/fm.h"

#define FM_WB_THREADS	4	/* sends at once */
#define FM_WB_QMAX	256	/* queued writes (at most 32 MiB of copies) */

struct fm_wb_job {
	struct fm_wb_job	*next;
	struct fsc_file		*f;
	uint64_t		 off;
	size_t			 len;
	char			 data[];
};

static struct {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct fm_wb_job	*head, *tail;
	int			 queued;
	int			 nthreads;	/* started; -1: could not */
	int			 stopping;
	unsigned long		 sent;		/* writes the senders ran */
	pthread_t		 thr[FM_WB_THREADS];
} fm_wb = { .mu = PTHREAD_MUTEX_INITIALIZER,
	    .cv = PTHREAD_COND_INITIALIZER };

static void
fm_wb_run(struct fm_wb_job *j)
{
	size_t done;
	int rc;

	rc = fsc_file_write(fm_fs, j->f, j->data, j->len, j->off, &done);
	fsc_file_write_end(fm_fs, j->f, j->off, j->len, rc);
	free(j);
	__atomic_add_fetch(&fm_wb.sent, 1, __ATOMIC_RELAXED);
}

static void *
fm_wb_main(void *arg)
{
	struct fm_wb_job *j;

	(void)arg;
	pthread_mutex_lock(&fm_wb.mu);
	for (;;) {
		while (fm_wb.head == NULL && !fm_wb.stopping)
			pthread_cond_wait(&fm_wb.cv, &fm_wb.mu);
		if ((j = fm_wb.head) == NULL)
			break;		/* stopping, nothing left */
		fm_wb.head = j->next;
		if (fm_wb.head == NULL)
			fm_wb.tail = NULL;
		fm_wb.queued--;
		pthread_mutex_unlock(&fm_wb.mu);
		fm_wb_run(j);
		pthread_mutex_lock(&fm_wb.mu);
	}
	pthread_mutex_unlock(&fm_wb.mu);
	return NULL;
}

/* Under fm_wb.mu: start the senders on first use (after fsx-mount has
 * daemonized). 0, or -1 if none could start. */
static int
fm_wb_start_locked(void)
{
	if (fm_wb.nthreads != 0)
		return fm_wb.nthreads > 0 ? 0 : -1;
	for (int i = 0; i < FM_WB_THREADS; i++) {
		if (pthread_create(&fm_wb.thr[i], NULL, fm_wb_main, NULL) != 0)
			break;
		fm_wb.nthreads++;
	}
	if (fm_wb.nthreads == 0) {
		log_warn("fm_wb: no sender thread: ring threads send");
		fm_wb.nthreads = -1;
		return -1;
	}
	return 0;
}

int
fm_wb_send(struct fsc_file *f, const void *buf, size_t len, uint64_t off)
{
	struct fm_wb_job *j = malloc(sizeof(*j) + len);

	if (j == NULL)
		return -1;
	j->next = NULL;
	j->f = f;
	j->off = off;
	j->len = len;
	memcpy(j->data, buf, len);
	pthread_mutex_lock(&fm_wb.mu);
	if (fm_wb.stopping || fm_wb.queued >= FM_WB_QMAX ||
	    fm_wb_start_locked() < 0) {
		pthread_mutex_unlock(&fm_wb.mu);
		free(j);
		return -1;
	}
	if (fm_wb.tail != NULL)
		fm_wb.tail->next = j;
	else
		fm_wb.head = j;
	fm_wb.tail = j;
	fm_wb.queued++;
	pthread_cond_signal(&fm_wb.cv);
	pthread_mutex_unlock(&fm_wb.mu);
	return 0;
}

unsigned long
fm_wb_sent(void)
{
	return __atomic_load_n(&fm_wb.sent, __ATOMIC_RELAXED);
}

void
fm_wb_stop(void)
{
	int n;

	pthread_mutex_lock(&fm_wb.mu);
	fm_wb.stopping = 1;
	n = fm_wb.nthreads;
	pthread_cond_broadcast(&fm_wb.cv);
	pthread_mutex_unlock(&fm_wb.mu);
	for (int i = 0; i < n; i++)
		pthread_join(fm_wb.thr[i], NULL);
}

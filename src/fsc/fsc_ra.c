/*
 * Sequential read-ahead for libfsx callers that read a file one chunk at a
 * time (lfs, benchmarks, the HSM agent). After two reads in a row, the
 * next windows of fs->ra_bytes are loaded in the background, each as one
 * parallel striped read, and later reads are copied out of them.
 *
 * A window remembers the inode's write generation when it was loaded; a
 * write or truncate through this client bumps it, and stale windows are
 * dropped rather than served. fsx-mount turns this off: the kernel reads
 * ahead itself and its page cache would make this a second copy.
 *
 * Locking: f->ramu guards the windows; loads run on their own short-lived
 * thread and never hold it while reading; close waits for them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "fsc/fsc_int.h"

struct fsc_ra_job {
	struct fsc		*fs;
	struct fsc_file		*f;
	struct fsc_ra_win	*w;
};

void
fsc_ra_init(struct fsc_file *f)
{
	pthread_mutex_init(&f->ramu, NULL);
	pthread_cond_init(&f->racv, NULL);
}

void
fsc_ra_fini(struct fsc_file *f)
{
	pthread_mutex_lock(&f->ramu);
	while (f->ra_busy > 0)
		pthread_cond_wait(&f->racv, &f->ramu);
	pthread_mutex_unlock(&f->ramu);
	for (int i = 0; i < FSC_RA_WINS; i++)
		free(f->win[i].buf);
	pthread_mutex_destroy(&f->ramu);
	pthread_cond_destroy(&f->racv);
}

static uint64_t
fsc_ra_wgen(struct fsc_file *f, uint64_t *size)
{
	uint64_t g;

	pthread_mutex_lock(&f->in->mu);
	g = f->in->wgen;
	if (size != NULL)
		*size = f->in->size;
	pthread_mutex_unlock(&f->in->mu);
	return g;
}

static void *
fsc_ra_load(void *arg)
{
	struct fsc_ra_job *j = arg;
	struct fsc_ra_win *w = j->w;
	size_t done = 0;
	int rc;

	rc = fsc_file_read_direct(j->fs, j->f, w->buf, w->len, w->off, &done);
	pthread_mutex_lock(&j->f->ramu);
	w->rc = rc;
	w->done = rc < 0 ? 0 : done;
	w->state = FSC_RA_READY;
	j->f->ra_busy--;
	pthread_cond_broadcast(&j->f->racv);
	pthread_mutex_unlock(&j->f->ramu);
	free(j);
	return NULL;
}

/* Start loading window w at off. Caller holds f->ramu. */
static int
fsc_ra_start(struct fsc *fs, struct fsc_file *f, struct fsc_ra_win *w,
    uint64_t off, uint64_t wgen)
{
	struct fsc_ra_job *j;
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	if (w->buf == NULL) {
		w->buf = malloc(fs->ra_bytes);
		if (w->buf == NULL)
			return -ENOMEM;
	}
	j = malloc(sizeof(*j));
	if (j == NULL)
		return -ENOMEM;
	j->fs = fs;
	j->f = f;
	j->w = w;
	w->state = FSC_RA_LOADING;
	w->off = off;
	w->len = fs->ra_bytes;
	w->done = 0;
	w->rc = 0;
	w->wgen = wgen;
	f->ra_busy++;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, fsc_ra_load, j);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		f->ra_busy--;
		w->state = FSC_RA_EMPTY;
		free(j);
		return -rc;
	}
	return 0;
}

/* The window holding pos, or NULL. Caller holds f->ramu. */
static struct fsc_ra_win *
fsc_ra_find(struct fsc_file *f, uint64_t pos)
{
	for (int i = 0; i < FSC_RA_WINS; i++) {
		struct fsc_ra_win *w = &f->win[i];

		if (w->state != FSC_RA_EMPTY && pos >= w->off &&
		    pos - w->off < w->len)
			return w;
	}
	return NULL;
}

/* After a sequential read: keep the windows ahead of the reader loaded. */
static void
fsc_ra_ahead(struct fsc *fs, struct fsc_file *f, uint64_t wgen,
    uint64_t size)
{
	uint64_t front = f->ra_next;
	struct fsc_ra_win *w;

	/* Past the windows already ahead of the reader. */
	for (int n = 0; n < FSC_RA_WINS; n++) {
		w = fsc_ra_find(f, front);
		if (w == NULL || w->wgen != wgen || w->rc < 0)
			break;
		if (w->state == FSC_RA_READY && w->done < w->len)
			return;		/* that one reached EOF */
		front = w->off + w->len;
	}
	for (int i = 0; i < FSC_RA_WINS && front < size; i++) {
		w = &f->win[i];
		if (w->state == FSC_RA_LOADING)
			continue;
		if (w->state == FSC_RA_READY && w->wgen == wgen &&
		    w->rc == 0 && w->off + w->len > f->ra_next)
			continue;	/* still ahead or being read */
		if (fsc_ra_start(fs, f, w, front, wgen) < 0)
			return;
		front += fs->ra_bytes;
	}
}

int
fsc_ra_read(struct fsc *fs, struct fsc_file *f, void *buf, size_t len,
    uint64_t off, size_t *done)
{
	char *out = buf;
	struct fsc_ra_win *w;
	uint64_t pos = off, wgen, size;
	size_t got = 0, in, n, d;
	int rc = 0, eof = 0;

	*done = 0;
	if (len == 0)
		return 0;
	if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off)
		return -EINVAL;
	wgen = fsc_ra_wgen(f, NULL);
	pthread_mutex_lock(&f->ramu);
	while (got < len) {
		w = fsc_ra_find(f, pos);
		if (w == NULL)
			break;
		if (w->state == FSC_RA_LOADING) {
			pthread_cond_wait(&f->racv, &f->ramu);
			continue;
		}
		if (w->rc < 0 || w->wgen != wgen) {
			w->state = FSC_RA_EMPTY;	/* read it directly */
			continue;
		}
		in = (size_t)(pos - w->off);
		if (in >= w->done) {
			eof = w->done < w->len;
			break;
		}
		n = w->done - in < len - got ? w->done - in : len - got;
		memcpy(out + got, w->buf + in, n);
		got += n;
		pos += n;
		if (w->done < w->len && pos >= w->off + w->done) {
			eof = 1;
			break;
		}
	}
	pthread_mutex_unlock(&f->ramu);

	if (!eof && got < len) {
		d = 0;
		rc = fsc_file_read_direct(fs, f, out + got, len - got, pos, &d);
		if (rc < 0 && got > 0)
			rc = 0;		/* a short read now, the error next */
		got += d;
	}
	if (rc < 0)
		return rc;
	*done = got;

	wgen = fsc_ra_wgen(f, &size);
	pthread_mutex_lock(&f->ramu);
	f->ra_streak = off == f->ra_next ? f->ra_streak + 1 : 0;
	f->ra_next = off + got;
	if (f->ra_streak >= 1 && got == len)
		fsc_ra_ahead(fs, f, wgen, size);
	pthread_mutex_unlock(&f->ramu);
	return 0;
}

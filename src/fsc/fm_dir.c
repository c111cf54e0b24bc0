/*
 * fsx-mount's directory handlers (see fm.h): OPENDIR, READDIR,
 * RELEASEDIR and FSYNCDIR. A listing comes from the MDS (fsc_readdir),
 * one READDIR at a time, in the MDS's cookie order. There is no
 * READDIRPLUS handler, so the kernel never asks for one.
 *
 * Contract: each handler replies once. An open directory's handle
 * (struct fm_dir) is the handler's own from OPENDIR until RELEASEDIR.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "fsc/fm.h"
#include "fsc/fsc.h"

void
fm_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
    struct fuse_file_info *fi)
{
	fm_count(FM_OP_fsyncdir);
	(void)datasync;
	(void)fi;
	/* the MDS commits before replying; unlinks acknowledged early
	 * (fm_unl.c) are made first, and one that failed is reported */
	fuse_reply_err(req, -fm_unl_sync(fm_ino(ino)));
}

struct fm_dirbuf {
	fuse_req_t	req;
	char		*buf;
	size_t		size;
	size_t		pos;
	uint64_t	last;		/* cookie of the last entry given */
	int		full;		/* an entry did not fit */
};

/*
 * An open directory: where its listing ended. The kernel asks once more
 * after the last entry; when the MDS already said that was the end, the
 * empty answer costs no round trip. Entries made after the listing
 * started may be missed, as readdir(3) allows.
 */
struct fm_dir {
	int		eof;
	uint64_t	eof_off;
};

void
fm_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fm_count(FM_OP_opendir);
	(void)ino;
	fi->fh = (uintptr_t)xcalloc(1, sizeof(struct fm_dir));
	fuse_reply_open(req, fi);
}

void
fm_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fm_count(FM_OP_releasedir);
	(void)ino;
	free((void *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static int
fm_dirent(void *arg, const char *name, size_t namelen, uint64_t ino,
    uint32_t mode, uint64_t cookie)
{
	struct fm_dirbuf *d = arg;
	char nm[MSG_NAME_MAX + 1];
	struct stat st;
	size_t need;

	memcpy(nm, name, namelen);
	nm[namelen] = '\0';
	memset(&st, 0, sizeof(st));
	st.st_ino = fm_ino(ino);
	st.st_mode = mode & S_IFMT;
	need = fuse_add_direntry(d->req, NULL, 0, nm, NULL, 0);
	if (d->pos + need > d->size) {
		d->full = 1;
		return 1;
	}
	fuse_add_direntry(d->req, d->buf + d->pos, d->size - d->pos, nm, &st,
	    (off_t)cookie);
	d->pos += need;
	d->last = cookie;
	return 0;
}

void
fm_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct fm_dir *dir = (struct fm_dir *)(uintptr_t)fi->fh;
	struct fm_dirbuf d;
	struct msg_cred c;
	int rc, eof;

	fm_count(FM_OP_readdir);
	if (dir != NULL && dir->eof && (uint64_t)off == dir->eof_off) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (dir != NULL)
		dir->eof = 0;	/* only the last listing's end counts */
	fm_cred(req, &c);
	d.req = req;
	d.size = size;
	d.pos = 0;
	d.last = (uint64_t)off;
	d.full = 0;
	d.buf = malloc(size);
	if (d.buf == NULL) {
		fm_err(req, -ENOMEM);
		return;
	}
	rc = fsc_readdir(fm_fs, fm_ino(ino), &c, (uint64_t)off,
	    (uint32_t)(size > 65536 ? 65536 : size), fm_dirent, &d, &eof);
	if (rc == 0 && eof && !d.full && dir != NULL) {
		dir->eof = 1;
		dir->eof_off = d.last;
	}
	if (rc < 0)
		fm_err(req, rc);
	else
		fuse_reply_buf(req, d.buf, d.pos);
	free(d.buf);
}

/*
 * An association's repository: see hsm_repo.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "hsm/hsm_fs.h"
#include "hsm/hsm_repo.h"
#include "hsm/hsm_xfer.h"

void
hsm_objs_free(struct hsm_objs *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].key);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void
objs_grow(struct hsm_objs *l)
{
	if (l->n < l->cap)
		return;
	l->cap = l->cap ? l->cap * 2 : 256;
	l->v = realloc(l->v, l->cap * sizeof(*l->v));
	if (l->v == NULL)
		fatal("out of memory");
}

static int
list_add(void *arg, const struct s3_object *o)
{
	struct hsm_objs *l = arg;
	struct hsm_obj *x;

	objs_grow(l);
	x = &l->v[l->n++];
	x->key = xstrdup(o->key);
	x->size = o->size;
	x->mtime = o->mtime;
	snprintf(x->etag, sizeof(x->etag), "%s", o->etag);
	return 0;
}

int
hsm_objs_list(struct s3_client *s3, const char *bucket, const char *prefix,
    struct hsm_objs *out, struct s3_error *e)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = s3_list(s3, bucket, prefix, list_add, out, e);
	if (rc < 0)
		hsm_objs_free(out);
	return rc;
}

/* Index of key, or where it would go (negative - 1). */
static long
objs_pos(const struct hsm_objs *l, const char *key)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->v[mid].key, key);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

struct hsm_obj *
hsm_objs_find(struct hsm_objs *l, const char *key)
{
	long i = objs_pos(l, key);

	return i >= 0 ? &l->v[i] : NULL;
}

void
hsm_objs_put(struct hsm_objs *l, const char *key, uint64_t size,
    const char *etag)
{
	long i = objs_pos(l, key);
	struct hsm_obj *x;

	if (i < 0) {
		size_t at = (size_t)(-i - 1);

		objs_grow(l);
		memmove(&l->v[at + 1], &l->v[at], (l->n - at) * sizeof(*x));
		l->n++;
		x = &l->v[at];
		x->key = xstrdup(key);
		x->mtime = 0;
	} else {
		x = &l->v[i];
	}
	x->size = size;
	snprintf(x->etag, sizeof(x->etag), "%s", etag);
}

void
hsm_objs_del(struct hsm_objs *l, const char *key)
{
	long i = objs_pos(l, key);

	if (i < 0)
		return;
	free(l->v[i].key);
	memmove(&l->v[i], &l->v[i + 1], (l->n - (size_t)i - 1) *
	    sizeof(*l->v));
	l->n--;
}

int
hsm_objs_same(const struct hsm_objs *x, const struct hsm_objs *y)
{
	if (x->n != y->n)
		return 0;
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->v[i].key, y->v[i].key) != 0 ||
		    strcmp(x->v[i].etag, y->v[i].etag) != 0 ||
		    x->v[i].size != y->v[i].size)
			return 0;
	return 1;
}

#define SNAP_MAGIC	"fsx-hsm-snapshot 1\n"

/* A key or ETag with % TAB CR LF escaped as %XX (one line, tab-free). */
static void
snap_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '%' || *s == '\t' || *s == '\n' || *s == '\r')
			buf_printf(b, "%%%02X", (unsigned char)*s);
		else
			buf_add(b, s, 1);
	}
}

static int
snap_unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		unsigned v;

		if (*s != '%') {
			*o++ = *s;
			continue;
		}
		if (sscanf(s + 1, "%2x", &v) != 1 || v == 0)
			return -EBADMSG;
		*o++ = (char)v;
		s += 2;
	}
	*o = '\0';
	return 0;
}

int
hsm_objs_save(const char *path, const struct hsm_objs *l)
{
	struct buf b;
	int rc;

	buf_init(&b, 4096 + l->n * 64);
	buf_adds(&b, SNAP_MAGIC);
	for (size_t i = 0; i < l->n; i++) {
		snap_escape(&b, l->v[i].etag);
		buf_printf(&b, "\t%" PRIu64 "\t", l->v[i].size);
		snap_escape(&b, l->v[i].key);
		buf_add(&b, "\n", 1);
	}
	rc = file_write_atomic(path, b.p, b.len);
	buf_fini(&b);
	return rc;
}

int
hsm_objs_load(const char *path, struct hsm_objs *out)
{
	char *txt = NULL, *line, *next;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = file_read_all(path, &txt, &len, 1u << 30);
	if (rc < 0)
		return rc;
	rc = -EBADMSG;
	if (len < strlen(SNAP_MAGIC) || memchr(txt, '\0', len) != NULL ||
	    strncmp(txt, SNAP_MAGIC, strlen(SNAP_MAGIC)) != 0)
		goto out;
	for (line = txt + strlen(SNAP_MAGIC); *line; line = next) {
		char *etag = line, *size, *key, *end;
		struct hsm_obj *x;

		next = strchr(line, '\n');
		if (next == NULL)
			goto out;	/* a torn last line: not ours */
		*next++ = '\0';
		size = strchr(etag, '\t');
		key = size ? strchr(size + 1, '\t') : NULL;
		if (key == NULL)
			goto out;
		*size++ = '\0';
		*key++ = '\0';
		if (snap_unescape(etag) < 0 || snap_unescape(key) < 0 ||
		    strlen(etag) >= sizeof(x->etag) || *key == '\0' ||
		    strlen(key) > S3_KEY_MAX)
			goto out;
		objs_grow(out);
		x = &out->v[out->n];
		x->size = strtoull(size, &end, 10);
		if (*end != '\0' || (out->n > 0 &&
		    strcmp(out->v[out->n - 1].key, key) >= 0))
			goto out;	/* the listing's key order */
		x->key = xstrdup(key);
		x->mtime = 0;
		snprintf(x->etag, sizeof(x->etag), "%s", etag);
		out->n++;
	}
	rc = 0;
out:
	if (rc < 0)
		hsm_objs_free(out);
	free(txt);
	return rc;
}

int
hsm_path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' ||
	    path[n] == '/');
}

const char *
hsm_repo_rel(const struct hsm_assoc *a, const char *path)
{
	size_t n = strlen(a->fs_path);

	if (!hsm_path_under(path, a->fs_path))
		return NULL;
	while (n > 1 && a->fs_path[n - 1] == '/')
		n--;
	if (n == 1)
		n = 0;
	path += n;
	while (*path == '/')
		path++;
	return path;
}

int
hsm_repo_root(struct fsc *fs, const struct hsm_assoc *a, uint64_t *ino)
{
	char rel[MSG_PATH_MAX + 2];
	const char *leaf;
	const char *p = a->fs_path;

	while (*p == '/')
		p++;
	if (*p == '\0') {
		*ino = fsc_root(fs);
		return 0;
	}
	snprintf(rel, sizeof(rel), "%s/", p);
	return hsm_fs_mkdirs(fs, fsc_root(fs), rel, ino, &leaf);
}

int
hsm_repo_import(struct fsc *fs, struct s3_client *s3,
    const struct hsm_assoc *a, uint64_t root, const struct hsm_obj *o,
    const char **code)
{
	const char *rel = o->key + strlen(a->prefix), *leaf;
	struct msg_hsm_import im;
	struct s3_object *head;
	struct s3_error e;
	struct msg_attr attr;
	char origin[2048];
	uint64_t parent, chunk;
	int rc;

	*code = "InternalError";
	if (strncmp(o->key, a->prefix, strlen(a->prefix)) != 0)
		return -EINVAL;
	if (*rel == '\0')
		return 1;		/* the prefix's own marker */
	rc = hsm_fs_mkdirs(fs, root, rel, &parent, &leaf);
	if (rc < 0) {
		*code = "S3ObjectPathNotPosixCompliant";
		return rc;
	}
	if (*leaf == '\0')
		return 0;		/* a directory marker: made */
	if (strlen(leaf) > MSG_NAME_MAX) {
		*code = "PathSizeTooLong";
		return -ENAMETOOLONG;
	}
	memset(&im, 0, sizeof(im));
	im.mode = 0644;
	im.size = o->size;
	im.mtime_sec = o->mtime;
	im.atime_sec = o->mtime;
	chunk = (uint64_t)a->chunk_mib << 20;
	im.stripe_count = (uint32_t)((o->size + chunk - 1) / chunk);
	if (im.stripe_count == 0)
		im.stripe_count = 1;
	if (im.stripe_count > MSG_MAX_STRIPES)
		im.stripe_count = MSG_MAX_STRIPES;
	head = xcalloc(1, sizeof(*head));
	rc = s3_head_object(s3, a->bucket, o->key, head, &e);
	if (rc == 0) {
		im.size = head->size;
		hsm_posix_from_meta(head, &im);
	}
	free(head);
	if (rc < 0) {
		*code = rc == -ENOENT ? "S3ObjectNotFound" :
		    rc == -EACCES ? "S3AccessDenied" : "S3Error";
		return rc;
	}
	snprintf(origin, sizeof(origin), "%s/%s", a->bucket, o->key);
	rc = hsm_fs_import(fs, parent, leaf, &im, origin, &attr);
	if (rc < 0)
		*code = rc == -EEXIST || rc == -EBUSY ? "ResourceBusy" :
		    "InternalError";
	return rc;
}

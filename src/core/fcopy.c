/*
 * fcopy_sparse (fcopy.h). Invariant: every byte range of the source that
 * is not a hole is copied exactly once; ranges between data are left
 * unwritten in the destination, which the final ftruncate makes the
 * source's length. A file system without SEEK_DATA (EINVAL) is copied
 * whole.
 */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fcopy.h"

/* Copy [off, end) of in to the same offsets of out. */
static int
copy_range(int in, int out, off_t off, off_t end, uint64_t *bytes)
{
	while (off < end) {
		off_t a = off, b = off;
		ssize_t n = copy_file_range(in, &a, out, &b, (size_t)(end - off),
		    0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;		/* the source shrank meanwhile */
		off += n;
		*bytes += (uint64_t)n;
	}
	return 0;
}

int
fcopy_sparse(int in, int out, uint64_t *bytes)
{
	uint64_t done = 0;
	struct stat st;
	off_t off = 0, data, hole;
	int rc = 0;

	if (fstat(in, &st) < 0)
		return -errno;
	while (off < st.st_size) {
		data = lseek(in, off, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;			/* only a hole is left */
		if (data < 0 && errno == EINVAL) {
			rc = copy_range(in, out, off, st.st_size, &done);
			break;
		}
		if (data < 0) {
			rc = -errno;
			break;
		}
		hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0) {
			rc = -errno;
			break;
		}
		if (hole > st.st_size)
			hole = st.st_size;
		rc = copy_range(in, out, data, hole, &done);
		if (rc < 0)
			break;
		off = hole;
	}
	if (rc == 0 && ftruncate(out, st.st_size) < 0)
		rc = -errno;
	if (bytes != NULL)
		*bytes = done;
	return rc;
}

/*
 * Stripe math and layout parsing. RAID-0 over objects as Lustre does it:
 * stripe unit u = x / s goes to stripe u mod c, and is the (u / c)-th unit
 * of that object.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fsc/fsc.h"

void
fsc_layout_locate(uint64_t off, uint32_t ssize, uint32_t count,
    uint32_t *stripe, uint64_t *obj_off)
{
	uint64_t unit = off / ssize;

	*stripe = (uint32_t)(unit % count);
	*obj_off = (unit / count) * ssize + off % ssize;
}

uint64_t
fsc_layout_file_off(uint32_t stripe, uint64_t obj_off, uint32_t ssize,
    uint32_t count)
{
	uint64_t ounit = obj_off / ssize;

	return (ounit * count + stripe) * ssize + obj_off % ssize;
}

uint64_t
fsc_layout_obj_size(uint64_t fsize, uint32_t stripe, uint32_t ssize,
    uint32_t count)
{
	uint64_t row = (uint64_t)ssize * count;
	uint64_t full = fsize / row, rem = fsize % row;
	uint64_t start = (uint64_t)stripe * ssize, part;

	if (rem <= start)
		part = 0;
	else if (rem - start >= ssize)
		part = ssize;
	else
		part = rem - start;
	return full * ssize + part;
}

uint64_t
fsc_layout_file_end(uint32_t stripe, uint64_t osize, uint32_t ssize,
    uint32_t count)
{
	if (osize == 0)
		return 0;
	return fsc_layout_file_off(stripe, osize - 1, ssize, count) + 1;
}

int
fsc_layout_map(uint64_t off, uint64_t len, uint32_t ssize, uint32_t count,
    struct fsc_extent *ext, int max)
{
	int n = 0;

	if (ssize == 0 || count == 0)
		return -EINVAL;
	while (len > 0) {
		uint64_t in_unit = ssize - off % ssize;
		uint64_t l = len < in_unit ? len : in_unit;

		if (n >= max)
			return -E2BIG;
		fsc_layout_locate(off, ssize, count, &ext[n].stripe,
		    &ext[n].obj_off);
		ext[n].pad = 0;
		ext[n].file_off = off;
		ext[n].len = l;
		n++;
		off += l;
		len -= l;
	}
	return n;
}

/*
 * A layout from untrusted bytes: struct msg_layout then nent entries.
 * A file's stripe count is its number of entries.
 */
struct fsc_layout *
fsc_layout_parse(const void *buf, size_t len)
{
	struct msg_layout ml;
	struct fsc_layout *l;

	if (len < sizeof(ml))
		return NULL;
	memcpy(&ml, buf, sizeof(ml));
	if (ml.magic != MSG_LOV_MAGIC || ml.stripe_size == 0 ||
	    ml.nent > MSG_MAX_STRIPES ||
	    len < sizeof(ml) + (size_t)ml.nent * sizeof(struct msg_layout_ent))
		return NULL;
	l = xcalloc(1, sizeof(*l) + ml.nent * sizeof(l->ent[0]));
	l->stripe_size = ml.stripe_size;
	l->count = ml.nent;
	l->stripe_offset = ml.stripe_offset;
	memcpy(l->ent, (const char *)buf + sizeof(ml),
	    ml.nent * sizeof(l->ent[0]));
	return l;
}

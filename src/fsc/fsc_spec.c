/*
 * Mount specs as FSx documents them, for fsx-mount and mount.fsx:
 *
 *	fs-0123456789abcdef0
 *	fs-0123456789abcdef0@tcp:/mountname[/subdir]
 *	fs-0123456789abcdef0.fsx.us-east-1.amazonaws.com@tcp:/mountname[/subdir]
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fsc/fsc.h"

static int
fsc_spec_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int
fsc_spec_parse(const char *spec, struct fsc_spec *out)
{
	const char *p = spec, *at, *q, *r;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	if (strncmp(p, "fs-", 3) != 0)
		return -EINVAL;
	p += 3;
	while (fsc_spec_hex(p[n]))
		n++;
	if (n < 8 || n > 17 || (p[n] != '\0' && p[n] != '.' && p[n] != '@'))
		return -EINVAL;
	snprintf(out->fsid, sizeof(out->fsid), "fs-%.*s", (int)n, p);
	p += n;
	if (*p == '\0')
		return 0;
	at = strstr(p, "@tcp:/");
	if (at == NULL)
		return -EINVAL;
	if (*p == '.') {
		/* .fsx.<region>.amazonaws.com (any domain is accepted) */
		if (strncmp(p, ".fsx.", 5) != 0)
			return -EINVAL;
		r = p + 5;
		q = memchr(r, '.', (size_t)(at - r));
		if (q == NULL || q == r ||
		    (size_t)(q - r) >= sizeof(out->region))
			return -EINVAL;
		snprintf(out->region, sizeof(out->region), "%.*s",
		    (int)(q - r), r);
	}
	p = at + 6;
	q = strchr(p, '/');
	n = q != NULL ? (size_t)(q - p) : strlen(p);
	if (n == 0 || n >= sizeof(out->mount_name))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return -EINVAL;
	}
	snprintf(out->mount_name, sizeof(out->mount_name), "%.*s", (int)n, p);
	if (q != NULL) {
		while (*q == '/')
			q++;
		if (strlen(q) >= sizeof(out->subdir))
			return -ENAMETOOLONG;
		snprintf(out->subdir, sizeof(out->subdir), "%s", q);
	}
	return 0;
}

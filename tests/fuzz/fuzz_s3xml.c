/*
 * Fuzz target: the bounded XML scanner for S3's answers (src/s3/s3_xml.c).
 * The input is a document as S3 (or anything answering in its place)
 * would send it. Every tag the client looks for is scanned, elements are
 * walked the way a ListBucketResult is read, and each text is read into a
 * small buffer, then decoded as a date and as a URL-encoded key; the input
 * is also split as an s3:// URL (s3_url_split). Checks: positions never go past the document, ends never
 * before starts.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "s3/s3.h"

static const char *const tags[] = {
	"ListBucketResult", "Contents", "Key", "Size", "ETag", "LastModified",
	"IsTruncated", "NextContinuationToken", "KeyCount", "Error", "Code",
	"Message", "UploadId", "InitiateMultipartUploadResult",
	"CompleteMultipartUploadResult", "CommonPrefixes", "Prefix",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *doc = (const char *)data;
	char text[256];

	for (size_t t = 0; t < sizeof(tags) / sizeof(tags[0]); t++) {
		size_t pos = 0, start, end;
		int n = 0;

		while (n++ < 64 &&
		    s3_xml_elem(doc, size, &pos, tags[t], &start, &end) == 0) {
			size_t p2 = start;

			if (start > end || end > size || pos > size)
				abort();
			/* the children, inside the element only */
			(void)s3_xml_text(doc, end, &p2, "Key", text,
			    sizeof(text));
		}
		pos = 0;
		if (s3_xml_text(doc, size, &pos, tags[t], text,
		    sizeof(text)) != 0)
			continue;
		if (pos > size || strlen(text) >= sizeof(text))
			abort();
		(void)s3_parse_time(text);
		(void)s3_url_decode(text);
	}
	if (size < 4096) {		/* the same bytes as an s3:// URL */
		char url[4097], bucket[64], prefix[1024];

		memcpy(url, data, size);
		url[size] = '\0';
		(void)s3_url_split(url, bucket, sizeof(bucket), prefix,
		    sizeof(prefix));
	}
	return 0;
}

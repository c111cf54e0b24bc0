/*
 * Copying a file's data between two open descriptors, holes kept: only the
 * ranges SEEK_DATA finds are copied (copy_file_range, so the kernel moves
 * the bytes), and the destination is truncated to the source's size, so a
 * hole in the source stays a hole. Used by the OSS's copy-up of a
 * snapshotted object (src/oss/oss_snap.c) and by backups and restores
 * (provisioner/prov_backup.c).
 */
#ifndef FSX_FCOPY_H
#define FSX_FCOPY_H

#include <stdint.h>

/*
 * Copy every data range of `in` (from offset 0) into `out` at the same
 * offsets, then make `out` exactly as long as `in`. *bytes (may be NULL)
 * gets the bytes copied. 0 or -errno; `out` is then partly written.
 */
int	fcopy_sparse(int in, int out, uint64_t *bytes);

#endif

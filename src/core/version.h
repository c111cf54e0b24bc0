/*
 * The version every binary prints with --version: VERSION's number and
 * the git description of the tree it was built from.
 */
#ifndef FSX_VERSION_H
#define FSX_VERSION_H

const char	*fsx_version(void);
/* If argv holds --version: print "<prog> <version>" and exit 0. */
void		 fsx_version_flag(int argc, char **argv, const char *prog);

#endif

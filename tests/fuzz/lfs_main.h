/* Included first when src/cmd/lfs.c is built as a fuzz target's code:
 * its main() becomes lfs_main(). */
int lfs_main(int argc, char **argv);

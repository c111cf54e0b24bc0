-- Engine processes run on storage nodes (fsxd's --node configuration; one
-- node, "local", when none is configured): each process row names its node.
BEGIN;

ALTER TABLE procs ADD COLUMN node TEXT NOT NULL DEFAULT 'local';

PRAGMA user_version = 4;
COMMIT;

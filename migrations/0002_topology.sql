-- Engine topology as rows: one row per OST (which OSS serves it, its
-- capacity), replacing the "0,1,2" text in procs.osts; grow jobs carry
-- their target OST count beside the target capacity.
BEGIN;

CREATE TABLE osts (
	fs_id		TEXT NOT NULL,
	idx		INTEGER NOT NULL,			-- OST index
	oss		INTEGER NOT NULL,			-- procs.idx of the OSS serving it
	capacity	INTEGER NOT NULL,			-- bytes, enforced by the OSS
	PRIMARY KEY (fs_id, idx)
);

INSERT INTO osts (fs_id, idx, oss, capacity)
	SELECT p.fs_id, CAST(j.value AS INTEGER), p.idx,
	    f.capacity * 1073741824 / MAX(f.nost, 1)
	FROM procs p JOIN file_systems f ON f.id = p.fs_id,
	    json_each('[' || p.osts || ']') j
	WHERE p.role = 'oss' AND p.osts != '';
ALTER TABLE procs DROP COLUMN osts;

ALTER TABLE jobs RENAME COLUMN arg TO capacity;		-- grow: target GiB
ALTER TABLE jobs ADD COLUMN nost INTEGER NOT NULL DEFAULT 0;	-- target OSTs

PRAGMA user_version = 2;
COMMIT;

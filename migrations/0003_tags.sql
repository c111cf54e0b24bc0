-- Tags as rows keyed by the resource's ARN, for every resource kind (file
-- systems now; backups, associations, tasks later), instead of a member of
-- each stored description. Describe output gets them back from here.
BEGIN;

CREATE TABLE tags (
	arn		TEXT NOT NULL,				-- the tagged resource
	key		TEXT NOT NULL,
	value		TEXT NOT NULL,
	seq		INTEGER NOT NULL,			-- order of first tagging
	PRIMARY KEY (arn, key)
);

ALTER TABLE file_systems ADD COLUMN arn TEXT NOT NULL DEFAULT '';
UPDATE file_systems SET arn = COALESCE(json_extract(doc, '$.ResourceARN'), '');
INSERT OR REPLACE INTO tags (arn, key, value, seq)
	SELECT f.arn, json_extract(t.value, '$.Key'),
	    COALESCE(json_extract(t.value, '$.Value'), ''), t.key
	FROM file_systems f, json_each(f.doc, '$.Tags') t
	WHERE json_extract(t.value, '$.Key') IS NOT NULL;
UPDATE file_systems SET doc = json_remove(doc, '$.Tags')
	WHERE json_type(doc, '$.Tags') IS NOT NULL;

PRAGMA user_version = 3;
COMMIT;

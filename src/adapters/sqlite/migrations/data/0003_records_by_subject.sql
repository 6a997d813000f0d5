-- data.db, version 3: records clustered by subject. The table's own b-tree is keyed by
-- (school, subject, record), so a subject's records are one range scan instead of an index walk
-- with a lookup per row; a unique index keeps records addressable by id.
CREATE TABLE records_v3 (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  record_id TEXT NOT NULL CHECK (record_id <> ''),
  subject_id TEXT NOT NULL,
  store TEXT NOT NULL,
  field TEXT NOT NULL,
  category TEXT NOT NULL,
  sealed_value BLOB NOT NULL,
  source TEXT NOT NULL,
  channel TEXT NOT NULL,
  form TEXT NOT NULL,
  policy_version TEXT NOT NULL,
  collected_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (school_id, subject_id, record_id),
  FOREIGN KEY (school_id, subject_id) REFERENCES subjects (school_id, subject_id)
) STRICT, WITHOUT ROWID;

INSERT INTO records_v3 (school_id, record_id, subject_id, store, field, category, sealed_value,
                        source, channel, form, policy_version, collected_at, updated_at)
  SELECT school_id, record_id, subject_id, store, field, category, sealed_value, source, channel,
         form, policy_version, collected_at, updated_at
  FROM records;

DROP TABLE records;
ALTER TABLE records_v3 RENAME TO records;
CREATE UNIQUE INDEX records_by_id ON records (school_id, record_id);

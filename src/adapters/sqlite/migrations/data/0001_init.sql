-- data.db, version 1: every table of the data database. Subject keys are NOT here; they live in
-- the key vault (keys.db, migrations/keys/).
--
-- Conventions:
--  - Every row carries school_id and every read is scoped by it (sessions and API keys are found
--    by their hash and carry their school id).
--  - Timestamps are INTEGER microseconds since the Unix epoch, UTC; NULL for "none".
--  - Booleans are INTEGER 0 or 1.
--  - Sealed (encrypted) values are BLOBs, stored exactly as given.
--  - Lists of ids (consent grants, API key purposes) are JSON arrays of strings. (The CHECKs
--    test only the brackets: json_valid() is not allowed in a schema under trusted_schema=OFF.)
--  - Append-only rules are enforced here as well as in the adapter (triggers below).
--  - Reads through a secondary index name it (INDEXED BY in queries.h): without statistics the
--    planner would rather range-scan the primary key by school_id.

CREATE TABLE schools (
  school_id TEXT NOT NULL PRIMARY KEY CHECK (school_id <> ''),
  name TEXT NOT NULL,
  active_policy_version TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- R112: a published policy version never changes.
CREATE TABLE policy_versions (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  version_id TEXT NOT NULL CHECK (version_id <> ''),
  text TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  effective_date TEXT NOT NULL,
  published_at INTEGER NOT NULL,
  PRIMARY KEY (school_id, version_id)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER policy_versions_no_update BEFORE UPDATE ON policy_versions
BEGIN
  SELECT RAISE(ABORT, 'policy versions are immutable');
END;

CREATE TABLE subjects (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  subject_id TEXT NOT NULL CHECK (subject_id <> ''),
  kind TEXT NOT NULL,
  pseudonym TEXT NOT NULL,
  policy_version TEXT NOT NULL,
  channel TEXT NOT NULL,
  form TEXT NOT NULL,
  source TEXT NOT NULL,
  state TEXT NOT NULL,
  guardian_id TEXT,  -- a subject id of the same school, or NULL; not a foreign key (see erasure)
  sealed_profile BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (school_id, subject_id)
) STRICT, WITHOUT ROWID;

-- Personal data, one field of one subject per row (R92).
CREATE TABLE records (
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
  PRIMARY KEY (school_id, record_id),
  FOREIGN KEY (school_id, subject_id) REFERENCES subjects (school_id, subject_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX records_by_subject ON records (school_id, subject_id);

-- The consent ledger (R19): append-only. ledger_seq keeps insertion order for equal timestamps.
CREATE TABLE consents (
  ledger_seq INTEGER PRIMARY KEY,
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  consent_id TEXT NOT NULL CHECK (consent_id <> ''),
  subject_id TEXT NOT NULL,
  consent_type TEXT NOT NULL,
  grants TEXT NOT NULL CHECK (grants LIKE '[%]'),
  action TEXT NOT NULL,
  policy_version TEXT NOT NULL,
  text TEXT NOT NULL,
  text_sha256 TEXT NOT NULL,
  lang TEXT NOT NULL,
  channel TEXT NOT NULL,
  form TEXT NOT NULL,
  checkbox TEXT NOT NULL,
  given_by TEXT NOT NULL,
  guardian_id TEXT,
  evidence TEXT NOT NULL,
  at INTEGER NOT NULL,
  expires_at INTEGER,
  UNIQUE (school_id, consent_id),
  FOREIGN KEY (school_id, subject_id) REFERENCES subjects (school_id, subject_id)
) STRICT;

CREATE INDEX consents_by_subject ON consents (school_id, subject_id, at, ledger_seq);
CREATE INDEX consents_by_time ON consents (school_id, at, ledger_seq);

-- Erasure marker. The adapter erases a subject inside one transaction: it inserts the subject
-- here, deletes the subject's rows, then deletes the marker again, so a marker row is never
-- committed. The consents delete trigger allows a DELETE only while its subject is marked; any
-- other DELETE (and every UPDATE) of the ledger is refused.
CREATE TABLE subject_erasures (
  school_id TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  PRIMARY KEY (school_id, subject_id)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER consents_no_update BEFORE UPDATE ON consents
BEGIN
  SELECT RAISE(ABORT, 'consents are append-only');
END;

CREATE TRIGGER consents_delete_only_on_erasure BEFORE DELETE ON consents
WHEN NOT EXISTS (SELECT 1 FROM subject_erasures
                 WHERE school_id = OLD.school_id AND subject_id = OLD.subject_id)
BEGIN
  SELECT RAISE(ABORT, 'consents are append-only');
END;

-- Blind index: keyed hash of a normalised value -> subject.
CREATE TABLE lookups (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  field TEXT NOT NULL,
  token TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  PRIMARY KEY (school_id, field, token),
  FOREIGN KEY (school_id, subject_id) REFERENCES subjects (school_id, subject_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX lookups_by_subject ON lookups (school_id, subject_id);

-- The hash-chained audit log (R88, B01): rows are never changed. They outlive erasure; they name
-- subjects by pseudonym only.
CREATE TABLE audit (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  seq INTEGER NOT NULL CHECK (seq > 0),
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  role TEXT NOT NULL,
  action TEXT NOT NULL,
  subject_ref TEXT NOT NULL,
  purpose TEXT NOT NULL,
  fields TEXT NOT NULL,
  outcome TEXT NOT NULL,
  reason TEXT NOT NULL,
  decision_id TEXT NOT NULL,
  request_id TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (school_id, seq)
) STRICT, WITHOUT ROWID;

CREATE INDEX audit_by_subject ON audit (school_id, subject_ref, seq);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TABLE audit_checkpoints (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  signature TEXT NOT NULL,
  public_key TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (school_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
  SELECT RAISE(ABORT, 'audit checkpoints are append-only');
END;

CREATE TABLE staff (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  staff_id TEXT NOT NULL CHECK (staff_id <> ''),
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  password_set_at INTEGER NOT NULL,
  must_change_password INTEGER NOT NULL CHECK (must_change_password IN (0, 1)),
  sealed_totp_secret BLOB NOT NULL,
  totp_enabled INTEGER NOT NULL CHECK (totp_enabled IN (0, 1)),
  failed_attempts INTEGER NOT NULL,
  locked_until INTEGER,
  briefing_completed_at INTEGER,
  left_at INTEGER,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (school_id, staff_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX staff_by_email ON staff (school_id, email);

CREATE TABLE sessions (
  token_hash TEXT NOT NULL PRIMARY KEY CHECK (token_hash <> ''),
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  staff_id TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  mfa_passed INTEGER NOT NULL CHECK (mfa_passed IN (0, 1)),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE api_keys (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  api_key_id TEXT NOT NULL CHECK (api_key_id <> ''),
  name TEXT NOT NULL,
  key_hash TEXT NOT NULL CHECK (key_hash <> ''),
  role TEXT NOT NULL,
  purposes TEXT NOT NULL CHECK (purposes LIKE '[%]'),
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  PRIMARY KEY (school_id, api_key_id)
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX api_keys_by_hash ON api_keys (key_hash);

-- data.db, version 7: the disclosure log (R76) and how recipients are told of corrections,
-- erasures and restrictions (R48).
--
-- A disclosure names the subject by id, the recipient, purpose, legal basis and safeguard by the
-- policy's ids, and the fields and categories by id: no personal data. The log is append-only;
-- its rows go with the subject on erasure (the erasure marker of 0001 lets the delete through),
-- and the subject's tombstone in the key vault remains.
CREATE TABLE disclosures (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  disclosure_id TEXT NOT NULL CHECK (disclosure_id <> ''),
  subject_id TEXT NOT NULL CHECK (subject_id <> ''),
  recipient TEXT NOT NULL CHECK (recipient <> ''),
  at INTEGER NOT NULL,
  fields TEXT NOT NULL CHECK (fields LIKE '[%]'),
  categories TEXT NOT NULL CHECK (categories LIKE '[%]'),
  purpose TEXT NOT NULL CHECK (purpose <> ''),
  basis TEXT NOT NULL CHECK (basis <> ''),
  safeguard TEXT NOT NULL CHECK (safeguard <> ''),
  country TEXT NOT NULL,
  actor TEXT NOT NULL,
  request_id TEXT NOT NULL,
  detail TEXT NOT NULL CHECK (detail LIKE '{%}'),
  recorded_at INTEGER NOT NULL,
  PRIMARY KEY (school_id, disclosure_id)
) STRICT, WITHOUT ROWID;

-- GET /disclosures?subject=: a subject's log, newest first; erasure.
CREATE INDEX disclosures_by_subject ON disclosures (school_id, subject_id, at, disclosure_id);
-- The school's whole log, newest first.
CREATE INDEX disclosures_by_time ON disclosures (school_id, at, disclosure_id);

CREATE TRIGGER disclosures_no_update BEFORE UPDATE ON disclosures
BEGIN
  SELECT RAISE(ABORT, 'disclosures are append-only');
END;

CREATE TRIGGER disclosures_no_delete BEFORE DELETE ON disclosures
WHEN NOT EXISTS (SELECT 1 FROM subject_erasures
                 WHERE school_id = OLD.school_id AND subject_id = OLD.subject_id)
BEGIN
  SELECT RAISE(ABORT, 'disclosures are append-only');
END;

-- A recipient's notification address (a webhook URL or an e-mail address), sealed with the
-- school's KEK.
CREATE TABLE recipient_contacts (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  recipient TEXT NOT NULL CHECK (recipient <> ''),
  sealed BLOB NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY (school_id, recipient)
) STRICT, WITHOUT ROWID;

-- data.db, version 8: legal holds (R50). A hold defers the erasure of some of a subject's fields
-- because the law permits or requires keeping them (a retention term set by law, legal claims):
-- the reason, the law (a [[laws]] id of the policy) and the last day, in the school's time zone.
--
-- No personal data: field and category ids, the reason as staff recorded it, dates. A hold's
-- changes (released early, ended, its deferred erasure carried out) are upserts of its row, each
-- with its audit entry; the rows go with the subject when it is finally erased.
CREATE TABLE legal_holds (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  hold_id TEXT NOT NULL CHECK (hold_id <> ''),
  subject_id TEXT NOT NULL CHECK (subject_id <> ''),
  fields TEXT NOT NULL CHECK (fields LIKE '[%]' AND fields <> '[]'),
  categories TEXT NOT NULL CHECK (categories LIKE '[%]'),
  reason TEXT NOT NULL CHECK (reason <> ''),
  basis TEXT NOT NULL CHECK (basis <> ''),
  until TEXT NOT NULL CHECK (until GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  state TEXT NOT NULL CHECK (state IN ('active', 'released', 'ended')),
  request_id TEXT NOT NULL,
  notify_subject INTEGER NOT NULL CHECK (notify_subject IN (0, 1)),
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  closed_at INTEGER,
  closed_by TEXT NOT NULL,
  close_reason TEXT NOT NULL,
  settled_at INTEGER,
  PRIMARY KEY (school_id, hold_id),
  FOREIGN KEY (school_id, subject_id) REFERENCES subjects (school_id, subject_id)
) STRICT, WITHOUT ROWID;

-- GET /subjects/{id}/holds, the erasure that honours them, and the erasure of the subject.
CREATE INDEX legal_holds_by_subject ON legal_holds (school_id, subject_id, created_at, hold_id);
-- The retention job: the holds whose end is still to be carried out, by their last day.
CREATE INDEX legal_holds_unsettled ON legal_holds (school_id, until, hold_id)
  WHERE settled_at IS NULL;

-- data.db, version 13: what purpose retention terms run from, and when they end (R21, R70-R72).
--
-- subject_events: per subject the last time of each event a term is counted from: the end of an
-- agreement, the last use (a cabinet sign-in or a report from the school's systems), the end of
-- one purpose. No personal data: ids, kinds and instants. The rows go with the subject.
CREATE TABLE subject_events (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  subject_id TEXT NOT NULL CHECK (subject_id <> ''),
  kind TEXT NOT NULL CHECK (kind <> ''),
  at INTEGER NOT NULL,
  source TEXT NOT NULL,
  recorded_at INTEGER NOT NULL,
  PRIMARY KEY (school_id, subject_id, kind),
  FOREIGN KEY (school_id, subject_id) REFERENCES subjects (school_id, subject_id)
) STRICT, WITHOUT ROWID;

-- retention_due: per subject and purpose (or a legal minimum, "legal_minimum:<category>") the
-- day its retention ends, the instant, and what it is counted from. `state` is pending until the
-- retention job has acted on it, then ended (the gate refuses the purpose from then on). The
-- daily job reads only the pending rows due on or before today through retention_due_by_date,
-- never every subject.
CREATE TABLE retention_due (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  subject_id TEXT NOT NULL CHECK (subject_id <> ''),
  purpose TEXT NOT NULL CHECK (purpose <> ''),
  due_date TEXT NOT NULL CHECK (due_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  due_at INTEGER NOT NULL,
  trigger TEXT NOT NULL CHECK (trigger <> ''),
  trigger_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'ended')),
  PRIMARY KEY (school_id, subject_id, purpose),
  FOREIGN KEY (school_id, subject_id) REFERENCES subjects (school_id, subject_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX retention_due_by_date ON retention_due (school_id, due_date, subject_id, purpose)
  WHERE state = 'pending';

-- How far the retention index has caught up with the subjects and consents that changed (the
-- job's catch-up reads only what changed after it, through subjects_by_update and
-- consents_by_time).
CREATE TABLE retention_marks (
  school_id TEXT NOT NULL PRIMARY KEY CHECK (school_id <> ''),
  refreshed_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX subjects_by_update ON subjects (school_id, updated_at, subject_id);

-- data.db, version 4: data-subject requests and other obligations with due dates (R35-R69),
-- their timelines, and the outbox of messages to subjects, staff and recipients.
--
-- A request keeps in columns what the queue filters and sorts on; everything else is `body`
-- (JSON without personal data) and `sealed` (personal details sealed with the school's KEK).

CREATE TABLE requests (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  request_id TEXT NOT NULL CHECK (request_id <> ''),
  type TEXT NOT NULL CHECK (type <> ''),
  state TEXT NOT NULL CHECK (state <> ''),
  subject_id TEXT NOT NULL,  -- "" when the requester is not matched; not a foreign key (erasure)
  open INTEGER NOT NULL CHECK (open IN (0, 1)),
  overdue INTEGER NOT NULL CHECK (overdue IN (0, 1)),
  assignee TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  body TEXT NOT NULL CHECK (body LIKE '{%}'),
  sealed BLOB NOT NULL,
  PRIMARY KEY (school_id, request_id)
) STRICT, WITHOUT ROWID;

-- The queue: open requests by due date (the due list, the overdue job).
CREATE INDEX requests_by_due ON requests (school_id, open, due_at, request_id);
CREATE INDEX requests_by_subject ON requests (school_id, subject_id, request_id);

CREATE TABLE request_events (
  school_id TEXT NOT NULL,
  request_id TEXT NOT NULL,
  seq INTEGER NOT NULL CHECK (seq > 0),
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind <> ''),
  body TEXT NOT NULL CHECK (body LIKE '{%}'),
  sealed BLOB NOT NULL,
  PRIMARY KEY (school_id, request_id, seq),
  FOREIGN KEY (school_id, request_id) REFERENCES requests (school_id, request_id)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER request_events_no_update BEFORE UPDATE ON request_events
BEGIN
  SELECT RAISE(ABORT, 'request events are append-only');
END;

CREATE TABLE outbox (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  message_id TEXT NOT NULL CHECK (message_id <> ''),
  request_id TEXT NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
  attempts INTEGER NOT NULL CHECK (attempts >= 0),
  created_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  sent_at INTEGER,
  last_error TEXT NOT NULL,
  body TEXT NOT NULL CHECK (body LIKE '{%}'),
  sealed BLOB NOT NULL,
  PRIMARY KEY (school_id, message_id)
) STRICT, WITHOUT ROWID;

-- The delivery job: pending messages by the time of their next attempt, across schools.
CREATE INDEX outbox_due ON outbox (state, next_attempt_at, school_id, message_id);
CREATE INDEX outbox_by_request ON outbox (school_id, request_id, created_at);

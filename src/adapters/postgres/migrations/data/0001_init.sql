-- The data database of the PostgreSQL store, version 1: every table the SQLite adapter's data.db
-- has at its version 17 (src/adapters/sqlite/migrations/data), translated in one step. Subject
-- keys, tombstones and audit anchors are NOT here: they live in the key vault, a separate
-- database (migrations/keys/).
--
-- Conventions (as in SQLite, translated):
--  - Every table lives in the store's schema (the connection's search_path); every row carries
--    school_id and every read is scoped by it.
--  - Instants are BIGINT microseconds since the Unix epoch, UTC; NULL for "none".
--  - Booleans are BOOLEAN.
--  - Sealed (encrypted) values are BYTEA, stored exactly as given.
--  - Lists of ids are JSON arrays of strings in TEXT (the CHECKs test the brackets, as in SQLite).
--  - Identifiers are compared and ordered byte by byte: every id column is COLLATE "C", whatever
--    the database's collation, so keyset pages and "ordered by id" match the SQLite store.
--  - Append-only rules are enforced here as well as in the adapter (triggers below). A trigger
--    raises SQLSTATE 'DV001' with a message fit for the operator (no SQL text); the adapter
--    turns it into kFailedPrecondition.

CREATE FUNCTION dovira_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'DV001', MESSAGE = TG_ARGV[0];
END;
$$;

CREATE TABLE schools (
  school_id TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (school_id <> ''),
  name TEXT NOT NULL,
  active_policy_version TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

-- R112: a published policy version never changes.
CREATE TABLE policy_versions (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  version_id TEXT COLLATE "C" NOT NULL CHECK (version_id <> ''),
  text TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  effective_date TEXT NOT NULL,
  published_at BIGINT NOT NULL,
  PRIMARY KEY (school_id, version_id)
);
CREATE TRIGGER policy_versions_no_update BEFORE UPDATE ON policy_versions
  FOR EACH ROW EXECUTE FUNCTION dovira_refuse('policy versions are immutable');

CREATE TABLE subjects (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  subject_id TEXT COLLATE "C" NOT NULL CHECK (subject_id <> ''),
  kind TEXT NOT NULL,
  pseudonym TEXT NOT NULL,
  policy_version TEXT NOT NULL,
  channel TEXT NOT NULL,
  form TEXT NOT NULL,
  source TEXT NOT NULL,
  state TEXT NOT NULL,
  guardian_id TEXT COLLATE "C",  -- a subject id of the same school, or NULL; not a foreign key
  sealed_profile BYTEA NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (school_id, subject_id)
);
CREATE INDEX subjects_by_update ON subjects (school_id, updated_at, subject_id);

-- Personal data, one field of one subject per row (R92), clustered by subject as in SQLite v3.
CREATE TABLE records (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  record_id TEXT COLLATE "C" NOT NULL CHECK (record_id <> ''),
  subject_id TEXT COLLATE "C" NOT NULL,
  store TEXT NOT NULL,
  field TEXT NOT NULL,
  category TEXT NOT NULL,
  sealed_value BYTEA NOT NULL,
  source TEXT NOT NULL,
  channel TEXT NOT NULL,
  form TEXT NOT NULL,
  policy_version TEXT NOT NULL,
  collected_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (school_id, subject_id, record_id),
  UNIQUE (school_id, record_id),
  FOREIGN KEY (school_id, subject_id) REFERENCES subjects (school_id, subject_id)
);

-- The consent ledger (R19): append-only. ledger_seq keeps insertion order for equal timestamps.
CREATE TABLE consents (
  ledger_seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  consent_id TEXT COLLATE "C" NOT NULL CHECK (consent_id <> ''),
  subject_id TEXT COLLATE "C" NOT NULL,
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
  guardian_id TEXT COLLATE "C",
  evidence TEXT NOT NULL,
  at BIGINT NOT NULL,
  expires_at BIGINT,
  UNIQUE (school_id, consent_id),
  FOREIGN KEY (school_id, subject_id) REFERENCES subjects (school_id, subject_id)
);
CREATE INDEX consents_by_subject ON consents (school_id, subject_id, at, ledger_seq);
CREATE INDEX consents_by_time ON consents (school_id, at, ledger_seq);

-- Erasure marker, as in SQLite: the adapter inserts the subject here, deletes its rows, then
-- deletes the marker again inside one transaction, so a marker row is never committed. The
-- append-only tables allow a DELETE only while the row's subject is marked.
CREATE TABLE subject_erasures (
  school_id TEXT COLLATE "C" NOT NULL,
  subject_id TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (school_id, subject_id)
);

CREATE FUNCTION dovira_delete_only_on_erasure() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM subject_erasures e
                 WHERE e.school_id = OLD.school_id AND e.subject_id = OLD.subject_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'DV001', MESSAGE = TG_ARGV[0];
  END IF;
  RETURN OLD;
END;
$$;

CREATE TRIGGER consents_no_update BEFORE UPDATE ON consents
  FOR EACH ROW EXECUTE FUNCTION dovira_refuse('consents are append-only');
CREATE TRIGGER consents_delete_only_on_erasure BEFORE DELETE ON consents
  FOR EACH ROW EXECUTE FUNCTION dovira_delete_only_on_erasure('consents are append-only');

-- Blind index: keyed hash of a normalised value -> subject.
CREATE TABLE lookups (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  field TEXT COLLATE "C" NOT NULL,
  token TEXT COLLATE "C" NOT NULL,
  subject_id TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (school_id, field, token),
  FOREIGN KEY (school_id, subject_id) REFERENCES subjects (school_id, subject_id)
);
CREATE INDEX lookups_by_subject ON lookups (school_id, subject_id);

-- The hash-chained audit log (R88, B01): rows are never changed nor deleted. They outlive
-- erasure; they name subjects by pseudonym only.
CREATE TABLE audit (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  seq BIGINT NOT NULL CHECK (seq > 0),
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  role TEXT NOT NULL,
  action TEXT NOT NULL,
  subject_ref TEXT COLLATE "C" NOT NULL,
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
);
CREATE INDEX audit_by_subject ON audit (school_id, subject_ref, seq);
CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
  FOR EACH ROW EXECUTE FUNCTION dovira_refuse('the audit log is append-only');

CREATE TABLE audit_checkpoints (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL,
  signature TEXT NOT NULL,
  public_key TEXT NOT NULL,
  at BIGINT NOT NULL,
  PRIMARY KEY (school_id, seq)
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION dovira_refuse('audit checkpoints are append-only');

CREATE TABLE staff (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  staff_id TEXT COLLATE "C" NOT NULL CHECK (staff_id <> ''),
  name TEXT NOT NULL,
  email TEXT COLLATE "C" NOT NULL,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  password_set_at BIGINT NOT NULL,
  must_change_password BOOLEAN NOT NULL,
  sealed_totp_secret BYTEA NOT NULL,
  totp_enabled BOOLEAN NOT NULL,
  failed_attempts INTEGER NOT NULL,
  locked_until BIGINT,
  briefing_completed_at BIGINT,
  left_at BIGINT,
  created_at BIGINT NOT NULL,
  totp_last_step BIGINT NOT NULL DEFAULT 0,
  recovery_codes TEXT NOT NULL DEFAULT '[]' CHECK (recovery_codes LIKE '[%]'),
  organisation TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (school_id, staff_id)
);
CREATE INDEX staff_by_email ON staff (school_id, email);

CREATE TABLE sessions (
  token_hash TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (token_hash <> ''),
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  staff_id TEXT COLLATE "C" NOT NULL,
  csrf_token TEXT NOT NULL,
  mfa_passed BOOLEAN NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  api_key_id TEXT COLLATE "C" NOT NULL CHECK (api_key_id <> ''),
  name TEXT NOT NULL,
  key_hash TEXT COLLATE "C" NOT NULL CHECK (key_hash <> ''),
  role TEXT NOT NULL,
  purposes TEXT NOT NULL CHECK (purposes LIKE '[%]'),
  created_at BIGINT NOT NULL,
  revoked_at BIGINT,
  created_by TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (school_id, api_key_id)
);
CREATE UNIQUE INDEX api_keys_by_hash ON api_keys (key_hash);

-- Data-subject requests and other obligations with due dates (R35-R69).
CREATE TABLE requests (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  request_id TEXT COLLATE "C" NOT NULL CHECK (request_id <> ''),
  type TEXT COLLATE "C" NOT NULL CHECK (type <> ''),
  state TEXT COLLATE "C" NOT NULL CHECK (state <> ''),
  subject_id TEXT COLLATE "C" NOT NULL,  -- "" when the requester is not matched; not a foreign key
  open BOOLEAN NOT NULL,
  overdue BOOLEAN NOT NULL,
  assignee TEXT COLLATE "C" NOT NULL,
  received_at BIGINT NOT NULL,
  due_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  body TEXT NOT NULL CHECK (body LIKE '{%}'),
  sealed BYTEA NOT NULL,
  PRIMARY KEY (school_id, request_id)
);
CREATE INDEX requests_by_due ON requests (school_id, open, due_at, request_id);
CREATE INDEX requests_by_due_all ON requests (school_id, due_at, request_id);
CREATE INDEX requests_by_subject ON requests (school_id, subject_id, request_id);

CREATE TABLE request_events (
  school_id TEXT COLLATE "C" NOT NULL,
  request_id TEXT COLLATE "C" NOT NULL,
  seq BIGINT NOT NULL CHECK (seq > 0),
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind <> ''),
  body TEXT NOT NULL CHECK (body LIKE '{%}'),
  sealed BYTEA NOT NULL,
  PRIMARY KEY (school_id, request_id, seq),
  FOREIGN KEY (school_id, request_id) REFERENCES requests (school_id, request_id)
);
CREATE TRIGGER request_events_no_update BEFORE UPDATE ON request_events
  FOR EACH ROW EXECUTE FUNCTION dovira_refuse('request events are append-only');

CREATE TABLE outbox (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  message_id TEXT COLLATE "C" NOT NULL CHECK (message_id <> ''),
  request_id TEXT COLLATE "C" NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
  attempts INTEGER NOT NULL CHECK (attempts >= 0),
  created_at BIGINT NOT NULL,
  next_attempt_at BIGINT NOT NULL,
  sent_at BIGINT,
  last_error TEXT NOT NULL,
  body TEXT NOT NULL CHECK (body LIKE '{%}'),
  sealed BYTEA NOT NULL,
  PRIMARY KEY (school_id, message_id)
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at, school_id, message_id);
CREATE INDEX outbox_by_request ON outbox (school_id, request_id, created_at);

-- The cookie banner's proof of each visitor's choice (R99-R101). Append-only.
CREATE TABLE cookie_consents (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  consent_id TEXT COLLATE "C" NOT NULL CHECK (consent_id <> ''),
  choice TEXT NOT NULL CHECK (choice IN ('accept_all', 'reject_all', 'custom')),
  accepted TEXT NOT NULL CHECK (accepted LIKE '[%]'),
  rejected TEXT NOT NULL CHECK (rejected LIKE '[%]'),
  policy_version TEXT NOT NULL,
  gpc BOOLEAN NOT NULL,
  lang TEXT NOT NULL,
  ip TEXT NOT NULL,
  user_agent_sha256 TEXT NOT NULL,
  at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (school_id, consent_id)
);
CREATE TRIGGER cookie_consents_no_update BEFORE UPDATE ON cookie_consents
  FOR EACH ROW EXECUTE FUNCTION dovira_refuse('cookie consents are append-only');

-- Subjects signed in to their personal cabinet (R38, R44, R54, R55).
CREATE TABLE subject_sessions (
  token_hash TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (token_hash <> ''),
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  subject_id TEXT COLLATE "C" NOT NULL,  -- '' for a sign-in with an address that is not on file
  state TEXT NOT NULL CHECK (state IN ('pending', 'active')),
  code_hash TEXT NOT NULL,
  attempts INTEGER NOT NULL CHECK (attempts >= 0),
  csrf_token TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  email_token TEXT NOT NULL DEFAULT '',
  acting_for TEXT NOT NULL DEFAULT ''
);
CREATE INDEX subject_sessions_by_subject ON subject_sessions (school_id, subject_id);

-- The disclosure log (R76): append-only; its rows go with the subject on erasure.
CREATE TABLE disclosures (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  disclosure_id TEXT COLLATE "C" NOT NULL CHECK (disclosure_id <> ''),
  subject_id TEXT COLLATE "C" NOT NULL CHECK (subject_id <> ''),
  recipient TEXT COLLATE "C" NOT NULL CHECK (recipient <> ''),
  at BIGINT NOT NULL,
  fields TEXT NOT NULL CHECK (fields LIKE '[%]'),
  categories TEXT NOT NULL CHECK (categories LIKE '[%]'),
  purpose TEXT NOT NULL CHECK (purpose <> ''),
  basis TEXT NOT NULL CHECK (basis <> ''),
  safeguard TEXT NOT NULL CHECK (safeguard <> ''),
  country TEXT NOT NULL,
  actor TEXT NOT NULL,
  request_id TEXT NOT NULL,
  detail TEXT NOT NULL CHECK (detail LIKE '{%}'),
  recorded_at BIGINT NOT NULL,
  PRIMARY KEY (school_id, disclosure_id)
);
CREATE INDEX disclosures_by_subject ON disclosures (school_id, subject_id, at, disclosure_id);
CREATE INDEX disclosures_by_time ON disclosures (school_id, at, disclosure_id);
CREATE TRIGGER disclosures_no_update BEFORE UPDATE ON disclosures
  FOR EACH ROW EXECUTE FUNCTION dovira_refuse('disclosures are append-only');
CREATE TRIGGER disclosures_no_delete BEFORE DELETE ON disclosures
  FOR EACH ROW EXECUTE FUNCTION dovira_delete_only_on_erasure('disclosures are append-only');

-- A recipient's notification address (R48), sealed with the school's KEK.
CREATE TABLE recipient_contacts (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  recipient TEXT COLLATE "C" NOT NULL CHECK (recipient <> ''),
  sealed BYTEA NOT NULL,
  updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY (school_id, recipient)
);

-- Legal holds (R50).
CREATE TABLE legal_holds (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  hold_id TEXT COLLATE "C" NOT NULL CHECK (hold_id <> ''),
  subject_id TEXT COLLATE "C" NOT NULL CHECK (subject_id <> ''),
  fields TEXT NOT NULL CHECK (fields LIKE '[%]' AND fields <> '[]'),
  categories TEXT NOT NULL CHECK (categories LIKE '[%]'),
  reason TEXT NOT NULL CHECK (reason <> ''),
  basis TEXT NOT NULL CHECK (basis <> ''),
  until TEXT COLLATE "C" NOT NULL CHECK (until ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
  state TEXT NOT NULL CHECK (state IN ('active', 'released', 'ended')),
  request_id TEXT NOT NULL,
  notify_subject BOOLEAN NOT NULL,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  closed_at BIGINT,
  closed_by TEXT NOT NULL,
  close_reason TEXT NOT NULL,
  settled_at BIGINT,
  PRIMARY KEY (school_id, hold_id),
  FOREIGN KEY (school_id, subject_id) REFERENCES subjects (school_id, subject_id)
);
CREATE INDEX legal_holds_by_subject ON legal_holds (school_id, subject_id, created_at, hold_id);
CREATE INDEX legal_holds_unsettled ON legal_holds (school_id, until, hold_id)
  WHERE settled_at IS NULL;

-- A minor's legal representative and the proof of their permission (R24, B06).
CREATE TABLE guardianships (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  guardianship_id TEXT COLLATE "C" NOT NULL CHECK (guardianship_id <> ''),
  minor_id TEXT COLLATE "C" NOT NULL CHECK (minor_id <> ''),
  email_token TEXT COLLATE "C" NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('unverified', 'verified')),
  method TEXT NOT NULL CHECK (method IN ('', 'email_code', 'document')),
  verified_at BIGINT,
  verified_by TEXT NOT NULL,
  majority_at BIGINT,
  reconsent TEXT NOT NULL CHECK (reconsent IN ('', 'pending', 'confirmed', 'withdrawn')),
  reconsent_at BIGINT,
  decided_at BIGINT,
  body TEXT NOT NULL CHECK (body LIKE '{%}'),
  sealed BYTEA NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (school_id, guardianship_id)
);
CREATE INDEX guardianships_by_minor ON guardianships (school_id, minor_id);
CREATE INDEX guardianships_by_email ON guardianships (school_id, email_token);
CREATE INDEX guardianships_by_majority ON guardianships (school_id, reconsent, majority_at);

-- A staff member's TOTP replay guard and recovery codes are columns of staff (above). Double
-- opt-in of mailing subscriptions (R15, R54).
CREATE TABLE subscription_confirmations (
  token_hash TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (token_hash <> ''),
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  subject_id TEXT COLLATE "C" NOT NULL CHECK (subject_id <> ''),
  state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed')),
  consent TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  confirmed_at BIGINT
);
CREATE INDEX subscription_confirmations_by_subject
  ON subscription_confirmations (school_id, subject_id);

-- Retention (R21, R70-R72).
CREATE TABLE subject_events (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  subject_id TEXT COLLATE "C" NOT NULL CHECK (subject_id <> ''),
  kind TEXT COLLATE "C" NOT NULL CHECK (kind <> ''),
  at BIGINT NOT NULL,
  source TEXT NOT NULL,
  recorded_at BIGINT NOT NULL,
  PRIMARY KEY (school_id, subject_id, kind),
  FOREIGN KEY (school_id, subject_id) REFERENCES subjects (school_id, subject_id)
);

CREATE TABLE retention_due (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  subject_id TEXT COLLATE "C" NOT NULL CHECK (subject_id <> ''),
  purpose TEXT COLLATE "C" NOT NULL CHECK (purpose <> ''),
  due_date TEXT COLLATE "C" NOT NULL CHECK (due_date ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
  due_at BIGINT NOT NULL,
  trigger TEXT NOT NULL CHECK (trigger <> ''),
  trigger_at BIGINT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'ended')),
  PRIMARY KEY (school_id, subject_id, purpose),
  FOREIGN KEY (school_id, subject_id) REFERENCES subjects (school_id, subject_id)
);
CREATE INDEX retention_due_by_date ON retention_due (school_id, due_date, subject_id, purpose)
  WHERE state = 'pending';

CREATE TABLE retention_marks (
  school_id TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (school_id <> ''),
  refreshed_at BIGINT NOT NULL
);

-- Visit statistics, depersonalised (R101). Append-only.
CREATE TABLE visits (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  visit_id TEXT COLLATE "C" NOT NULL CHECK (visit_id <> ''),
  day TEXT COLLATE "C" NOT NULL CHECK (length(day) = 10),
  hour INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
  network TEXT NOT NULL,
  browser TEXT NOT NULL,
  os TEXT NOT NULL,
  page TEXT NOT NULL,
  referrer_domain TEXT NOT NULL,
  PRIMARY KEY (school_id, visit_id)
);
CREATE INDEX visits_by_day ON visits (school_id, day, hour);
CREATE TRIGGER visits_no_update BEFORE UPDATE ON visits
  FOR EACH ROW EXECUTE FUNCTION dovira_refuse('visits are append-only');

-- Break-glass grants (R86, 004 §6.4).
CREATE TABLE access_grants (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  grant_id TEXT COLLATE "C" NOT NULL CHECK (grant_id <> ''),
  staff_id TEXT COLLATE "C" NOT NULL CHECK (staff_id <> ''),
  subject_id TEXT COLLATE "C" NOT NULL CHECK (subject_id <> ''),
  category TEXT NOT NULL CHECK (category <> ''),
  purpose TEXT NOT NULL CHECK (purpose <> ''),
  reason TEXT NOT NULL CHECK (reason <> ''),
  granted_by TEXT NOT NULL CHECK (granted_by <> ''),
  granted_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL CHECK (expires_at > granted_at),
  PRIMARY KEY (school_id, grant_id),
  FOREIGN KEY (school_id, subject_id) REFERENCES subjects (school_id, subject_id)
);
CREATE INDEX access_grants_by_end ON access_grants (school_id, expires_at, grant_id);
CREATE INDEX access_grants_by_subject ON access_grants (school_id, subject_id);

-- Subjects assigned to outside organisations (R86, 002 L60).
CREATE TABLE subject_assignments (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  organisation TEXT COLLATE "C" NOT NULL CHECK (organisation <> ''),
  subject_id TEXT COLLATE "C" NOT NULL CHECK (subject_id <> ''),
  reference TEXT NOT NULL,
  assigned_by TEXT NOT NULL CHECK (assigned_by <> ''),
  assigned_at BIGINT NOT NULL,
  PRIMARY KEY (school_id, organisation, subject_id),
  FOREIGN KEY (school_id, subject_id) REFERENCES subjects (school_id, subject_id)
);
CREATE INDEX subject_assignments_by_subject ON subject_assignments (school_id, subject_id);

-- Reviews of the school's policy (R117) and their deadlines (R68).
CREATE TABLE review_tasks (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  task_id TEXT COLLATE "C" NOT NULL CHECK (task_id <> ''),
  reason TEXT NOT NULL CHECK (reason IN ('scheduled', 'law_change')),
  law_change TEXT NOT NULL,
  law TEXT NOT NULL,
  due_date TEXT NOT NULL CHECK (due_date ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
  due_at BIGINT NOT NULL,
  assignee TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL CHECK (created_by <> ''),
  done_at BIGINT,
  done_by TEXT NOT NULL,
  summary TEXT NOT NULL,
  overdue_at BIGINT,
  late_by_days BIGINT NOT NULL CHECK (late_by_days >= 0),
  PRIMARY KEY (school_id, task_id)
);
CREATE INDEX review_tasks_open ON review_tasks (school_id, due_at, task_id) WHERE done_at IS NULL;
CREATE INDEX review_tasks_done ON review_tasks (school_id, done_at, task_id)
  WHERE done_at IS NOT NULL;

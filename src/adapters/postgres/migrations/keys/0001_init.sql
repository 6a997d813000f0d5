-- The key vault of the PostgreSQL store, version 1: the SQLite adapter's keys.db at its version 3
-- (src/adapters/sqlite/migrations/keys) in one step. A separate database, reached with its own
-- connection string (and, in production, its own credentials), so that a backup of the data
-- database never holds a subject's key (B02).
--
-- subject_keys: subject data keys wrapped by a school key-encryption key.
-- tombstones: erased subjects (B09), no personal data; re-applied to restored data backups.
-- audit_anchors: each school's newest signed checkpoint (B01); it only moves forward.
-- Instants are BIGINT microseconds since the Unix epoch, UTC.

CREATE FUNCTION dovira_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'DV001', MESSAGE = TG_ARGV[0];
END;
$$;

CREATE TABLE subject_keys (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  subject_id TEXT COLLATE "C" NOT NULL CHECK (subject_id <> ''),
  kek_id TEXT NOT NULL,
  wrapped_key BYTEA NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (school_id, subject_id)
);

CREATE TABLE tombstones (
  school_id TEXT COLLATE "C" NOT NULL CHECK (school_id <> ''),
  subject_id TEXT COLLATE "C" NOT NULL CHECK (subject_id <> ''),
  pseudonym TEXT NOT NULL,
  ground TEXT NOT NULL,
  request_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  PRIMARY KEY (school_id, subject_id)
);
CREATE TRIGGER tombstones_append_only BEFORE UPDATE OR DELETE ON tombstones
  FOR EACH ROW EXECUTE FUNCTION dovira_refuse('tombstones are append-only');

CREATE TABLE audit_anchors (
  school_id TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (school_id <> ''),
  seq BIGINT NOT NULL CHECK (seq > 0),
  hash TEXT NOT NULL,
  signature TEXT NOT NULL,
  public_key TEXT NOT NULL,
  at BIGINT NOT NULL
);

CREATE FUNCTION dovira_anchor_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.seq <= OLD.seq OR NEW.school_id <> OLD.school_id THEN
    RAISE EXCEPTION USING ERRCODE = 'DV001', MESSAGE = 'the audit anchor only moves forward';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER audit_anchors_only_forward BEFORE UPDATE ON audit_anchors
  FOR EACH ROW EXECUTE FUNCTION dovira_anchor_forward();
CREATE TRIGGER audit_anchors_no_delete BEFORE DELETE ON audit_anchors
  FOR EACH ROW EXECUTE FUNCTION dovira_refuse('the audit anchor is never deleted');

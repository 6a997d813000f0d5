-- keys.db, version 3: the anchor of each school's audit chain (B01): a copy of the newest signed
-- checkpoint (seq, hash, signature, key). Kept in the key vault, which data backups never
-- contain, so that removing the newest audit entries together with the newest checkpoint row of
-- data.db is still detected: the anchor names an entry the data no longer has, or no longer
-- has as signed. No personal data.
--
-- One row per school; it only moves forward (a later seq replaces it) and is never deleted.

CREATE TABLE audit_anchors (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  seq INTEGER NOT NULL CHECK (seq > 0),
  hash TEXT NOT NULL,
  signature TEXT NOT NULL,
  public_key TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (school_id)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER audit_anchors_only_forward BEFORE UPDATE ON audit_anchors
WHEN NEW.seq <= OLD.seq OR NEW.school_id <> OLD.school_id
BEGIN
  SELECT RAISE(ABORT, 'the audit anchor only moves forward');
END;

CREATE TRIGGER audit_anchors_no_delete BEFORE DELETE ON audit_anchors
BEGIN
  SELECT RAISE(ABORT, 'the audit anchor is never deleted');
END;

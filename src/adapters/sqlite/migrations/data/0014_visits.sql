-- data.db, version 14 (issue 14).
-- Visit statistics of a school's site, kept only depersonalised (R101, 004 §4.5, §4.7): one row a
-- visit with the address cut to its network (/24, /48), the browser and operating system families
-- (never the whole user agent), the page's path without its query, the referring site's domain,
-- and the day and hour (UTC). No subject, account or cookie id, no exact time. Append-only.
CREATE TABLE visits (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  visit_id TEXT NOT NULL CHECK (visit_id <> ''),
  day TEXT NOT NULL CHECK (length(day) = 10),
  hour INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
  network TEXT NOT NULL,
  browser TEXT NOT NULL,
  os TEXT NOT NULL,
  page TEXT NOT NULL,
  referrer_domain TEXT NOT NULL,
  PRIMARY KEY (school_id, visit_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX visits_by_day ON visits (school_id, day, hour);

CREATE TRIGGER visits_no_update BEFORE UPDATE ON visits
BEGIN SELECT RAISE(ABORT, 'visits are append-only'); END;

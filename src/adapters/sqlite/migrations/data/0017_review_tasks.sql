-- data.db, version 17: reviews of the school's policy (R117, 003 §24) and their deadlines (R68).
--
-- One row per review task: a scheduled one (the policy's `review_interval` after the last
-- recorded review) or one opened by a recorded change in the law (`review_on_law_change`). A task
-- is open until a review is recorded (`done_at`); the deadline job marks an open task past its due
-- day once (`overdue_at`) and alerts the responsible person; a review recorded after the due day
-- keeps how many local days late it was. No personal data: ids, the officers' own texts, instants.
CREATE TABLE review_tasks (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  task_id TEXT NOT NULL CHECK (task_id <> ''),
  reason TEXT NOT NULL CHECK (reason IN ('scheduled', 'law_change')),
  law_change TEXT NOT NULL,  -- what changed in the law ('' for a scheduled review)
  law TEXT NOT NULL,         -- the law named, if any
  due_date TEXT NOT NULL CHECK (due_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  due_at INTEGER NOT NULL,   -- the end of the due day in the school's time zone
  assignee TEXT NOT NULL,    -- the staff account who set it (recorded a review or the change), or ''
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL CHECK (created_by <> ''),
  done_at INTEGER,
  done_by TEXT NOT NULL,
  summary TEXT NOT NULL,     -- what the review found
  overdue_at INTEGER,
  late_by_days INTEGER NOT NULL CHECK (late_by_days >= 0),
  PRIMARY KEY (school_id, task_id)
) STRICT, WITHOUT ROWID;

-- The open tasks by due time (the job, the list), and the done ones newest first.
CREATE INDEX review_tasks_open ON review_tasks (school_id, due_at, task_id) WHERE done_at IS NULL;
CREATE INDEX review_tasks_done ON review_tasks (school_id, done_at, task_id)
  WHERE done_at IS NOT NULL;

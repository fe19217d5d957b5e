-- Training (clause 6(5); DOMAIN.md §10). Keep in step with ../postgres/0005_training.sql.
-- Assignment is computed from each course's rules, never stored.

CREATE TABLE training_courses (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    code              TEXT NOT NULL UNIQUE,
    title             TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    -- Space-separated employment category codes and role codes; both empty: everyone.
    target_categories TEXT NOT NULL DEFAULT '',
    target_roles      TEXT NOT NULL DEFAULT '',
    recurrence        TEXT NOT NULL CHECK (recurrence IN ('annual', 'once')),
    onboarding        INTEGER NOT NULL DEFAULT 0 CHECK (onboarding IN (0, 1)),
    due_days          INTEGER NOT NULL DEFAULT 0,
    pass_mark         INTEGER NOT NULL DEFAULT 80 CHECK (pass_mark BETWEEN 0 AND 100),
    starts_on         TEXT NOT NULL,
    active            INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    sort_order        INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

-- Uploaded course materials (files.rs storage), served as downloads only.
CREATE TABLE training_materials (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    course_id    INTEGER NOT NULL REFERENCES training_courses(id),
    sha256       TEXT NOT NULL REFERENCES files(sha256),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    uploaded_by  TEXT NOT NULL,
    uploaded_at  TEXT NOT NULL
);
CREATE INDEX training_materials_course ON training_materials(course_id);

-- Quiz questions; choices are a JSON array of text, correct the index of the right one.
CREATE TABLE training_questions (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    course_id INTEGER NOT NULL REFERENCES training_courses(id),
    position  INTEGER NOT NULL DEFAULT 0,
    text      TEXT NOT NULL,
    choices   TEXT NOT NULL,
    correct   INTEGER NOT NULL
);
CREATE INDEX training_questions_course ON training_questions(course_id);

-- 研修会: a session of a course, optionally run for one unit.
CREATE TABLE training_sessions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    course_id  INTEGER NOT NULL REFERENCES training_courses(id),
    held_on    TEXT NOT NULL,
    place      TEXT NOT NULL DEFAULT '',
    notes      TEXT NOT NULL DEFAULT '',
    unit_id    INTEGER REFERENCES units(id),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX training_sessions_course ON training_sessions(course_id);

CREATE TABLE training_attendees (
    session_id INTEGER NOT NULL REFERENCES training_sessions(id),
    person_id  INTEGER NOT NULL REFERENCES people(id),
    PRIMARY KEY (session_id, person_id)
);

-- One completion per person, course and 年度.
CREATE TABLE training_records (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id    INTEGER NOT NULL REFERENCES people(id),
    course_id    INTEGER NOT NULL REFERENCES training_courses(id),
    fiscal_year  INTEGER NOT NULL,
    completed_on TEXT NOT NULL,
    source       TEXT NOT NULL CHECK (source IN ('manager', 'import', 'session', 'quiz')),
    score        INTEGER,
    session_id   INTEGER REFERENCES training_sessions(id),
    recorded_by  TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    UNIQUE (person_id, course_id, fiscal_year)
);
CREATE INDEX training_records_course_year ON training_records(course_id, fiscal_year);
CREATE INDEX training_records_year ON training_records(fiscal_year);

-- Threat and control catalogues, and control implementation status per unit (issue 5;
-- DOMAIN.md §4, §6a). Keep in step with ../postgres/0006_catalogue.sql.
-- Catalogue contents are data, seeded on first start and edited by the organisation.

-- New permissions for the roles that hold them by default (a fresh database gets them from the
-- role seed, which runs after the migrations).
UPDATE roles SET permissions = permissions || ' catalogue.manage controls.update'
 WHERE code = 'chief_officer' AND permissions NOT LIKE '%catalogue.manage%';
UPDATE roles SET permissions = permissions || ' controls.update'
 WHERE code IN ('unit_officer', 'unit_manager', 'system_manager')
   AND permissions NOT LIKE '%controls.update%';

-- The five categories of clause 3 (T1–T5).
CREATE TABLE threat_categories (
    code       TEXT PRIMARY KEY,
    name_ja    TEXT NOT NULL,
    name_en    TEXT NOT NULL,
    sort_order INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE threats (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code        TEXT NOT NULL UNIQUE,
    category    TEXT NOT NULL REFERENCES threat_categories(code),
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    retired     INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1)),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX threats_category ON threats(category, code);

-- The nine measure areas of clause 6 (M1–M9), each with its clause.
CREATE TABLE measure_areas (
    code       TEXT PRIMARY KEY,
    name_ja    TEXT NOT NULL,
    name_en    TEXT NOT NULL,
    clause     TEXT NOT NULL,
    sort_order INTEGER NOT NULL DEFAULT 0
);

-- clauses and segments are space-separated lists; min_tier NULL: every asset.
CREATE TABLE controls (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code        TEXT NOT NULL UNIQUE,
    area        TEXT NOT NULL REFERENCES measure_areas(code),
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    clauses     TEXT NOT NULL DEFAULT '',
    owner_role  TEXT NOT NULL,
    segments    TEXT NOT NULL DEFAULT '',
    min_tier    INTEGER CHECK (min_tier BETWEEN 1 AND 3),
    retired     INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1)),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX controls_area ON controls(area, code);

-- One status per control and unit; no row: 未実施. links: newline-separated URLs.
CREATE TABLE control_status (
    control_id  INTEGER NOT NULL REFERENCES controls(id),
    unit_id     INTEGER NOT NULL REFERENCES units(id),
    status      TEXT NOT NULL CHECK (status IN ('not_started', 'partial', 'implemented', 'not_applicable')),
    note        TEXT NOT NULL DEFAULT '',
    links       TEXT NOT NULL DEFAULT '',
    review_on   TEXT,
    updated_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    verified_by TEXT,
    verified_on TEXT,
    PRIMARY KEY (control_id, unit_id)
);
CREATE INDEX control_status_unit ON control_status(unit_id);

-- Evidence files (files.rs storage), served as downloads only.
CREATE TABLE control_evidence (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    control_id   INTEGER NOT NULL REFERENCES controls(id),
    unit_id      INTEGER NOT NULL REFERENCES units(id),
    sha256       TEXT NOT NULL REFERENCES files(sha256),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    uploaded_by  TEXT NOT NULL,
    uploaded_at  TEXT NOT NULL
);
CREATE INDEX control_evidence_status ON control_evidence(control_id, unit_id);

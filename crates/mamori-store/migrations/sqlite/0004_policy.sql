-- Policy documents, their versions and clause trees, and acknowledgements (issue 4).
-- Keep in step with ../postgres/0004_policy.sql.

-- New permissions for the roles that hold them by default.
UPDATE roles SET permissions = permissions || ' policy.edit training.manage'
 WHERE code = 'chief_officer' AND permissions NOT LIKE '%policy.edit%';
UPDATE roles SET permissions = permissions || ' training.manage'
 WHERE code = 'unit_manager' AND permissions NOT LIKE '%training.manage%';

-- A document: 基本方針, 対策基準 or 実施手順 (layer), who may read it, and its review cycle.
CREATE TABLE documents (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    code                   TEXT NOT NULL UNIQUE,
    layer                  TEXT NOT NULL CHECK (layer IN ('basic_policy', 'standards', 'procedures')),
    title                  TEXT NOT NULL,
    visibility             TEXT NOT NULL CHECK (visibility IN ('public', 'internal', 'restricted')),
    -- Space-separated role codes that may read a restricted document.
    restricted_roles       TEXT NOT NULL DEFAULT '',
    -- A 実施手順 may concern one system asset.
    asset_id               INTEGER REFERENCES assets(id),
    requires_ack           INTEGER NOT NULL DEFAULT 1 CHECK (requires_ack IN (0, 1)),
    review_interval_months INTEGER NOT NULL DEFAULT 12,
    review_required        INTEGER NOT NULL DEFAULT 0 CHECK (review_required IN (0, 1)),
    review_reason          TEXT NOT NULL DEFAULT '',
    sort_order             INTEGER NOT NULL DEFAULT 0,
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL
);

-- One version (版) of a document. Versions made in Mamori name their author and approver as
-- users; versions imported from an existing document keep 作成者 and 承認 as written.
CREATE TABLE document_versions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id      INTEGER NOT NULL REFERENCES documents(id),
    number           INTEGER NOT NULL,
    edition          TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('draft', 'in_review', 'approved', 'published', 'superseded')),
    body             TEXT NOT NULL,
    change_summary   TEXT NOT NULL DEFAULT '',
    created_on       TEXT NOT NULL,
    author_user_id   INTEGER REFERENCES users(id),
    author_text      TEXT NOT NULL DEFAULT '',
    approver_user_id INTEGER REFERENCES users(id),
    approval_text    TEXT NOT NULL DEFAULT '',
    approved_on      TEXT,
    published_on     TEXT,
    return_reason    TEXT NOT NULL DEFAULT '',
    imported         INTEGER NOT NULL DEFAULT 0 CHECK (imported IN (0, 1)),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (document_id, number)
);
CREATE INDEX document_versions_state ON document_versions(state, document_id);

-- The clause tree of a version, as structure: anchors are citable ("基本方針 6(8)").
CREATE TABLE document_clauses (
    version_id INTEGER NOT NULL REFERENCES document_versions(id),
    anchor     TEXT NOT NULL,
    parent     TEXT,
    depth      INTEGER NOT NULL,
    ordinal    INTEGER NOT NULL,
    label      TEXT NOT NULL,
    title      TEXT,
    body       TEXT NOT NULL,
    PRIMARY KEY (version_id, anchor)
);

-- Who confirmed having read which version, when and from where (clause 5).
CREATE TABLE acknowledgements (
    version_id      INTEGER NOT NULL REFERENCES document_versions(id),
    person_id       INTEGER NOT NULL REFERENCES people(id),
    acknowledged_at TEXT NOT NULL,
    source          TEXT NOT NULL,
    user_id         INTEGER REFERENCES users(id),
    PRIMARY KEY (version_id, person_id)
);
CREATE INDEX acknowledgements_person ON acknowledgements(person_id);

-- Reminders sent to those who have not yet acknowledged a version.
CREATE TABLE acknowledgement_reminders (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    version_id INTEGER NOT NULL REFERENCES document_versions(id),
    unit_id    INTEGER REFERENCES units(id),
    message    TEXT NOT NULL DEFAULT '',
    sent_by    INTEGER REFERENCES users(id),
    sent_at    TEXT NOT NULL
);
CREATE INDEX acknowledgement_reminders_version ON acknowledgement_reminders(version_id);

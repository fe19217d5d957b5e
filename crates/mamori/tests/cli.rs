//! The command line as scripts use it: exit codes, what goes to stdout and stderr, and the
//! audit-log, backup and restore promises of `INTERCHANGE.md`.

#![allow(missing_docs)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn mamori(data_dir: &Path, args: &[&str]) -> Output {
    mamori_with(data_dir, args, None, &[])
}

fn mamori_with(
    data_dir: &Path,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mamori"));
    cmd.arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("MAMORI_DATABASE_URL")
        .env("MAMORI_LANG", "ja");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run mamori");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `mamori import KIND FILE`, which must be refused, and returns what it said on stderr.
fn refused_import(data_dir: &Path, kind: &str, file: &Path) -> String {
    let out = mamori(data_dir, &["import", kind, &file.display().to_string()]);
    assert!(!out.status.success(), "{kind} import should be refused");
    text(&out.stderr)
}

/// Asserts that `err` names each of `places` (`FILE:LINE: COLUMN:`).
fn assert_names(err: &str, places: &[&str]) {
    for place in places {
        assert!(err.contains(place), "{place} in {err}");
    }
}

async fn sqlite(dir: &Path) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&format!("sqlite://{}", dir.join("mamori.db").display()))
        .await
        .expect("open sqlite")
}

#[test]
fn user_add_and_token_create_print_only_what_scripts_capture() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = mamori(dir.path(), &["migrate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "migrate prints nothing on stdout");

    let out = mamori(
        dir.path(),
        &[
            "user",
            "add",
            "--username",
            "tanaka",
            "--name",
            "田中 太郎",
            "--role",
            "unit_manager@secretariat",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let password = stdout
        .trim()
        .strip_prefix("tanaka: ")
        .expect("one-time password line");
    assert_eq!(password.len(), 20);
    assert!(text(&out.stderr).contains("仮パスワード"));

    let out = mamori(
        dir.path(),
        &["user", "add", "--username", "tanaka", "--name", "x"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("すでに使われています"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());

    let out = mamori_with(
        dir.path(),
        &[
            "user",
            "add",
            "--username",
            "weak",
            "--name",
            "x",
            "--password-stdin",
        ],
        Some("password123\n"),
        &[("MAMORI_LANG", "en")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("at least 12 characters"),
        "English on request: {}",
        text(&out.stderr)
    );

    let out = mamori(
        dir.path(),
        &[
            "user",
            "add",
            "--username",
            "x",
            "--name",
            "x",
            "--role",
            "nosuchrole",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("nosuchrole"));

    let out = mamori(
        dir.path(),
        &[
            "token",
            "create",
            "--username",
            "tanaka",
            "--label",
            "ci",
            "--expires",
            "30",
            "--read-only",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].starts_with("mmr_") && lines[0].len() > 40);

    let out = mamori(dir.path(), &["token", "create", "--username", "nobody"]);
    assert_eq!(out.status.code(), Some(1));
    // Everything the CLI did is in the trail as cli:<OS user>.
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let actors: Vec<String> = rt.block_on(async {
        let pool = sqlite(dir.path()).await;
        sqlx::query_scalar(
            "SELECT DISTINCT actor FROM audit_log WHERE action IN ('user.create', 'token.create')",
        )
        .fetch_all(&pool)
        .await
        .expect("q")
    });
    assert!(
        !actors.is_empty() && actors.iter().all(|a| a.starts_with("cli:")),
        "{actors:?}"
    );
}

#[test]
fn verify_names_the_edited_entry_and_checkpoints_catch_truncation() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(mamori(dir.path(), &["migrate"]).status.success());
    let out = mamori(dir.path(), &["audit-log", "verify"]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = mamori(dir.path(), &["audit-log", "checkpoint"]);
    assert!(out.status.success());
    let checkpoint = dir.path().join("outside.jsonl");
    std::fs::write(&checkpoint, &out.stdout).expect("write checkpoint");
    let cp: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json checkpoint");
    let count = cp["count"].as_i64().expect("count");
    assert!(count > 0);
    // The signing key lives outside the database, readable only by its owner.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("audit-signing.key"))
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "key must not be readable by others");
    }

    // More entries: the checkpoint still holds.
    assert!(mamori(
        dir.path(),
        &["user", "add", "--username", "a1", "--name", "A"]
    )
    .status
    .success());
    let out = mamori(
        dir.path(),
        &[
            "audit-log",
            "verify",
            "--checkpoint",
            checkpoint.to_str().expect("path"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let rt = tokio::runtime::Runtime::new().expect("rt");
    // Cutting the chain short below the checkpoint is detected (the chain alone still verifies).
    rt.block_on(async {
        let pool = sqlite(dir.path()).await;
        sqlx::query("DELETE FROM audit_log WHERE seq >= $1")
            .bind(count - 1)
            .execute(&pool)
            .await
            .expect("truncate");
    });
    let out = mamori(dir.path(), &["audit-log", "verify"]);
    assert!(out.status.success(), "a truncated chain alone looks intact");
    let out = mamori(
        dir.path(),
        &[
            "audit-log",
            "verify",
            "--checkpoint",
            checkpoint.to_str().expect("path"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("truncated"),
        "{}",
        text(&out.stderr)
    );

    // Editing one row directly in the SQLite file is found, naming the entry.
    rt.block_on(async {
        let pool = sqlite(dir.path()).await;
        sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
            .execute(&pool)
            .await
            .expect("edit");
    });
    let out = mamori(dir.path(), &["audit-log", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("entry 3"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn backup_restores_into_an_empty_dir_and_refuses_to_overwrite() {
    let src = tempfile::tempdir().expect("tempdir");
    assert!(mamori(src.path(), &["migrate"]).status.success());
    assert!(mamori(
        src.path(),
        &["user", "add", "--username", "keep", "--name", "保存 太郎"]
    )
    .status
    .success());
    let archive = src.path().join("backup.tar");
    let out = mamori(src.path(), &["backup", archive.to_str().expect("p")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "progress and notes go to stderr");

    // The signing key is not in the archive.
    let listing = std::fs::read(&archive).expect("read");
    assert!(!listing.windows(17).any(|w| w == b"audit-signing.key"));

    let dst = tempfile::tempdir().expect("tempdir");
    let target = dst.path().join("new-data-dir");
    let out = mamori(&target, &["restore", archive.to_str().expect("p")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = mamori(&target, &["audit-log", "verify"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let name: String = rt.block_on(async {
        let pool = sqlite(&target).await;
        sqlx::query_scalar("SELECT display_name FROM users WHERE username = 'keep'")
            .fetch_one(&pool)
            .await
            .expect("q")
    });
    assert_eq!(name, "保存 太郎");

    let out = mamori(&target, &["restore", archive.to_str().expect("p")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not empty"),
        "{}",
        text(&out.stderr)
    );

    let out = mamori(dst.path(), &["restore", "/nonexistent/backup.tar"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn sqlite_backup_moves_to_postgres_and_back() {
    let Some(admin_url) = std::env::var("MAMORI_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        assert!(
            std::env::var("MAMORI_REQUIRE_POSTGRES").is_err(),
            "PostgreSQL required but not configured"
        );
        eprintln!("skipped: MAMORI_TEST_POSTGRES_URL is not set");
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let db = format!("mamori_cli_{}", std::process::id());
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("connect");
        sqlx::query(&format!("CREATE DATABASE {db}"))
            .execute(&mut c)
            .await
            .expect("create");
    });
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b.to_owned())
        .unwrap_or(admin_url.clone());
    let pg_url = format!("{base}/{db}");

    let src = tempfile::tempdir().expect("tempdir");
    assert!(mamori(src.path(), &["migrate"]).status.success());
    assert!(mamori(
        src.path(),
        &["user", "add", "--username", "mover", "--name", "移行"]
    )
    .status
    .success());
    let archive = src.path().join("to-pg.tar");
    assert!(
        mamori(src.path(), &["backup", archive.to_str().expect("p")])
            .status
            .success()
    );

    let pg_dir = tempfile::tempdir().expect("tempdir");
    let out = mamori(
        pg_dir.path(),
        &[
            "--database-url",
            &pg_url,
            "restore",
            archive.to_str().expect("p"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = mamori(
        pg_dir.path(),
        &["--database-url", &pg_url, "audit-log", "verify"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // And back again.
    assert!(mamori(
        pg_dir.path(),
        &[
            "--database-url",
            &pg_url,
            "user",
            "add",
            "--username",
            "onpg",
            "--name",
            "PG"
        ]
    )
    .status
    .success());
    let back = pg_dir.path().join("to-sqlite.tar");
    assert!(mamori(
        pg_dir.path(),
        &[
            "--database-url",
            &pg_url,
            "backup",
            back.to_str().expect("p")
        ]
    )
    .status
    .success());
    let again = tempfile::tempdir().expect("tempdir");
    let out = mamori(again.path(), &["restore", back.to_str().expect("p")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(mamori(again.path(), &["audit-log", "verify"])
        .status
        .success());

    // PostgreSQL itself refuses to change the trail.
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&pg_url).await.expect("connect");
        let err = sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1")
            .execute(&mut c)
            .await;
        assert!(err.is_err_and(|e| e.to_string().contains("append-only")));
        let err = sqlx::query("DELETE FROM audit_log").execute(&mut c).await;
        assert!(err.is_err());
        drop(c);
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("connect");
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
            .execute(&mut admin)
            .await;
    });
}

#[test]
fn units_import_from_the_shared_cp932_sample_and_export_round_trips() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(mamori(dir.path(), &["migrate"]).status.success());
    let sample =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples/units.cp932.csv");

    // A dry run reports what would happen and writes nothing.
    let out = mamori(
        dir.path(),
        &["import", "units", sample.to_str().expect("p"), "--dry-run"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("追加 1 件") && text(&out.stdout).contains("変更なし 2 件"),
        "{}",
        text(&out.stdout)
    );
    let out = mamori(dir.path(), &["export", "units", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(!json["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|u| u["code"] == "general-affairs"));

    let out = mamori(
        dir.path(),
        &["import", "units", sample.to_str().expect("p")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Every changed record is audited, carrying the same import id.
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let afters: Vec<String> = rt.block_on(async {
        let pool = sqlite(dir.path()).await;
        sqlx::query_scalar("SELECT after_json FROM audit_log WHERE action = 'unit.create' AND entity_id = 'general-affairs'")
            .fetch_all(&pool)
            .await
            .expect("q")
    });
    assert_eq!(afters.len(), 1);
    assert!(
        afters[0].contains("\"import_id\":\"import-"),
        "{}",
        afters[0]
    );

    // Export (labels, UTF-8 with BOM), import again: nothing changes.
    let exported = dir.path().join("units.csv");
    let out = mamori(
        dir.path(),
        &["export", "units", "-o", exported.to_str().expect("p")],
    );
    assert!(out.status.success());
    let bytes = std::fs::read(&exported).expect("read");
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
    assert!(String::from_utf8_lossy(&bytes).contains("組織コード,名称,上位組織コード,適用範囲\r\n"));
    let out = mamori(
        dir.path(),
        &["import", "units", exported.to_str().expect("p")],
    );
    assert!(
        text(&out.stdout).contains("追加 0 件、更新 0 件、変更なし 6 件"),
        "{}",
        text(&out.stdout)
    );
    // Codes header and CP932 round-trip too.
    let cp = dir.path().join("units-cp932.csv");
    assert!(mamori(
        dir.path(),
        &[
            "export",
            "units",
            "--encoding",
            "cp932",
            "--header",
            "codes",
            "-o",
            cp.to_str().expect("p")
        ]
    )
    .status
    .success());
    let out = mamori(dir.path(), &["import", "units", cp.to_str().expect("p")]);
    assert!(
        text(&out.stdout).contains("変更なし 6 件"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn units_import_refuses_bad_files_naming_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(mamori(dir.path(), &["migrate"]).status.success());
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "組織コード,名称,上位組織コード,色\r\nok,名前,,\r\n").expect("write");
    let out = mamori(dir.path(), &["import", "units", bad.to_str().expect("p")]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("{}:1: 色: この列名は使えません。", bad.display())),
        "{err}"
    );

    std::fs::write(&bad, "code,name,parent\r\nnew-a,A,secretariat\r\nnew-b,B,nowhere\r\nnew-a,C,\r\nx1,X,x2\r\nx2,Y,x1\r\n").expect("write");
    let out = mamori(dir.path(), &["import", "units", bad.to_str().expect("p")]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(":4: code: "),
        "a repeated key names its row: {err}"
    );
    // Nothing was half saved.
    let out = mamori(dir.path(), &["export", "units", "--format", "json"]);
    assert!(!text(&out.stdout).contains("new-a"));

    std::fs::write(
        &bad,
        "code,name,parent\r\nnew-b,B,nowhere\r\nx1,X,x2\r\nx2,Y,x1\r\n",
    )
    .expect("write");
    let out = mamori(dir.path(), &["import", "units", bad.to_str().expect("p")]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(":3: parent: ") && err.contains(":4: parent: "),
        "a cycle names both rows: {err}"
    );

    let mut utf16 = vec![0xFF, 0xFE];
    for u in "code,name\r\n".encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    std::fs::write(&bad, utf16).expect("write");
    let out = mamori(dir.path(), &["import", "units", bad.to_str().expect("p")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("UTF-16"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn people_import_resolves_references_and_round_trips() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(mamori(dir.path(), &["migrate"]).status.success());
    let units =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples/units.cp932.csv");
    let people =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples/people.cp932.csv");
    // The people sample refers to general-affairs, which the units sample brings.
    let out = mamori(
        dir.path(),
        &["import", "people", people.to_str().expect("p")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(":3: 所属: 指定された組織が見つかりません。 (general-affairs)"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        mamori(dir.path(), &["import", "units", units.to_str().expect("p")])
            .status
            .success()
    );
    let out = mamori(
        dir.path(),
        &["import", "people", people.to_str().expect("p")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("追加 3 件"),
        "{}",
        text(&out.stdout)
    );

    let out = mamori(dir.path(), &["export", "people", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let items = json["items"].as_array().expect("items");
    let ito = items
        .iter()
        .find(|p| p["staff_id"] == "S102")
        .expect("S102");
    assert_eq!(ito["category"], "dispatched");
    assert_eq!(ito["roles"][0], "auditor@audit_office");
    assert_eq!(ito["left_on"], "2026-03-31");
    let nagasaki = items
        .iter()
        .find(|p| p["staff_id"] == "S101")
        .expect("S101");
    assert_eq!(nagasaki["name"], "長﨑 悠");
    assert_eq!(nagasaki["joined_on"], "2025-04-01");

    // Export with labels in CP932, import again: nothing changes.
    let file = dir.path().join("people.csv");
    assert!(mamori(
        dir.path(),
        &[
            "export",
            "people",
            "--encoding",
            "cp932",
            "-o",
            file.to_str().expect("p")
        ]
    )
    .status
    .success());
    let out = mamori(dir.path(), &["import", "people", file.to_str().expect("p")]);
    assert!(
        text(&out.stdout).contains("追加 0 件、更新 0 件、変更なし 3 件"),
        "{}",
        text(&out.stdout)
    );

    // Roles become exactly what the file says.
    std::fs::write(&file, "職員番号,氏名,所属,任用区分,役割\r\nS101,長﨑 悠,general-affairs,会計年度任用職員,unit_manager@general-affairs;nosuch\r\n").expect("w");
    let out = mamori(dir.path(), &["import", "people", file.to_str().expect("p")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(":2: 役割: ") && text(&out.stderr).contains("nosuch"),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(&file, "職員番号,氏名,所属,任用区分,役割\r\nS101,長﨑 悠,general-affairs,会計年度任用職員,unit_manager@general-affairs\r\n").expect("w");
    let out = mamori(dir.path(), &["import", "people", file.to_str().expect("p")]);
    assert!(
        text(&out.stdout).contains("更新 1 件"),
        "{}",
        text(&out.stdout)
    );
    let out = mamori(dir.path(), &["export", "people", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let s101 = json["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|p| p["staff_id"] == "S101")
        .cloned()
        .expect("S101");
    assert_eq!(
        s101["roles"],
        serde_json::json!(["unit_manager@general-affairs"])
    );
}

fn summary_counts(stdout: &[u8]) -> (usize, usize, usize) {
    let out = text(stdout);
    let number = |label: &str| -> usize {
        let start = out
            .find(label)
            .unwrap_or_else(|| panic!("{label} in {out}"))
            + label.len();
        out[start..]
            .trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a number after {label} in {out}"))
    };
    (number("追加"), number("更新"), number("変更なし"))
}

#[test]
fn generated_sample_imports_cleanly_in_order_and_exports_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let sample = dir.path().join("sample");
    let s = sample.to_str().expect("p");
    let out = mamori(
        &data,
        &[
            "generate-sample",
            s,
            "--units",
            "20",
            "--people",
            "50",
            "--assets",
            "300",
            "--seed",
            "3",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "the generator's note goes to stderr");
    assert!(
        text(&out.stderr).contains("情報資産 300 件"),
        "{}",
        text(&out.stderr)
    );
    let file = |name: &str| sample.join(name).to_str().expect("p").to_owned();
    let relations = std::fs::read_to_string(file("asset-relations.csv"))
        .expect("relations")
        .lines()
        .count()
        - 1;
    assert!(relations > 0);

    // A dry run checks everything and writes nothing.
    assert!(mamori(&data, &["migrate"]).status.success());
    for (kind, name, rows) in [("units", "units.csv", 20), ("people", "people.csv", 50)] {
        let out = mamori(&data, &["import", kind, &file(name)]);
        assert!(out.status.success(), "{kind}: {}", text(&out.stderr));
        assert_eq!(summary_counts(&out.stdout), (rows, 0, 0), "{kind}");
    }
    let out = mamori(
        &data,
        &["import", "assets", &file("assets.csv"), "--dry-run"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("確認のみ"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(summary_counts(&out.stdout), (300, 0, 0));
    let out = mamori(&data, &["export", "assets", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        json["items"].as_array().expect("items").len(),
        0,
        "the dry run wrote nothing"
    );

    // Units, people, assets, relations: each imports cleanly; progress is not drawn on a pipe.
    let out = mamori(&data, &["import", "assets", &file("assets.csv")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(summary_counts(&out.stdout), (300, 0, 0));
    assert!(
        out.stderr.is_empty(),
        "no progress on a pipe: {}",
        text(&out.stderr)
    );
    let out = mamori(
        &data,
        &["import", "asset-relations", &file("asset-relations.csv")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(summary_counts(&out.stdout), (relations, 0, 0));

    // The register holds the file's ids, sorted, with the generator's variety.
    let out = mamori(&data, &["export", "assets", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let items = json["items"].as_array().expect("items");
    let ids: Vec<i64> = items
        .iter()
        .map(|a| a["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(
        ids,
        (1..=300).collect::<Vec<_>>(),
        "given ids, exported in id order"
    );
    let disposed: Vec<&serde_json::Value> =
        items.iter().filter(|a| a["status"] == "disposed").collect();
    assert!(!disposed.is_empty());
    assert!(disposed
        .iter()
        .all(|a| a["disposed_on"].is_string() && a["disposal_method"] != ""));
    let today = time::OffsetDateTime::now_utc().date().to_string();
    assert!(
        items.iter().any(
            |a| a["review_on"].as_str().is_some_and(|d| d < today.as_str())
                && a["status"] != "disposed"
        ),
        "some reviews are overdue"
    );
    let out = mamori(&data, &["export", "asset-relations", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["items"].as_array().expect("items").len(), relations);

    // Every kind exported (CSV and XLSX) and imported again changes nothing.
    for (kind, rows) in [
        ("units", 25),
        ("people", 50),
        ("assets", 300),
        ("asset-relations", relations),
    ] {
        for format in ["csv", "xlsx"] {
            let exported = dir.path().join(format!("{kind}.{format}"));
            let e = exported.to_str().expect("p");
            let out = mamori(&data, &["export", kind, "--format", format, "-o", e]);
            assert!(
                out.status.success(),
                "{kind} {format}: {}",
                text(&out.stderr)
            );
            let bytes = std::fs::read(&exported).expect("exported");
            if format == "xlsx" {
                assert!(bytes.starts_with(b"PK\x03\x04"), "{kind}: a workbook");
            } else {
                assert!(
                    bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
                    "{kind}: UTF-8 with BOM"
                );
            }
            let out = mamori(&data, &["import", kind, e]);
            assert!(
                out.status.success(),
                "{kind} {format}: {}",
                text(&out.stderr)
            );
            assert_eq!(summary_counts(&out.stdout), (0, 0, rows), "{kind} {format}");
        }
    }

    // One audited change per record, all carrying the import's id.
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let (creates, tagged): (i64, i64) = rt.block_on(async {
        let pool = sqlite(&data).await;
        sqlx::query_as(
            "SELECT COUNT(*), SUM(CASE WHEN after_json LIKE '%\"import_id\":\"import-%' THEN 1 ELSE 0 END) \
             FROM audit_log WHERE action = 'asset.create'",
        )
        .fetch_one(&pool)
        .await
        .expect("q")
    });
    assert_eq!((creates, tagged), (300, 300));
}

#[test]
fn xlsx_goes_to_a_file_and_bad_asset_rows_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(mamori(dir.path(), &["migrate"]).status.success());
    for lang in ["ja", "en"] {
        let out = mamori_with(
            dir.path(),
            &["export", "units", "--format", "xlsx"],
            None,
            &[("MAMORI_LANG", lang)],
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty(), "nothing binary on stdout");
        let expected = if lang == "ja" {
            "-o で出力先"
        } else {
            "give one with -o"
        };
        assert!(
            text(&out.stderr).contains(expected),
            "{}",
            text(&out.stderr)
        );
    }

    let bad = dir.path().join("assets.csv");
    std::fs::write(
        &bad,
        "資産ID,名称,種別,所管組織,管理者,機密性,完全性,可用性\r\n\
         1,住記システム,情報システム,secretariat,,3B,2,2\r\n\
         2,謎の資産,system,nowhere,S999,3A,3,1\r\n",
    )
    .expect("write");
    let out = mamori(dir.path(), &["import", "assets", bad.to_str().expect("p")]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    let at = |column: &str| format!("{}:3: {column}: ", bad.display());
    for column in ["所管組織", "管理者", "完全性"] {
        assert!(err.contains(&at(column)), "{column}: {err}");
    }
    assert!(err.contains("(nowhere)") && err.contains("(S999)"), "{err}");
    let out = mamori(dir.path(), &["export", "assets", "--format", "json"]);
    assert!(
        !text(&out.stdout).contains("住記システム"),
        "the good row was not written either"
    );

    // The same file as a workbook is read the same way (sniffed, whatever its name).
    std::fs::write(
        &bad,
        "資産ID,名称,種別,所管組織,管理者,機密性,完全性,可用性\r\n\
         7,住記システム,情報システム,secretariat,,3B,2,2\r\n",
    )
    .expect("write");
    assert!(
        mamori(dir.path(), &["import", "assets", bad.to_str().expect("p")])
            .status
            .success()
    );
    let book = dir.path().join("assets-copy.bin");
    let out = mamori(
        dir.path(),
        &[
            "export",
            "assets",
            "--format",
            "xlsx",
            "--header",
            "codes",
            "-o",
            book.to_str().expect("p"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = mamori(dir.path(), &["import", "assets", book.to_str().expect("p")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(summary_counts(&out.stdout), (0, 0, 1));

    let rel = dir.path().join("rel.csv");
    std::fs::write(&rel, "from,to,kind\r\n7,8,holds\r\n").expect("write");
    let out = mamori(
        dir.path(),
        &["import", "asset-relations", rel.to_str().expect("p")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&format!("{}:2: to: ", rel.display())),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn user_issue_gives_a_units_people_accounts_and_prints_the_list_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let people = "職員番号,氏名,所属,任用区分\r\nK-001,伊藤 一,secretariat,regular\r\nK-002,佐藤 二,secretariat,fiscal_year\r\n職員3,鈴木 三,secretariat,regular\r\nK-004,高橋 四,audit_office,regular\r\n";
    let file = dir.path().join("people.csv");
    std::fs::write(&file, people).expect("write");
    let out = mamori(
        dir.path(),
        &["import", "people", file.to_str().expect("path")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let dry = mamori(
        dir.path(),
        &["user", "issue", "--unit", "secretariat", "--dry-run"],
    );
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    let listed = text(&dry.stdout);
    assert!(listed.contains("K-001") && listed.contains("K-002") && !listed.contains("K-004"));
    assert!(!listed.contains("one_time_password"));
    assert!(
        text(&dry.stderr).contains("職員3"),
        "a staff id that cannot be a username is named"
    );

    let out = mamori(dir.path(), &["user", "issue", "--unit", "secretariat"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let rows: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(rows.len(), 3, "header and two accounts: {csv}");
    let fields: Vec<&str> = rows[1].split(',').collect();
    assert_eq!(fields[3], "k-001");
    assert_eq!(fields[4].trim().len(), 20, "a one-time password");
    let again = mamori(dir.path(), &["user", "issue", "--unit", "secretariat"]);
    assert_eq!(
        text(&again.stdout)
            .trim_start_matches('\u{feff}')
            .lines()
            .count(),
        1,
        "nobody is issued twice"
    );
}

#[test]
fn policy_import_adds_a_draft_and_refuses_what_it_cannot_structure() {
    let dir = tempfile::tempdir().expect("dir");
    assert!(mamori(dir.path(), &["migrate"]).status.success());
    let seed = include_str!("../../../content/policy/kuwana-inabe-basic-policy.txt");

    // A revised edition of the same shape, in CP932 as an older system might save it.
    let revised = seed.replace("1. 目的", "1. 目的及び趣旨");
    let cp932 = mamori_domain::interchange::kind::to_cp932(&revised).expect("cp932");
    let file = dir.path().join("policy-v2.txt");
    std::fs::write(&file, cp932).expect("write");
    let dry = mamori(
        dir.path(),
        &["policy", "import", &file.display().to_string(), "--dry-run"],
    );
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    assert!(text(&dry.stderr).contains("条項"), "{}", text(&dry.stderr));
    let out = mamori(
        dir.path(),
        &["policy", "import", &file.display().to_string()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "/policy/basic-policy/versions/2");
    assert!(text(&out.stderr).contains("第2版"), "{}", text(&out.stderr));

    // A file it cannot structure: the line where it stopped, and nothing written.
    let broken = dir.path().join("broken.txt");
    let text_broken = seed.replace("(3) 情報セキュリティ\n", "(5) 情報セキュリティ\n");
    std::fs::write(&broken, text_broken).expect("write");
    let out = mamori(
        dir.path(),
        &["policy", "import", &broken.display().to_string()],
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    let line = seed
        .lines()
        .position(|l| l == "(3) 情報セキュリティ")
        .expect("line")
        + 1;
    assert!(
        err.contains(&format!("broken.txt:{line}:")) && err.contains("(3)"),
        "names the line and what was expected: {err}"
    );
    let unknown = mamori(
        dir.path(),
        &[
            "policy",
            "import",
            &file.display().to_string(),
            "--document",
            "nope",
        ],
    );
    assert!(!unknown.status.success());
    assert!(text(&unknown.stderr).contains("nope"));

    // The acknowledgements export has a row per person in scope (none yet) and a header.
    let csv = mamori(dir.path(), &["export", "acknowledgements"]);
    assert!(csv.status.success(), "{}", text(&csv.stderr));
    assert!(text(&csv.stdout).starts_with("\u{feff}文書コード,版数,職員番号"));
    let refused = mamori(
        dir.path(),
        &["import", "acknowledgements", &file.display().to_string()],
    );
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("書き出し専用"),
        "{}",
        text(&refused.stderr)
    );

    // Two drafts never share an edition number.
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let versions: Vec<(i64, String, String)> = rt.block_on(async {
        let pool = sqlite(dir.path()).await;
        sqlx::query_as("SELECT number, edition, state FROM document_versions ORDER BY number")
            .fetch_all(&pool)
            .await
            .expect("versions")
    });
    assert_eq!(
        versions,
        [
            (1, "初版".to_owned(), "published".to_owned()),
            (2, "第2版".to_owned(), "draft".to_owned())
        ]
    );
}

#[test]
fn training_records_import_in_wareki_and_export_round_trip() {
    let dir = tempfile::tempdir().expect("dir");
    let people = dir.path().join("people.csv");
    std::fs::write(
        &people,
        "職員番号,氏名,所属,任用区分\r\nT001,研修 花子,secretariat,会計年度任用職員\r\n",
    )
    .expect("write");
    let out = mamori(
        dir.path(),
        &["import", "people", &people.display().to_string()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let records = dir.path().join("records.csv");
    std::fs::write(
        &records,
        "職員番号,研修コード,修了日\r\nT001,security-annual,令和8年6月10日\r\n",
    )
    .expect("write");
    let dry = mamori(
        dir.path(),
        &[
            "import",
            "training-records",
            &records.display().to_string(),
            "--dry-run",
        ],
    );
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    let none = mamori(
        dir.path(),
        &["export", "training-records", "--header", "codes"],
    );
    assert_eq!(
        text(&none.stdout).lines().count(),
        1,
        "a dry run writes nothing: {}",
        text(&none.stdout)
    );
    let out = mamori(
        dir.path(),
        &["import", "training-records", &records.display().to_string()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let exported = mamori(
        dir.path(),
        &["export", "training-records", "--header", "codes"],
    );
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let csv = text(&exported.stdout);
    assert!(
        csv.contains("T001,security-annual,2026-06-10"),
        "exported with the date in 西暦: {csv}"
    );

    // An unknown course and an impossible date are named with their row; nothing is written.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "職員番号,研修コード,修了日\r\nT001,no-such-course,2026-07-01\r\nT001,security-annual,2026-02-30\r\n",
    )
    .expect("write");
    let err = refused_import(dir.path(), "training-records", &bad);
    assert!(err.contains("bad.csv:3:"), "{err}");
    let again = mamori(
        dir.path(),
        &["export", "training-records", "--header", "codes"],
    );
    assert_eq!(text(&again.stdout), csv, "nothing half saved");
}

#[test]
fn another_organisation_puts_its_own_policy_in_force() {
    let dir = tempfile::tempdir().expect("dir");
    assert!(mamori(dir.path(), &["migrate"]).status.success());
    let seed = include_str!("../../../content/policy/kuwana-inabe-basic-policy.txt");
    let own = seed.replace("桑名・員弁広域連合", "員弁市").replace(
        "初版\t令和8年3月25日\t員弁市\t令和8年3月25日",
        "初版\t令和2年4月1日\t員弁市\t令和2年4月1日\n第2版\t令和7年4月1日\t総務課\t令和7年3月28日",
    );
    assert!(own.contains("第2版"), "the history row was replaced");
    let file = dir.path().join("own.txt");
    std::fs::write(&file, own).expect("write");
    let out = mamori(
        dir.path(),
        &[
            "policy",
            "import",
            &file.display().to_string(),
            "--in-force",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "/policy/basic-policy/versions/2");
    assert!(
        text(&out.stderr).contains("置き換え"),
        "{}",
        text(&out.stderr)
    );
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let rows: Vec<(i64, String, String, String, String)> = rt.block_on(async {
        let pool = sqlite(dir.path()).await;
        sqlx::query_as(
            "SELECT number, edition, state, author_text, approval_text FROM document_versions ORDER BY number",
        )
        .fetch_all(&pool)
        .await
        .expect("versions")
    });
    assert_eq!(
        rows,
        [
            (
                1,
                "初版".into(),
                "superseded".into(),
                "員弁市".into(),
                "令和2年4月1日".into()
            ),
            (
                2,
                "第2版".into(),
                "published".into(),
                "総務課".into(),
                "令和7年3月28日".into()
            ),
        ],
        "the 改版履歴 is the file's own: the starting content is gone"
    );
    // Still nothing but imported versions, and nobody has acknowledged: importing again
    // replaces again (the store test covers superseding once someone has).
    let again = mamori(
        dir.path(),
        &[
            "policy",
            "import",
            &file.display().to_string(),
            "--in-force",
        ],
    );
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stderr).contains("置き換え"),
        "still only imported versions, nobody acknowledged"
    );
}

// Catalogue
#[test]
fn catalogues_export_and_an_own_control_catalogue_imports_all_or_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let threats = mamori(dir.path(), &["export", "threats", "--format", "json"]);
    assert!(threats.status.success(), "{}", text(&threats.stderr));
    let json: serde_json::Value = serde_json::from_slice(&threats.stdout).expect("json");
    let items = json["items"].as_array().expect("items");
    assert!(items.len() >= 20);
    assert_eq!(items[0]["code"], "T1-01");
    assert_eq!(items[0]["category"], "T1");
    let labels = mamori(dir.path(), &["export", "threats"]);
    let csv = text(&labels.stdout);
    assert!(
        csv.starts_with("\u{feff}脅威コード,分類,名称,説明,廃止\r\n"),
        "{csv}"
    );
    assert!(csv.contains("T1-01,意図的な要因,ランサムウェア,"), "{csv}");

    // Refused: an unknown area, owner role and clause, and a code repeated in the file.
    let bad = dir.path().join("controls.csv");
    std::fs::write(
        &bad,
        "管理策コード,対策分野,名称,基本方針の条項,責任者の役割\r\n\
         KI-01,M6,独自の管理策,6(6),system_manager\r\n\
         KI-02,M10,分野なし,6(6),system_manager\r\n\
         KI-03,M6,役割なし,6(6),janitor\r\n\
         KI-04,M6,条項なし,6(10),system_manager\r\n\
         KI-01,M6,重複,6(6),system_manager\r\n",
    )
    .expect("write");
    let err = refused_import(dir.path(), "controls", &bad);
    assert!(err.contains("controls.csv:6: 管理策コード:"), "{err}");
    std::fs::write(
        &bad,
        "管理策コード,対策分野,名称,基本方針の条項,責任者の役割\r\n\
         KI-01,M6,独自の管理策,6(6),system_manager\r\n\
         KI-02,M10,分野なし,6(6),system_manager\r\n\
         KI-03,M6,役割なし,6(6),janitor\r\n\
         KI-04,M6,条項なし,6(10),system_manager\r\n",
    )
    .expect("write");
    let err = refused_import(dir.path(), "controls", &bad);
    assert_names(
        &err,
        &[
            "controls.csv:3: 対策分野:",
            "controls.csv:4: 責任者の役割:",
            "controls.csv:5: 基本方針の条項:",
        ],
    );
    let before = mamori(dir.path(), &["export", "controls", "--header", "codes"]);
    assert!(
        !text(&before.stdout).contains("KI-01"),
        "nothing half saved"
    );

    let good = dir.path().join("own.csv");
    std::fs::write(
        &good,
        "code,area,title,clauses,owner_role,segments,min_tier\r\n\
         KI-01,技術的セキュリティ,独自の管理策,６（６）; 6(7),情報システム管理者,LGWAN接続系,2\r\n",
    )
    .expect("write");
    let dry = mamori(
        dir.path(),
        &[
            "import",
            "controls",
            &good.display().to_string(),
            "--dry-run",
        ],
    );
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    assert_eq!(summary_counts(&dry.stdout), (1, 0, 0));
    let out = mamori(
        dir.path(),
        &["import", "controls", &good.display().to_string()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let exported = mamori(dir.path(), &["export", "controls", "--header", "codes"]);
    let csv = text(&exported.stdout);
    assert!(
        csv.contains("KI-01,M6,独自の管理策,,6(6); 6(7),system_manager,lgwan,2,false"),
        "{csv}"
    );
    // Exporting and importing the export changes nothing.
    let all = dir.path().join("all.csv");
    std::fs::write(&all, exported.stdout).expect("write");
    let again = mamori(
        dir.path(),
        &["import", "controls", &all.display().to_string()],
    );
    assert!(again.status.success(), "{}", text(&again.stderr));
    let (added, updated, _) = summary_counts(&again.stdout);
    assert_eq!((added, updated), (0, 0));
}

// Coverage
#[test]
fn control_status_exports_every_applicable_pair_and_imports_all_or_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let units = dir.path().join("units.csv");
    std::fs::write(
        &units,
        "code,name,parent\r\nsoumu,総務課,secretariat\r\nkaikei,会計課,secretariat\r\n",
    )
    .expect("write");
    let out = mamori(
        dir.path(),
        &["import", "units", &units.display().to_string()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Nothing recorded yet: every unit in scope is listed, 未実施.
    let all = mamori(dir.path(), &["export", "control-status"]);
    assert!(all.status.success(), "{}", text(&all.stderr));
    let csv = text(&all.stdout);
    assert!(
        csv.starts_with(
            "\u{feff}管理策コード,組織コード,実施状況,備考,根拠リンク,次回見直し日,確認者,確認日\r\n"
        ),
        "{csv}"
    );
    assert!(csv.contains("M1-01,kaikei,未実施,"), "{csv}");
    assert!(csv.contains("M1-01,assembly,未実施,"), "{csv}");

    // Refused by row and column; nothing written.
    let bad = dir.path().join("status.csv");
    std::fs::write(
        &bad,
        "control,unit,status,links\r\n\
         M1-01,soumu,implemented,https://example.jp/a\r\n\
         NOPE-1,soumu,implemented,\r\n\
         M1-01,nowhere,implemented,\r\n\
         M1-02,soumu,maybe,ftp://x\r\n\
         M1-01,総務課,partial,\r\n",
    )
    .expect("write");
    let err = refused_import(dir.path(), "control-status", &bad);
    assert_names(&err, &["status.csv:5: status:", "status.csv:5: links:"]);
    std::fs::write(
        &bad,
        "control,unit,status\r\nM1-01,soumu,implemented\r\nNOPE-1,soumu,implemented\r\n\
         M1-01,nowhere,implemented\r\nM1-01,総務課,partial\r\n",
    )
    .expect("write");
    let err = refused_import(dir.path(), "control-status", &bad);
    assert_names(
        &err,
        &[
            "status.csv:3: control:",
            "status.csv:4: unit:",
            "status.csv:5: control:",
        ],
    );
    let soumu = mamori(
        dir.path(),
        &[
            "export",
            "control-status",
            "--unit",
            "soumu",
            "--header",
            "codes",
        ],
    );
    assert!(
        !text(&soumu.stdout).contains("implemented"),
        "nothing half saved"
    );

    // Accepted: labels, a unit by name, a 和暦 date.
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "管理策コード,組織コード,実施状況,備考,根拠リンク,次回見直し日\r\n\
         M1-01,総務課,実施済,\"=済み\",https://example.jp/a; https://example.jp/b,R8.4.1\r\n\
         M1-02,soumu,未実施,,,\r\n",
    )
    .expect("write");
    let dry = mamori(
        dir.path(),
        &[
            "import",
            "control-status",
            &good.display().to_string(),
            "--dry-run",
        ],
    );
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    assert_eq!(summary_counts(&dry.stdout), (1, 0, 1));
    let out = mamori(
        dir.path(),
        &["import", "control-status", &good.display().to_string()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json = mamori(
        dir.path(),
        &[
            "export",
            "control-status",
            "--unit",
            "soumu",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    let items = v["items"].as_array().expect("items");
    assert!(items.iter().all(|i| i["unit"] == "soumu"));
    let m101 = items
        .iter()
        .find(|i| i["control"] == "M1-01")
        .expect("M1-01");
    assert_eq!(m101["status"], "implemented");
    assert_eq!(m101["note"], "=済み");
    assert_eq!(m101["review_on"], "2026-04-01");
    assert_eq!(m101["links"].as_array().map(Vec::len), Some(2));
    // The CSV is formula-safe, and importing the export changes nothing.
    let exported = mamori(dir.path(), &["export", "control-status"]);
    let csv = text(&exported.stdout);
    assert!(csv.contains("M1-01,soumu,実施済,'=済み,"), "{csv}");
    let back = dir.path().join("all.csv");
    std::fs::write(&back, exported.stdout).expect("write");
    let again = mamori(
        dir.path(),
        &["import", "control-status", &back.display().to_string()],
    );
    assert!(again.status.success(), "{}", text(&again.stderr));
    let (added, updated, _) = summary_counts(&again.stdout);
    assert_eq!((added, updated), (0, 0));
    // --unit: unknown units and other kinds are refused.
    let out = mamori(
        dir.path(),
        &["export", "control-status", "--unit", "nowhere"],
    );
    assert!(!out.status.success());
    let out = mamori(dir.path(), &["export", "controls", "--unit", "soumu"]);
    assert!(!out.status.success());
}

// Risk register
#[test]
fn risks_import_from_cp932_all_or_nothing_and_export_round_trips() {
    let dir = tempfile::tempdir().expect("dir");
    let assets = dir.path().join("assets.csv");
    std::fs::write(
        &assets,
        "資産ID,名称,種別,所管組織,機密性,完全性,可用性,個人情報\r\n\
         1,財務会計システム,system,secretariat,3B,2,2,無\r\n\
         2,住民情報システム,system,secretariat,2,1,1,有\r\n",
    )
    .expect("write");
    let out = mamori(
        dir.path(),
        &["import", "assets", &assets.display().to_string()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    // A CP932 file (as Excel writes it) with bad rows: each is named, nothing is written.
    let risks = dir.path().join("risks.csv");
    let bad = "リスクコード,名称,所管組織,脅威コード,対象資産,管理策,発生可能性,影響度,対応,次回見直し日\r\n\
               R-0001,ランサムウェアで停止,事務局,T1-01,1,M6-04,２,３,低減,R9.3.31\r\n\
               R-0002,誤送信,事務局,T2-01,2,,1,1,低減,\r\n\
               R-0003,不明な脅威,事務局,T9-09,1,,1,3,低減,\r\n\
               R-0004,受容,事務局,T1-01,1,,3,3,受容,\r\n\
               R-0005,尺度外,事務局,T1-01,1,,4,3,低減,\r\n";
    let cp932 = mamori_domain::interchange::kind::to_cp932(bad).expect("cp932");
    std::fs::write(&risks, &cp932).expect("write");
    let err = refused_import(dir.path(), "risks", &risks);
    assert_names(
        &err,
        &[
            "risks.csv:3: 影響度の理由:",
            "risks.csv:4: 脅威コード:",
            "risks.csv:5: 対応:",
            "risks.csv:6: 発生可能性:",
        ],
    );
    let empty = mamori(dir.path(), &["export", "risks", "--header", "codes"]);
    assert_eq!(
        text(&empty.stdout).lines().count(),
        1,
        "nothing half-saved: only the header"
    );

    // The good rows; the personal data of asset 2 makes its suggested impact 2, hence a reason.
    let good = "リスクコード,名称,所管組織,脅威コード,対象資産,管理策,発生可能性,影響度,影響度の理由,対応,次回見直し日\r\n\
                R-0001,ランサムウェアで停止,事務局,T1-01,1,M6-04；M6-05,２,３,,低減,R9.3.31\r\n\
                R-0002,誤送信,事務局,T2-01,2,,1,1,誤送信しても影響は窓口1件に限られる,低減,\r\n";
    let cp932 = mamori_domain::interchange::kind::to_cp932(good).expect("cp932");
    std::fs::write(&risks, &cp932).expect("write");
    let dry = mamori(
        dir.path(),
        &["import", "risks", &risks.display().to_string(), "--dry-run"],
    );
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    assert_eq!(summary_counts(&dry.stdout), (2, 0, 0));
    let out = mamori(
        dir.path(),
        &["import", "risks", &risks.display().to_string()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json = mamori(dir.path(), &["export", "risks", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    let first = &value["items"][0];
    assert_eq!(first["code"], "R-0001");
    assert_eq!(first["unit"], "secretariat");
    assert_eq!(first["level"], "high");
    assert_eq!(first["controls"], serde_json::json!(["M6-04", "M6-05"]));
    assert_eq!(first["review_on"], "2027-03-31", "R9.3.31");

    // CSV and XLSX exports import back without a change.
    let csv = dir.path().join("back.csv");
    let xlsx = dir.path().join("back.xlsx");
    for (file, format) in [(&csv, "csv"), (&xlsx, "xlsx")] {
        let out = mamori(
            dir.path(),
            &[
                "export",
                "risks",
                "--format",
                format,
                "-o",
                &file.display().to_string(),
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let again = mamori(
            dir.path(),
            &["import", "risks", &file.display().to_string()],
        );
        assert!(again.status.success(), "{}", text(&again.stderr));
        assert_eq!(summary_counts(&again.stdout), (0, 0, 2), "{format}");
    }
}

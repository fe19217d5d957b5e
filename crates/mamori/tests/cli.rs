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

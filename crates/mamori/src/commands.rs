//! What each command does. Output meant for scripts goes to stdout; progress, notes and
//! warnings go to stderr, in the language of `MAMORI_LANG` / `LANG` (`en*` English, else
//! Japanese).

use crate::config::FileConfig;
use crate::{AuditCommand, Cli, Command, PolicyCommand, TokenCommand, UserCommand};
use anyhow::{anyhow, bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mamori_domain::audit::CheckpointError;
use mamori_domain::wareki::Lang;
use mamori_store::checkpoint::{load_or_create_signing_key, read_checkpoints, CheckpointWriter};
use mamori_store::{Actor, NewUser, RoleHolder, Store};
use mamori_web::credentials;
use mamori_web::i18n::{tr, tr_args};
use std::io::{IsTerminal, Read};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

/// The CLI's language.
pub(crate) fn cli_lang() -> Lang {
    let v = std::env::var("MAMORI_LANG")
        .or_else(|_| std::env::var("LANG"))
        .unwrap_or_default();
    if v.to_ascii_lowercase().starts_with("en") {
        Lang::En
    } else {
        Lang::Ja
    }
}

pub(crate) fn say(id: &str) -> String {
    tr(cli_lang(), id)
}

pub(crate) fn say_args(id: &str, args: &[(&'static str, String)]) -> String {
    tr_args(cli_lang(), id, args)
}

/// Where progress is drawn: stderr when it is a terminal, nowhere when it is piped or
/// redirected (scripts and logs get the messages, never the bars).
fn progress_target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// A spinner on a terminal; nothing when stderr is piped.
pub(crate) fn progress(message: String) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, progress_target());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(message);
    if !bar.is_hidden() {
        bar.enable_steady_tick(Duration::from_millis(120));
    }
    bar
}

/// A spinner that counts (records read or written, total unknown); nothing when piped.
pub(crate) fn progress_count(message: String) -> ProgressBar {
    let bar = progress(message);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {human_pos}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar
}

/// A bar of `len` steps with the time left, and a spinner that keeps turning while the last
/// steps' work finishes (an import writes its search grams after the last row); nothing when
/// piped.
pub(crate) fn progress_bar(len: u64, message: String) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), progress_target());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {human_pos}/{human_len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(message);
    if !bar.is_hidden() {
        bar.enable_steady_tick(Duration::from_millis(120));
    }
    bar
}

async fn open(cli: &Cli) -> Result<Store> {
    let store = Store::open(&cli.data_dir, cli.database_url.as_deref())
        .await
        .with_context(|| say("cli-open-failed"))?;
    Ok(store)
}

async fn open_migrated(cli: &Cli) -> Result<Store> {
    let store = open(cli).await?;
    store
        .migrate()
        .await
        .with_context(|| say("cli-migrate-failed"))?;
    Ok(store)
}

fn random32() -> [u8; 32] {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let file_config = FileConfig::load(cli.config.as_deref(), &cli.data_dir)?;
    match &cli.command {
        Command::Serve { listen } => serve(&cli, &file_config, listen.clone()).await,
        Command::Migrate => {
            open_migrated(&cli).await?;
            eprintln!("{}", say("cli-migrated"));
            Ok(ExitCode::SUCCESS)
        }
        Command::User {
            action:
                UserCommand::Add {
                    username,
                    name,
                    staff_id,
                    roles,
                    password_stdin,
                },
        } => {
            let store = open_migrated(&cli).await?;
            user_add(
                &store,
                username,
                name,
                staff_id.as_deref(),
                roles,
                *password_stdin,
            )
            .await
        }
        Command::User {
            action: UserCommand::Issue { unit, dry_run },
        } => {
            let store = open_migrated(&cli).await?;
            user_issue(&store, unit, *dry_run).await
        }
        Command::Token {
            action:
                TokenCommand::Create {
                    username,
                    label,
                    expires,
                    read_only,
                },
        } => {
            let store = open_migrated(&cli).await?;
            token_create(&store, username, label, *expires, *read_only).await
        }
        Command::Backup { file } => {
            let store = open_migrated(&cli).await?;
            let bar = progress(say("cli-backup-running"));
            let manifest = store
                .backup(file, |table, rows| {
                    bar.set_message(format!("{table}: {rows}"))
                })
                .await?;
            bar.finish_and_clear();
            let rows: u64 = manifest.tables.iter().map(|t| t.rows).sum();
            eprintln!(
                "{}",
                say_args(
                    "cli-backup-done",
                    &[
                        ("file", file.display().to_string()),
                        ("rows", rows.to_string())
                    ]
                )
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { file } => restore(&cli, &file_config, file).await,
        Command::Import {
            kind,
            file,
            dry_run,
        } => {
            let store = open_migrated(&cli).await?;
            crate::transfer::import(&store, *kind, file, *dry_run).await
        }
        Command::Export {
            kind,
            format,
            encoding,
            header,
            output,
            // Coverage
            unit,
        } => {
            let store = open_migrated(&cli).await?;
            crate::transfer::export(
                &store,
                *kind,
                *format,
                *encoding,
                *header,
                output.as_deref(),
                // Coverage
                unit.as_deref(),
            )
            .await
        }
        Command::Policy {
            action:
                PolicyCommand::Import {
                    file,
                    document,
                    author,
                    in_force,
                    dry_run,
                },
        } => {
            let store = open_migrated(&cli).await?;
            let mode = if *in_force {
                PolicyImportMode::InForce
            } else {
                PolicyImportMode::Draft {
                    author: author.as_deref(),
                }
            };
            policy_import(&store, file, document, mode, *dry_run).await
        }
        Command::GenerateSample {
            dir,
            units,
            people,
            assets,
            controls,
            risks,
            seed,
        } => {
            let counts = crate::sample::Counts {
                units: *units,
                people: *people,
                assets: *assets,
                controls: *controls,
                risks: *risks,
            };
            let written = crate::sample::generate(dir, counts, *seed)?;
            eprintln!(
                "{}",
                say_args(
                    "cli-sample-done",
                    &[
                        ("dir", dir.display().to_string()),
                        ("units", written.units.to_string()),
                        ("people", written.people.to_string()),
                        ("assets", written.assets.to_string()),
                        ("relations", written.relations.to_string()),
                        ("controls", written.controls.to_string()),
                        ("statuses", written.statuses.to_string()),
                        ("risks", written.risks.to_string()),
                    ]
                )
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::AuditLog {
            action: AuditCommand::Verify { checkpoint },
        } => {
            let store = open_migrated(&cli).await?;
            verify(&store, &file_config, &cli, checkpoint.as_deref()).await
        }
        Command::AuditLog {
            action: AuditCommand::Checkpoint,
        } => {
            let store = open_migrated(&cli).await?;
            let key =
                load_or_create_signing_key(&file_config.signing_key_path(&cli.data_dir), random32)?;
            let writer = CheckpointWriter::new(key, file_config.checkpoint_path(&cli.data_dir), 1);
            let cp = writer.sign_head(&store).await?;
            println!("{}", serde_json::to_string(&cp)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(cli: &Cli, fc: &FileConfig, listen: Option<String>) -> Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let store = open_migrated(cli).await?;
    if !store.admin_exists().await? {
        let password = credentials::one_time_password();
        let hash = credentials::hash_password_blocking(password.clone())
            .await
            .map_err(|e| anyhow!(e))?;
        let mut tx = store.begin(Actor::cli()).await?;
        let user = match store.user_by_username("admin").await? {
            Some(existing) => {
                Store::set_password(&mut tx, existing.id, &hash, true, None).await?;
                existing
            }
            None => {
                Store::create_user(
                    &mut tx,
                    &NewUser {
                        username: "admin".into(),
                        display_name: "Mamori管理者".into(),
                        person_id: None,
                        password_hash: hash,
                        must_change_password: true,
                    },
                )
                .await?
            }
        };
        Store::assign_role(&mut tx, RoleHolder::User(user.id), "admin", None).await?;
        tx.commit().await?;
        println!("admin: {password}");
        eprintln!("{}", say("cli-admin-created"));
    }
    let key = load_or_create_signing_key(&fc.signing_key_path(&cli.data_dir), random32)?;
    let writer = CheckpointWriter::new(
        key,
        fc.checkpoint_path(&cli.data_dir),
        fc.checkpoint_every.unwrap_or(1000),
    );
    let state = mamori_web::AppState::new(store.clone(), fc.web_config()?, Some(writer.clone()));
    spawn_maintenance(state.clone(), writer);
    let addr = listen
        .or_else(|| fc.listen.clone())
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| say_args("cli-bind-failed", &[("addr", addr.clone())]))?;
    let local = listener.local_addr()?;
    eprintln!(
        "{}",
        say_args("cli-listening", &[("url", format!("http://{local}/"))])
    );
    let app = mamori_web::app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Hourly: prune expired sessions and old throttling rows; write the daily checkpoint.
fn spawn_maintenance(state: mamori_web::AppState, writer: CheckpointWriter) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let now = time::OffsetDateTime::now_utc();
            let idle = state
                .settings()
                .await
                .map(|s| s.session_idle_minutes)
                .unwrap_or(30);
            if let Err(e) = state
                .store
                .prune(
                    now,
                    time::Duration::minutes(idle),
                    now - time::Duration::days(1),
                )
                .await
            {
                tracing::warn!(error = %e, "pruning failed");
            }
            if writer.last_is_older_than(time::Duration::days(1)) {
                if let Err(e) = writer.write_now(&state.store).await {
                    tracing::error!(error = %e, "daily audit checkpoint failed");
                }
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

async fn user_add(
    store: &Store,
    username: &str,
    name: &str,
    staff_id: Option<&str>,
    roles: &[String],
    password_stdin: bool,
) -> Result<ExitCode> {
    if !mamori_domain::is_valid_username(username) {
        bail!("{}", say("cli-bad-username"));
    }
    let person = match staff_id {
        Some(id) => Some(
            store
                .person_by_staff_id(id)
                .await?
                .ok_or_else(|| anyhow!(say_args("cli-no-person", &[("id", id.to_owned())])))?,
        ),
        None => None,
    };
    let known_roles = store.roles().await?;
    let mut assignments = Vec::new();
    for spec in roles {
        let (role, unit) = match spec.split_once('@') {
            Some((r, u)) => (r, Some(u)),
            None => (spec.as_str(), None),
        };
        if !known_roles.iter().any(|r| r.code == role) {
            bail!(
                "{}",
                say_args("cli-unknown-role", &[("role", role.to_owned())])
            );
        }
        let unit_id = match unit {
            Some(code) => Some(
                store
                    .unit_by_code(code)
                    .await?
                    .ok_or_else(|| {
                        anyhow!(say_args("cli-unknown-unit", &[("unit", code.to_owned())]))
                    })?
                    .id,
            ),
            None => None,
        };
        assignments.push((role.to_owned(), unit_id));
    }
    let (password, one_time) = if password_stdin {
        let mut input = String::new();
        std::io::stdin().read_to_string(&mut input)?;
        let password = input.trim_end_matches(['\r', '\n']).to_owned();
        if let Err(problem) = mamori_domain::password::check_password(&password, username) {
            bail!("{}", say(problem.message_id()));
        }
        (password, false)
    } else {
        (credentials::one_time_password(), true)
    };
    let hash = credentials::hash_password_blocking(password.clone())
        .await
        .map_err(|e| anyhow!(e))?;
    let mut tx = store.begin(Actor::cli()).await?;
    let user = Store::create_user(
        &mut tx,
        &NewUser {
            username: username.to_owned(),
            display_name: name.to_owned(),
            person_id: person.as_ref().map(|p| p.id),
            password_hash: hash,
            must_change_password: one_time,
        },
    )
    .await
    .map_err(|e| match e {
        mamori_store::StoreError::Duplicate(_) => anyhow!(say_args(
            "cli-username-taken",
            &[("username", username.to_owned())]
        )),
        other => other.into(),
    })?;
    for (role, unit) in assignments {
        Store::assign_role(&mut tx, RoleHolder::User(user.id), &role, unit).await?;
    }
    tx.commit().await?;
    if one_time {
        println!("{username}: {password}");
        eprintln!("{}", say("cli-one-time-note"));
    } else {
        eprintln!(
            "{}",
            say_args("cli-user-created", &[("username", username.to_owned())])
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn token_create(
    store: &Store,
    username: &str,
    label: &str,
    expires: Option<i64>,
    read_only: bool,
) -> Result<ExitCode> {
    let user = store.user_by_username(username).await?.ok_or_else(|| {
        anyhow!(say_args(
            "cli-no-user",
            &[("username", username.to_owned())]
        ))
    })?;
    let expires_at = match expires {
        Some(d) if (1..=3650).contains(&d) => {
            Some(time::OffsetDateTime::now_utc() + time::Duration::days(d))
        }
        Some(_) => bail!("{}", say("tokens-expiry-range")),
        None => None,
    };
    let (token, prefix) = credentials::new_api_token();
    let mut tx = store.begin(Actor::cli()).await?;
    Store::create_token(
        &mut tx,
        &user,
        label,
        &credentials::sha256_hex(&token),
        &prefix,
        read_only,
        expires_at,
    )
    .await?;
    tx.commit().await?;
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

async fn restore(cli: &Cli, fc: &FileConfig, file: &std::path::Path) -> Result<ExitCode> {
    let store = open(cli).await?;
    let bar = progress(say("cli-restore-running"));
    let result = store
        .restore(file, |table, rows| {
            bar.set_message(format!("{table}: {rows}"))
        })
        .await;
    bar.finish_and_clear();
    let manifest = result.map_err(|e| anyhow!("{}: {e}", say("cli-restore-refused")))?;
    // The restored chain must verify before anything is added to it.
    let report = store.audit_verify(&[], |_| {}).await?;
    if let Some(b) = report.chain_break {
        bail!("{}: {b}", say("cli-verify-failed"));
    }
    store.migrate().await?;
    let mut tx = store.begin(Actor::cli()).await?;
    tx.audit(
        "backup.restore",
        "backup",
        &file.display().to_string(),
        None,
        Some(serde_json::json!({"created_at": manifest.created_at, "source_backend": manifest.source_backend, "schema_version": manifest.schema_version})),
    )
    .await?;
    tx.commit().await?;
    let _ = fc;
    eprintln!(
        "{}",
        say_args("cli-restore-done", &[("entries", report.count.to_string())])
    );
    Ok(ExitCode::SUCCESS)
}

async fn verify(
    store: &Store,
    fc: &FileConfig,
    cli: &Cli,
    checkpoint: Option<&std::path::Path>,
) -> Result<ExitCode> {
    let checkpoints = match checkpoint {
        Some(path) => read_checkpoints(path).with_context(|| path.display().to_string())?,
        None => Vec::new(),
    };
    // A checkpoint signed by another key than this installation's is not trusted.
    let key_path = fc.signing_key_path(&cli.data_dir);
    let own_key = if key_path.exists() {
        load_or_create_signing_key(&key_path, random32)
            .ok()
            .map(|k| hex_key(&k))
    } else {
        None
    };
    let bar = progress(say("cli-verify-running"));
    let report = store
        .audit_verify(&checkpoints, |n| bar.set_message(format!("{n}")))
        .await?;
    bar.finish_and_clear();
    let mut errors: Vec<String> = Vec::new();
    if let Some(b) = &report.chain_break {
        errors.push(b.to_string());
    }
    for e in &report.checkpoint_errors {
        errors.push(e.to_string());
    }
    if let Some(own) = own_key {
        for cp in &checkpoints {
            if cp.public_key != own {
                errors.push(CheckpointError::ForeignKey(cp.public_key.clone()).to_string());
            }
        }
    }
    if errors.is_empty() {
        println!(
            "{}",
            say_args(
                "cli-verify-ok",
                &[
                    ("count", report.count.to_string()),
                    ("head", report.head.clone()),
                    ("checkpoints", checkpoints.len().to_string())
                ]
            )
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{}", say("cli-verify-failed"));
        for e in errors {
            eprintln!("  {e}");
        }
        Ok(ExitCode::FAILURE)
    }
}

fn hex_key(k: &ed25519_dalek::SigningKey) -> String {
    k.verifying_key()
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What `mamori policy import` makes of the file.
enum PolicyImportMode<'a> {
    /// A new draft, by this author if named.
    Draft { author: Option<&'a str> },
    /// The document's history and version in force, as the file's 改版履歴 says.
    InForce,
}

/// `mamori policy import FILE [--document CODE] [--author USER | --in-force] [--dry-run]`.
async fn policy_import(
    store: &Store,
    file: &std::path::Path,
    document: &str,
    mode: PolicyImportMode<'_>,
    dry_run: bool,
) -> Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| file.display().to_string())?;
    let (text, _) = mamori_domain::interchange::decode::decode(&bytes)
        .map_err(|e| anyhow!("{}:1: {}", file.display(), say(e.message_id())))?;
    let imported = match mamori_domain::policy::text::import_text(&text) {
        Ok(i) => i,
        Err(e) => {
            let args: Vec<(&str, String)> = e.args.iter().map(|(k, v)| (*k, v.clone())).collect();
            eprintln!(
                "{}:{}: {}",
                file.display(),
                e.line,
                say_args(e.message, &args)
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let doc = store.document_by_code(document).await?.ok_or_else(|| {
        anyhow!(say_args(
            "cli-unknown-document",
            &[("document", document.to_owned())]
        ))
    })?;
    let clauses = mamori_domain::policy::markdown::clauses_to_rows(&imported.clauses);
    eprintln!(
        "{}",
        say_args(
            "cli-policy-import-summary",
            &[
                ("title", imported.title.clone()),
                ("clauses", clauses.len().to_string()),
                ("editions", imported.history.len().to_string()),
            ]
        )
    );
    if dry_run {
        return Ok(ExitCode::SUCCESS);
    }
    let author = match mode {
        PolicyImportMode::Draft { author } => author,
        PolicyImportMode::InForce => {
            let mut tx = store.begin(Actor::cli()).await?;
            let (replaced, id) = Store::import_policy_in_force(&mut tx, doc.id, &imported).await?;
            tx.commit().await?;
            let version = store
                .version_by_id(id)
                .await?
                .ok_or_else(|| anyhow!("version {id}"))?;
            println!("/policy/{}/versions/{}", doc.code, version.number);
            let message = if replaced {
                "cli-policy-in-force-replaced"
            } else {
                "cli-policy-in-force-superseded"
            };
            eprintln!(
                "{}",
                say_args(
                    message,
                    &[
                        ("edition", version.edition.clone()),
                        ("document", doc.code.clone())
                    ]
                )
            );
            return Ok(ExitCode::SUCCESS);
        }
    };
    let author_id = match author {
        Some(name) => Some(
            store
                .user_by_username(name)
                .await?
                .ok_or_else(|| anyhow!(say_args("cli-unknown-user", &[("user", name.to_owned())])))?
                .id
                .0,
        ),
        None => None,
    };
    let mut tx = store.begin(Actor::cli()).await?;
    let summary = say_args(
        "cli-policy-import-change",
        &[("file", file.display().to_string())],
    );
    let id = Store::import_policy_draft(&mut tx, doc.id, &imported, author_id, &summary).await?;
    tx.commit().await?;
    let version = store
        .version_by_id(id)
        .await?
        .ok_or_else(|| anyhow!("version {id}"))?;
    println!("/policy/{}/versions/{}", doc.code, version.number);
    eprintln!(
        "{}",
        say_args(
            "cli-policy-import-done",
            &[
                ("edition", version.edition.clone()),
                ("document", doc.code.clone())
            ]
        )
    );
    Ok(ExitCode::SUCCESS)
}

/// Today in the organisation's time zone.
pub(crate) async fn today_date(store: &Store) -> Result<time::Date> {
    let now = time::OffsetDateTime::now_utc();
    let settings = store.settings().await?;
    Ok(
        mamori_domain::settings::local_date(now.unix_timestamp(), &settings.time_zone)
            .unwrap_or(now.date()),
    )
}

/// Today in the organisation's time zone, as `YYYY-MM-DD`.
pub(crate) async fn today(store: &Store) -> Result<String> {
    Ok(today_date(store).await?.to_string())
}

/// `mamori user issue --unit CODE [--dry-run]`: accounts for a unit's people, with one-time
/// passwords as CSV on stdout (the distribution list), progress on stderr.
async fn user_issue(store: &Store, unit: &str, dry_run: bool) -> Result<ExitCode> {
    let unit_row = store
        .unit_by_code(unit.trim())
        .await?
        .ok_or_else(|| anyhow!(say_args("cli-unknown-unit", &[("unit", unit.to_owned())])))?;
    let today = today_date(store).await?;
    let (eligible, skipped) =
        mamori_web::accounts::candidates(store, &[unit_row.id], today).await?;
    for s in &skipped {
        eprintln!("{}: {}", s.person.staff_id, say(s.reason));
    }
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    if dry_run {
        out.write_record(["staff_id", "name", "unit", "username"])?;
        for p in &eligible {
            let username = mamori_web::accounts::username_for(&p.staff_id).unwrap_or_default();
            out.write_record([&p.staff_id, &p.name, &p.unit, &username])?;
        }
    } else {
        let bar = progress_bar(eligible.len() as u64, say("cli-issue-running"));
        let mut tx = store.begin(Actor::cli()).await?;
        let issued =
            mamori_web::accounts::issue(&mut tx, eligible, |n| bar.set_position(n as u64)).await?;
        if !issued.is_empty() {
            tx.commit().await?;
        }
        bar.finish_and_clear();
        out.write_record(["staff_id", "name", "unit", "username", "one_time_password"])?;
        for i in &issued {
            out.write_record([
                &i.person.staff_id,
                &i.person.name,
                &i.person.unit,
                &i.username,
                &i.password,
            ])?;
        }
        eprintln!(
            "{}",
            say_args("cli-issue-done", &[("count", issued.len().to_string())])
        );
    }
    let bytes = out.into_inner().map_err(|e| anyhow!(e.to_string()))?;
    let text = String::from_utf8(bytes)?;
    print!("{}{text}", mamori_domain::interchange::UTF8_BOM);
    Ok(ExitCode::SUCCESS)
}

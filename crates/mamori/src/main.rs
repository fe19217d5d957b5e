//! `mamori`: the single binary. See `INTERCHANGE.md` for the promises its commands keep.

mod commands;
mod config;
mod sample;
mod transfer;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc instead of the C library's allocator: imports and pages allocate many small,
/// short-lived strings from several threads, where glibc's malloc spent a fifth of an
/// import's CPU (see `docs/benchmarks.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Mamori (守り): information security management for Japanese local governments.
#[derive(Debug, Parser)]
#[command(name = "mamori", version, about)]
pub struct Cli {
    /// Data directory (SQLite database, configuration, signing key).
    #[arg(
        long,
        env = "MAMORI_DATA_DIR",
        default_value = "./mamori-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Database URL; `postgres://…` selects PostgreSQL. Default: SQLite in the data directory.
    #[arg(long, env = "MAMORI_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Configuration file (default: mamori.toml in the data directory, if present).
    #[arg(long, env = "MAMORI_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the web server (creates the first administrator if there is none).
    Serve {
        /// Address to listen on.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Apply database migrations and seed the starting content, then exit.
    Migrate,
    /// Login accounts.
    User {
        /// What to do with accounts.
        #[command(subcommand)]
        action: UserCommand,
    },
    /// API tokens.
    Token {
        /// What to do with tokens.
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Write a consistent, database-neutral snapshot of the whole state to FILE.
    Backup {
        /// The archive to write.
        file: PathBuf,
    },
    /// Restore FILE into an empty data directory or an empty PostgreSQL database.
    Restore {
        /// The archive to read.
        file: PathBuf,
    },
    /// Import records from a CSV (UTF-8 or CP932) or XLSX file. All or nothing.
    Import {
        /// What to import.
        kind: transfer::KindArg,
        /// The file.
        file: PathBuf,
        /// Check and summarise; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Export records as CSV, XLSX or JSON (stdout unless -o is given; XLSX needs -o).
    Export {
        /// What to export.
        kind: transfer::KindArg,
        /// File format (without it: from the -o file's extension, .xlsx or .json, else CSV).
        #[arg(long, value_enum)]
        format: Option<transfer::FormatArg>,
        /// Text encoding of CSV.
        #[arg(long, value_enum, default_value = "utf-8")]
        encoding: transfer::EncodingArg,
        /// Header and values as Japanese labels or as codes.
        #[arg(long, value_enum, default_value = "labels")]
        header: transfer::HeaderArg,
        /// Write to this file instead of stdout.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        // Coverage
        /// control-status only: this unit (code) and the units beneath it.
        #[arg(long)]
        unit: Option<String>,
    },
    /// Write realistic sample data (units.csv, people.csv, assets.csv, asset-relations.csv,
    /// controls.csv, control-status.csv, risks.csv) into DIR, the same for the same seed.
    /// Import them in that order.
    #[command(name = "generate-sample")]
    GenerateSample {
        /// The directory to write the files into (created if absent).
        dir: PathBuf,
        /// Sections and groups (課・係) to create under the five seeded bodies.
        #[arg(long, default_value_t = 300)]
        units: usize,
        /// People (職員等).
        #[arg(long, default_value_t = 5000)]
        people: usize,
        /// Information assets.
        #[arg(long, default_value_t = 100_000)]
        assets: usize,
        /// Controls in the catalogue in all, the 60 seeded ones included (only those beyond
        /// them are written); a status is written for every control in every generated unit.
        #[arg(long, default_value_t = 200)]
        controls: usize,
        /// Risks, each on assets of one unit.
        #[arg(long, default_value_t = 20_000)]
        risks: usize,
        /// Seed of the random choices.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Policy documents (基本方針, 対策基準, 実施手順).
    Policy {
        /// What to do with policy documents.
        #[command(subcommand)]
        action: PolicyCommand,
    },
    /// The tamper-evident audit trail.
    #[command(name = "audit-log")]
    AuditLog {
        /// What to do with the audit trail.
        #[command(subcommand)]
        action: AuditCommand,
    },
}

/// `mamori user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a login account. Without --password-stdin a one-time password is printed.
    Add {
        /// Login name.
        #[arg(long)]
        username: String,
        /// Name shown in the application.
        #[arg(long)]
        name: String,
        /// Link the account to the person with this staff ID.
        #[arg(long)]
        staff_id: Option<String>,
        /// A role, optionally scoped to a unit: ROLE or ROLE@UNIT (repeatable).
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Read the password from standard input instead of generating a one-time password.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Issue accounts to the people of a unit (and the units beneath it) who have none, named
    /// by staff ID, with one-time passwords. Prints CSV (staff ID, name, unit, username,
    /// one-time password) on stdout, once: hand it out and destroy it.
    Issue {
        /// The unit's code.
        #[arg(long)]
        unit: String,
        /// Only show who would get an account (CSV without passwords); change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// `mamori policy …`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Import a policy document in the shape of the organisation's 情報セキュリティポリシー
    /// (title, 改版履歴, numbered clauses) as a new draft version. Refuses a file it cannot
    /// structure, naming the line where it stopped understanding it.
    Import {
        /// The document, as plain text (UTF-8 or CP932).
        file: PathBuf,
        /// The document to add the version to.
        #[arg(long, default_value = "basic-policy")]
        document: String,
        /// The account recorded as the draft's author (it may then not approve it).
        #[arg(long)]
        author: Option<String>,
        /// Put the file in force as its 改版履歴 says (for an organisation bringing its own
        /// policy) instead of adding a draft. Starting content nobody has acknowledged is
        /// replaced; otherwise the version in force is superseded.
        #[arg(long, conflicts_with = "author")]
        in_force: bool,
        /// Check and show the structure; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// `mamori token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token; prints the token, and nothing else, once on stdout.
    Create {
        /// The account the token acts for.
        #[arg(long)]
        username: String,
        /// What it is for.
        #[arg(long, default_value = "")]
        label: String,
        /// Days until it expires (default: never).
        #[arg(long)]
        expires: Option<i64>,
        /// Only reading is permitted.
        #[arg(long)]
        read_only: bool,
    },
}

/// `mamori audit-log …`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole chain (and, with --checkpoint, that it still holds the signed heads).
    Verify {
        /// A checkpoint file kept outside the database.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
    },
    /// Print a signed checkpoint of the chain's head, to keep outside the database.
    Checkpoint,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mamori: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mamori: {e:#}");
            ExitCode::FAILURE
        }
    }
}

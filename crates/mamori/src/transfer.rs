//! `mamori import` and `mamori export`: files in and out, as `INTERCHANGE.md` promises.
//! Problems are listed on stderr as `FILE:LINE: COLUMN: message`; nothing is written unless the
//! whole file is right.

use crate::commands::{say, say_args};
use anyhow::{bail, Context, Result};
use mamori_domain::interchange::kind::{read_file, to_cp932, write_csv, write_json, Kind};
use mamori_domain::interchange::table::Problem;
use mamori_domain::interchange::units::{UnitRecord, Units};
use mamori_store::{Actor, Store};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Kinds that travel in files (more arrive with their features).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    /// Organisation units (組織).
    Units,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// CSV (UTF-8 with BOM, or CP932).
    Csv,
    /// `{"items": [...]}` with codes.
    Json,
}

/// CSV encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EncodingArg {
    /// UTF-8 with BOM.
    #[value(name = "utf-8")]
    Utf8,
    /// Shift_JIS as Windows writes it.
    Cp932,
}

/// Header style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HeaderArg {
    /// Japanese labels (名称) and label values.
    Labels,
    /// Codes (name) and code values.
    Codes,
}

fn report(file: &Path, problems: &[Problem]) {
    let lang = crate::commands::cli_lang();
    for p in problems {
        let message = mamori_web::i18n::tr(lang, p.message_id);
        let detail = p
            .detail
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        eprintln!(
            "{}:{}: {}: {message}{detail}",
            file.display(),
            p.line,
            p.column
        );
    }
}

/// `mamori import KIND FILE [--dry-run]`.
pub async fn import(store: &Store, kind: KindArg, file: &Path, dry_run: bool) -> Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| file.display().to_string())?;
    let KindArg::Units = kind;
    let records = match read_file::<Units>(&bytes) {
        Ok(r) => r,
        Err(problems) => {
            report(file, &problems);
            return Ok(ExitCode::FAILURE);
        }
    };
    let import_id = format!(
        "import-{}",
        time::OffsetDateTime::now_utc().unix_timestamp_nanos()
    );
    let mut tx = store.begin(Actor::cli()).await?;
    tx.annotate("import_id", &import_id);
    let parent_column = header_name(&bytes, "parent").unwrap_or_else(|| "上位組織コード".into());
    let summary = match Store::import_units(&mut tx, &records, &parent_column).await? {
        Ok(s) => s,
        Err(problems) => {
            report(file, &problems);
            return Ok(ExitCode::FAILURE);
        }
    };
    let args = [
        ("added", summary.added.to_string()),
        ("updated", summary.updated.to_string()),
        ("unchanged", summary.unchanged.to_string()),
    ];
    if dry_run {
        drop(tx);
        println!("{}", say_args("cli-import-dry-run", &args));
        return Ok(ExitCode::SUCCESS);
    }
    if summary.added + summary.updated > 0 {
        tx.commit().await?;
    }
    println!("{}", say_args("cli-import-done", &args));
    Ok(ExitCode::SUCCESS)
}

/// How the file names a column (for messages), if it has it.
fn header_name(bytes: &[u8], code: &str) -> Option<String> {
    let (text, _) = mamori_domain::interchange::decode::decode(bytes).ok()?;
    let table = mamori_domain::interchange::table::read_csv(&text, Units::COLUMNS).ok()?;
    table.has(code).then(|| table.column_name(code))
}

/// `mamori export KIND …`.
pub async fn export(
    store: &Store,
    kind: KindArg,
    format: FormatArg,
    encoding: EncodingArg,
    header: HeaderArg,
    output: Option<&Path>,
) -> Result<ExitCode> {
    let KindArg::Units = kind;
    let records: Vec<UnitRecord> = store
        .units()
        .await?
        .into_iter()
        .map(|u| UnitRecord {
            code: u.code,
            name: u.name,
            parent: u.parent,
            in_scope: u.in_scope,
        })
        .collect();
    let bytes = match format {
        FormatArg::Json => {
            let mut b = serde_json::to_vec_pretty(&write_json::<Units>(&records))?;
            b.push(b'\n');
            b
        }
        FormatArg::Csv => {
            let text = write_csv::<Units>(&records, header == HeaderArg::Labels)
                .map_err(anyhow::Error::msg)?;
            match encoding {
                EncodingArg::Utf8 => text.into_bytes(),
                EncodingArg::Cp932 => match to_cp932(&text) {
                    Ok(b) => b,
                    Err(chars) => {
                        let list: String = chars
                            .iter()
                            .collect::<Vec<_>>()
                            .iter()
                            .map(|c| format!("「{c}」"))
                            .collect();
                        bail!("{}", say_args("cli-export-cp932", &[("chars", list)]));
                    }
                },
            }
        }
    };
    match output {
        Some(path) => std::fs::write(path, &bytes).with_context(|| path.display().to_string())?,
        None => std::io::stdout().write_all(&bytes)?,
    }
    let _ = say;
    Ok(ExitCode::SUCCESS)
}

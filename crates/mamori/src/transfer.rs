//! `mamori import` and `mamori export`: files in and out, as `INTERCHANGE.md` promises.
//! Problems are listed on stderr as `FILE:LINE: COLUMN: message`; nothing is written unless the
//! whole file is right.

use crate::commands::say_args;
use anyhow::{bail, Context, Result};
use mamori_domain::interchange::kind::{read_file, to_cp932, write_csv, write_json, Kind};
use mamori_domain::interchange::people::{People, PersonRecord};
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
    /// People (職員等).
    People,
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
    let import_id = format!(
        "import-{}",
        time::OffsetDateTime::now_utc().unix_timestamp_nanos()
    );
    let mut tx = store.begin(Actor::cli()).await?;
    tx.annotate("import_id", &import_id);
    let outcome = match kind {
        KindArg::Units => match read_file::<Units>(&bytes) {
            Ok(records) => {
                let names = ColumnNames::read::<Units>(&bytes);
                Store::import_units(&mut tx, &records, &names.get("parent")).await?
            }
            Err(problems) => Err(problems),
        },
        KindArg::People => match read_file::<People>(&bytes) {
            Ok(records) => {
                let names = ColumnNames::read::<People>(&bytes);
                Store::import_people(&mut tx, &records, |c| names.get(c)).await?
            }
            Err(problems) => Err(problems),
        },
    };
    let summary = match outcome {
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

/// How a file names its columns (for messages); declared labels for absent ones.
struct ColumnNames {
    table: Option<mamori_domain::interchange::table::Table>,
    columns: &'static [mamori_domain::interchange::table::ColumnSpec],
}

impl ColumnNames {
    fn read<K: Kind>(bytes: &[u8]) -> ColumnNames {
        let table = mamori_domain::interchange::decode::decode(bytes)
            .ok()
            .and_then(|(text, _)| {
                mamori_domain::interchange::table::read_csv(&text, K::COLUMNS).ok()
            });
        ColumnNames {
            table,
            columns: K::COLUMNS,
        }
    }

    fn get(&self, code: &str) -> String {
        match &self.table {
            Some(t) => t.column_name(code),
            None => self
                .columns
                .iter()
                .find(|c| c.code == code)
                .map_or(code, |c| c.label)
                .to_owned(),
        }
    }
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
    // JSON always carries codes.
    let labels = header == HeaderArg::Labels && format == FormatArg::Csv;
    let bytes = match kind {
        KindArg::Units => {
            let records: Vec<UnitRecord> =
                store.units().await?.iter().map(|u| u.to_record()).collect();
            render::<Units>(&records, format, encoding, labels)?
        }
        KindArg::People => {
            let categories = store.categories().await?;
            let records: Vec<PersonRecord> = store
                .people_all(&mamori_store::PeopleFilter::default())
                .await?
                .iter()
                .map(|p| {
                    let mut r = p.to_record();
                    if let Some(c) = categories
                        .iter()
                        .find(|c| c.code == r.category)
                        .filter(|_| labels)
                    {
                        r.category = c.label_ja.clone();
                    }
                    r
                })
                .collect();
            render::<People>(&records, format, encoding, labels)?
        }
    };
    match output {
        Some(path) => std::fs::write(path, &bytes).with_context(|| path.display().to_string())?,
        None => std::io::stdout().write_all(&bytes)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn render<K: Kind>(
    records: &[K::Record],
    format: FormatArg,
    encoding: EncodingArg,
    labels: bool,
) -> Result<Vec<u8>> {
    Ok(match format {
        FormatArg::Json => {
            let mut b = serde_json::to_vec_pretty(&write_json::<K>(records))?;
            b.push(b'\n');
            b
        }
        FormatArg::Csv => {
            let text = write_csv::<K>(records, labels).map_err(anyhow::Error::msg)?;
            match encoding {
                EncodingArg::Utf8 => text.into_bytes(),
                EncodingArg::Cp932 => match to_cp932(&text) {
                    Ok(b) => b,
                    Err(chars) => {
                        let list: String = chars.iter().map(|c| format!("「{c}」")).collect();
                        bail!("{}", say_args("cli-export-cp932", &[("chars", list)]));
                    }
                },
            }
        }
    })
}

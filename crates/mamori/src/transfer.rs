//! `mamori import` and `mamori export`: files in and out, as `INTERCHANGE.md` promises.
//! Problems are listed on stderr as `FILE:LINE: COLUMN: message`; nothing is written unless the
//! whole file is right. Imports read CSV or XLSX (told apart by their first bytes); exports
//! stream records from the store to the file as they are read, except where the format needs
//! them all (XLSX) or a refusal must leave nothing behind (CP932).

use crate::commands::{progress, progress_bar, progress_count, say, say_args};
use anyhow::{bail, Context, Result};
use indicatif::ProgressBar;
use mamori_domain::interchange::acknowledgements::Acknowledgements;
use mamori_domain::interchange::asset_relations::{AssetRelations, RelationRecord};
use mamori_domain::interchange::assets::Assets;
use mamori_domain::interchange::decode::decode;
use mamori_domain::interchange::kind::{parse_table, to_cp932, Kind, Parsed};
use mamori_domain::interchange::people::{People, PersonRecord};
use mamori_domain::interchange::table::{read_csv, Problem, Table};
use mamori_domain::interchange::units::{UnitRecord, Units};
// Training
use mamori_domain::interchange::training_records::TrainingRecords;
// Catalogue
use mamori_domain::interchange::catalogue::{ControlRecord, Controls, Threats};
// Coverage
use mamori_domain::interchange::control_status::{ControlStatusRecord, ControlStatuses};
use mamori_domain::interchange::xlsx::{read_any_file, read_xlsx, write_xlsx, ZIP_MAGIC};
use mamori_domain::interchange::{formula_safe, UTF8_BOM};
use mamori_store::{Actor, AssetFilter, AssetSort, Store, StoreError};
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
    /// Information assets (情報資産).
    Assets,
    /// Relations between assets (資産の関係): holds, runs_on, connects.
    #[value(name = "asset-relations")]
    AssetRelations,
    // Training
    /// Training completion records (研修受講記録).
    #[value(name = "training-records")]
    TrainingRecords,
    /// Acknowledgements of the policy versions in force, one row per person in scope
    /// (export only: people acknowledge for themselves).
    Acknowledgements,
    // Catalogue
    /// The threat catalogue (脅威); export only (threats are edited in the app).
    Threats,
    /// The control catalogue (管理策): an organisation imports its own.
    Controls,
    // Coverage
    /// The status of each applicable control per unit (管理策の実施状況).
    #[value(name = "control-status")]
    ControlStatus,
    // Risk register
    /// The risk register (リスク台帳).
    Risks,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// CSV (UTF-8 with BOM, or CP932).
    Csv,
    /// An Excel workbook (.xlsx); needs -o.
    Xlsx,
    /// `{"items": [...]}` with codes.
    Json,
}

impl FormatArg {
    /// The format asked for, or the one the output file's extension names (`.xlsx`, `.json`;
    /// case-insensitive), or CSV: `-o 台帳.xlsx` writes a workbook, not CSV under that name.
    pub fn resolve(given: Option<FormatArg>, output: Option<&Path>) -> FormatArg {
        given.unwrap_or_else(|| {
            let ext = output
                .and_then(Path::extension)
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            match ext.as_deref() {
                Some("xlsx") => FormatArg::Xlsx,
                Some("json") => FormatArg::Json,
                _ => FormatArg::Csv,
            }
        })
    }
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

/// Reads a file, XLSX or CSV (told apart by the first bytes), into records, with the table's
/// header (how the file names its columns, for problems found while applying).
fn read_records<K: Kind>(bytes: &[u8]) -> Result<(Parsed<K::Record>, Table), Vec<Problem>> {
    if bytes.starts_with(ZIP_MAGIC) {
        let table = read_xlsx(bytes, K::COLUMNS)?;
        let records = parse_table::<K>(&table)?;
        Ok((
            records,
            Table {
                rows: Vec::new(),
                ..table
            },
        ))
    } else {
        // CSV, or a refusal (a legacy or encrypted workbook).
        let records = read_any_file::<K>(bytes)?;
        Ok((records, csv_header::<K>(bytes)))
    }
}

/// The header of a CSV file: only its first line is decoded and read. When it cannot be read
/// (it could, or the records would not have been), columns are named by their labels.
fn csv_header<K: Kind>(bytes: &[u8]) -> Table {
    let first = bytes
        .iter()
        .position(|b| *b == b'\n')
        .map_or(bytes, |i| &bytes[..=i]);
    decode(first)
        .ok()
        .and_then(|(text, _)| read_csv(&text, K::COLUMNS).ok())
        .unwrap_or_else(|| Table {
            columns: K::COLUMNS,
            headers: vec![None; K::COLUMNS.len()],
            rows: Vec::new(),
        })
}

/// Records read from a file, by kind.
enum Loaded {
    Units(Parsed<UnitRecord>),
    People(Parsed<PersonRecord>),
    Assets(Parsed<mamori_domain::interchange::assets::AssetRecord>),
    Relations(Parsed<RelationRecord>),
    // Training
    Training(Parsed<mamori_domain::interchange::training_records::TrainingRecord>),
    // Catalogue
    Controls(Parsed<ControlRecord>),
    // Coverage
    ControlStatus(Parsed<ControlStatusRecord>),
    // Risk register
    Risks(Parsed<mamori_domain::interchange::risks::RiskRecord>),
}

impl Loaded {
    fn len(&self) -> usize {
        match self {
            Loaded::Units(r) => r.len(),
            Loaded::People(r) => r.len(),
            Loaded::Assets(r) => r.len(),
            Loaded::Relations(r) => r.len(),
            // Training
            Loaded::Training(r) => r.len(),
            // Catalogue
            Loaded::Controls(r) => r.len(),
            // Coverage
            Loaded::ControlStatus(r) => r.len(),
            // Risk register
            Loaded::Risks(r) => r.len(),
        }
    }
}

/// Reads and parses a file; its bytes are dropped before the records are applied.
fn load(kind: KindArg, file: &Path) -> Result<std::result::Result<(Loaded, Table), Vec<Problem>>> {
    let bytes = std::fs::read(file).with_context(|| file.display().to_string())?;
    Ok(match kind {
        KindArg::Units => read_records::<Units>(&bytes).map(|(r, t)| (Loaded::Units(r), t)),
        KindArg::People => read_records::<People>(&bytes).map(|(r, t)| (Loaded::People(r), t)),
        KindArg::Assets => read_records::<Assets>(&bytes).map(|(r, t)| (Loaded::Assets(r), t)),
        KindArg::AssetRelations => {
            read_records::<AssetRelations>(&bytes).map(|(r, t)| (Loaded::Relations(r), t))
        }
        // Training
        KindArg::TrainingRecords => {
            read_records::<TrainingRecords>(&bytes).map(|(r, t)| (Loaded::Training(r), t))
        }
        // Catalogue
        KindArg::Controls => {
            read_records::<Controls>(&bytes).map(|(r, t)| (Loaded::Controls(r), t))
        }
        // Coverage
        KindArg::ControlStatus => {
            read_records::<ControlStatuses>(&bytes).map(|(r, t)| (Loaded::ControlStatus(r), t))
        }
        // Risk register
        KindArg::Risks => read_records::<mamori_domain::interchange::risks::Risks>(&bytes)
            .map(|(r, t)| (Loaded::Risks(r), t)),
        KindArg::Acknowledgements | KindArg::Threats => {
            bail!("{}", say("cli-import-export-only"))
        }
    })
}

/// `mamori import KIND FILE [--dry-run]`.
pub async fn import(store: &Store, kind: KindArg, file: &Path, dry_run: bool) -> Result<ExitCode> {
    let reading = progress(say_args(
        "cli-import-reading",
        &[("file", file.display().to_string())],
    ));
    let loaded = load(kind, file);
    reading.finish_and_clear();
    let (loaded, names) = match loaded? {
        Ok(l) => l,
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
    let column = |c: &str| names.column_name(c);
    let applying = say("cli-import-applying");
    let outcome = match &loaded {
        Loaded::Units(records) => {
            let bar = progress(applying);
            let outcome = Store::import_units(&mut tx, records, &column("parent")).await;
            bar.finish_and_clear();
            outcome?
        }
        Loaded::People(records) => {
            let bar = progress(applying);
            let outcome = Store::import_people(&mut tx, records, column).await;
            bar.finish_and_clear();
            outcome?
        }
        Loaded::Assets(records) => {
            let bar = progress_bar(loaded.len() as u64, applying);
            let outcome = Store::import_assets_with_progress(&mut tx, records, column, None, |n| {
                step(&bar, n)
            })
            .await;
            bar.finish_and_clear();
            outcome?
        }
        // Training
        Loaded::Training(records) => {
            let bar = progress(applying);
            let outcome = Store::import_training_records(&mut tx, records, column, None).await;
            bar.finish_and_clear();
            outcome?
        }
        // Catalogue: clause anchors are checked against the basic policy in force.
        Loaded::Controls(records) => {
            let anchors = store.basic_policy_anchors().await?;
            let bar = progress(applying);
            let outcome = Store::import_controls(&mut tx, records, column, anchors.as_ref()).await;
            bar.finish_and_clear();
            outcome?
        }
        // Coverage: every unit (the CLI acts as the organisation).
        Loaded::ControlStatus(records) => {
            let bar = progress(applying);
            let outcome = Store::import_control_statuses(&mut tx, records, column, None).await;
            bar.finish_and_clear();
            outcome?
        }
        // Risk register: every unit (the CLI acts as the organisation).
        Loaded::Risks(records) => {
            let settings = store.settings().await?;
            let rules =
                mamori_store::RiskRules::new(&settings, crate::commands::today_date(store).await?);
            let bar = progress(applying);
            let outcome = Store::import_risks(&mut tx, records, column, &rules, None).await;
            bar.finish_and_clear();
            outcome?
        }
        Loaded::Relations(records) => {
            let bar = progress_bar(loaded.len() as u64, applying);
            let outcome =
                Store::import_relations_with_progress(&mut tx, records, column, None, |n| {
                    step(&bar, n)
                })
                .await;
            bar.finish_and_clear();
            outcome?
        }
    };
    drop(loaded);
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
        let bar = progress(say("cli-import-committing"));
        let committed = tx.commit().await;
        bar.finish_and_clear();
        committed?;
        if summary.added + summary.updated >= mamori_web::pages::import::STATISTICS_AFTER_ROWS {
            store.refresh_statistics().await?;
        }
    }
    println!("{}", say_args("cli-import-done", &args));
    Ok(ExitCode::SUCCESS)
}

/// Moves a bar every 256 records (and at the end), not on each one.
fn step(bar: &ProgressBar, n: usize) {
    if n.is_multiple_of(256) || bar.length().is_some_and(|l| n as u64 >= l) {
        bar.set_position(n as u64);
    }
}

/// Where an export goes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Dest<'p> {
    /// Standard output.
    Stdout,
    /// A file, created (or replaced) when the first byte is written.
    File(&'p Path),
}

impl Dest<'_> {
    fn open(self) -> Result<Box<dyn Write>> {
        Ok(match self {
            Dest::Stdout => Box::new(std::io::BufWriter::with_capacity(
                1 << 16,
                std::io::stdout(),
            )),
            Dest::File(path) => Box::new(std::io::BufWriter::with_capacity(
                1 << 16,
                std::fs::File::create(path).with_context(|| path.display().to_string())?,
            )),
        })
    }
}

/// One CSV row as [`mamori_domain::interchange::kind::write_csv`] writes it (CRLF, RFC 4180
/// quoting).
fn csv_row<I>(cells: I) -> std::io::Result<Vec<u8>>
where
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .buffer_capacity(1024)
        .from_writer(Vec::with_capacity(256));
    w.write_record(cells)?;
    w.into_inner().map_err(|e| e.into_error())
}

/// Writes records one at a time, byte for byte as the domain's writers write a whole list:
/// CSV as `write_csv` (and `to_cp932`), JSON as `write_json` pretty-printed, XLSX as
/// `write_xlsx` (which needs every record, so they are kept until the end). UTF-8 CSV and JSON
/// go out as they come; CP932 is held until every character is known to fit, so that a
/// refusal writes nothing.
pub(crate) struct Exporter<'p, K: Kind> {
    format: FormatArg,
    encoding: EncodingArg,
    labels: bool,
    dest: Dest<'p>,
    out: Option<Box<dyn Write>>,
    held: Vec<u8>,
    unencodable: Vec<char>,
    records: Vec<K::Record>,
    count: usize,
}

impl<'p, K: Kind> Exporter<'p, K> {
    /// Starts an export (writing the header or opening bracket where the format streams).
    pub(crate) fn new(
        format: FormatArg,
        encoding: EncodingArg,
        labels: bool,
        dest: Dest<'p>,
    ) -> Result<Self> {
        let mut e = Exporter {
            format,
            encoding,
            labels,
            dest,
            out: None,
            held: Vec::new(),
            unencodable: Vec::new(),
            records: Vec::new(),
            count: 0,
        };
        match format {
            FormatArg::Csv => {
                let header = csv_row(
                    K::COLUMNS
                        .iter()
                        .map(|c| if labels { c.label } else { c.code }),
                )?;
                if encoding == EncodingArg::Utf8 {
                    e.put(UTF8_BOM.as_bytes())?;
                }
                e.put_text(header)?;
            }
            FormatArg::Json => e.put(b"{\n  \"items\": [")?,
            FormatArg::Xlsx => {}
        }
        Ok(e)
    }

    /// Records written (or kept) so far.
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.format == FormatArg::Csv && self.encoding == EncodingArg::Cp932 {
            self.held.extend_from_slice(bytes);
            return Ok(());
        }
        if self.out.is_none() {
            self.out = Some(self.dest.open().map_err(std::io::Error::other)?);
        }
        match &mut self.out {
            Some(out) => out.write_all(bytes),
            None => Ok(()),
        }
    }

    /// Writes CSV text in the export's encoding.
    fn put_text(&mut self, utf8: Vec<u8>) -> std::io::Result<()> {
        match self.encoding {
            EncodingArg::Utf8 => self.put(&utf8),
            EncodingArg::Cp932 => {
                let text = String::from_utf8(utf8).map_err(std::io::Error::other)?;
                match to_cp932(&text) {
                    Ok(bytes) => self.put(&bytes),
                    Err(chars) => {
                        for c in chars {
                            if !self.unencodable.contains(&c) {
                                self.unencodable.push(c);
                            }
                        }
                        Ok(())
                    }
                }
            }
        }
    }

    /// Adds one record.
    pub(crate) fn push(&mut self, record: K::Record) -> std::io::Result<()> {
        self.count += 1;
        match self.format {
            FormatArg::Csv => {
                let row = csv_row(
                    K::cells(&record, self.labels)
                        .iter()
                        .map(|c| formula_safe(c).into_owned()),
                )?;
                self.put_text(row)
            }
            FormatArg::Json => {
                let item = serde_json::to_string_pretty(&K::json(&record))?;
                let mut text = String::with_capacity(item.len() + 64);
                if self.count > 1 {
                    text.push(',');
                }
                text.push_str("\n    ");
                text.push_str(&item.replace('\n', "\n    "));
                self.put(text.as_bytes())
            }
            FormatArg::Xlsx => {
                self.records.push(record);
                Ok(())
            }
        }
    }

    /// Finishes the export; a CP932 export with characters CP932 cannot hold is refused,
    /// naming them, and nothing is written.
    pub(crate) fn finish(mut self) -> Result<()> {
        match self.format {
            FormatArg::Csv => {
                if !self.unencodable.is_empty() {
                    let list: String = self
                        .unencodable
                        .iter()
                        .map(|c| format!("「{c}」"))
                        .collect();
                    bail!("{}", say_args("cli-export-cp932", &[("chars", list)]));
                }
                if self.encoding == EncodingArg::Cp932 {
                    let held = std::mem::take(&mut self.held);
                    let mut out = self.dest.open()?;
                    out.write_all(&held)?;
                    self.out = Some(out);
                } else if self.out.is_none() {
                    self.put(b"")?;
                }
            }
            FormatArg::Json => {
                let end: &[u8] = if self.count > 0 {
                    b"\n  ]\n}\n"
                } else {
                    b"]\n}\n"
                };
                self.put(end)?;
            }
            FormatArg::Xlsx => {
                let bytes =
                    write_xlsx::<K>(&self.records, self.labels).map_err(anyhow::Error::msg)?;
                self.records = Vec::new();
                let mut out = self.dest.open()?;
                out.write_all(&bytes)?;
                self.out = Some(out);
            }
        }
        if let Some(mut out) = self.out.take() {
            out.flush()?;
        }
        Ok(())
    }
}

/// `mamori export KIND …`.
pub async fn export(
    store: &Store,
    kind: KindArg,
    format: Option<FormatArg>,
    encoding: EncodingArg,
    header: HeaderArg,
    output: Option<&Path>,
    // Coverage
    unit: Option<&str>,
) -> Result<ExitCode> {
    let format = FormatArg::resolve(format, output);
    // Coverage: `--unit` narrows the control-status export only.
    let units = match unit {
        Some(_) if kind != KindArg::ControlStatus => {
            bail!("{}", say("coverage-cli-unit-only"))
        }
        Some(code) => {
            let Some(u) = store.unit_by_code(code).await? else {
                bail!(
                    "{}",
                    say_args("coverage-cli-unknown-unit", &[("unit", code.to_owned())])
                )
            };
            Some(store.unit_subtrees(&[u.id]).await?)
        }
        None => None,
    };
    // A workbook is binary: it goes to a file, never to a terminal or a pipe by accident.
    let dest = match (format, output) {
        (_, Some(path)) => Dest::File(path),
        (FormatArg::Xlsx, None) => bail!("{}", say("cli-export-xlsx-needs-output")),
        (_, None) => Dest::Stdout,
    };
    // JSON always carries codes.
    let labels = header == HeaderArg::Labels && format != FormatArg::Json;
    let bar = progress_count(say("cli-export-running"));
    let result = match kind {
        KindArg::Units => {
            let mut out = Exporter::<Units>::new(format, encoding, labels, dest)?;
            for u in store.units().await? {
                out.push(u.to_record())?;
                bar.inc(1);
            }
            finish(out, &bar)
        }
        KindArg::People => {
            let categories = store.categories().await?;
            let mut out = Exporter::<People>::new(format, encoding, labels, dest)?;
            for p in store
                .people_all(&mamori_store::PeopleFilter::default())
                .await?
            {
                let mut r = p.to_record();
                if let Some(c) = categories
                    .iter()
                    .find(|c| c.code == r.category)
                    .filter(|_| labels)
                {
                    r.category = c.label_ja.clone();
                }
                out.push(r)?;
                bar.inc(1);
            }
            finish(out, &bar)
        }
        KindArg::Assets => {
            let mut out = Exporter::<Assets>::new(format, encoding, labels, dest)?;
            let filter = AssetFilter {
                sort: AssetSort::Id,
                ..AssetFilter::default()
            };
            store
                .assets_for_each(&filter, |a| {
                    out.push(a.to_record()?)?;
                    if out.count().is_multiple_of(256) {
                        bar.set_position(out.count() as u64);
                    }
                    Ok(())
                })
                .await?;
            finish(out, &bar)
        }
        // Training
        KindArg::TrainingRecords => {
            let mut out = Exporter::<TrainingRecords>::new(format, encoding, labels, dest)?;
            store
                .training_records_for_each(&mamori_store::TrainingFilter::default(), |r| {
                    out.push(r.to_record()?)?;
                    if out.count().is_multiple_of(256) {
                        bar.set_position(out.count() as u64);
                    }
                    Ok(())
                })
                .await?;
            finish(out, &bar)
        }
        // Catalogue: retired entries too, so an export holds the whole catalogue.
        KindArg::Threats => {
            let mut out = Exporter::<Threats>::new(format, encoding, labels, dest)?;
            let filter = mamori_store::ThreatFilter {
                include_retired: true,
                ..Default::default()
            };
            store
                .threats_for_each(&filter, |t| {
                    out.push(t.to_record())?;
                    Ok(())
                })
                .await?;
            finish(out, &bar)
        }
        KindArg::Controls => {
            let roles = store.roles().await?;
            let mut out = Exporter::<Controls>::new(format, encoding, labels, dest)?;
            let filter = mamori_store::ControlFilter {
                include_retired: true,
                ..Default::default()
            };
            store
                .controls_for_each(&filter, |c| {
                    let owner = roles
                        .iter()
                        .find(|r| r.code == c.owner_role)
                        .map(|r| r.label_ja.clone());
                    out.push(c.to_record(owner))?;
                    Ok(())
                })
                .await?;
            finish(out, &bar)
        }
        // Coverage
        KindArg::ControlStatus => {
            let mut out = Exporter::<ControlStatuses>::new(format, encoding, labels, dest)?;
            let filter = mamori_store::ControlStatusFilter { units };
            store
                .control_statuses_for_each(&filter, |r| {
                    out.push(r.to_record()?)?;
                    if out.count().is_multiple_of(256) {
                        bar.set_position(out.count() as u64);
                    }
                    Ok(())
                })
                .await?;
            finish(out, &bar)
        }
        // Risk register: open and closed risks, in code order.
        KindArg::Risks => {
            let mut out = Exporter::<mamori_domain::interchange::risks::Risks>::new(
                format, encoding, labels, dest,
            )?;
            let filter = mamori_store::RiskFilter {
                status: Some("all".into()),
                ..Default::default()
            };
            store
                .risks_for_each(&filter, |r| {
                    out.push(r.to_record())?;
                    if out.count().is_multiple_of(256) {
                        bar.set_position(out.count() as u64);
                    }
                    Ok(())
                })
                .await?;
            finish(out, &bar)
        }
        KindArg::AssetRelations => {
            let mut out = Exporter::<AssetRelations>::new(format, encoding, labels, dest)?;
            store
                .relations_for_each(None, |r| {
                    let kind = r
                        .relation_kind()
                        .ok_or_else(|| StoreError::Corrupt(format!("relation {}", r.id)))?;
                    out.push(RelationRecord::new(r.from.id.0, r.to.id.0, kind))?;
                    if out.count().is_multiple_of(256) {
                        bar.set_position(out.count() as u64);
                    }
                    Ok(())
                })
                .await?;
            finish(out, &bar)
        }
        KindArg::Acknowledgements => {
            let mut out = Exporter::<Acknowledgements>::new(format, encoding, labels, dest)?;
            let today = crate::commands::today(store).await?;
            for doc in store.documents().await? {
                let Some(version) = doc.published.as_ref().filter(|_| doc.requires_ack) else {
                    continue;
                };
                let filter = mamori_store::AcknowledgementFilter {
                    version_id: version.id,
                    ..Default::default()
                };
                store
                    .for_each_acknowledgement(&filter, &today, |r| {
                        out.push(r.to_record())?;
                        bar.inc(1);
                        Ok(())
                    })
                    .await?;
            }
            finish(out, &bar)
        }
    };
    bar.finish_and_clear();
    result?;
    Ok(ExitCode::SUCCESS)
}

fn finish<K: Kind>(out: Exporter<'_, K>, bar: &ProgressBar) -> Result<()> {
    bar.set_position(out.count() as u64);
    if out.format == FormatArg::Xlsx {
        bar.set_message(say("cli-export-xlsx-writing"));
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_domain::assets::RelationKind;
    use mamori_domain::interchange::kind::{write_csv, write_json};

    #[test]
    fn an_export_without_format_follows_the_output_files_extension() {
        let f = |given, out: Option<&str>| FormatArg::resolve(given, out.map(Path::new));
        assert_eq!(f(None, Some("台帳.xlsx")), FormatArg::Xlsx);
        assert_eq!(f(None, Some("out/REG.XLSX")), FormatArg::Xlsx);
        assert_eq!(f(None, Some("assets.json")), FormatArg::Json);
        assert_eq!(f(None, Some("assets.csv")), FormatArg::Csv);
        assert_eq!(f(None, Some("assets")), FormatArg::Csv);
        assert_eq!(f(None, None), FormatArg::Csv);
        // What is asked for wins over the name.
        assert_eq!(f(Some(FormatArg::Csv), Some("x.xlsx")), FormatArg::Csv);
        assert_eq!(f(Some(FormatArg::Json), None), FormatArg::Json);
    }

    fn units() -> Vec<UnitRecord> {
        vec![
            UnitRecord {
                code: "sec-001".into(),
                name: "総務課, \"庶務\"\n係".into(),
                parent: Some("secretariat".into()),
                in_scope: true,
            },
            UnitRecord {
                code: "sec-002".into(),
                name: "=SUM(A1)".into(),
                parent: None,
                in_scope: false,
            },
        ]
    }

    fn export<K: Kind>(
        records: &[K::Record],
        format: FormatArg,
        encoding: EncodingArg,
        labels: bool,
    ) -> Result<Vec<u8>>
    where
        K::Record: Clone,
    {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("out");
        let mut e = Exporter::<K>::new(format, encoding, labels, Dest::File(&path))?;
        for r in records {
            e.push(r.clone())?;
        }
        e.finish()?;
        Ok(std::fs::read(&path)?)
    }

    #[test]
    fn streamed_csv_and_json_are_byte_for_byte_what_the_domain_writes() {
        let all = units();
        for n in 0..=all.len() {
            let records = &all[..n];
            for labels in [true, false] {
                let whole = write_csv::<Units>(records, labels).expect("csv");
                let streamed =
                    export::<Units>(records, FormatArg::Csv, EncodingArg::Utf8, labels).expect("e");
                assert_eq!(String::from_utf8(streamed).expect("utf8"), whole);
                let cp = export::<Units>(records, FormatArg::Csv, EncodingArg::Cp932, labels)
                    .expect("e");
                assert_eq!(cp, to_cp932(&whole).expect("cp932"));
            }
            let mut json = serde_json::to_vec_pretty(&write_json::<Units>(records)).expect("j");
            json.push(b'\n');
            let streamed =
                export::<Units>(records, FormatArg::Json, EncodingArg::Utf8, false).expect("e");
            assert_eq!(
                String::from_utf8(streamed).expect("utf8"),
                String::from_utf8(json).expect("utf8"),
                "{n} records"
            );
        }
        let rels = vec![
            RelationRecord::new(1, 2, RelationKind::RunsOn),
            RelationRecord::new(1, 3, RelationKind::Holds),
        ];
        let whole = write_csv::<AssetRelations>(&rels, true).expect("csv");
        let streamed =
            export::<AssetRelations>(&rels, FormatArg::Csv, EncodingArg::Utf8, true).expect("e");
        assert_eq!(String::from_utf8(streamed).expect("utf8"), whole);
    }

    #[test]
    fn a_cp932_refusal_names_each_character_once_and_writes_nothing() {
        let mut records = units();
        records[0].name = "😀 と 😀 と 🍣".into();
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("out.csv");
        std::fs::write(&path, b"before").expect("w");
        let mut e =
            Exporter::<Units>::new(FormatArg::Csv, EncodingArg::Cp932, true, Dest::File(&path))
                .expect("new");
        for r in records {
            e.push(r).expect("push");
        }
        let err = e.finish().expect_err("refused").to_string();
        assert_eq!(err.matches("「😀」").count(), 1, "{err}");
        assert!(err.contains("「🍣」"), "{err}");
        assert_eq!(
            std::fs::read(&path).expect("r"),
            b"before",
            "file untouched"
        );
    }

    #[test]
    fn an_xlsx_export_reads_back_as_the_same_records() {
        let records = units();
        let bytes =
            export::<Units>(&records, FormatArg::Xlsx, EncodingArg::Utf8, true).expect("xlsx");
        assert!(bytes.starts_with(ZIP_MAGIC));
        let (back, header) = read_records::<Units>(&bytes).expect("read");
        let back: Vec<UnitRecord> = back.into_iter().map(|(_, r)| r).collect();
        assert_eq!(back, records);
        assert_eq!(header.column_name("parent"), "上位組織コード");
        assert!(header.rows.is_empty(), "only the header is kept");
    }

    #[test]
    fn csv_header_names_columns_as_the_file_does() {
        let t = csv_header::<Units>("\u{feff}CODE,名称\r\nx,y\r\n".as_bytes());
        assert_eq!(t.column_name("code"), "CODE");
        assert_eq!(t.column_name("name"), "名称");
        assert_eq!(
            t.column_name("parent"),
            "上位組織コード",
            "absent: its label"
        );
        assert!(t.rows.is_empty());
    }
}

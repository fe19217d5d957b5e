//! XLSX workbooks (`INTERCHANGE.md` "CSV files": the same columns and conventions).
//!
//! Reading: the workbook is checked as a ZIP container first ([`check_container`]: how many
//! entries, how much every entry really decompresses to, no DTDs, nothing encrypted), and only
//! then opened. The first visible worksheet becomes the same [`Table`] that CSV gives, through
//! [`read_rows`], so every [`Kind`] reads XLSX unchanged. Cells are streamed row by row; a
//! sheet is never laid out as a dense grid (a cell at `A1` and one at `XFD1048576` cost two
//! cells, not seventeen billion).
//!
//! What a workbook may make the reader hold grows with the file, not with what it claims to
//! unpack to: all entries together may decompress to [`DECOMPRESSION_RATIO`] times the file
//! (at least [`MIN_TOTAL_BYTES`], at most [`MAX_TOTAL_BYTES`]); what the reader keeps for the
//! whole read (shared strings, styles, sheet and relationship lists), estimated from the
//! elements of every entry, to [`KEPT_RATIO`] times the file (at least [`MIN_KEPT_BYTES`]);
//! styles, whose entries copy the font names and number formats they use, to
//! [`MAX_STYLE_BYTES`]; and no stretch of an entry between two `<` may pass
//! [`MAX_RUN_BYTES`] (so no single XML token is larger). Together with the limits on problems
//! and cells of [`super::table`], a 1 MB file cannot make the reader hold more than about
//! 64 MB unless its rows are valid records (which cost what the same rows in CSV cost).
//!
//! Writing: one sheet named after the kind, a bold and frozen header row, and every cell written
//! as text, so that nothing is evaluated, leading zeros and dates stay exactly as stored, and no
//! apostrophe guard is needed.

use super::kind::{parse_table, read_file, Kind, Parsed};
use super::table::{read_rows, too_long, ColumnSpec, Problem, Table, MAX_COLUMNS, MAX_PROBLEMS};
use calamine::{DataRef, ExcelDateTime, Reader, SheetType, SheetVisible, Xlsx, XlsxCellReader};
use std::io::{Cursor, Read, Seek};

/// The most entries a workbook's ZIP container may hold. Workbooks people export have a few
/// dozen.
pub const MAX_ENTRIES: usize = 1_000;

/// The most bytes one entry may decompress to (96 MiB), counted on the real stream, never on
/// the size the archive declares. The sheet of a register of 100,000 assets written by
/// [`write_xlsx`] decompresses to 52 MB.
pub const MAX_ENTRY_BYTES: u64 = 96 * 1024 * 1024;

/// The most bytes all entries together may decompress to (128 MiB), however large the file:
/// twice what the register of 100,000 assets written by [`write_xlsx`] needs (61 MB from a
/// 7.3 MB file).
pub const MAX_TOTAL_BYTES: u64 = 128 * 1024 * 1024;

/// How many bytes all entries together may decompress to per byte of the file. Spreadsheet
/// XML compresses 5 to 15 times (the register of 100,000 assets: 8.4 times); a zip bomb,
/// hundreds or thousands of times. Padding a file with incompressible bytes buys room only in
/// proportion: a 1 MB file may unpack to 20 MB.
pub const DECOMPRESSION_RATIO: u64 = 20;

/// What a small file may decompress to whatever its size (8 MiB): a workbook's fixed parts
/// (theme, styles) compress better than its data.
pub const MIN_TOTAL_BYTES: u64 = 8 * 1024 * 1024;

/// How many bytes of memory the reader may keep for the whole read (shared strings, styles,
/// the workbook's sheets, names and relationships), per byte of the file. Estimated before
/// the workbook is opened, from the elements every entry holds (`<si>`, `<xf>`, `<font>`,
/// `<sheet>`, `<Relationship>`, … each at a cost). A real workbook keeps far less: shared
/// strings are distinct texts, each taking several compressed bytes (the register of 100,000
/// assets: 221,981 strings, 2.4 estimated bytes per byte of file).
pub const KEPT_RATIO: u64 = 16;

/// What a small file may always keep (4 MiB).
pub const MIN_KEPT_BYTES: u64 = 4 * 1024 * 1024;

/// The most memory one entry's styles may be estimated to take (16 MiB): every cell format
/// copies its font's name and its number format, so a long name used by many formats costs
/// their product. Workbooks people make keep a few dozen to a few thousand formats; Excel
/// itself stops at 64,000.
pub const MAX_STYLE_BYTES: u64 = 16 * 1024 * 1024;

/// The longest stretch of an entry between two `<` (4 MiB): the largest XML token (a tag, a
/// text) the parser will buffer. A cell holds at most 32,767 characters, which XML writes in
/// well under 1 MiB.
pub const MAX_RUN_BYTES: u64 = 4 * 1024 * 1024;

/// How a ZIP file starts (a local file header). [`read_any_file`] reads such files as XLSX.
pub const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// How an OLE compound file starts: a legacy `.xls` workbook, or a password-protected `.xlsx`
/// (Excel wraps encrypted workbooks in one).
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Decompression goes through a buffer of this size: validating never holds an entry in memory.
const BUFFER_BYTES: usize = 8 * 1024;

/// A shared-strings part declares its count (`uniqueCount`), which the reader reserves room
/// for up front. A real string takes at least this many bytes of XML (`<si><t>a</t></si>`), so
/// a count above the part's size divided by this is a lie told to make the reader allocate.
const MIN_SHARED_STRING_BYTES: u64 = 16;

/// Estimated memory the reader keeps per shared string (`<si>`), beside its text: its slot in
/// a growing list (24 bytes, twice over while the list doubles) and the smallest allocation.
const SHARED_STRING_COST: u64 = 80;

/// Estimated memory per style element (`<xf>`, `<font>`, `<fill>`, `<border>`, `<numFmt>`),
/// beside the names and formats it copies: a cell format's style record is 152 bytes, twice
/// over while its list doubles, and its number format's allocation.
const STYLE_COST: u64 = 512;

/// Estimated memory per sheet, defined name or relationship the reader keeps (beside their
/// text): a few strings and a map slot.
const NAME_COST: u64 = 256;

/// Limits a workbook is checked against before it is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most entries in the ZIP container.
    pub entries: usize,
    /// Most bytes one entry may decompress to.
    pub entry_bytes: u64,
    /// Most bytes all entries together may decompress to, however large the file.
    pub total_bytes: u64,
    /// Bytes all entries together may decompress to per byte of the file.
    pub ratio: u64,
    /// Bytes all entries together may always decompress to, however small the file.
    pub min_total_bytes: u64,
    /// Estimated bytes the reader may keep per byte of the file.
    pub kept_ratio: u64,
    /// Estimated bytes the reader may always keep, however small the file.
    pub min_kept_bytes: u64,
    /// Most estimated bytes of one entry's styles.
    pub style_bytes: u64,
    /// Longest stretch of an entry between two `<`.
    pub run_bytes: u64,
}

impl Default for Limits {
    /// [`MAX_ENTRIES`], [`MAX_ENTRY_BYTES`], [`MAX_TOTAL_BYTES`], [`DECOMPRESSION_RATIO`],
    /// [`MIN_TOTAL_BYTES`], [`KEPT_RATIO`], [`MIN_KEPT_BYTES`], [`MAX_STYLE_BYTES`] and
    /// [`MAX_RUN_BYTES`].
    fn default() -> Self {
        Limits {
            entries: MAX_ENTRIES,
            entry_bytes: MAX_ENTRY_BYTES,
            total_bytes: MAX_TOTAL_BYTES,
            ratio: DECOMPRESSION_RATIO,
            min_total_bytes: MIN_TOTAL_BYTES,
            kept_ratio: KEPT_RATIO,
            min_kept_bytes: MIN_KEPT_BYTES,
            style_bytes: MAX_STYLE_BYTES,
            run_bytes: MAX_RUN_BYTES,
        }
    }
}

impl Limits {
    /// How many bytes all entries of a file of `file_bytes` bytes may decompress to:
    /// `ratio` times the file, at least `min_total_bytes`, at most `total_bytes`.
    pub fn total_budget(&self, file_bytes: u64) -> u64 {
        self.ratio
            .saturating_mul(file_bytes)
            .max(self.min_total_bytes)
            .min(self.total_bytes)
    }

    /// How many bytes the reader may be estimated to keep for a file of `file_bytes` bytes:
    /// `kept_ratio` times the file, at least `min_kept_bytes`, at most `total_bytes`.
    pub fn kept_budget(&self, file_bytes: u64) -> u64 {
        self.kept_ratio
            .saturating_mul(file_bytes)
            .max(self.min_kept_bytes)
            .min(self.total_bytes)
    }
}

/// A refusal of the whole file: line 1, no column.
fn refuse(message_id: &'static str, detail: impl Into<String>) -> Problem {
    Problem::with(1, "", message_id, detail)
}

/// Checks a workbook's ZIP container before anything parses it: a readable, complete archive
/// of at most `limits.entries` entries, none encrypted, each stored or deflated, each really
/// decompressing (streamed through a small buffer, CRC checked) to at most
/// `limits.entry_bytes` and all together to at most [`Limits::total_budget`] for the file's
/// size, no entry holding a document type declaration (`<!DOCTYPE`, `<!ENTITY`, any case,
/// also in UTF-16): DTDs are refused outright, no stretch between two `<` longer than
/// `limits.run_bytes`, no entry whose styles are estimated above `limits.style_bytes`, and
/// what the reader keeps, estimated over all entries, within [`Limits::kept_budget`].
///
/// Entries are judged by what they hold, not by their names: a workbook may name its parts as
/// it likes, so every entry is counted as if it were the one the reader takes for its shared
/// strings, its styles or its sheet list.
pub fn check_container(bytes: &[u8], limits: &Limits) -> Result<(), Problem> {
    let not_workbook = |e: zip::result::ZipError| refuse("xlsx-not-workbook", e.to_string());
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(not_workbook)?;
    if archive.len() > limits.entries {
        return Err(refuse(
            "xlsx-too-many-entries",
            format!("{} > {}", archive.len(), limits.entries),
        ));
    }
    let file_bytes = bytes.len() as u64;
    let budget = limits.total_budget(file_bytes);
    let kept_budget = limits.kept_budget(file_bytes);
    let mut total: u64 = 0;
    let mut kept: u64 = 0;
    let mut buf = vec![0u8; BUFFER_BYTES];
    for i in 0..archive.len() {
        let name = {
            let raw = archive.by_index_raw(i).map_err(not_workbook)?;
            let name = raw
                .name()
                .map(|n| n.into_owned())
                .unwrap_or_else(|_| format!("#{i}"));
            if raw.encrypted() {
                return Err(refuse("xlsx-encrypted", name));
            }
            if !matches!(
                raw.compression(),
                zip::CompressionMethod::Stored | zip::CompressionMethod::Deflated
            ) {
                return Err(refuse(
                    "xlsx-compression",
                    format!("{name}: {}", raw.compression()),
                ));
            }
            name
        };
        let entry = archive.by_index(i).map_err(not_workbook)?;
        let mut scan = Scan::new(limits.run_bytes);
        let mut size: u64 = 0;
        // One byte past the limit is enough to know the limit is passed.
        let mut capped = entry.take(limits.entry_bytes.saturating_add(1));
        loop {
            let n = capped
                .read(&mut buf)
                .map_err(|e| refuse("xlsx-not-workbook", format!("{name}: {e}")))?;
            if n == 0 {
                break;
            }
            size += n as u64;
            total += n as u64;
            if size > limits.entry_bytes {
                return Err(refuse("xlsx-entry-too-large", name));
            }
            if total > budget {
                return Err(refuse("xlsx-too-large", name));
            }
            if let Some(message_id) = scan.feed(&buf[..n]) {
                return Err(refuse(message_id, name));
            }
        }
        if scan.unique_count > size / MIN_SHARED_STRING_BYTES + 1 {
            return Err(refuse(
                "xlsx-not-workbook",
                format!("{name}: uniqueCount {}", scan.unique_count),
            ));
        }
        if scan.census.style_bytes() > limits.style_bytes {
            return Err(refuse("xlsx-entry-too-large", name));
        }
        kept = kept.saturating_add(scan.census.kept_bytes());
        if kept > kept_budget {
            return Err(refuse("xlsx-too-large", name));
        }
    }
    Ok(())
}

/// Watches an entry's bytes, across buffer boundaries: for a DTD, for the largest
/// `uniqueCount` attribute, for stretches between two `<` longer than allowed, and for the
/// elements the reader keeps ([`Census`]). NUL bytes are skipped, so that UTF-16 text is seen
/// as its ASCII.
#[derive(Debug)]
struct Scan {
    doctype: Match,
    entity: Match,
    count: Count,
    /// The largest `uniqueCount` value seen.
    unique_count: u64,
    /// Bytes since the last `<`, and how many are allowed.
    run: u64,
    run_limit: u64,
    tag: Tag,
    /// The elements seen so far.
    census: Census,
}

impl Scan {
    /// A scan allowing stretches of `run_limit` bytes between two `<`.
    fn new(run_limit: u64) -> Scan {
        Scan {
            doctype: Match::default(),
            entity: Match::default(),
            count: Count::default(),
            unique_count: 0,
            run: 0,
            run_limit,
            tag: Tag::Text,
            census: Census::default(),
        }
    }

    /// Feeds bytes; the refusal's message id when they show one (a DTD, a stretch too long).
    fn feed(&mut self, bytes: &[u8]) -> Option<&'static str> {
        for &b in bytes.iter().filter(|b| **b != 0) {
            let dtd = self.doctype.feed(b"<!doctype", b) | self.entity.feed(b"<!entity", b);
            if dtd {
                return Some("xlsx-dtd");
            }
            if let Some(n) = self.count.feed(b) {
                self.unique_count = self.unique_count.max(n);
            }
            if b == b'<' {
                self.run = 0;
            } else {
                self.run += 1;
                if self.run > self.run_limit {
                    return Some("xlsx-entry-too-large");
                }
            }
            self.tag = self.tag.feed(b, &mut self.census);
        }
        None
    }
}

/// The elements of one entry that the reader keeps in memory when it takes the entry for its
/// shared strings, its styles, its sheet list or its relationships, and what they are
/// estimated to cost.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Census {
    /// `<si>`: shared strings.
    shared_strings: u64,
    /// `<xf>`, `<font>`, `<fill>`, `<border>`, `<numFmt>`.
    styles: u64,
    /// `<sheet>`, `<definedName>`, `<Relationship>`.
    names: u64,
    /// The longest `<name …>` (a font's name) or `<numFmt …>` tag: what each cell format may
    /// copy, twice.
    longest_copied: u64,
}

impl Census {
    /// The estimated memory of the entry's styles.
    fn style_bytes(&self) -> u64 {
        let each = STYLE_COST.saturating_add(self.longest_copied.saturating_mul(2));
        self.styles.saturating_mul(each)
    }

    /// The estimated memory the reader keeps for the entry, beside text it copies once (which
    /// the decompression budget bounds).
    fn kept_bytes(&self) -> u64 {
        self.shared_strings
            .saturating_mul(SHARED_STRING_COST)
            .saturating_add(self.style_bytes())
            .saturating_add(self.names.saturating_mul(NAME_COST))
    }
}

/// Where the scan is in the XML's tags. Only the local name of a tag (after any prefix)
/// matters, and only the first bytes of it; the length of a tag only for the tags whose values
/// styles copy.
#[derive(Debug, Clone, Copy)]
enum Tag {
    /// Text, or a tag that no longer matters.
    Text,
    /// After `<`: the local name so far (`len` may pass the bytes kept; then it is no name
    /// that is counted).
    Name { name: [u8; 16], len: usize },
    /// In a tag whose length matters: its length so far, and the quote it is inside, if any.
    Copied { len: u64, quote: Option<u8> },
}

impl Tag {
    /// The state after one byte, counting an element in `census` when its name ends.
    fn feed(self, b: u8, census: &mut Census) -> Tag {
        match self {
            Tag::Text if b == b'<' => Tag::Name {
                name: [0; 16],
                len: 0,
            },
            Tag::Text => Tag::Text,
            // `</…`, `<?…`, `<!…`: the end of an element, an instruction, a comment.
            Tag::Name { len: 0, .. } if matches!(b, b'/' | b'?' | b'!') => Tag::Text,
            Tag::Name { len: 0, .. } if b == b'<' => self,
            Tag::Name { name, len } if matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>') => {
                let local = name.get(..len).unwrap_or_default();
                match local {
                    b"si" => census.shared_strings += 1,
                    b"xf" | b"font" | b"fill" | b"border" | b"numFmt" => census.styles += 1,
                    b"sheet" | b"definedName" | b"Relationship" => census.names += 1,
                    _ => {}
                }
                if matches!(local, b"name" | b"numFmt") {
                    // `<` and the name so far, and this byte.
                    let tag = Tag::Copied {
                        len: len as u64 + 1,
                        quote: None,
                    };
                    tag.feed(b, census)
                } else {
                    Tag::Text
                }
            }
            Tag::Name { .. } if b == b'<' => Tag::Name {
                name: [0; 16],
                len: 0,
            },
            // A prefix (`x:si`): the local name starts again.
            Tag::Name { .. } if b == b':' => Tag::Name {
                name: [0; 16],
                len: 0,
            },
            Tag::Name { mut name, len } => {
                if let Some(slot) = name.get_mut(len) {
                    *slot = b;
                }
                Tag::Name {
                    name,
                    len: len.saturating_add(1),
                }
            }
            Tag::Copied { len, quote } => {
                let len = len + 1;
                match quote {
                    Some(q) if b == q => Tag::Copied { len, quote: None },
                    Some(_) => Tag::Copied { len, quote },
                    None if b == b'"' || b == b'\'' => Tag::Copied {
                        len,
                        quote: Some(b),
                    },
                    None if b == b'>' => {
                        census.longest_copied = census.longest_copied.max(len);
                        Tag::Text
                    }
                    None => Tag::Copied { len, quote: None },
                }
            }
        }
    }
}

/// Progress through a pattern matched case-insensitively. The patterns' first byte (`<`) does
/// not recur in them, so on a mismatch only that byte can start a new match.
#[derive(Debug, Default)]
struct Match(usize);

impl Match {
    fn feed(&mut self, pattern: &[u8], b: u8) -> bool {
        if b.eq_ignore_ascii_case(&pattern[self.0]) {
            self.0 += 1;
            if self.0 == pattern.len() {
                self.0 = 0;
                return true;
            }
        } else {
            self.0 = usize::from(b == pattern[0]);
        }
        false
    }
}

/// Reads `uniqueCount = "123"` (any spacing, either quote) as the XML parser would. The name
/// is matched without backtracking: an attribute name is preceded by white space, so a real
/// `uniqueCount` attribute always starts a fresh match.
#[derive(Debug)]
enum Count {
    /// This many bytes of the name matched.
    Name(usize),
    /// Before `=`.
    Equals,
    /// Before the opening quote.
    Quote,
    /// In the digits: the value so far.
    Digits(u64),
}

impl Default for Count {
    fn default() -> Self {
        Count::Name(0)
    }
}

impl Count {
    const NAME: &'static [u8] = b"uniqueCount";

    /// The state after a byte that breaks a match (it may start the name again).
    fn restart(b: u8) -> Count {
        Count::Name(usize::from(b == Self::NAME[0]))
    }

    /// Feeds one byte; the value when its digits end.
    fn feed(&mut self, b: u8) -> Option<u64> {
        let space = matches!(b, b' ' | b'\t' | b'\r' | b'\n');
        let (next, value) = match *self {
            Count::Name(at) if b == Self::NAME[at] => {
                if at + 1 == Self::NAME.len() {
                    (Count::Equals, None)
                } else {
                    (Count::Name(at + 1), None)
                }
            }
            Count::Equals if space => (Count::Equals, None),
            Count::Equals if b == b'=' => (Count::Quote, None),
            Count::Quote if space => (Count::Quote, None),
            // A double or a single quote.
            Count::Quote if b == b'\x22' || b == b'\'' => (Count::Digits(0), None),
            Count::Digits(n) if b.is_ascii_digit() => (
                Count::Digits(n.saturating_mul(10).saturating_add(u64::from(b - b'0'))),
                None,
            ),
            Count::Digits(n) => (Self::restart(b), Some(n)),
            _ => (Self::restart(b), None),
        };
        *self = next;
        value
    }
}

/// Reads the first visible worksheet of a workbook into a table, as [`super::table::read_csv`]
/// reads CSV, after [`check_container`] with the default [`Limits`].
pub fn read_xlsx(bytes: &[u8], columns: &'static [ColumnSpec]) -> Result<Table, Vec<Problem>> {
    read_xlsx_with(bytes, columns, &Limits::default())
}

/// [`read_xlsx`] with other limits.
pub fn read_xlsx_with(
    bytes: &[u8],
    columns: &'static [ColumnSpec],
    limits: &Limits,
) -> Result<Table, Vec<Problem>> {
    check_container(bytes, limits).map_err(|p| vec![p])?;
    let not_workbook = |e: calamine::XlsxError| vec![refuse("xlsx-not-workbook", e.to_string())];
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(not_workbook)?;
    let sheet = book
        .sheets_metadata()
        .iter()
        .find(|s| s.typ == SheetType::WorkSheet && s.visible == SheetVisible::Visible)
        .map(|s| s.name.clone())
        .ok_or_else(|| vec![Problem::new(1, "", "xlsx-no-sheet")])?;
    let mut cells = book.worksheet_cells_reader(&sheet).map_err(not_workbook)?;
    read_rows(
        SheetRows {
            cells: &mut cells,
            pending: None,
            header: None,
            line: 1,
            done: false,
        },
        columns,
    )
}

/// Reads a whole XLSX file into records as [`read_file`] reads CSV: all problems or all
/// records, a key repeated within the sheet a problem on each repetition.
pub fn read_xlsx_file<K: Kind>(bytes: &[u8]) -> Result<Parsed<K::Record>, Vec<Problem>> {
    let table = read_xlsx(bytes, K::COLUMNS)?;
    parse_table::<K>(&table)
}

/// Reads a file whatever its format: XLSX when it starts as a ZIP file does, else CSV
/// ([`read_file`]). A legacy `.xls` or password-protected workbook is refused with a message
/// saying so (`xlsx-ole`) rather than read as text.
pub fn read_any_file<K: Kind>(bytes: &[u8]) -> Result<Parsed<K::Record>, Vec<Problem>> {
    if bytes.starts_with(ZIP_MAGIC) {
        read_xlsx_file::<K>(bytes)
    } else if bytes.starts_with(OLE_MAGIC) {
        Err(vec![Problem::new(1, "", "xlsx-ole")])
    } else {
        read_file::<K>(bytes)
    }
}

/// A worksheet's cells grouped into rows, in the form [`read_rows`] takes: every row that has
/// a cell, with its spreadsheet row number, cells from column `A` on. A data row is laid out
/// only as wide as the header (up to its last named column); a value right of that is passed
/// on as one cell past the header, which [`read_rows`] reports. So a row costs its cells, however
/// far apart they are.
struct SheetRows<'r, 'a, RS: Read + Seek> {
    cells: &'r mut XlsxCellReader<'a, RS>,
    /// The first cell of the next row, read while finishing the previous one.
    pending: Option<calamine::Cell<DataRef<'a>>>,
    /// The header row as read (trimmed), to name the column of a problem and to bound rows.
    header: Option<Vec<String>>,
    /// The row last read.
    line: u64,
    done: bool,
}

impl<RS: Read + Seek> SheetRows<'_, '_, RS> {
    /// A column as the header names it, else as the sheet letters it.
    fn column_name(&self, col: usize) -> String {
        self.header
            .as_ref()
            .and_then(|h| h.get(col))
            .filter(|h| !h.is_empty())
            .cloned()
            .unwrap_or_else(|| column_letters(col))
    }
}

impl<RS: Read + Seek> Iterator for SheetRows<'_, '_, RS> {
    type Item = Result<(u64, Vec<String>), Vec<Problem>>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut row: Option<u32> = None;
        let mut values: Vec<String> = Vec::new();
        let mut problems = Vec::new();
        while !self.done {
            let cell = match self.pending.take() {
                Some(c) => c,
                None => match self.cells.next_cell() {
                    Ok(Some(c)) => c,
                    Ok(None) => {
                        self.done = true;
                        break;
                    }
                    Err(e) => {
                        self.done = true;
                        report(
                            &mut problems,
                            Problem::with(self.line, "", "xlsx-not-workbook", e.to_string()),
                        );
                        break;
                    }
                },
            };
            if matches!(cell.get_value(), DataRef::Empty) {
                continue;
            }
            let (r, c) = cell.get_position();
            match row {
                None => {
                    row = Some(r);
                    self.line = u64::from(r) + 1;
                }
                Some(current) if current != r => {
                    self.pending = Some(cell);
                    break;
                }
                Some(_) => {}
            }
            if c as usize >= MAX_COLUMNS {
                report(
                    &mut problems,
                    Problem::with(
                        self.line,
                        "",
                        "xlsx-not-workbook",
                        format!("column {}", u64::from(c) + 1),
                    ),
                );
                continue;
            }
            let c = c as usize;
            match cell_text(cell.get_value()) {
                Ok(text) => {
                    let width = self.header.as_ref().map_or(usize::MAX, Vec::len);
                    if c >= width {
                        // Right of the header: only whether it holds something matters.
                        if !text.trim().is_empty() && values.len() <= width {
                            values.resize(width, String::new());
                            values.push(text);
                        }
                        continue;
                    }
                    if values.len() <= c {
                        values.resize(c + 1, String::new());
                    }
                    values[c] = text;
                }
                Err((message_id, detail)) => report(
                    &mut problems,
                    Problem::with(
                        self.line,
                        self.column_name(c),
                        message_id,
                        format!("{}{}: {detail}", column_letters(c), self.line),
                    ),
                ),
            }
        }
        if row.is_none() && problems.is_empty() {
            return None;
        }
        if self.header.is_none() {
            // Blank cells right of the last named column (a stray space) are not columns.
            while values.last().is_some_and(|h| h.trim().is_empty()) {
                values.pop();
            }
            self.header = Some(values.iter().map(|h| h.trim().to_owned()).collect());
        }
        if problems.is_empty() {
            Some(Ok((self.line, values)))
        } else {
            Some(Err(problems))
        }
    }
}

/// Adds a problem of a row, unless the row already has more than [`MAX_PROBLEMS`]: a row of a
/// million error cells is not a million problems.
fn report(problems: &mut Vec<Problem>, problem: Problem) {
    if problems.len() <= MAX_PROBLEMS {
        problems.push(problem);
    }
}

/// `A`, `B`, … `Z`, `AA`, … for a 0-based column.
fn column_letters(col: usize) -> String {
    let mut n = col + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.iter().rev().map(|b| char::from(*b)).collect()
}

/// A cell as the text CSV would hold: strings as written, whole numbers without a decimal
/// point, booleans `true`/`false`, dates `YYYY-MM-DD`. Error cells, impossible dates and text
/// longer than [`MAX_CELL_CHARS`](super::table::MAX_CELL_CHARS) (never copied) are a message
/// id and a detail.
fn cell_text(value: &DataRef<'_>) -> Result<String, (&'static str, String)> {
    let text = match value {
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Some(s.as_str()),
        DataRef::SharedString(s) => Some(*s),
        _ => None,
    };
    if let Some(chars) = text.and_then(too_long) {
        return Err(("import-cell-too-long", chars.to_string()));
    }
    match value {
        DataRef::String(s) => Ok(s.clone()),
        DataRef::SharedString(s) => Ok((*s).to_owned()),
        DataRef::Int(i) => Ok(i.to_string()),
        DataRef::Float(f) => Ok(number_text(*f)),
        DataRef::Bool(b) => Ok(b.to_string()),
        DataRef::DateTime(dt) if dt.is_duration() => Ok(number_text(dt.as_f64())),
        DataRef::DateTime(dt) => excel_date(dt).ok_or(("xlsx-bad-date", number_text(dt.as_f64()))),
        DataRef::DateTimeIso(s) => iso_date(s).ok_or(("xlsx-bad-date", s.clone())),
        DataRef::DurationIso(s) => Ok(s.clone()),
        DataRef::Error(e) => Err(("xlsx-cell-error", e.to_string())),
        DataRef::Empty => Ok(String::new()),
    }
}

/// `12` for 12.0 (never `12.0`), else the shortest text that reads back as the same number.
fn number_text(f: f64) -> String {
    if f == 0.0 {
        // Also -0.0.
        "0".to_owned()
    } else {
        // `Display` writes whole numbers without a point and never uses an exponent.
        f.to_string()
    }
}

/// The date of a date or date-time cell (the time of day, if any, is dropped). `None` for a
/// serial number outside Excel's calendar (negative, past 9999-12-31, or Excel's phantom
/// 1900-02-29).
fn excel_date(dt: &ExcelDateTime) -> Option<String> {
    let v = dt.as_f64();
    if !(0.0..2_958_466.0).contains(&v) {
        return None;
    }
    let (y, m, d, ..) = dt.to_ymd_hms_milli();
    let month = time::Month::try_from(m).ok()?;
    let date = time::Date::from_calendar_date(i32::from(y), month, d).ok()?;
    Some(date.to_string())
}

/// The date part of an ISO 8601 date or date-time (`2026-04-01`, `2026-04-01T09:00:00`).
fn iso_date(s: &str) -> Option<String> {
    let day = s.get(..10)?;
    let rest = &s[10..];
    if !(rest.is_empty() || rest.starts_with(['T', ' '])) {
        return None;
    }
    let mut parts = day.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    let date = time::Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()?;
    Some(date.to_string())
}

/// How wide text shows in a spreadsheet column, in character widths (CJK counts two).
fn display_width(text: &str) -> usize {
    text.lines()
        .map(|line| {
            line.chars()
                .map(|c| {
                    let half_width_kana = ('\u{FF61}'..='\u{FF9F}').contains(&c);
                    if c >= '\u{1100}' && !half_width_kana {
                        2
                    } else {
                        1
                    }
                })
                .sum()
        })
        .max()
        .unwrap_or(0)
}

/// Writes XLSX as `INTERCHANGE.md` says: one sheet named after the kind, labels or codes in a
/// bold, frozen header row, every cell text (nothing is evaluated, so no apostrophe guard),
/// line breaks kept (and shown wrapped), columns sized to their contents. An error names what
/// the format cannot hold (a cell over 32,767 characters, more than 1,048,575 records).
///
/// The sheet is written in the writer's "low memory" mode: each row goes to a temporary file
/// as soon as the next begins, and only the distinct texts stay in memory (the shared string
/// table, as Excel itself writes it). Holding every cell cost about 300 MB for 100,000 assets.
pub fn write_xlsx<K: Kind>(records: &[K::Record], labels: bool) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet_with_low_memory().map_err(err)?;
    sheet.set_name(K::NAME).map_err(err)?;
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let mut widths = Vec::with_capacity(K::COLUMNS.len());
    for (c, column) in K::COLUMNS.iter().enumerate() {
        let title = if labels { column.label } else { column.code };
        let col = u16::try_from(c).map_err(|e| e.to_string())?;
        sheet
            .write_string_with_format(0, col, title, &bold)
            .map_err(err)?;
        widths.push(display_width(title));
    }
    for (i, record) in records.iter().enumerate() {
        let row = u32::try_from(i + 1).map_err(|e| e.to_string())?;
        for (c, cell) in K::cells(record, labels).into_iter().enumerate() {
            if cell.is_empty() {
                continue;
            }
            let col = u16::try_from(c).map_err(|e| e.to_string())?;
            if let Some(w) = widths.get_mut(c) {
                *w = (*w).max(display_width(&cell));
            }
            if cell.contains('\n') {
                sheet
                    .write_string_with_format(row, col, cell, &wrap)
                    .map_err(err)?;
            } else {
                sheet.write_string(row, col, cell).map_err(err)?;
            }
        }
    }
    for (c, w) in widths.into_iter().enumerate() {
        let col = u16::try_from(c).map_err(|e| e.to_string())?;
        // Room for the filter button and a little air; very long text wraps instead.
        let width = (w + 2).clamp(8, 60) as f64;
        sheet.set_column_width(col, width).map_err(err)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(err)?;
    book.save_to_buffer().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interchange::people::{People, PersonRecord, RoleRef};
    use crate::interchange::units::{UnitRecord, Units};
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn units() -> Vec<UnitRecord> {
        vec![
            UnitRecord {
                code: "000123".into(),
                name: "=SUM(A1)".into(),
                parent: None,
                in_scope: false,
            },
            UnitRecord {
                code: "b".into(),
                name: "髙橋課 ①\n二行目, \"引用\"".into(),
                parent: Some("000123".into()),
                in_scope: true,
            },
        ]
    }

    fn person() -> PersonRecord {
        PersonRecord {
            staff_id: "000123".into(),
            name: "髙橋 ①".into(),
            kana: "ﾀｶﾊｼ _x0041_ ".into(),
            unit: "general-affairs".into(),
            category: "fiscal_year".into(),
            email: "takahashi@example.jp".into(),
            roles: Some(vec![
                RoleRef {
                    role: "unit_manager".into(),
                    unit: Some("general-affairs".into()),
                },
                RoleRef {
                    role: "csirt".into(),
                    unit: None,
                },
            ]),
            joined_on: time::Date::from_calendar_date(2019, time::Month::May, 1).ok(),
            left_on: None,
        }
    }

    fn records<R>(parsed: Parsed<R>) -> Vec<R> {
        parsed.into_iter().map(|(_, r)| r).collect()
    }

    /// A workbook's parts around one worksheet, as the smallest XLSX a reader accepts.
    fn parts(sheet_xml: &str) -> Vec<(&'static str, String)> {
        vec![
            (
                "[Content_Types].xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.into(),
            ),
            (
                "_rels/.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.into(),
            ),
            (
                "xl/workbook.xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="units" sheetId="1" r:id="rId1"/></sheets></workbook>"#.into(),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.into(),
            ),
            ("xl/worksheets/sheet1.xml", sheet_xml.to_owned()),
        ]
    }

    fn sheet(rows: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>"#
        )
    }

    fn zip_raw(parts: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, body) in parts {
            w.start_file(*name, SimpleFileOptions::default())
                .expect("entry");
            w.write_all(body).expect("write");
        }
        w.finish().expect("finish").into_inner()
    }

    fn zip_of(parts: &[(&str, String)]) -> Vec<u8> {
        let raw: Vec<(&str, Vec<u8>)> = parts
            .iter()
            .map(|(n, b)| (*n, b.as_bytes().to_vec()))
            .collect();
        zip_raw(&raw)
    }

    fn ids(problems: &[Problem]) -> Vec<(u64, &str, &str)> {
        problems
            .iter()
            .map(|p| (p.line, p.column.as_str(), p.message_id))
            .collect()
    }

    fn refused(bytes: &[u8]) -> Problem {
        let mut p = read_xlsx(bytes, Units::COLUMNS).expect_err("refused");
        assert_eq!(p.len(), 1, "{p:?}");
        p.remove(0)
    }

    #[test]
    fn units_round_trip_as_text_cells() {
        let records = units();
        for labels in [true, false] {
            let bytes = write_xlsx::<Units>(&records, labels).expect("write");
            assert!(bytes.starts_with(ZIP_MAGIC));
            let back = records_of::<Units>(&bytes);
            assert_eq!(back, records, "labels: {labels}");
            let table = read_xlsx(&bytes, Units::COLUMNS).expect("table");
            assert_eq!(
                table.column_name("code"),
                if labels { "組織コード" } else { "code" }
            );
            assert_eq!(
                table.rows.iter().map(|r| r.line).collect::<Vec<_>>(),
                [2, 3]
            );
            // The bytes of the sheet hold the formula as a string, never as `<f>`.
            assert!(!sheet_xml(&bytes).contains("<f>"));
        }
    }

    fn records_of<K: Kind>(bytes: &[u8]) -> Vec<K::Record> {
        records(read_any_file::<K>(bytes).expect("read"))
    }

    /// The worksheet and shared strings of a written workbook, as text.
    fn sheet_xml(bytes: &[u8]) -> String {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
        let mut out = String::new();
        for name in ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"] {
            archive
                .by_name(name)
                .expect(name)
                .read_to_string(&mut out)
                .expect("utf-8");
        }
        out
    }

    #[test]
    fn people_round_trip_keeps_leading_zeros_dates_and_characters() {
        let mut other = person();
        other.staff_id = "0042".into();
        other.roles = Some(Vec::new());
        other.name = "=SUM(A1)".into();
        other.kana = "一行目\n二行目".into();
        other.left_on = time::Date::from_calendar_date(2026, time::Month::March, 31).ok();
        let records = vec![person(), other];
        let bytes = write_xlsx::<People>(&records, true).expect("write");
        assert_eq!(records_of::<People>(&bytes), records);
        let xml = sheet_xml(&bytes);
        assert!(xml.contains("000123") && xml.contains("2019-05-01"));
        assert!(
            xml.contains("<pane ") && xml.contains("ySplit=\"1\""),
            "header frozen"
        );
    }

    #[test]
    fn the_writer_names_the_sheet_and_makes_the_header_bold() {
        let bytes = write_xlsx::<People>(&[person()], true).expect("write");
        let mut archive = zip::ZipArchive::new(Cursor::new(&bytes[..])).expect("zip");
        let mut workbook = String::new();
        archive
            .by_name("xl/workbook.xml")
            .expect("workbook")
            .read_to_string(&mut workbook)
            .expect("utf-8");
        assert!(workbook.contains("name=\"people\""));
        let mut styles = String::new();
        archive
            .by_name("xl/styles.xml")
            .expect("styles")
            .read_to_string(&mut styles)
            .expect("utf-8");
        assert!(styles.contains("<b/>"));
    }

    #[test]
    fn typed_cells_from_a_spreadsheet_become_csv_text() {
        use rust_xlsxwriter::{ExcelDateTime as Date, Format, Workbook};
        let mut book = Workbook::new();
        let date = Format::new().set_num_format("yyyy/mm/dd");
        let s = book.add_worksheet();
        // Label header, and the table starting in row 3 (rows 1-2 blank).
        for (c, h) in ["職員番号", "氏名", "所属", "任用区分", "着任日", "離任日"]
            .iter()
            .enumerate()
        {
            s.write_string(2, c as u16, *h).expect("header");
        }
        s.write_number(3, 0, 12.0).expect("number");
        s.write_string(3, 1, "髙橋").expect("name");
        s.write_number(3, 2, 3.5).expect("float");
        s.write_boolean(3, 3, true).expect("bool");
        let d = Date::from_ymd(2026, 4, 1).expect("date");
        s.write_datetime_with_format(3, 4, &d, &date).expect("date");
        let dt = Date::from_ymd(2027, 3, 31)
            .and_then(|d| d.and_hms(18, 30, 0))
            .expect("datetime");
        s.write_datetime_with_format(3, 5, &dt, &date)
            .expect("datetime");
        let bytes = book.save_to_buffer().expect("save");

        let table = read_xlsx(&bytes, People::COLUMNS).expect("table");
        assert_eq!(table.column_name("staff_id"), "職員番号");
        let row = &table.rows[0];
        assert_eq!(row.line, 4, "the sheet's own row number");
        assert_eq!(row.raw(People::COLUMNS, "staff_id"), Some("12"));
        assert_eq!(row.raw(People::COLUMNS, "unit"), Some("3.5"));
        assert_eq!(row.raw(People::COLUMNS, "category"), Some("true"));
        assert_eq!(row.raw(People::COLUMNS, "joined_on"), Some("2026-04-01"));
        assert_eq!(
            row.raw(People::COLUMNS, "left_on"),
            Some("2027-03-31"),
            "the time of day is dropped"
        );
        let people = records_of::<People>(&bytes);
        assert_eq!(people[0].staff_id, "12");
        assert_eq!(
            people[0].joined_on,
            time::Date::from_calendar_date(2026, time::Month::April, 1).ok()
        );
    }

    #[test]
    fn numbers_are_written_as_a_person_would() {
        assert_eq!(number_text(12.0), "12");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(3.5), "3.5");
        assert_eq!(number_text(0.1), "0.1");
        assert_eq!(number_text(1e20), "100000000000000000000");
        assert_eq!(number_text(1e-7), "0.0000001");
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(16_383), "XFD");
        assert_eq!(iso_date("2026-04-01T09:30:00"), Some("2026-04-01".into()));
        assert_eq!(iso_date("2026-02-30"), None);
        assert_eq!(iso_date("09:30:00"), None);
    }

    #[test]
    fn header_problems_are_the_same_as_for_csv() {
        let xml = sheet(
            r#"<row r="1"><c r="A1" t="inlineStr"><is><t>名称</t></is></c><c r="B1" t="inlineStr"><is><t>色</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c></row>"#,
        );
        let err = read_xlsx(&zip_of(&parts(&xml)), Units::COLUMNS).expect_err("bad header");
        let csv =
            super::super::table::read_csv("名称,色\nx\n", Units::COLUMNS).expect_err("bad header");
        assert_eq!(err, csv);
        assert_eq!(
            ids(&err),
            [
                (1, "色", "import-unknown-column"),
                (1, "組織コード", "import-missing-column")
            ]
        );
    }

    #[test]
    fn row_problems_name_row_and_column() {
        // Header on row 2 (the used range starts lower), an error cell, a missing value, a
        // repeated key, a cell right of the header.
        let xml = sheet(
            r#"<row r="2"><c r="A2" t="inlineStr"><is><t>code</t></is></c><c r="B2" t="inlineStr"><is><t>名称</t></is></c></row>
               <row r="3"><c r="A3" t="inlineStr"><is><t>a</t></is></c><c r="B3" t="e"><v>#DIV/0!</v></c></row>
               <row r="4"><c r="A4" t="inlineStr"><is><t>b</t></is></c></row>
               <row r="6"><c r="A6" t="inlineStr"><is><t>c</t></is></c><c r="B6"><v>1</v></c><c r="D6"><v>2</v></c></row>
               <row r="7"><c r="A7" t="inlineStr"><is><t>d</t></is></c><c r="B7"><v>1</v></c></row>
               <row r="8"><c r="A8" t="inlineStr"><is><t>d</t></is></c><c r="B8"><v>1</v></c></row>"#,
        );
        let bytes = zip_of(&parts(&xml));
        let err = read_xlsx(&bytes, Units::COLUMNS).expect_err("problems");
        assert_eq!(
            ids(&err),
            [
                (3, "名称", "xlsx-cell-error"),
                (4, "名称", "import-required-value"),
                (6, "", "import-too-many-cells"),
            ]
        );
        assert_eq!(err[0].detail.as_deref(), Some("B3: #DIV/0!"));
        let xml = sheet(
            r#"<row r="2"><c r="A2" t="inlineStr"><is><t>code</t></is></c><c r="B2" t="inlineStr"><is><t>名称</t></is></c></row>
               <row r="7"><c r="A7" t="inlineStr"><is><t>d</t></is></c><c r="B7"><v>1</v></c></row>
               <row r="8"><c r="A8" t="inlineStr"><is><t>d</t></is></c><c r="B8"><v>1</v></c></row>"#,
        );
        let err = read_xlsx_file::<Units>(&zip_of(&parts(&xml))).expect_err("duplicate");
        assert_eq!(ids(&err), [(8, "code", "import-duplicate-key")]);
        assert_eq!(err[0].detail.as_deref(), Some("d (7)"));
    }

    #[test]
    fn far_apart_cells_cost_two_cells_not_a_grid() {
        let xml = sheet(
            r#"<row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is></c></row><row r="1048576"><c r="A1048576" t="inlineStr"><is><t>z</t></is></c><c r="B1048576" t="inlineStr"><is><t>最後</t></is></c></row>"#,
        );
        let bytes = zip_of(&parts(&xml));
        let parsed = read_xlsx_file::<Units>(&bytes).expect("reads");
        assert_eq!(parsed[0].0, 1_048_576);
        assert_eq!(parsed[0].1.name, "最後");
    }

    #[test]
    fn cells_far_right_of_the_header_are_too_many_cells_not_a_wide_row() {
        let xml = sheet(
            r#"<row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is></c><c r="XFD1" t="inlineStr"><is><t> </t></is></c></row>
               <row r="2"><c r="A2" t="inlineStr"><is><t>a</t></is></c><c r="B2" t="inlineStr"><is><t>x</t></is></c><c r="XFC2" t="inlineStr"><is><t> </t></is></c></row>
               <row r="3"><c r="A3" t="inlineStr"><is><t>b</t></is></c><c r="B3" t="inlineStr"><is><t>y</t></is></c><c r="XFD3"><v>1</v></c></row>"#,
        );
        let err = read_xlsx(&zip_of(&parts(&xml)), Units::COLUMNS).expect_err("too many");
        assert_eq!(ids(&err), [(3, "", "import-too-many-cells")]);
    }

    #[test]
    fn an_empty_sheet_and_a_workbook_without_sheets() {
        let bytes = zip_of(&parts(&sheet("")));
        assert_eq!(refused(&bytes), Problem::new(1, "", "import-empty-file"));
        let mut no_sheet = parts(&sheet(""));
        no_sheet[2].1 = r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets></sheets></workbook>"#.into();
        assert_eq!(refused(&zip_of(&no_sheet)).message_id, "xlsx-no-sheet");
    }

    /// A ZIP whose one entry, the sheet, inflates to `mib` MiB of `x`: a well-formed archive
    /// (sizes and CRC true), built without ever holding or compressing the whole. A deflate
    /// stream may be cut into blocks: one MiB compressed with a sync flush is a run of
    /// self-contained, byte-aligned blocks, repeated `mib` times and closed by an empty final
    /// block.
    fn bomb(mib: u32) -> Vec<u8> {
        let piece = vec![b'x'; 1 << 20];
        let mut deflate = flate2::Compress::new(flate2::Compression::best(), false);
        let mut chunk = Vec::with_capacity(64 * 1024);
        deflate
            .compress_vec(&piece, &mut chunk, flate2::FlushCompress::Sync)
            .expect("deflate");
        assert_eq!(deflate.total_in(), piece.len() as u64);
        let mut data = chunk.repeat(mib as usize);
        // BFINAL, fixed Huffman codes, end of block.
        data.extend_from_slice(&[0x03, 0x00]);
        let mut one = crc32fast::Hasher::new();
        one.update(&piece);
        let mut crc = crc32fast::Hasher::new();
        for _ in 0..mib {
            crc.combine(&one);
        }
        let crc = crc.finalize();
        let size = mib << 20;
        let name = b"xl/worksheets/sheet1.xml";
        let compressed = u32::try_from(data.len()).expect("small");
        // Version 2.0, no flags, deflate, 1980-01-01 00:00, CRC and sizes.
        let fields = |out: &mut Vec<u8>| {
            for v in [20u16, 0, 8, 0, 0x21] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            for v in [crc, compressed, size] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        };
        let mut zip = b"PK\x03\x04".to_vec();
        fields(&mut zip);
        zip.extend_from_slice(&[0, 0]);
        zip.extend_from_slice(name);
        zip.extend_from_slice(&data);
        let central_at = zip.len() as u32;
        zip.extend_from_slice(b"PK\x01\x02");
        zip.extend_from_slice(&20u16.to_le_bytes());
        fields(&mut zip);
        // No extra field, comment, disk, attributes; the local header at 0.
        zip.extend_from_slice(&[0; 16]);
        zip.extend_from_slice(name);
        let central_size = zip.len() as u32 - central_at;
        zip.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0");
        zip.extend_from_slice(&central_size.to_le_bytes());
        zip.extend_from_slice(&central_at.to_le_bytes());
        zip.extend_from_slice(&[0, 0]);
        zip
    }

    #[test]
    fn a_zip_bomb_is_refused_without_being_inflated() {
        // The same construction, small, is a sound archive: the refusal is for the size.
        assert_eq!(check_container(&bomb(1), &Limits::default()), Ok(()));
        let bytes = bomb(200);
        assert!(bytes.len() < 1024 * 1024, "{} bytes", bytes.len());
        let p = refused(&bytes);
        assert_eq!(
            p,
            Problem::with(1, "", "xlsx-entry-too-large", "xl/worksheets/sheet1.xml")
        );
    }

    #[test]
    fn limits_apply_to_each_entry_and_to_all_together() {
        let mut many = parts(&sheet(""));
        for i in 0..3 {
            many.push((["a.bin", "b.bin", "c.bin"][i], "y".repeat(900 * 1024)));
        }
        let bytes = zip_of(&many);
        let limits = Limits {
            entries: 10,
            entry_bytes: 1024 * 1024,
            total_bytes: 2 * 1024 * 1024,
            ..Limits::default()
        };
        let p = read_xlsx_with(&bytes, Units::COLUMNS, &limits).expect_err("too large");
        assert_eq!(p, [Problem::with(1, "", "xlsx-too-large", "c.bin")]);
        let limits = Limits {
            entry_bytes: 512 * 1024,
            ..limits
        };
        let p = read_xlsx_with(&bytes, Units::COLUMNS, &limits).expect_err("too large");
        assert_eq!(p, [Problem::with(1, "", "xlsx-entry-too-large", "a.bin")]);
        assert_eq!(
            Limits::default(),
            Limits {
                entries: 1_000,
                entry_bytes: 96 << 20,
                total_bytes: 128 << 20,
                ratio: 20,
                min_total_bytes: 8 << 20,
                kept_ratio: 16,
                min_kept_bytes: 4 << 20,
                style_bytes: 16 << 20,
                run_bytes: 4 << 20,
            }
        );
    }

    #[test]
    fn the_budgets_grow_with_the_file_between_a_floor_and_a_ceiling() {
        let limits = Limits::default();
        assert_eq!(limits.total_budget(0), 8 << 20);
        assert_eq!(limits.total_budget(100_000), 8 << 20);
        assert_eq!(limits.total_budget(1_000_000), 20_000_000);
        // 20 times the register of 100,000 assets (7.3 MB) is past the ceiling.
        assert_eq!(limits.total_budget(7_320_475), 128 << 20);
        assert_eq!(limits.total_budget(u64::MAX), 128 << 20);
        assert_eq!(limits.kept_budget(0), 4 << 20);
        assert_eq!(limits.kept_budget(1_000_000), 16_000_000);
        assert_eq!(limits.kept_budget(u64::MAX), 128 << 20);
    }

    #[test]
    fn a_small_file_may_not_unpack_past_its_share() {
        // 100 KB of noise (incompressible) and a sheet of 7.5 MiB of blank rows: under the
        // floor. The same sheet at 8.5 MiB passes what a file this size may unpack to.
        let noise: String = {
            let mut seed: u32 = 0x2545_F491;
            (0..100_000)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    char::from(b'a' + (seed % 26) as u8)
                })
                .collect()
        };
        let with_rows = |mib: usize| {
            let mut p = parts(&sheet(&"<row></row>".repeat(mib * (1 << 20) / 11)));
            p.push(("xl/media/noise.bin", noise.clone()));
            zip_of(&p)
        };
        let fits = with_rows(7);
        assert!(fits.len() < 400_000, "{}", fits.len());
        assert_eq!(check_container(&fits, &Limits::default()), Ok(()));
        let over = with_rows(9);
        assert_eq!(
            check_container(&over, &Limits::default()),
            Err(Problem::with(
                1,
                "",
                "xlsx-too-large",
                "xl/worksheets/sheet1.xml"
            ))
        );
    }

    #[test]
    fn too_many_entries_are_refused_before_any_is_read() {
        let mut many = parts(&sheet(""));
        let names: Vec<String> = (0..1_000).map(|i| format!("junk/{i}.xml")).collect();
        for name in &names {
            many.push((name.as_str(), String::new()));
        }
        let bytes = zip_of(&many);
        assert_eq!(
            refused(&bytes),
            Problem::with(1, "", "xlsx-too-many-entries", "1005 > 1000")
        );
    }

    #[test]
    fn document_type_declarations_are_refused_in_any_case_and_encoding() {
        let xml = sheet(r#"<row r="1"><c r="A1"><v>1</v></c></row>"#);
        let with_dtd = xml.replacen(
            "<worksheet",
            r#"<!DOCTYPE worksheet [<!ENTITY lol "lol">]><worksheet"#,
            1,
        );
        let p = refused(&zip_of(&parts(&with_dtd)));
        assert_eq!(
            p,
            Problem::with(1, "", "xlsx-dtd", "xl/worksheets/sheet1.xml")
        );
        let lower = xml.replacen("<worksheet", "<!doctype x><worksheet", 1);
        assert_eq!(refused(&zip_of(&parts(&lower))).message_id, "xlsx-dtd");
        let entity_only = xml.replacen("<worksheet", "<!EnTiTy x 'y'><worksheet", 1);
        assert_eq!(
            refused(&zip_of(&parts(&entity_only))).message_id,
            "xlsx-dtd"
        );
        // UTF-16 hides nothing: NUL bytes are skipped.
        let utf16: Vec<u8> =
            "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-16\"?><!DOCTYPE x><worksheet/>"
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect();
        let mut entries: Vec<(&str, Vec<u8>)> = parts("")
            .into_iter()
            .take(4)
            .map(|(n, b)| (n, b.into_bytes()))
            .collect();
        entries.push(("xl/worksheets/sheet1.xml", utf16));
        assert_eq!(refused(&zip_raw(&entries)).message_id, "xlsx-dtd");
    }

    #[test]
    fn the_dtd_scan_sees_across_buffer_boundaries() {
        let text = b"xx<!DocType y>";
        for split in 0..=text.len() {
            let mut scan = Scan::new(MAX_RUN_BYTES);
            let (a, b) = text.split_at(split);
            let seen = scan.feed(a).or_else(|| scan.feed(b));
            assert_eq!(seen, Some("xlsx-dtd"), "split at {split}");
        }
        let mut scan = Scan::new(MAX_RUN_BYTES);
        assert_eq!(scan.feed(b"<<!DOCTYP"), None);
        assert_eq!(
            scan.feed(b"E"),
            Some("xlsx-dtd"),
            "a second < restarts the match"
        );
        let mut scan = Scan::new(MAX_RUN_BYTES);
        assert_eq!(scan.feed(b"<!-- DOCTYPE ENTITY --> <!ENTIT <!x"), None);
    }

    #[test]
    fn a_shared_strings_count_the_part_cannot_hold_is_refused() {
        let mut scan = Scan::new(MAX_RUN_BYTES);
        assert_eq!(scan.feed(b"<sst uniqueCount = \n'12"), None);
        assert_eq!(
            scan.feed(b"34' count=\x2299\x22 uniqueCount=\x225\x22>"),
            None
        );
        assert_eq!(scan.unique_count, 1234);
        let mut scan = Scan::new(MAX_RUN_BYTES);
        scan.feed(b"uniqueuniqueCount=\x22999999999999999999999999\x22");
        assert_eq!(scan.unique_count, u64::MAX, "saturates");

        let mut p = parts(&sheet(
            r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>"#,
        ));
        p.push((
            "xl/sharedStrings.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="1000000000000"><si><t>code</t></si><si><t>name</t></si></sst>"#.into(),
        ));
        let problem = refused(&zip_of(&p));
        assert_eq!(
            (problem.message_id, problem.detail.as_deref()),
            (
                "xlsx-not-workbook",
                Some("xl/sharedStrings.xml: uniqueCount 1000000000000")
            )
        );
    }

    #[test]
    fn the_census_counts_kept_elements_by_local_name_across_buffers() {
        let xml = b"<?xml?><sst><si><t>a</t></si><x:si/><averyveryverylongprefix:si>\
                    </si><!-- <si> --><sis/><s/><styleSheet><fonts><font><name val=\"Arial\"/></font></fonts>\
                    <numFmts><numFmt numFmtId='164' formatCode='0.00\">\"'/></numFmts>\
                    <cellXfs count=\"2\"><xf/><xf numFmtId=\"164\"></xf></cellXfs><fills><fill/></fills>\
                    <borders><border></border></borders></styleSheet><Relationship Id='r'/>\
                    <sheets><sheet name='a'/><sheetView/></sheets><definedName name='n'>x</definedName>";
        let expected = Census {
            // Also the one in the comment: counting more is safe.
            shared_strings: 4,
            styles: 6,
            names: 3,
            // `<numFmt numFmtId='164' formatCode='0.00">"'/>`: the `>` in quotes is no end.
            longest_copied: 45,
        };
        for split in 0..=xml.len() {
            let mut scan = Scan::new(MAX_RUN_BYTES);
            let (a, b) = xml.split_at(split);
            assert_eq!(scan.feed(a).or_else(|| scan.feed(b)), None);
            assert_eq!(scan.census, expected, "split at {split}");
        }
        assert_eq!(expected.style_bytes(), 6 * (512 + 90));
        assert_eq!(expected.kept_bytes(), 4 * 80 + 6 * (512 + 90) + 3 * 256);
    }

    #[test]
    fn a_stretch_without_markup_is_refused_past_its_limit() {
        let mut scan = Scan::new(10);
        assert_eq!(scan.feed(b"0123456789<"), None);
        assert_eq!(scan.feed(b"<a>bcdefghi<"), None, "ten bytes after each <");
        assert_eq!(scan.feed(b"0123456789x"), Some("xlsx-entry-too-large"));
        // In a workbook: one cell of 5 MiB.
        let xml = sheet(&format!(
            r#"<row r="1"><c r="A1" t="inlineStr"><is><t>{}</t></is></c></row>"#,
            "x".repeat(5 << 20)
        ));
        assert_eq!(
            refused(&zip_of(&parts(&xml))),
            Problem::with(1, "", "xlsx-entry-too-large", "xl/worksheets/sheet1.xml")
        );
    }

    #[test]
    fn styles_copying_a_long_font_name_into_many_formats_are_refused() {
        let styles = |name_len: usize, formats: usize| {
            let mut p = parts(&sheet(""));
            p.push((
                "xl/styles.xml",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><name val="{}"/></font></fonts><cellXfs>{}</cellXfs></styleSheet>"#,
                    "F".repeat(name_len),
                    r#"<xf fontId="0"/>"#.repeat(formats)
                ),
            ));
            zip_of(&p)
        };
        // A thousand formats with an ordinary name read; with a name of 64 KiB (each format
        // would copy it), a hundred and fifty are too many.
        assert!(check_container(&styles(20, 1_000), &Limits::default()).is_ok());
        assert_eq!(
            refused(&styles(64 * 1024, 150)),
            Problem::with(1, "", "xlsx-entry-too-large", "xl/styles.xml")
        );
    }

    #[test]
    fn shared_strings_past_the_files_share_are_refused() {
        // 600,000 empty strings: 48 MB kept for a file of a few kilobytes.
        let mut p = parts(&sheet(""));
        p.push((
            "xl/sharedStrings.xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{}</sst>"#,
                "<si/>".repeat(600_000)
            ),
        ));
        let bytes = zip_of(&p);
        assert!(bytes.len() < 100_000, "{}", bytes.len());
        assert_eq!(
            refused(&bytes),
            Problem::with(1, "", "xlsx-too-large", "xl/sharedStrings.xml")
        );
    }

    #[test]
    fn a_cell_longer_than_excel_allows_is_a_problem_naming_it() {
        let xml = sheet(&format!(
            r#"<row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c><c r="B1" t="inlineStr"><is><t>名称</t></is></c></row>
               <row r="2"><c r="A2" t="inlineStr"><is><t>a</t></is></c><c r="B2" t="inlineStr"><is><t>{}</t></is></c></row>
               <row r="3"><c r="A3" t="inlineStr"><is><t>b</t></is></c><c r="B3" t="inlineStr"><is><t>{}</t></is></c></row>"#,
            "長".repeat(32_767),
            "長".repeat(32_768),
        ));
        let err = read_xlsx(&zip_of(&parts(&xml)), Units::COLUMNS).expect_err("too long");
        assert_eq!(ids(&err), [(3, "名称", "import-cell-too-long")]);
        assert_eq!(err[0].detail.as_deref(), Some("B3: 32768"));
    }

    #[test]
    fn junk_truncated_and_encrypted_files_are_refused() {
        let good = write_xlsx::<Units>(&units(), true).expect("write");
        assert_eq!(
            refused(b"PK\x03\x04 not really a zip").message_id,
            "xlsx-not-workbook"
        );
        // Random bytes behind the magic.
        let mut seed: u32 = 0x2545_F491;
        let mut junk = ZIP_MAGIC.to_vec();
        junk.extend((0..64 * 1024).map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed.to_le_bytes()[0]
        }));
        assert_eq!(refused(&junk).message_id, "xlsx-not-workbook");
        assert_eq!(
            refused(&good[..good.len() / 2]).message_id,
            "xlsx-not-workbook"
        );
        assert_eq!(
            refused(&good[..good.len() - 1]).message_id,
            "xlsx-not-workbook"
        );
        // Flip bytes in the middle of the compressed data: CRC or inflate fails.
        let mut corrupt = good.clone();
        let mid = corrupt.len() / 3;
        for b in &mut corrupt[mid..mid + 64] {
            *b ^= 0x5A;
        }
        assert_eq!(refused(&corrupt).message_id, "xlsx-not-workbook");
        // A ZIP that is not a workbook.
        let other = zip_of(&[("hello.txt", "hi".to_owned())]);
        assert_eq!(refused(&other).message_id, "xlsx-not-workbook");
        // Legacy .xls or password-protected workbooks are not read as text.
        let mut ole = OLE_MAGIC.to_vec();
        ole.extend_from_slice(&[0; 512]);
        assert_eq!(
            read_any_file::<Units>(&ole).expect_err("refused"),
            [Problem::new(1, "", "xlsx-ole")]
        );
        // Entries compressed with a method other than stored or deflate (12: bzip2), or
        // encrypted (general purpose flag bit 0), patched into both headers of one entry.
        let patched = |f: &dyn Fn(&mut [u8], usize)| {
            let mut bytes = zip_raw(&[("a.xml", b"<a/>".to_vec())]);
            let central = bytes
                .windows(4)
                .position(|w| w == b"PK\x01\x02")
                .expect("central directory");
            f(&mut bytes, 0);
            // The central header has the version made by before the same fields.
            f(&mut bytes, central + 2);
            bytes
        };
        let bzip2 = patched(&|b, at| b[at + 8] = 12);
        assert_eq!(refused(&bzip2).message_id, "xlsx-compression");
        let encrypted = patched(&|b, at| b[at + 6] |= 1);
        assert_eq!(refused(&encrypted).message_id, "xlsx-encrypted");
    }

    #[test]
    fn csv_still_reads_through_the_sniffing_entry() {
        let csv = super::super::kind::write_csv::<Units>(&units(), true).expect("csv");
        assert_eq!(records_of::<Units>(csv.as_bytes()), units());
    }

    #[test]
    fn writing_refuses_what_the_format_cannot_hold() {
        let mut long = units();
        long[0].name = "長".repeat(40_000);
        let err = write_xlsx::<Units>(&long, true).expect_err("too long");
        assert!(!err.is_empty());
        assert!(write_xlsx::<Units>(&[], true).is_ok());
    }
}

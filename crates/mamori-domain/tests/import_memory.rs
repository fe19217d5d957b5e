//! The memory a hostile import file can make the reader take. The issue's bound: "a 1 MB
//! hostile file must not take more than 64 MB of memory", for XLSX (zip bombs in the sheet,
//! the styles, the shared strings, single cells) and for CSV.
//!
//! The workspace forbids `unsafe`, so no counting allocator can be installed. Each case runs
//! in a child process instead: this test binary, run again with [`CASE_ENV`] naming a file and
//! a kind, reads the file as the importer does ([`read_any_file`]: the workbook checked, read
//! into a table, the table into records) and prints its peak resident set size (`VmHWM`)
//! before and after. The parent asserts on what was read and on the growth.
//!
//! Every hostile file is built here, at most 1,000,000 bytes, and at the largest size the
//! limits let through where there is one: a file is padded with incompressible bytes up to
//! 1 MB, which buys the most room a 1 MB file can have.
#![cfg(target_os = "linux")]

use mamori_domain::assets::{AssetStatus, AssetType, Segment};
use mamori_domain::interchange::assets::{AssetRecord, Assets};
use mamori_domain::interchange::kind::Kind;
use mamori_domain::interchange::table::{Problem, MAX_PROBLEMS};
use mamori_domain::interchange::units::Units;
use mamori_domain::interchange::xlsx::{
    check_container, read_any_file, write_xlsx, Limits, MAX_RUN_BYTES,
};
use std::io::Write;
use std::process::Command;

/// Set in the child: `KIND PATH`.
const CASE_ENV: &str = "MAMORI_IMPORT_MEMORY_CASE";

/// The largest hostile file.
const FILE_BYTES: usize = 1_000_000;

/// The most a hostile file may make the reader's peak resident set grow by (64 MB).
const MAX_GROWTH: u64 = 64_000_000;

/// What a child read, and how much its peak resident set grew.
#[derive(Debug)]
struct Outcome {
    /// Bytes the peak resident set grew by while reading.
    growth: u64,
    /// Records read, when the file was accepted.
    records: Option<usize>,
    /// Problems, when it was not.
    problems: Vec<Problem>,
}

impl Outcome {
    /// The message ids of the problems.
    fn ids(&self) -> Vec<&str> {
        self.problems.iter().map(|p| p.message_id).collect()
    }

    /// The one problem refusing the whole file.
    fn refusal(&self) -> (&str, Option<&str>) {
        assert_eq!(self.problems.len(), 1, "{:?}", self.problems);
        let p = &self.problems[0];
        (p.message_id, p.detail.as_deref())
    }

    /// Asserts the growth is within the bound.
    fn within_bound(&self, case: &str) {
        println!("{case}: peak grew by {} kB", self.growth / 1000);
        assert!(
            self.growth <= MAX_GROWTH,
            "{case}: {} bytes > {MAX_GROWTH}",
            self.growth
        );
    }

    /// Asserts reading stopped at the problem cap.
    fn stopped_at_the_cap(&self) {
        assert_eq!(self.records, None);
        assert_eq!(self.problems.len(), MAX_PROBLEMS + 1, "{:?}", self.ids());
        let last = self.problems.last().expect("problems");
        assert_eq!(last.message_id, "import-too-many-problems");
        assert_eq!(last.column, "");
    }
}

/// The peak resident set size of this process, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kib * 1024
}

fn read_as<K: Kind>(bytes: &[u8]) -> serde_json::Value {
    match read_any_file::<K>(bytes) {
        Ok(records) => serde_json::json!({ "records": records.len() }),
        Err(problems) => serde_json::json!({
            "problems": problems
                .iter()
                .map(|p| serde_json::json!([p.line, p.column, p.message_id, p.detail]))
                .collect::<Vec<_>>(),
        }),
    }
}

/// The child: reads the file named by [`CASE_ENV`] and prints what it read and its peak
/// resident set before and after, on one line after `MEMORY `. Does nothing in a normal run.
#[test]
#[ignore = "run in a child process by the other tests of this file"]
fn child() {
    let Ok(case) = std::env::var(CASE_ENV) else {
        return;
    };
    let (kind, path) = case.split_once(' ').expect("KIND PATH");
    let bytes = std::fs::read(path).expect("read the case");
    let before = peak_rss();
    let mut out = match kind {
        "units" => read_as::<Units>(&bytes),
        "assets" => read_as::<Assets>(&bytes),
        other => panic!("unknown kind {other}"),
    };
    let after = peak_rss();
    out["before"] = before.into();
    out["after"] = after.into();
    println!("MEMORY {out}");
}

/// Reads `bytes` as `kind` in a child process.
fn measure(kind: &str, bytes: &[u8], case: &str) -> Outcome {
    let path = std::env::temp_dir().join(format!(
        "mamori-import-memory-{}-{case}",
        std::process::id()
    ));
    std::fs::write(&path, bytes).expect("write the case");
    let out = Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CASE_ENV, format!("{kind} {}", path.display()))
        .output()
        .expect("run the child");
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("MEMORY ").map(|(_, json)| json))
        .unwrap_or_else(|| {
            panic!(
                "{case}: no result\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let v: serde_json::Value = serde_json::from_str(line).expect("the child's JSON");
    let problems = v["problems"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| Problem {
                    line: p[0].as_u64().expect("line"),
                    column: p[1].as_str().expect("column").to_owned(),
                    // Message ids are few and static; a test may leak them.
                    message_id: Box::leak(p[2].as_str().expect("id").to_owned().into_boxed_str()),
                    detail: p[3].as_str().map(str::to_owned),
                })
                .collect()
        })
        .unwrap_or_default();
    Outcome {
        growth: v["after"].as_u64().expect("after") - v["before"].as_u64().expect("before"),
        records: v["records"].as_u64().map(|n| n as usize),
        problems,
    }
}

// ---------------------------------------------------------------------------------------------
// Building workbooks byte by byte: large entries are deflated without ever being held.

/// One ZIP entry, compressed.
struct Part {
    name: String,
    /// 0: stored, 8: deflated.
    method: u16,
    crc: u32,
    size: u32,
    data: Vec<u8>,
}

fn stored(name: &str, bytes: &[u8]) -> Part {
    Part {
        name: name.into(),
        method: 0,
        crc: crc32fast::hash(bytes),
        size: u32::try_from(bytes.len()).expect("small"),
        data: bytes.to_vec(),
    }
}

/// Raw deflate of `bytes`, self-contained and flushed to a byte boundary, not final: such
/// pieces may follow one another in one stream.
fn deflate_piece(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).expect("deflate");
    e.flush().expect("flush");
    e.get_ref().clone()
}

fn deflated(name: &str, bytes: &[u8]) -> Part {
    repeated(name, bytes, b"", 0, b"")
}

/// An entry of `head`, `body` `times` times, then `tail`: `body` is compressed once.
fn repeated(name: &str, head: &[u8], body: &[u8], times: usize, tail: &[u8]) -> Part {
    let mut data = deflate_piece(head);
    let piece = deflate_piece(body);
    for _ in 0..times {
        data.extend_from_slice(&piece);
    }
    data.extend_from_slice(&deflate_piece(tail));
    // A final, empty block with fixed codes.
    data.extend_from_slice(&[0x03, 0x00]);
    let hasher = |bytes: &[u8]| {
        let mut h = crc32fast::Hasher::new();
        h.update(bytes);
        h
    };
    let mut crc = hasher(head);
    let one = hasher(body);
    for _ in 0..times {
        crc.combine(&one);
    }
    crc.combine(&hasher(tail));
    let size = head.len() + body.len() * times + tail.len();
    Part {
        name: name.into(),
        method: 8,
        crc: crc.finalize(),
        size: u32::try_from(size).expect("under 4 GiB"),
        data,
    }
}

/// A ZIP archive of the parts.
fn zip(parts: &[Part]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for p in parts {
        let at = u32::try_from(out.len()).expect("small");
        // Version 2.0, no flags, the method, 1980-01-01 00:00, CRC and sizes, name length.
        let fields = |o: &mut Vec<u8>| {
            for v in [20u16, 0, p.method, 0, 0x21] {
                o.extend_from_slice(&v.to_le_bytes());
            }
            for v in [p.crc, p.data.len() as u32, p.size] {
                o.extend_from_slice(&v.to_le_bytes());
            }
            o.extend_from_slice(&(p.name.len() as u16).to_le_bytes());
        };
        out.extend_from_slice(b"PK\x03\x04");
        fields(&mut out);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(p.name.as_bytes());
        out.extend_from_slice(&p.data);
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&20u16.to_le_bytes());
        fields(&mut central);
        // No extra field or comment, disk 0, no attributes, then the local header's offset.
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&at.to_le_bytes());
        central.extend_from_slice(p.name.as_bytes());
    }
    let central_at = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    let n = parts.len() as u16;
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_at.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

const NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const PACKAGE_RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const DOC_RELS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// The parts around one worksheet (`xl/worksheets/sheet1.xml`, not included).
fn frame() -> Vec<Part> {
    vec![
        deflated(
            "[Content_Types].xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        deflated(
            "_rels/.rels",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#).as_bytes(),
        ),
        deflated(
            "xl/workbook.xml",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="{DOC_RELS}"><sheets><sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>"#).as_bytes(),
        ),
        deflated(
            "xl/_rels/workbook.xml.rels",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#).as_bytes(),
        ),
    ]
}

/// The start of a worksheet whose first row is `header` (inline strings).
fn sheet_head(header: &[&str]) -> String {
    let cells: String = header
        .iter()
        .map(|h| format!(r#"<c t="inlineStr"><is><t>{h}</t></is></c>"#))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"><sheetData><row>{cells}</row>"#
    )
}

const SHEET_TAIL: &[u8] = b"</sheetData></worksheet>";

const NOISE: &str = "xl/media/noise.bin";

/// Noise: incompressible bytes (no `<` runs anywhere near a limit).
fn noise(n: usize) -> Vec<u8> {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

/// The size of the noise entry that pads `parts` to [`FILE_BYTES`].
fn padding(parts: &[Part]) -> usize {
    // A local and a central header and the name twice.
    let overhead = 30 + 46 + 2 * NOISE.len();
    FILE_BYTES - zip(parts).len() - overhead
}

/// `parts` padded with noise to exactly [`FILE_BYTES`]. The noise comes first, so that a part
/// past the budget is the one named.
fn padded(mut parts: Vec<Part>) -> Vec<u8> {
    let n = padding(&parts);
    parts.insert(0, stored(NOISE, &noise(n)));
    let out = zip(&parts);
    assert_eq!(out.len(), FILE_BYTES);
    out
}

/// All the bytes the parts and their padding decompress to.
fn unpacked(parts: &[Part]) -> usize {
    parts.iter().map(|p| p.size as usize).sum::<usize>() + padding(parts)
}

/// A 1 MB workbook whose sheet is `header` and then `row` as many times as fit what a 1 MB
/// file may decompress to. Returns the workbook and the same with one more chunk of rows.
fn sheet_at_the_budget(header: &[&str], row: &str) -> (Vec<u8>, Vec<u8>) {
    let budget = Limits::default().total_budget(FILE_BYTES as u64) as usize;
    let head = sheet_head(header);
    let chunk = row.repeat(64 * 1024 / row.len());
    let build = |times: usize| {
        let mut parts = frame();
        parts.push(repeated(
            "xl/worksheets/sheet1.xml",
            head.as_bytes(),
            chunk.as_bytes(),
            times,
            SHEET_TAIL,
        ));
        parts
    };
    // Each chunk adds its bytes and takes its compressed size from the padding.
    let (none, one) = (unpacked(&build(0)), unpacked(&build(1)));
    let times = (budget - none) / (one - none);
    assert!(unpacked(&build(times)) <= budget);
    assert!(unpacked(&build(times + 1)) > budget);
    (padded(build(times)), padded(build(times + 1)))
}

/// A 1 MB workbook with `part` beside a sheet of a header and a few rows.
fn workbook_with(part: Part) -> Vec<u8> {
    let mut parts = frame();
    let sheet = format!(
        "{}<row><c><v>1</v></c></row>{}",
        sheet_head(&["code", "name"]),
        String::from_utf8_lossy(SHEET_TAIL)
    );
    parts.push(deflated("xl/worksheets/sheet1.xml", sheet.as_bytes()));
    parts.push(part);
    padded(parts)
}

/// The largest `n` up to `most` for which `build(n)` passes the container check, and its
/// workbook (`build` must pass for 1 and grow with `n`).
fn largest_passing(most: usize, build: impl Fn(usize) -> Vec<u8>) -> (usize, Vec<u8>) {
    let passes = |n: usize| check_container(&build(n), &Limits::default()).is_ok();
    let (mut ok, mut over) = (1, most);
    assert!(passes(ok));
    assert!(!passes(over));
    while over - ok > 1 {
        let mid = ok + (over - ok) / 2;
        if passes(mid) {
            ok = mid;
        } else {
            over = mid;
        }
    }
    (ok, build(ok))
}

const ASSET_HEADER: &[&str] = &["名称", "種別", "所管組織", "機密性", "完全性", "可用性"];

// ---------------------------------------------------------------------------------------------

#[test]
fn bad_rows_filling_the_budget_cost_their_problems_not_their_rows() {
    // One value per row: five required values missing on each of about 770,000 rows.
    let (bytes, one_more) = sheet_at_the_budget(ASSET_HEADER, "<row><c><v>1</v></c></row>");
    assert_eq!(check_container(&bytes, &Limits::default()), Ok(()));
    assert_eq!(
        check_container(&one_more, &Limits::default()),
        Err(Problem::with(
            1,
            "",
            "xlsx-too-large",
            "xl/worksheets/sheet1.xml"
        ))
    );
    let out = measure("assets", &bytes, "bad-rows");
    out.stopped_at_the_cap();
    assert_eq!(out.problems[0].message_id, "import-required-value");
    // Five problems a row: checking stopped on row 202.
    assert_eq!(out.problems.last().map(|p| p.line), Some(202));
    out.within_bound("bad rows at the budget");
}

#[test]
fn rows_failing_only_as_records_stop_at_the_cap_too() {
    // Every row has its values (the table holds them all) and repeats the key of the first.
    let (bytes, _) = sheet_at_the_budget(
        &["code", "name"],
        "<row><c><v>1</v></c><c><v>1</v></c></row>",
    );
    let out = measure("units", &bytes, "repeated-keys");
    out.stopped_at_the_cap();
    assert_eq!(out.problems[0].message_id, "import-duplicate-key");
    out.within_bound("repeated keys at the budget");
}

#[test]
fn millions_of_styles_are_refused_before_they_are_read() {
    let styles = |body: &str, count: usize| {
        repeated(
            "xl/styles.xml",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{NS}">"#)
                .as_bytes(),
            body.repeat(1_000).as_bytes(),
            count / 1_000,
            b"</styleSheet>",
        )
    };
    // 3,000,000 cell formats, 2,500,000 fonts: under a hundred kilobytes compressed each.
    let cases = [
        ("xfs", styles("<xf/>", 3_000_000)),
        ("fonts", styles("<font/>", 2_500_000)),
    ];
    for (case, part) in cases {
        let out = measure("units", &workbook_with(part), case);
        assert_eq!(
            out.refusal(),
            ("xlsx-entry-too-large", Some("xl/styles.xml")),
            "{case}"
        );
        out.within_bound(case);
    }
}

#[test]
fn the_most_styles_a_megabyte_may_hold_stay_within_the_bound() {
    // Each cell format copies a font name and a number format of a thousand characters: the
    // most formats the check lets through are read.
    let long = "F".repeat(1_000);
    let build = |n: usize| {
        workbook_with(deflated(
            "xl/styles.xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{NS}"><numFmts><numFmt numFmtId="164" formatCode="{long}"/></numFmts><fonts><font><name val="{long}"/></font></fonts><cellXfs>{}</cellXfs></styleSheet>"#,
                r#"<xf numFmtId="164" fontId="0"/>"#.repeat(n)
            )
            .as_bytes(),
        ))
    };
    let (n, bytes) = largest_passing(100_000, build);
    assert!(n > 1_000, "{n}");
    let out = measure("units", &bytes, "styles");
    assert_eq!(out.ids(), ["import-required-value"]);
    out.within_bound(&format!("{n} long styles"));
}

#[test]
fn millions_of_shared_strings_are_refused_before_they_are_read() {
    let part = repeated(
        "xl/sharedStrings.xml",
        format!(r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}">"#).as_bytes(),
        "<si><t>a</t></si>".repeat(1_000).as_bytes(),
        3_700,
        b"</sst>",
    );
    let out = measure("units", &workbook_with(part), "shared-strings");
    assert_eq!(
        out.refusal(),
        ("xlsx-too-large", Some("xl/sharedStrings.xml"))
    );
    out.within_bound("3.7 million shared strings");
}

#[test]
fn the_most_shared_strings_a_megabyte_may_hold_stay_within_the_bound() {
    let build = |n: usize| {
        workbook_with(repeated(
            "xl/sharedStrings.xml",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}">"#).as_bytes(),
            "<si><t>a</t></si>".repeat(100).as_bytes(),
            n,
            b"</sst>",
        ))
    };
    let (n, bytes) = largest_passing(10_000, build);
    assert!(n * 100 > 100_000, "{n}");
    let out = measure("units", &bytes, "most-shared-strings");
    assert_eq!(out.ids(), ["import-required-value"]);
    out.within_bound(&format!("{} shared strings", n * 100));
}

#[test]
fn huge_cells_are_problems_without_being_copied() {
    // Cells as long as a stretch between two `<` may be (a little under 4 MiB), and cells
    // pieced together from such runs (rich text), filling what 1 MB may unpack to.
    let big = "x".repeat(MAX_RUN_BYTES as usize - 64);
    let budget = Limits::default().total_budget(FILE_BYTES as u64) as usize;
    let plain = format!(r#"<row><c t="inlineStr"><is><t>{big}</t></is></c></row>"#);
    let rich = format!(
        r#"<row><c t="inlineStr"><is>{}</is></c></row>"#,
        format!("<r><t>{big}</t></r>").repeat(2)
    );
    for (case, row) in [("plain", plain), ("rich", rich)] {
        let head = sheet_head(&["code", "name"]);
        let times = (budget - FILE_BYTES) / row.len();
        let mut parts = frame();
        parts.push(repeated(
            "xl/worksheets/sheet1.xml",
            head.as_bytes(),
            row.as_bytes(),
            times,
            SHEET_TAIL,
        ));
        let bytes = padded(parts);
        let out = measure("units", &bytes, case);
        assert_eq!(out.ids(), vec!["import-cell-too-long"; times], "{case}");
        assert_eq!(out.problems[0].column, "code");
        out.within_bound(&format!("{times} {case} cells"));
    }
}

#[test]
fn a_megabyte_of_bad_csv_rows_costs_its_problems_not_its_rows() {
    let mut csv = String::from("code,name\n");
    while csv.len() + 2 <= FILE_BYTES {
        csv.push_str("1\n");
    }
    let out = measure("units", csv.as_bytes(), "csv");
    out.stopped_at_the_cap();
    assert_eq!(
        out.problems[0],
        Problem::new(2, "name", "import-required-value")
    );
    assert_eq!(out.problems[MAX_PROBLEMS].line, 1002);
    out.within_bound("1 MB of CSV rows");
}

#[test]
fn a_csv_cell_longer_than_excel_allows_is_a_problem() {
    let csv = format!(
        "code,name\na,{}\nb,{}\n",
        "長".repeat(32_767),
        "長".repeat(32_768)
    );
    let out = measure("units", csv.as_bytes(), "csv-long-cell");
    assert_eq!(
        out.problems,
        [Problem::with(3, "name", "import-cell-too-long", "32768")]
    );
}

/// A register of `n` assets as an organisation would keep it: names, units, places and
/// descriptions in Japanese, varied.
fn register(n: usize) -> Vec<AssetRecord> {
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut pick = move |m: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % m as u64) as usize
    };
    let units = [
        "総務課",
        "財政課",
        "税務課",
        "市民課",
        "保険年金課",
        "福祉課",
        "介護保険課",
        "子育て支援課",
        "健康推進課",
        "環境課",
        "農林課",
        "商工観光課",
        "建設課",
        "都市計画課",
        "上下水道課",
        "会計課",
        "教育総務課",
        "学校教育課",
        "生涯学習課",
        "議会事務局",
        "選挙管理委員会",
        "監査委員事務局",
        "情報政策課",
        "危機管理課",
    ];
    let things = [
        "業務用ノートPC",
        "デスクトップPC",
        "複合機",
        "住民記録システム",
        "税務システム",
        "介護保険システム",
        "財務会計システム",
        "文書管理システム",
        "ファイルサーバ",
        "L3スイッチ",
        "無線LANアクセスポイント",
        "USBメモリ",
        "外付けHDD",
        "申請書綴り",
        "会議録",
        "住民台帳（紙）",
        "ネットワーク構成図",
        "システム仕様書",
        "バックアップテープ",
        "タブレット端末",
    ];
    let places = [
        "本庁舎",
        "第二庁舎",
        "保健センター",
        "図書館",
        "市民会館",
        "データセンター",
        "支所",
    ];
    let rooms = [
        "サーバ室",
        "執務室",
        "書庫",
        "倉庫",
        "会議室",
        "窓口",
        "機械室",
    ];
    let notes = [
        "住民情報を含む",
        "個人番号を扱う",
        "庁内LANに接続",
        "外部委託先が保守",
        "年1回の棚卸し対象",
        "暗号化済み",
        "施錠保管",
        "バックアップあり",
        "閲覧は課内のみ",
        "更新予定あり",
        "リース契約",
        "予備機",
    ];
    let levels = ["1", "2", "3A", "3B"];
    (0..n)
        .map(|i| {
            let disposed = pick(20) == 0;
            let description: Vec<&str> =
                (0..1 + pick(3)).map(|_| notes[pick(notes.len())]).collect();
            AssetRecord {
                id: Some((100_000 + i).to_string()),
                name: format!(
                    "{}{} {}号機",
                    units[pick(units.len())],
                    things[pick(things.len())],
                    1 + pick(500)
                ),
                asset_type: AssetType::ALL[pick(AssetType::ALL.len())],
                owner_unit: units[pick(units.len())].to_owned(),
                custodian: format!("{:06}", pick(5_000)),
                segment: Segment::ALL[pick(Segment::ALL.len())],
                confidentiality: levels[pick(4)].into(),
                integrity: levels[pick(2)].into(),
                availability: levels[pick(2)].into(),
                location: format!(
                    "{}{}階{} {}-{}",
                    places[pick(places.len())],
                    1 + pick(6),
                    rooms[pick(rooms.len())],
                    ["A", "B", "C"][pick(3)],
                    1 + pick(40)
                ),
                description: description.join("、"),
                personal_data: pick(2) == 0,
                rto_hours: (pick(3) == 0).then(|| [4, 24, 72, 168][pick(4)]),
                review_on: time::Date::from_calendar_date(
                    2026 + pick(3) as i32,
                    time::Month::March,
                    31,
                )
                .ok(),
                status: if disposed {
                    AssetStatus::Disposed
                } else {
                    AssetStatus::InUse
                },
                disposed_on: if disposed {
                    time::Date::from_calendar_date(2025, time::Month::October, 1 + pick(28) as u8)
                        .ok()
                } else {
                    None
                },
                disposal_method: if disposed {
                    "物理破壊（業者委託）".into()
                } else {
                    String::new()
                },
            }
        })
        .collect()
}

#[test]
fn a_register_of_100_000_assets_written_by_mamori_still_reads() {
    let records = register(100_000);
    let bytes = write_xlsx::<Assets>(&records, true).expect("write");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).expect("a ZIP");
    let unpacked: u64 = (0..archive.len())
        .map(|i| archive.by_index(i).expect("entry").size())
        .sum();
    let limits = Limits::default();
    println!(
        "register of 100,000 assets: {} bytes, unpacks to {unpacked} ({:.1} times; budget {})",
        bytes.len(),
        unpacked as f64 / bytes.len() as f64,
        limits.total_budget(bytes.len() as u64)
    );
    // Room to spare: twice what it needs, at least.
    assert!(unpacked * 2 <= limits.total_budget(bytes.len() as u64));
    let out = measure("assets", &bytes, "register");
    assert_eq!(out.problems, []);
    assert_eq!(out.records, Some(100_000));
    println!("register: peak grew by {} kB", out.growth / 1000);
}

//! Tests of the policy module, mostly against the organisation's own 基本方針.

use super::diff::{side_by_side, DiffKind, Segment};
use super::lifecycle::*;
use super::markdown::{clauses_to_markdown, clauses_to_rows, html_id, outline, ClauseRow};
use super::render::render_html;
use super::text::{ends_sentence, import_text, Clause, ImportedPolicy};
use super::SEED_BASIC_POLICY;
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use time::macros::date;

/// SHA-256 of `/work/shared/seed/000_e48c8dde5abfe02c.txt`, the organisation's document.
const SEED_SHA256: &str = "d95cd6b4f2e630d2194815e18c924dd2815a7f4fcd132da63e252831c99ab4a1";

fn seed() -> ImportedPolicy {
    match import_text(SEED_BASIC_POLICY) {
        Ok(policy) => policy,
        Err(e) => panic!("the seed must import: {e}"),
    }
}

fn find<'a>(clauses: &'a [Clause], anchor: &str) -> &'a Clause {
    fn go<'a>(clauses: &'a [Clause], anchor: &str) -> Option<&'a Clause> {
        for c in clauses {
            if c.anchor == anchor {
                return Some(c);
            }
            if let Some(found) = go(&c.children, anchor) {
                return Some(found);
            }
        }
        None
    }
    go(clauses, anchor).unwrap_or_else(|| panic!("no clause {anchor}"))
}

#[test]
fn seed_file_is_the_shared_seed() {
    let hash = hex::encode(Sha256::digest(SEED_BASIC_POLICY.as_bytes()));
    assert_eq!(hash, SEED_SHA256);
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/seed/000_e48c8dde5abfe02c.txt");
    if shared.exists() {
        let bytes = std::fs::read(&shared).expect("read shared seed");
        assert!(
            bytes == SEED_BASIC_POLICY.as_bytes(),
            "content/policy differs from the shared seed"
        );
    }
}

#[test]
fn seed_header_and_history() {
    let p = seed();
    assert_eq!(p.organisation, "桑名・員弁広域連合");
    assert_eq!(p.title_lines, ["情報セキュリティポリシー", "(基本方針)"]);
    assert_eq!(p.title, "情報セキュリティポリシー（基本方針）");
    assert_eq!(p.heading, "情報セキュリティ基本方針");
    assert_eq!(p.history.len(), 1);
    let row = &p.history[0];
    assert_eq!(row.edition, "初版");
    assert_eq!(row.created, "令和8年3月25日");
    assert_eq!(row.created_on, Some(date!(2026 - 03 - 25)));
    assert_eq!(row.author, "桑名・員弁広域連合");
    assert_eq!(row.approval, "令和8年3月25日");
    assert_eq!(row.approved_on, Some(date!(2026 - 03 - 25)));
    assert_eq!(parse_edition(&row.edition), Some(1));
}

#[test]
fn seed_clause_tree() {
    let p = seed();
    let c = &p.clauses;
    assert_eq!(c.len(), 8);
    let anchors: Vec<&str> = c.iter().map(|c| c.anchor.as_str()).collect();
    assert_eq!(anchors, ["1", "2", "3", "4", "5", "6", "7", "8"]);
    assert_eq!(c[0].label, "1.");
    assert_eq!(c[0].title.as_deref(), Some("目的"));
    assert_eq!(c[0].paragraphs.len(), 1);

    let terms: Vec<&str> = c[1]
        .children
        .iter()
        .map(|d| d.title.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(
        terms,
        [
            "ネットワーク",
            "情報システム",
            "情報セキュリティ",
            "情報セキュリティポリシー",
            "機密性",
            "完全性",
            "可用性",
            "インターネット接続系"
        ]
    );
    for d in &c[1].children {
        assert_eq!(d.paragraphs.len(), 1, "{}", d.anchor);
        assert!(d.paragraphs[0].ends_with("をいう。"), "{}", d.anchor);
    }
    assert_eq!(find(c, "2(4)").paragraphs, ["本基本方針をいう。"]);

    let threats = &c[2];
    assert_eq!(threats.paragraphs.len(), 1);
    assert_eq!(threats.children.len(), 5);
    for (i, b) in threats.children.iter().enumerate() {
        assert_eq!(b.anchor, format!("3({})", i + 1));
        assert_eq!(b.title, None);
        assert_eq!(b.paragraphs.len(), 1);
    }
    let joined = &find(c, "3(2)").paragraphs[0];
    assert!(joined.contains("設計・開発の不備、プログラム上の欠陥"));
    assert!(joined.starts_with("情報資産の無断持ち出し"));
    assert!(joined.ends_with("漏えい・破壊・消去等"));

    let scope = find(c, "4(2)");
    assert_eq!(scope.title.as_deref(), Some("情報資産の範囲"));
    assert_eq!(
        scope.paragraphs,
        ["本基本方針が対象とする情報資産は、次のとおりとする。"]
    );
    let circled: Vec<(&str, &str)> = scope
        .children
        .iter()
        .map(|b| (b.anchor.as_str(), b.label.as_str()))
        .collect();
    assert_eq!(circled, [("4(2)①", "①"), ("4(2)②", "②"), ("4(2)③", "③")]);
    assert!(find(c, "4(2)②").paragraphs[0].ends_with("（これらを印刷した文書を含む。）"));
    assert!(find(c, "4(1)").children.is_empty());

    let measures = &c[5];
    let labels: Vec<&str> = measures.children.iter().map(|m| m.label.as_str()).collect();
    assert_eq!(
        labels,
        ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)", "(8)", "(9)"]
    );
    assert_eq!(find(c, "6(3)").paragraphs.len(), 2);
    assert_eq!(find(c, "6(8)").paragraphs.len(), 3);
    assert_eq!(
        find(c, "6(8)").title.as_deref(),
        Some("業務委託と外部サービス（クラウドサービス）の利用")
    );
    assert_eq!(find(c, "6(7)").paragraphs.len(), 1);
    assert!(c[7].children.is_empty());
    assert!(c[7].paragraphs[0].ends_with("情報セキュリティポリシーを見直す。"));
}

/// No text lost or reordered. Compared: every non-whitespace character of the seed file, in
/// order, except a bullet's leading `-` (the first non-whitespace character of a line when a
/// space follows it). Reconstructed from the import: organisation, title lines as written,
/// the literal `改版履歴` (the section marker the importer recognises), the history header
/// cells and every row's four cells, the heading, then every clause in document order as
/// label, title, paragraphs, children.
#[test]
fn seed_no_text_lost_or_reordered() {
    let p = seed();
    let mut expected = String::new();
    for line in SEED_BASIC_POLICY.lines() {
        let trimmed = line.trim_start();
        let line = trimmed.strip_prefix("- ").unwrap_or(trimmed);
        expected.extend(line.chars().filter(|c| !c.is_whitespace()));
    }
    let mut got = String::new();
    got.push_str(&p.organisation);
    for t in &p.title_lines {
        got.push_str(t);
    }
    got.push_str("改版履歴");
    got.push_str("版数作成日作成者承認");
    for r in &p.history {
        for cell in [&r.edition, &r.created, &r.author, &r.approval] {
            got.push_str(cell);
        }
    }
    got.push_str(&p.heading);
    fn clauses(cs: &[Clause], out: &mut String) {
        for c in cs {
            out.push_str(&c.label);
            if let Some(t) = &c.title {
                out.push_str(t);
            }
            for para in &c.paragraphs {
                out.push_str(para);
            }
            clauses(&c.children, out);
        }
    }
    clauses(&p.clauses, &mut got);
    let got: String = got.chars().filter(|c| !c.is_whitespace()).collect();
    assert_eq!(got, expected);
}

#[test]
fn seed_markdown_outline_matches_tree() {
    let p = seed();
    let rows = clauses_to_rows(&p.clauses);
    assert_eq!(outline(&p.body_markdown), rows);
    assert_eq!(rows.len(), 8 + 8 + 5 + 2 + 3 + 9);
    assert!(p.body_markdown.starts_with("## 1. 目的\n\n本基本方針は"));
    assert!(p.body_markdown.contains("\n### (1) ネットワーク\n"));
    assert!(p.body_markdown.contains("\n- (2) 情報資産の無断持ち出し"));
    assert!(p.body_markdown.contains("\n- ① ネットワーク及び"));
    let r68 = rows.iter().find(|r| r.anchor == "6(8)").expect("6(8)");
    assert_eq!(r68.parent.as_deref(), Some("6"));
    assert_eq!(r68.depth, 2);
    assert_eq!(r68.text.matches("\n\n").count(), 2);
    let r421 = rows.iter().find(|r| r.anchor == "4(2)①").expect("4(2)①");
    assert_eq!(r421.parent.as_deref(), Some("4(2)"));
    assert_eq!(r421.depth, 3);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.ordinal as usize, i + 1);
    }
}

#[test]
fn seed_html_ids_are_injective() {
    let rows = clauses_to_rows(&seed().clauses);
    let ids: HashSet<String> = rows.iter().map(|r| html_id(&r.anchor)).collect();
    assert_eq!(ids.len(), rows.len());
    assert_eq!(html_id("6(8)"), "c6-8");
    assert_eq!(html_id("4(2)①"), "c4-2-c1");
    assert_eq!(html_id("1"), "c1");
    assert_eq!(html_id("6(3)(1)"), "c6-3-1");
    assert_eq!(html_id("3①"), "c3-c1");
    for r in &rows {
        assert!(super::markdown::is_clause_html_id(&html_id(&r.anchor)));
    }
}

#[test]
fn seed_renders_with_ids() {
    let html = render_html(&seed().body_markdown);
    for id in ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"] {
        assert!(html.contains(&format!("<h2 id=\"{id}\">")), "{id}");
    }
    assert!(html.contains("<h3 id=\"c6-8\">"));
    assert!(html.contains("<li id=\"c4-2-c1\">"));
    assert!(html.contains("<li id=\"c3-2\">"));
    assert!(html.contains("設計・開発の不備、プログラム上の欠陥"));
}

#[test]
fn render_removes_dangerous_markup() {
    let body = "## 1. 目的\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n\
                [x](javascript:alert(1)) <a href=\"https://example.jp\" style=\"color:red\" \
                onclick=\"alert(1)\">link</a>\n\n<h2 id=\"evil\">x</h2><p id=\"c1\">y</p>\n\n\
                <iframe src=\"https://example.jp\"></iframe>";
    let html = render_html(body);
    let lower = html.to_lowercase();
    for bad in [
        "<script",
        "alert(1)</",
        "onerror",
        "javascript:",
        "onclick",
        "style=",
        "<img",
        "id=\"evil\"",
        "<iframe",
        "<p id",
    ] {
        assert!(!lower.contains(bad), "{bad} in {html}");
    }
    assert!(html.contains("rel=\"noopener noreferrer\""));
    assert!(html.contains("<h2 id=\"c1\">"));
}

#[test]
fn markdown_round_trip_of_awkward_text() {
    let tree = vec![Clause {
        anchor: "1".into(),
        label: "1.".into(),
        title: Some("*題名* # [x]".into()),
        paragraphs: vec![
            "1. で始まる段落".into(),
            "- ダッシュ".into(),
            "<b>タグ</b> &amp; `code` \\ _x_ ~y~ | ! ==".into(),
            "(1) 括弧で始まる段落".into(),
        ],
        children: vec![
            Clause {
                anchor: "1(1)".into(),
                label: "(1)".into(),
                title: None,
                paragraphs: vec!["> 引用ではない".into()],
                children: vec![],
            },
            Clause {
                anchor: "1(2)".into(),
                label: "(2)".into(),
                title: Some("小見出し".into()),
                paragraphs: vec!["本文。".into()],
                children: vec![Clause {
                    anchor: "1(2)①".into(),
                    label: "①".into(),
                    title: None,
                    paragraphs: vec!["一つ目".into(), "続きの段落".into()],
                    children: vec![],
                }],
            },
        ],
    }];
    let md = clauses_to_markdown(&tree);
    assert_eq!(outline(&md), clauses_to_rows(&tree), "{md}");
}

#[test]
fn outline_of_hand_written_markdown() {
    let md = "前文。\n\n## 1. 目的\n\n本文\n\n## 2. 対策\n\n### （１） 組織\n\n説明\n\n\
              - (1) 箇条\n  - ① 入れ子\n- 印なし\n\n後の段落\n\n#### 小見出し\n";
    let rows = outline(md);
    let anchors: Vec<&str> = rows.iter().map(|r| r.anchor.as_str()).collect();
    assert_eq!(anchors, ["1", "2", "2(1)", "2(1)(1)", "2(1)(1)①"]);
    assert_eq!(rows[0].text, "前文。\n\n本文");
    assert_eq!(rows[2].label, "(1)");
    assert_eq!(rows[2].title.as_deref(), Some("組織"));
    assert_eq!(rows[2].text, "説明\n\n印なし\n\n後の段落\n\n小見出し");
    assert_eq!(rows[4].parent.as_deref(), Some("2(1)(1)"));
    assert_eq!(rows[4].depth, 4);
    assert!(outline("").is_empty());
    assert!(outline("ただの文章").is_empty());
}

#[test]
fn import_tolerates_bom_crlf_fullwidth_and_trailing_spaces() {
    let text = "\u{FEFF}\r\n\r\n  組織  \r\n規程  \r\n（基本方針）\r\n\r\n見出し\r\n\r\n\
                １．目的  \r\n\r\n本文。\r\n\r\n（１）　定義\r\n\r\n説明\r\nの続き。\r\n\r\n\
                －　（１） 項目\r\n－ ① 丸";
    let p = import_text(text).expect("imports");
    assert_eq!(p.organisation, "組織");
    assert_eq!(p.title, "規程（基本方針）");
    assert_eq!(p.heading, "見出し");
    assert!(p.history.is_empty());
    let c = find(&p.clauses, "1(1)");
    assert_eq!(c.title.as_deref(), Some("定義"));
    assert_eq!(c.paragraphs, ["説明の続き。"]);
    assert_eq!(find(&p.clauses, "1(1)(1)").paragraphs, ["項目"]);
    assert_eq!(find(&p.clauses, "1(1)①").paragraphs, ["丸"]);
    assert_eq!(p.clauses[0].label, "1.");
    assert_eq!(outline(&p.body_markdown), clauses_to_rows(&p.clauses));
}

#[test]
fn import_refusals() {
    let header = "組織\n規程\n\n改版履歴\n\n版数\t作成日\t作成者\t承認\n初版\t令和8年3月25日\t組織\t令和8年3月25日\n\n見出し\n\n";
    let cases: Vec<(String, usize, &str)> = vec![
        (String::new(), 1, "policy-import-empty"),
        ("  \n\n".into(), 1, "policy-import-empty"),
        (
            "組織だけ\n\n見出し\n\n1. 目的".into(),
            1,
            "policy-import-missing-title",
        ),
        ("1. 目的\n本文".into(), 1, "policy-import-expected-title"),
        (
            "組織\n規程\n\n改版履歴\n\n番号\t日付\n".into(),
            6,
            "policy-import-history-header",
        ),
        (
            "組織\n規程\n\n改版履歴\n".into(),
            4,
            "policy-import-history-header",
        ),
        (
            "組織\n規程\n\n改版履歴\n\n版数\t作成日\t作成者\t承認\n初版\t令和8年\n".into(),
            7,
            "policy-import-history-row",
        ),
        (
            "組織\n規程\n\n1. 目的\n".into(),
            4,
            "policy-import-missing-heading",
        ),
        (header.to_string(), 9, "policy-import-no-clauses"),
        (
            format!("{header}前文\n\n1. 目的"),
            11,
            "policy-import-unexpected-line",
        ),
        (
            format!("{header}2. 目的"),
            11,
            "policy-import-out-of-sequence",
        ),
        (
            format!("{header}1. 目的\n\n(1) 一\n\n(3) 三"),
            15,
            "policy-import-out-of-sequence",
        ),
        (
            format!("{header}1. 目的\n\n- ① 一\n- ③ 三"),
            14,
            "policy-import-out-of-sequence",
        ),
        (
            format!("{header}1. 目的\n\n- (2) 二"),
            13,
            "policy-import-out-of-sequence",
        ),
        (
            format!("{header}1.\n"),
            11,
            "policy-import-clause-without-title",
        ),
        (
            format!("{header}1. 目的\n\n- 印なし"),
            13,
            "policy-import-unmarked-bullet",
        ),
    ];
    for (text, line, message) in cases {
        match import_text(&text) {
            Ok(_) => panic!("{text:?} imported"),
            Err(e) => {
                assert_eq!((e.line, e.message), (line, message), "{text:?}: {e}");
                assert!(!e.to_string().is_empty());
            }
        }
    }
    let e = import_text(&format!("{header}1. 目的\n\n(1) 一\n\n(3) 三")).unwrap_err();
    assert_eq!(
        e.args,
        vec![
            ("expected", "(2)".to_string()),
            ("found", "(3)".to_string())
        ]
    );
}

#[test]
fn sentence_ends() {
    assert!(ends_sentence("講じる。"));
    assert!(ends_sentence("（これらを印刷した文書を含む。）"));
    assert!(ends_sentence("次のとおり："));
    assert!(!ends_sentence("設計・開発の不備、"));
    assert!(!ends_sentence("内部不正等"));
    assert!(!ends_sentence("（注）"));
    assert!(!ends_sentence(""));
}

#[test]
fn rejoin_only_unfinished_sentences() {
    let text =
        "組\n題\n\n見出し\n\n1. 目的\n\n前半、\n\n後半。\n\n別の段落。\n\n次の段落\n\n- (1) 項目\n";
    let p = import_text(text).expect("imports");
    assert_eq!(
        p.clauses[0].paragraphs,
        ["前半、後半。", "別の段落。", "次の段落"]
    );
    let text = "組\n題\n\n見出し\n\n1. 目的\n\nSee the\nnext line.";
    let p = import_text(text).expect("imports");
    assert_eq!(p.clauses[0].paragraphs, ["See the next line."]);
}

fn cell(row: &Option<(usize, Vec<Segment>)>) -> (usize, String, String) {
    let Some((n, segs)) = row else {
        return (0, String::new(), String::new());
    };
    let all: String = segs.iter().map(|s| s.text.as_str()).collect();
    let emphasised: String = segs
        .iter()
        .filter(|s| s.emphasised)
        .map(|s| s.text.as_str())
        .collect();
    (*n, all, emphasised)
}

#[test]
fn diff_side_by_side_japanese() {
    let old = "1. 目的\n情報資産を守る。\n削除される行\n最後の行\n";
    let new = "1. 目的\r\n情報資産を確実に守る。\r\n最後の行\r\n追加された行\r\n";
    let rows = side_by_side(old, new);
    let kinds: Vec<DiffKind> = rows.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            DiffKind::Same,
            DiffKind::Changed,
            DiffKind::Removed,
            DiffKind::Same,
            DiffKind::Added
        ]
    );
    assert_eq!(cell(&rows[0].left), (1, "1. 目的".into(), String::new()));
    assert_eq!(
        cell(&rows[1].left),
        (2, "情報資産を守る。".into(), String::new())
    );
    assert_eq!(
        cell(&rows[1].right),
        (2, "情報資産を確実に守る。".into(), "確実に".into())
    );
    assert_eq!(
        cell(&rows[2].left),
        (3, "削除される行".into(), "削除される行".into())
    );
    assert!(rows[2].right.is_none());
    assert_eq!(cell(&rows[3].left).0, 4);
    assert_eq!(cell(&rows[3].right).0, 3);
    assert!(rows[4].left.is_none());
    assert_eq!(
        cell(&rows[4].right),
        (4, "追加された行".into(), "追加された行".into())
    );
    assert_eq!(DiffKind::Changed.code(), "changed");
    assert!(side_by_side("", "").is_empty());
    let same = side_by_side("同じ", "同じ");
    assert_eq!(same.len(), 1);
    assert_eq!(same[0].kind, DiffKind::Same);
}

#[test]
fn diff_changed_pair_keeps_all_text() {
    let rows = side_by_side("規程を見直す。", "規定を適宜見直す。");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].kind, DiffKind::Changed);
    let (_, left, left_em) = cell(&rows[0].left);
    let (_, right, right_em) = cell(&rows[0].right);
    assert_eq!(left, "規程を見直す。");
    assert_eq!(right, "規定を適宜見直す。");
    assert_eq!(left_em, "程");
    assert_eq!(right_em, "定適宜");
}

#[test]
fn states_and_codes() {
    for s in VersionState::ALL {
        assert_eq!(VersionState::from_code(s.code()), Some(*s));
        assert_eq!(s.message_id(), format!("policy-state-{}", s.code()));
    }
    let codes: Vec<&str> = VersionState::ALL.iter().map(|s| s.code()).collect();
    assert_eq!(
        codes,
        ["draft", "in_review", "approved", "published", "superseded"]
    );
    assert_eq!(VersionState::from_code("Draft"), None);
    for l in DocumentLayer::ALL {
        assert_eq!(DocumentLayer::from_code(l.code()), Some(*l));
        assert_eq!(l.message_id(), format!("policy-layer-{}", l.code()));
    }
    assert_eq!(DocumentLayer::BasicPolicy.code(), "basic_policy");
    assert_eq!(DocumentLayer::Standards.japanese(), "対策基準");
    assert_eq!(DocumentLayer::Procedures.code(), "procedures");
    assert_eq!(
        DocumentLayer::BasicPolicy.default_visibility(),
        Visibility::Public
    );
    assert_eq!(
        DocumentLayer::Standards.default_visibility(),
        Visibility::Internal
    );
    for v in Visibility::ALL {
        assert_eq!(Visibility::from_code(v.code()), Some(*v));
        assert_eq!(v.message_id(), format!("policy-visibility-{}", v.code()));
    }
}

#[test]
fn transitions_and_refusals() {
    use VersionState::*;
    assert_eq!(submit(Draft), Ok(InReview));
    for s in [InReview, Approved, Published, Superseded] {
        assert_eq!(submit(s).unwrap_err().message, "policy-refused-not-draft");
    }
    assert_eq!(return_to_draft(InReview, "表記を直す"), Ok(Draft));
    assert_eq!(
        return_to_draft(InReview, " \u{3000}").unwrap_err().message,
        "policy-refused-reason-required"
    );
    let e = return_to_draft(Draft, "x").unwrap_err();
    assert_eq!(e.message, "policy-refused-not-in-review");
    assert_eq!(e.args, vec![("state", "draft".to_string())]);

    assert_eq!(approve(InReview, Some(1), 2, None), Ok(Approved));
    assert_eq!(approve(InReview, None, 2, None), Ok(Approved));
    assert_eq!(
        approve(InReview, Some(2), 2, None).unwrap_err().message,
        "policy-refused-approver-is-author"
    );
    assert_eq!(
        approve(InReview, Some(1), 2, Some(3)).unwrap_err().message,
        "policy-refused-already-approved"
    );
    assert_eq!(
        approve(Approved, Some(1), 2, None).unwrap_err().message,
        "policy-refused-already-approved"
    );
    for s in [Draft, Published, Superseded] {
        assert_eq!(
            approve(s, Some(1), 2, None).unwrap_err().message,
            "policy-refused-not-in-review"
        );
    }
    assert_eq!(publish(Approved), Ok(Published));
    for s in [Draft, InReview, Published, Superseded] {
        assert_eq!(
            publish(s).unwrap_err().message,
            "policy-refused-not-approved"
        );
    }
    assert_eq!(supersede(Published), Ok(Superseded));
    for s in [Draft, InReview, Approved, Superseded] {
        assert_eq!(
            supersede(s).unwrap_err().message,
            "policy-refused-not-published"
        );
    }
    assert!(publish(Draft)
        .unwrap_err()
        .to_string()
        .contains("not-approved"));
}

#[test]
fn editions_and_reviews() {
    assert_eq!(edition_label(1), "初版");
    assert_eq!(edition_label(2), "第2版");
    assert_eq!(edition_label(12), "第12版");
    assert_eq!(parse_edition("初版"), Some(1));
    assert_eq!(parse_edition("第２版"), Some(2));
    assert_eq!(parse_edition("3"), Some(3));
    assert_eq!(parse_edition("改訂"), None);
    assert_eq!(parse_edition("第0版"), None);
    assert_eq!(next_review(date!(2026 - 01 - 31), 1), date!(2026 - 02 - 28));
    assert_eq!(next_review(date!(2027 - 12 - 31), 2), date!(2028 - 02 - 29));
    assert_eq!(
        next_review(date!(2026 - 03 - 25), 12),
        date!(2027 - 03 - 25)
    );
    assert_eq!(next_review(date!(2026 - 03 - 25), 0), date!(2026 - 03 - 25));
    assert_eq!(next_review(date!(2026 - 11 - 30), 3), date!(2027 - 02 - 28));
    assert_eq!(
        next_review(date!(2026 - 03 - 25), u32::MAX),
        time::Date::MAX
    );
}

#[test]
fn reading_rights() {
    use Visibility::*;
    for (v, logged_in, role, editor, expected) in [
        (Public, false, false, false, true),
        (Internal, false, false, false, false),
        (Internal, true, false, false, true),
        (Restricted, true, false, false, false),
        (Restricted, true, true, false, true),
        (Restricted, true, false, true, true),
        (Restricted, false, true, true, false),
    ] {
        assert_eq!(may_read(v, logged_in, role, editor), expected, "{v:?}");
    }
}

fn line_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("1. 目的".to_string()),
        Just("2. 定義".to_string()),
        Just("(1) 題".to_string()),
        Just("（２）題".to_string()),
        Just("- (1) 項目、".to_string()),
        Just("- ① 丸".to_string()),
        Just("② 丸".to_string()),
        Just("改版履歴".to_string()),
        Just("版数\t作成日\t作成者\t承認".to_string()),
        Just("本文。".to_string()),
        Just("続き、".to_string()),
        "[ -~\t　あ-ん①-⑳（）＊#*<>\\[\\]\\\\-]{0,12}",
    ]
}

proptest! {
    #[test]
    fn import_never_panics(lines in proptest::collection::vec(line_strategy(), 0..30), crlf in any::<bool>()) {
        let text = lines.join(if crlf { "\r\n" } else { "\n" });
        if let Ok(p) = import_text(&text) {
            let rows = clauses_to_rows(&p.clauses);
            prop_assert!(super::markdown::check_outline(&rows).is_empty());
            prop_assert_eq!(outline(&p.body_markdown), rows);
            let _ = render_html(&p.body_markdown);
        }
    }

    #[test]
    fn import_of_arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = import_text(&text);
        let _ = outline(&text);
        let _ = render_html(&text);
    }

    #[test]
    fn outline_and_render_never_panic(text in "[-#() 0-9①②（）\n*\\[\\]<>a-z>.]{0,120}") {
        let rows = outline(&text);
        let html = render_html(&text);
        prop_assert!(!html.contains("<script"));
        let ids: HashSet<String> = rows.iter().map(|r| r.anchor.clone()).collect();
        let html_ids: HashSet<String> = ids.iter().map(|a| html_id(a)).collect();
        prop_assert_eq!(ids.len(), html_ids.len());
    }

    #[test]
    fn diff_keeps_both_texts(old in "[あいう\n]{0,30}", new in "[あいう\n]{0,30}") {
        let rows = side_by_side(&old, &new);
        let left: Vec<String> = rows.iter().filter_map(|r| r.left.as_ref())
            .map(|(_, s)| s.iter().map(|x| x.text.as_str()).collect()).collect();
        let right: Vec<String> = rows.iter().filter_map(|r| r.right.as_ref())
            .map(|(_, s)| s.iter().map(|x| x.text.as_str()).collect()).collect();
        prop_assert_eq!(left, old.lines().map(str::to_string).collect::<Vec<_>>());
        prop_assert_eq!(right, new.lines().map(str::to_string).collect::<Vec<_>>());
    }

    #[test]
    fn next_review_is_never_earlier(days in 0i32..80000, months in 0u32..1200) {
        let from = time::Date::from_julian_day(2_400_000 + days).expect("date");
        let next = next_review(from, months);
        prop_assert!(next >= from);
    }

    #[test]
    fn html_ids_are_injective(anchors in proptest::collection::vec("[1-9][0-9]?(\\([1-9][0-9]?\\)|[①-⑳]){0,3}", 0..20)) {
        let set: HashSet<&String> = anchors.iter().collect();
        let ids: HashSet<String> = set.iter().map(|a| html_id(a)).collect();
        prop_assert_eq!(set.len(), ids.len());
    }
}

#[test]
fn clause_row_fields() {
    let rows = outline("## 1. 目的\n\n- (1) 項目\n");
    assert_eq!(
        rows[1],
        ClauseRow {
            anchor: "1(1)".into(),
            parent: Some("1".into()),
            depth: 2,
            ordinal: 2,
            label: "(1)".into(),
            title: None,
            text: "項目".into(),
        }
    );
}

#[test]
fn outline_checks() {
    use super::markdown::check_outline;
    assert!(check_outline(&outline(&seed().body_markdown)).is_empty());
    let rows = outline("## 1. a\n\n- (1) x\n- (3) y\n- ① p\n- ① q\n\n## 1. b\n\n## 3. c\n");
    let problems = check_outline(&rows);
    let summary: Vec<(String, &str)> = problems
        .iter()
        .map(|p| (p.anchor.clone(), p.message))
        .collect();
    assert_eq!(
        summary,
        [
            ("1(3)".to_string(), "policy-outline-out-of-sequence"),
            ("1①".to_string(), "policy-outline-duplicate-anchor"),
            ("1".to_string(), "policy-outline-duplicate-anchor"),
            ("3".to_string(), "policy-outline-out-of-sequence"),
        ]
    );
    assert_eq!(
        problems[0].args,
        vec![
            ("anchor", "1(3)".to_string()),
            ("expected", "(2)".to_string()),
            ("found", "(3)".to_string())
        ]
    );
}

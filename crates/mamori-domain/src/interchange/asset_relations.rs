//! Relations between assets in files (`from`, `to`, `kind`), so that an export of assets plus
//! relations holds everything the register holds. A row names two asset ids and a relation
//! kind; the same relation twice in one file is an error.

use super::fields::Fields;
use super::kind::Kind;
use super::table::{ColumnSpec, Problem, Row, Table};
use crate::assets::RelationKind;

/// A relation as a file holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationRecord {
    /// The `from` asset id.
    pub from: i64,
    /// The `to` asset id.
    pub to: i64,
    /// How they relate.
    pub kind: RelationKind,
    key: String,
}

impl RelationRecord {
    /// A relation.
    pub fn new(from: i64, to: i64, kind: RelationKind) -> Self {
        RelationRecord {
            from,
            to,
            kind,
            key: format!("{from} {} {to}", kind.code()),
        }
    }
}

/// The `asset-relations` kind.
#[derive(Debug)]
pub struct AssetRelations;

const COLUMNS: &[ColumnSpec] = &[
    ColumnSpec {
        code: "from",
        label: "資産ID（元）",
        required: true,
    },
    ColumnSpec {
        code: "to",
        label: "資産ID（先）",
        required: true,
    },
    ColumnSpec {
        code: "kind",
        label: "関係",
        required: true,
    },
];

impl Kind for AssetRelations {
    type Record = RelationRecord;
    const NAME: &'static str = "asset-relations";
    const COLUMNS: &'static [ColumnSpec] = COLUMNS;
    const KEY: &'static str = "from";

    fn parse(table: &Table, row: &Row) -> Result<RelationRecord, Vec<Problem>> {
        let mut f = Fields::new(table, row);
        let id = |f: &mut Fields, code: &str| match f.folded(code).parse::<i64>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                let v = f.folded(code);
                f.problem(code, "error-asset-id", Some(&v));
                None
            }
        };
        let from = id(&mut f, "from");
        let to = id(&mut f, "to");
        let kind = f.choice("kind", RelationKind::parse, None, "error-unknown-relation");
        if from.is_some() && from == to {
            f.problem("to", "error-relation-self", None);
        }
        match (from, to, kind) {
            (Some(from), Some(to), Some(kind)) if f.problems.is_empty() => {
                Ok(RelationRecord::new(from, to, kind))
            }
            _ => Err(f.problems),
        }
    }

    fn key(record: &RelationRecord) -> Option<&str> {
        Some(&record.key)
    }

    fn cells(r: &RelationRecord, labels: bool) -> Vec<String> {
        vec![
            r.from.to_string(),
            r.to.to_string(),
            if labels {
                r.kind.label()
            } else {
                r.kind.code()
            }
            .to_owned(),
        ]
    }

    fn json(r: &RelationRecord) -> serde_json::Value {
        serde_json::json!({"from": r.from, "to": r.to, "kind": r.kind.code()})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interchange::kind::{read_file, write_csv};

    #[test]
    fn round_trip_and_repeated_relation_is_refused() {
        let rs = vec![
            RelationRecord::new(1, 2, RelationKind::Holds),
            RelationRecord::new(1, 3, RelationKind::RunsOn),
        ];
        let csv = write_csv::<AssetRelations>(&rs, true).expect("write");
        let back: Vec<RelationRecord> = read_file::<AssetRelations>(csv.as_bytes())
            .expect("read")
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        assert_eq!(back, rs);
        let dup = "from,to,kind\n1,2,holds\n１,２,保有\n3,3,holds\n";
        let p = read_file::<AssetRelations>(dup.as_bytes()).expect_err("bad");
        let got: Vec<(u64, &str)> = p.iter().map(|p| (p.line, p.message_id)).collect();
        assert_eq!(
            got,
            [(3, "import-duplicate-key"), (4, "error-relation-self")]
        );
    }
}

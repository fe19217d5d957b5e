//! Files people exchange with spreadsheets (`INTERCHANGE.md`): decoding (UTF-8 or CP932, never
//! a guess), XLSX workbooks (checked before they are opened), tables whose headers may be codes
//! or Japanese labels, value folding, and the formula guard. Pure: bytes in, rows and problems
//! out.

pub mod acknowledgements;
pub mod asset_relations;
pub mod assets;
// Catalogue
pub mod catalogue;
// Coverage
pub mod control_status;
pub mod decode;
pub mod fields;
mod formula;
pub mod kind;
pub mod people;
// Risk register
pub mod risks;
pub mod table;
// Training
pub mod training_records;
pub mod units;
pub mod values;
pub mod xlsx;

pub use formula::{formula_safe, strip_formula_guard, UTF8_BOM};

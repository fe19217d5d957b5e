//! 和暦 / 西暦 dates: the Japanese era calendar, how dates are shown, and how typed dates are read.
//!
//! The era table is data, not code: `data/eras.tsv` is embedded and parsed once
//! ([`EraTable::builtin`]). When a new era is proclaimed, one line is added to that file.
//!
//! * [`format_date`] shows a date as 和暦 (`令和8年3月25日`), 西暦 (`2026年3月25日`) or both
//!   (`令和8年(2026年)3月25日`), in Japanese or English.
//! * [`parse_date`] reads what people type: ISO (`2026-04-01`), slashes and dots (`2026/4/1`),
//!   kanji (`2026年4月1日`, `令和元年5月1日`), abbreviations (`R8.4.1`, `h31/4/30`), full-width
//!   digits (`令和８年４月１日`), and the "both" form. A 和暦 date must lie inside its era
//!   (`H31.5.1` is an error: 平成 ended on 2019-04-30).
//! * [`fiscal_year`] gives the 年度 (April to March).
//! * [`fold_fullwidth`] folds full-width ASCII (as typed with a Japanese IME) to ASCII.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use time::{Date, Month};

/// The embedded era table (`data/eras.tsv`).
const BUILTIN_ERAS_TSV: &str = include_str!("../data/eras.tsv");

/// One Japanese era (元号).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Era {
    /// The era name in kanji, e.g. `令和`.
    pub name: String,
    /// The one-letter ASCII abbreviation, upper case, e.g. `R`.
    pub abbrev: char,
    /// The first day of the era (Gregorian), e.g. 2019-05-01 for 令和.
    pub first_day: Date,
    /// The romanised name used in English, e.g. `Reiwa`.
    pub romaji: String,
}

/// An ordered list of eras, oldest first. Each era lasts until the day before the next one starts;
/// the last era is open-ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EraTable {
    eras: Vec<Era>,
}

/// A problem in an era table file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("era table line {line}: {reason}")]
pub struct EraTableError {
    /// The 1-based line number (0 when the problem concerns the whole table).
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

fn table_error(line: usize, reason: impl Into<String>) -> EraTableError {
    EraTableError {
        line,
        reason: reason.into(),
    }
}

/// Reads `YYYY-MM-DD` strictly (four-digit year, two-digit month and day).
fn parse_iso_day(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let year = i32::try_from(digits(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(digits(5..7)?).ok()?).ok()?;
    let day = u8::try_from(digits(8..10)?).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

impl EraTable {
    /// The built-in era table (明治 to 令和), parsed once from the embedded `data/eras.tsv`.
    ///
    /// The embedded file is checked by a test; were it ever malformed, this returns an empty
    /// table (all dates then show as 西暦) rather than panicking.
    pub fn builtin() -> &'static EraTable {
        static BUILTIN: OnceLock<EraTable> = OnceLock::new();
        BUILTIN.get_or_init(|| EraTable::parse(BUILTIN_ERAS_TSV).unwrap_or_default())
    }

    /// Parses an era table: one era per line, four tab-separated fields
    /// `name<TAB>abbreviation<TAB>YYYY-MM-DD<TAB>romanisation`, oldest first.
    /// Blank lines and lines starting with `#` are ignored.
    ///
    /// Checks: names are non-empty and made of non-ASCII letters (kanji); abbreviations are one
    /// ASCII letter; romanisations are non-empty ASCII letters; names, abbreviations (ignoring
    /// case) and romanisations are unique; first days strictly increase; at least one era.
    pub fn parse(text: &str) -> Result<EraTable, EraTableError> {
        let mut eras: Vec<Era> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = trimmed.split('\t').map(str::trim).collect();
            let [name, abbrev, first_day, romaji] = fields.as_slice() else {
                return Err(table_error(
                    line,
                    format!(
                        "expected 4 tab-separated fields (name, abbreviation, first day, \
                         romanisation), found {}",
                        fields.len()
                    ),
                ));
            };
            if name.is_empty() || !name.chars().all(|c| c.is_alphabetic() && !c.is_ascii()) {
                return Err(table_error(
                    line,
                    format!("era name {name:?} must be non-empty and written in kanji"),
                ));
            }
            let mut abbrev_chars = abbrev.chars();
            let abbrev = match (abbrev_chars.next(), abbrev_chars.next()) {
                (Some(c), None) if c.is_ascii_alphabetic() => c.to_ascii_uppercase(),
                _ => {
                    return Err(table_error(
                        line,
                        format!("abbreviation {abbrev:?} must be a single ASCII letter"),
                    ))
                }
            };
            let Some(first_day) = parse_iso_day(first_day) else {
                return Err(table_error(
                    line,
                    format!("first day {first_day:?} is not a valid YYYY-MM-DD date"),
                ));
            };
            if romaji.is_empty() || !romaji.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(table_error(
                    line,
                    format!("romanisation {romaji:?} must be non-empty ASCII letters"),
                ));
            }
            for other in &eras {
                if other.name == *name {
                    return Err(table_error(line, format!("duplicate era name {name}")));
                }
                if other.abbrev == abbrev {
                    return Err(table_error(
                        line,
                        format!(
                            "duplicate abbreviation {abbrev} (also used by {})",
                            other.name
                        ),
                    ));
                }
                if other.romaji.eq_ignore_ascii_case(romaji) {
                    return Err(table_error(
                        line,
                        format!("duplicate romanisation {romaji}"),
                    ));
                }
            }
            if let Some(previous) = eras.last() {
                if first_day <= previous.first_day {
                    return Err(table_error(
                        line,
                        format!(
                            "{name} starts on {first_day}, not after {} ({}); eras must be \
                             listed oldest first",
                            previous.name, previous.first_day
                        ),
                    ));
                }
            }
            eras.push(Era {
                name: (*name).to_owned(),
                abbrev,
                first_day,
                romaji: (*romaji).to_owned(),
            });
        }
        if eras.is_empty() {
            return Err(table_error(0, "the era table lists no era"));
        }
        Ok(EraTable { eras })
    }

    /// All eras, oldest first.
    pub fn eras(&self) -> &[Era] {
        &self.eras
    }

    /// The era with this kanji name (e.g. `平成`).
    pub fn by_name(&self, name: &str) -> Option<&Era> {
        self.eras.iter().find(|e| e.name == name)
    }

    /// The era with this one-letter abbreviation, ignoring case (e.g. `'h'`).
    pub fn by_abbrev(&self, abbrev: char) -> Option<&Era> {
        let abbrev = abbrev.to_ascii_uppercase();
        self.eras.iter().find(|e| e.abbrev == abbrev)
    }

    /// The era a date falls in and its era year (1 for 元年), or `None` for a date before the
    /// first era in the table.
    pub fn era_of(&self, date: Date) -> Option<(&Era, i32)> {
        let after = self.eras.partition_point(|e| e.first_day <= date);
        let era = self.eras.get(after.checked_sub(1)?)?;
        Some((era, date.year() - era.first_day.year() + 1))
    }

    /// The Gregorian date of `era` year `era_year` (1 = 元年), `month`, `day`.
    ///
    /// Errors: [`DateParseError::NoSuchDate`] if the month or day does not exist in that year;
    /// [`DateParseError::OutsideEra`] if the era year is below 1 or the date is not inside the
    /// era according to this table (e.g. 平成31年5月1日, 令和元年4月30日).
    pub fn date_from_era(
        &self,
        era: &Era,
        era_year: i32,
        month: u8,
        day: u8,
    ) -> Result<Date, DateParseError> {
        let outside = || DateParseError::OutsideEra {
            era: era.name.clone(),
        };
        if era_year < 1 {
            return Err(outside());
        }
        let year = era
            .first_day
            .year()
            .checked_add(era_year - 1)
            .filter(|y| *y <= Date::MAX.year())
            .ok_or_else(outside)?;
        let month = Month::try_from(month).map_err(|_| DateParseError::NoSuchDate)?;
        let date =
            Date::from_calendar_date(year, month, day).map_err(|_| DateParseError::NoSuchDate)?;
        match self.era_of(date) {
            Some((found, _)) if found.name == era.name => Ok(date),
            _ => Err(outside()),
        }
    }

    /// Formats a date with this table; see [`format_date`].
    pub fn format_date(&self, date: Date, style: DateStyle, lang: Lang) -> String {
        let era = match style {
            DateStyle::Seireki => None,
            DateStyle::Wareki | DateStyle::Both => self.era_of(date),
        };
        let year = date.year();
        let month = u8::from(date.month());
        let day = date.day();
        match (lang, era) {
            // Four digits, so that years before 1000 read back as 西暦 years.
            (Lang::Ja, None) => format!("{year:04}年{month}月{day}日"),
            (Lang::Ja, Some((era, era_year))) => {
                let era_year = if era_year == 1 {
                    "元".to_owned()
                } else {
                    era_year.to_string()
                };
                if style == DateStyle::Both {
                    format!("{}{era_year}年({year:04}年){month}月{day}日", era.name)
                } else {
                    format!("{}{era_year}年{month}月{day}日", era.name)
                }
            }
            (Lang::En, None) => format!("{day} {} {year}", english_month(date.month())),
            (Lang::En, Some((era, era_year))) => {
                let month = english_month(date.month());
                if style == DateStyle::Both {
                    format!("{day} {month} {year} ({} {era_year})", era.romaji)
                } else {
                    format!("{day} {month}, {} {era_year}", era.romaji)
                }
            }
        }
    }

    /// Parses a date with this table; see [`parse_date`].
    pub fn parse_date(&self, input: &str) -> Result<Date, DateParseError> {
        let folded = fold_fullwidth(input);
        let text = folded.trim();
        if text.is_empty() {
            return Err(DateParseError::Format);
        }
        if let Some((era, body)) = self.match_era_prefix(text) {
            let fields = parse_body(body).ok_or(DateParseError::Format)?;
            let era_year = match fields.year {
                YearToken::Gannen => 1,
                YearToken::Number { value, digits } if digits <= 4 => {
                    i32::try_from(value).map_err(|_| DateParseError::Format)?
                }
                YearToken::Number { .. } => return Err(DateParseError::Format),
            };
            let month = small(fields.month)?;
            let day = small(fields.day)?;
            let date = self.date_from_era(era, era_year, month, day)?;
            if let Some(written) = fields.gregorian_year {
                let written = i32::try_from(written).map_err(|_| DateParseError::Format)?;
                if written != date.year() {
                    return Err(DateParseError::YearMismatch {
                        expected: date.year(),
                        found: written,
                    });
                }
            }
            return Ok(date);
        }
        // Something that looks like an era name we do not know (e.g. 慶応3年1月1日, X8.4.1)?
        let unknown_prefix: &str = {
            let end = text
                .char_indices()
                .find(|(_, c)| !c.is_alphabetic() || matches!(c, '元' | '年' | '月' | '日'))
                .map_or(text.len(), |(i, _)| i);
            &text[..end]
        };
        if !unknown_prefix.is_empty() {
            let body = &text[unknown_prefix.len()..];
            return match parse_body(body) {
                Some(_) => Err(DateParseError::UnknownEra),
                None => Err(DateParseError::Format),
            };
        }
        let fields = parse_body(text).ok_or(DateParseError::Format)?;
        if fields.gregorian_year.is_some() {
            return Err(DateParseError::Format);
        }
        let year = match fields.year {
            YearToken::Number { value, digits: 4 } => {
                i32::try_from(value).map_err(|_| DateParseError::Format)?
            }
            _ => return Err(DateParseError::Format),
        };
        let month =
            Month::try_from(small(fields.month)?).map_err(|_| DateParseError::NoSuchDate)?;
        let day = small(fields.day)?;
        Date::from_calendar_date(year, month, day).map_err(|_| DateParseError::NoSuchDate)
    }

    /// Finds an era at the start of `text` by kanji name, romanisation (ignoring case) or
    /// one-letter abbreviation (ignoring case), returning it and the rest of the text.
    /// A romanisation or abbreviation must not be followed by another ASCII letter.
    fn match_era_prefix<'t>(&self, text: &'t str) -> Option<(&Era, &'t str)> {
        // Longest kanji name first, in case one era name is a prefix of another.
        let by_name = self
            .eras
            .iter()
            .filter(|e| text.starts_with(e.name.as_str()))
            .max_by_key(|e| e.name.len());
        if let Some(era) = by_name {
            return Some((era, &text[era.name.len()..]));
        }
        let not_followed_by_letter =
            |rest: &str| !rest.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        for era in &self.eras {
            let len = era.romaji.len();
            if let (Some(head), Some(rest)) = (text.get(..len), text.get(len..)) {
                if head.eq_ignore_ascii_case(&era.romaji) && not_followed_by_letter(rest) {
                    return Some((era, rest));
                }
            }
        }
        let mut chars = text.chars();
        let first = chars.next()?;
        if first.is_ascii_alphabetic() {
            let rest = chars.as_str();
            if not_followed_by_letter(rest) {
                if let Some(era) = self.by_abbrev(first) {
                    return Some((era, rest));
                }
            }
        }
        None
    }
}

/// Narrows a month or day number; more than two digits were already refused, so this only
/// guards the conversion.
fn small(value: u32) -> Result<u8, DateParseError> {
    u8::try_from(value).map_err(|_| DateParseError::NoSuchDate)
}

fn english_month(month: Month) -> &'static str {
    match month {
        Month::January => "January",
        Month::February => "February",
        Month::March => "March",
        Month::April => "April",
        Month::May => "May",
        Month::June => "June",
        Month::July => "July",
        Month::August => "August",
        Month::September => "September",
        Month::October => "October",
        Month::November => "November",
        Month::December => "December",
    }
}

/// A lexical token of the numeric part of a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// ASCII digits: value and number of digits (leading zeros count).
    Number { value: u32, digits: usize },
    /// `元` (the first year of an era).
    Gannen,
    /// One of `. / - 年 月 日 ( )`.
    Symbol(char),
}

/// The year of a date as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum YearToken {
    Number { value: u32, digits: usize },
    Gannen,
}

/// The fields of a date body, before any calendar check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fields {
    year: YearToken,
    month: u32,
    day: u32,
    /// The year in parentheses of the "both" form `令和8年(2026年)3月25日`.
    gregorian_year: Option<u32>,
}

/// Splits the body into tokens, skipping whitespace. `None` for any other character or for a
/// number longer than 9 digits.
fn tokenize(body: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '0'..='9' => {
                let mut value = c.to_digit(10)?;
                let mut digits = 1usize;
                while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                    chars.next();
                    digits += 1;
                    if digits > 9 {
                        return None;
                    }
                    value = value * 10 + d;
                }
                tokens.push(Token::Number { value, digits });
            }
            '元' => tokens.push(Token::Gannen),
            '.' | '/' | '-' | '年' | '月' | '日' | '(' | ')' => tokens.push(Token::Symbol(c)),
            c if c.is_whitespace() => {}
            _ => return None,
        }
    }
    Some(tokens)
}

/// Parses `Y sep M sep D` (sep one of `.`, `/`, `-`, the same twice) or
/// `Y年[(G[年])]M月D[日]`. Month and day have at most two digits.
fn parse_body(body: &str) -> Option<Fields> {
    let tokens = tokenize(body)?;
    let mut it = tokens.into_iter();
    let year = match it.next()? {
        Token::Number { value, digits } => YearToken::Number { value, digits },
        Token::Gannen => YearToken::Gannen,
        Token::Symbol(_) => return None,
    };
    let short_number = |t: Option<Token>| match t {
        Some(Token::Number { value, digits }) if digits <= 2 => Some(value),
        _ => None,
    };
    let fields = match it.next()? {
        Token::Symbol(sep @ ('.' | '/' | '-')) => {
            let month = short_number(it.next())?;
            if it.next()? != Token::Symbol(sep) {
                return None;
            }
            let day = short_number(it.next())?;
            Fields {
                year,
                month,
                day,
                gregorian_year: None,
            }
        }
        Token::Symbol('年') => {
            let mut next = it.next()?;
            let mut gregorian_year = None;
            if next == Token::Symbol('(') {
                match it.next()? {
                    Token::Number { value, digits: 4 } => gregorian_year = Some(value),
                    _ => return None,
                }
                next = it.next()?;
                if next == Token::Symbol('年') {
                    next = it.next()?;
                }
                if next != Token::Symbol(')') {
                    return None;
                }
                next = it.next()?;
            }
            let month = short_number(Some(next))?;
            if it.next()? != Token::Symbol('月') {
                return None;
            }
            let day = short_number(it.next())?;
            match it.next() {
                None | Some(Token::Symbol('日')) => {}
                Some(_) => return None,
            }
            Fields {
                year,
                month,
                day,
                gregorian_year,
            }
        }
        _ => return None,
    };
    if it.next().is_some() {
        return None;
    }
    Some(fields)
}

/// The code of an unknown [`Lang`] or [`DateStyle`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} code {code:?}")]
pub struct UnknownCode {
    /// What was being parsed (`"language"` or `"date style"`).
    pub kind: &'static str,
    /// The text that was given.
    pub code: String,
}

/// A user-interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Japanese (`ja`), the default.
    #[default]
    Ja,
    /// English (`en`).
    En,
}

impl Lang {
    /// Every language, in display order.
    pub const ALL: [Lang; 2] = [Lang::Ja, Lang::En];

    /// The code: `"ja"` or `"en"`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Lang {
    type Err = UnknownCode;

    /// Accepts `ja` / `en` ignoring case and surrounding space, and language tags whose primary
    /// subtag is one of those (`ja-JP`, `en_GB`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        let primary = trimmed.split(['-', '_']).next().unwrap_or_default();
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
            .ok_or_else(|| UnknownCode {
                kind: "language",
                code: trimmed.to_owned(),
            })
    }
}

/// How dates are shown: 和暦, 西暦, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateStyle {
    /// 和暦 (`令和8年3月25日`), the default.
    #[default]
    Wareki,
    /// 西暦 (`2026年3月25日`).
    Seireki,
    /// Both (`令和8年(2026年)3月25日`).
    Both,
}

impl DateStyle {
    /// Every style, in display order.
    pub const ALL: [DateStyle; 3] = [DateStyle::Wareki, DateStyle::Seireki, DateStyle::Both];

    /// The code: `"wareki"`, `"seireki"` or `"both"`.
    pub fn code(self) -> &'static str {
        match self {
            DateStyle::Wareki => "wareki",
            DateStyle::Seireki => "seireki",
            DateStyle::Both => "both",
        }
    }
}

impl fmt::Display for DateStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for DateStyle {
    type Err = UnknownCode;

    /// Accepts the codes ignoring case and surrounding space.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        DateStyle::ALL
            .into_iter()
            .find(|d| d.code().eq_ignore_ascii_case(trimmed))
            .ok_or_else(|| UnknownCode {
                kind: "date style",
                code: trimmed.to_owned(),
            })
    }
}

/// Why a typed date was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateParseError {
    /// Not a date in a form we know.
    #[error("not a date in a recognised form (e.g. 2026-04-01, 2026/4/1, 令和8年4月1日, R8.4.1)")]
    Format,
    /// The form is fine but the date does not exist (month 13, 30 February, ...).
    #[error("no such date")]
    NoSuchDate,
    /// The era year or date is not inside that era (e.g. 平成31年5月1日, 令和0年).
    #[error("the date is not within the era {era}")]
    OutsideEra {
        /// The era name, e.g. `平成`.
        era: String,
    },
    /// The text starts with an era name or letter that is not in the era table.
    #[error("unknown era")]
    UnknownEra,
    /// In the "both" form, the 西暦 year in parentheses does not match the 和暦 year.
    #[error("the era year is {expected} in the Gregorian calendar, but {found} was written")]
    YearMismatch {
        /// The Gregorian year the era year means.
        expected: i32,
        /// The Gregorian year written in parentheses.
        found: i32,
    },
}

impl DateParseError {
    /// The Fluent message id for this error (`date-format`, `date-no-such-date`,
    /// `date-outside-era` with `$era`, `date-unknown-era`, `date-year-mismatch` with
    /// `$expected` and `$found`).
    pub fn message_id(&self) -> &'static str {
        match self {
            DateParseError::Format => "date-format",
            DateParseError::NoSuchDate => "date-no-such-date",
            DateParseError::OutsideEra { .. } => "date-outside-era",
            DateParseError::UnknownEra => "date-unknown-era",
            DateParseError::YearMismatch { .. } => "date-year-mismatch",
        }
    }
}

/// Formats a date using the built-in era table.
///
/// | style | `Lang::Ja` | `Lang::En` |
/// |---|---|---|
/// | `Wareki` | `令和8年3月25日` (first year: `令和元年5月1日`) | `25 March, Reiwa 8` |
/// | `Seireki` | `2026年3月25日` | `25 March 2026` |
/// | `Both` | `令和8年(2026年)3月25日` | `25 March 2026 (Reiwa 8)` |
///
/// A date before the first era in the table is shown as `Seireki`. Never panics.
pub fn format_date(date: Date, style: DateStyle, lang: Lang) -> String {
    EraTable::builtin().format_date(date, style, lang)
}

/// Parses a typed date using the built-in era table.
///
/// Full-width ASCII and the ideographic space are folded first ([`fold_fullwidth`]), then the
/// text is trimmed. Accepted forms (whitespace between parts is ignored):
///
/// * 西暦: `2026-04-01`, `2026/4/1`, `2026.4.1`, `2026年4月1日` (four-digit year);
/// * 和暦 by name: `令和8年4月1日`, `令和元年5月1日`, `令和1年5月1日`;
/// * 和暦 by abbreviation or romanisation, any case: `R8.4.1`, `r8/4/1`, `R08.04.01`,
///   `R8-4-1`, `Reiwa 8.4.1`;
/// * both: `令和8年(2026年)3月25日` (the two years must agree).
///
/// Month and day take one or two digits; `日` at the end may be left out. Never panics.
pub fn parse_date(input: &str) -> Result<Date, DateParseError> {
    EraTable::builtin().parse_date(input)
}

/// Folds full-width ASCII (U+FF01–U+FF5E) to ASCII and the ideographic space (U+3000) to a
/// space; everything else is kept. `Ｒ８．４．１` becomes `R8.4.1`.
pub fn fold_fullwidth(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

/// The fiscal year (年度) of a date: April to March, named by the year it starts in.
/// 2026-03-31 is in 2025年度; 2026-04-01 is in 2026年度.
pub fn fiscal_year(date: Date) -> i32 {
    if u8::from(date.month()) >= 4 {
        date.year()
    } else {
        date.year() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn ja(d: Date, style: DateStyle) -> String {
        format_date(d, style, Lang::Ja)
    }

    fn en(d: Date, style: DateStyle) -> String {
        format_date(d, style, Lang::En)
    }

    #[test]
    fn builtin_table_parses() {
        let table = EraTable::parse(BUILTIN_ERAS_TSV).expect("data/eras.tsv parses");
        let names: Vec<&str> = table.eras().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["明治", "大正", "昭和", "平成", "令和"]);
        let abbrevs: String = table.eras().iter().map(|e| e.abbrev).collect();
        assert_eq!(abbrevs, "MTSHR");
        let romaji: Vec<&str> = table.eras().iter().map(|e| e.romaji.as_str()).collect();
        assert_eq!(romaji, ["Meiji", "Taisho", "Showa", "Heisei", "Reiwa"]);
        assert_eq!(&table, EraTable::builtin());
        assert_eq!(
            table.by_name("令和").map(|e| e.first_day),
            Some(date!(2019 - 05 - 01))
        );
        assert_eq!(
            table.by_abbrev('h').map(|e| e.first_day),
            Some(date!(1989 - 01 - 08))
        );
        assert_eq!(table.by_abbrev('X'), None);
    }

    #[test]
    fn table_errors() {
        let ok = "令和\tR\t2019-05-01\tReiwa\n";
        assert!(EraTable::parse(ok).is_ok());
        assert_eq!(EraTable::parse("").map_err(|e| e.line), Err(0));
        assert_eq!(
            EraTable::parse("# only a comment\n\n").map_err(|e| e.line),
            Err(0)
        );
        let bad = [
            "令和\tR\t2019-05-01",                                     // 3 fields
            "令和\tRW\t2019-05-01\tReiwa",                             // 2-letter abbrev
            "令和\t1\t2019-05-01\tReiwa",                              // digit abbrev
            "令和\tR\t2019-5-1\tReiwa",                                // not YYYY-MM-DD
            "令和\tR\t2019-02-30\tReiwa",                              // no such day
            "Reiwa\tR\t2019-05-01\tReiwa",                             // ASCII name
            "令和\tR\t2019-05-01\t令和",                               // non-ASCII romaji
            "平成\tH\t1989-01-08\tHeisei\n令和\th\t2019-05-01\tReiwa", // dup abbrev
            "令和\tR\t2019-05-01\tReiwa\n平成\tH\t1989-01-08\tHeisei", // out of order
            "令和\tR\t2019-05-01\tReiwa\n令和\tX\t2030-05-01\tNew",    // dup name
        ];
        for text in bad {
            assert!(EraTable::parse(text).is_err(), "{text:?} should be refused");
        }
        let err = EraTable::parse("# c\n令和\tR\t2019-05-01\tReiwa\nx").unwrap_err();
        assert_eq!(err.line, 3);
    }

    #[test]
    fn a_future_era_is_one_more_line() {
        let text = format!("{BUILTIN_ERAS_TSV}\n未来\tF\t2040-02-11\tMirai\n");
        let table = EraTable::parse(&text).expect("parses");
        let d = date!(2040 - 02 - 11);
        assert_eq!(
            table.format_date(d, DateStyle::Wareki, Lang::Ja),
            "未来元年2月11日"
        );
        assert_eq!(
            table.format_date(d, DateStyle::Both, Lang::En),
            "11 February 2040 (Mirai 1)"
        );
        assert_eq!(
            table.format_date(date!(2040 - 02 - 10), DateStyle::Wareki, Lang::Ja),
            "令和22年2月10日"
        );
        assert_eq!(table.parse_date("F1.2.11"), Ok(d));
        assert_eq!(table.parse_date("未来2年1月1日"), Ok(date!(2041 - 01 - 01)));
        assert_eq!(
            table.parse_date("R22.2.11"),
            Err(DateParseError::OutsideEra {
                era: "令和".into()
            })
        );
        // With the builtin table, F is not an era.
        assert_eq!(parse_date("F1.2.11"), Err(DateParseError::UnknownEra));
    }

    #[test]
    fn formats_japanese() {
        let d = date!(2026 - 03 - 25);
        assert_eq!(ja(d, DateStyle::Wareki), "令和8年3月25日");
        assert_eq!(ja(d, DateStyle::Seireki), "2026年3月25日");
        assert_eq!(ja(d, DateStyle::Both), "令和8年(2026年)3月25日");
        assert_eq!(
            ja(date!(2019 - 05 - 01), DateStyle::Wareki),
            "令和元年5月1日"
        );
        assert_eq!(
            ja(date!(2019 - 05 - 01), DateStyle::Both),
            "令和元年(2019年)5月1日"
        );
    }

    #[test]
    fn formats_english() {
        let d = date!(2026 - 03 - 25);
        assert_eq!(en(d, DateStyle::Seireki), "25 March 2026");
        assert_eq!(en(d, DateStyle::Wareki), "25 March, Reiwa 8");
        assert_eq!(en(d, DateStyle::Both), "25 March 2026 (Reiwa 8)");
        assert_eq!(
            en(date!(2019 - 05 - 01), DateStyle::Wareki),
            "1 May, Reiwa 1"
        );
        assert_eq!(
            en(date!(1989 - 01 - 07), DateStyle::Both),
            "7 January 1989 (Showa 64)"
        );
    }

    #[test]
    fn era_boundaries() {
        let cases = [
            (date!(2019 - 04 - 30), "平成31年4月30日"),
            (date!(2019 - 05 - 01), "令和元年5月1日"),
            (date!(1989 - 01 - 07), "昭和64年1月7日"),
            (date!(1989 - 01 - 08), "平成元年1月8日"),
            (date!(1926 - 12 - 24), "大正15年12月24日"),
            (date!(1926 - 12 - 25), "昭和元年12月25日"),
            (date!(1912 - 07 - 29), "明治45年7月29日"),
            (date!(1912 - 07 - 30), "大正元年7月30日"),
            (date!(1868 - 01 - 25), "明治元年1月25日"),
            (date!(1873 - 01 - 01), "明治6年1月1日"),
        ];
        for (d, text) in cases {
            assert_eq!(ja(d, DateStyle::Wareki), text);
            assert_eq!(parse_date(text), Ok(d), "{text}");
        }
    }

    #[test]
    fn before_the_first_era_falls_back_to_seireki() {
        let d = date!(1868 - 01 - 24);
        assert_eq!(EraTable::builtin().era_of(d), None);
        assert_eq!(ja(d, DateStyle::Wareki), "1868年1月24日");
        assert_eq!(ja(d, DateStyle::Both), "1868年1月24日");
        assert_eq!(en(d, DateStyle::Wareki), "24 January 1868");
        let empty = EraTable::default();
        assert_eq!(
            empty.format_date(date!(2026 - 03 - 25), DateStyle::Wareki, Lang::Ja),
            "2026年3月25日"
        );
    }

    #[test]
    fn era_of_gives_era_and_year() {
        let table = EraTable::builtin();
        let (era, year) = table.era_of(date!(2026 - 03 - 25)).expect("in an era");
        assert_eq!((era.name.as_str(), year), ("令和", 8));
        let (era, year) = table.era_of(date!(2019 - 04 - 30)).expect("in an era");
        assert_eq!((era.name.as_str(), year), ("平成", 31));
    }

    #[test]
    fn parses_gregorian_forms() {
        let d = date!(2026 - 04 - 01);
        for text in [
            "2026-04-01",
            "2026/4/1",
            "2026.4.1",
            "2026年4月1日",
            "2026年4月1",
            "  2026-04-01 ",
            "２０２６－０４－０１",
            "２０２６年４月１日",
            "\u{3000}2026/04/01\u{3000}",
            "2026 年 4 月 1 日",
        ] {
            assert_eq!(parse_date(text), Ok(d), "{text:?}");
        }
    }

    #[test]
    fn parses_wareki_forms() {
        let d = date!(2026 - 04 - 01);
        for text in [
            "令和8年4月1日",
            "R8.4.1",
            "R8/4/1",
            "R08.04.01",
            "R8-4-1",
            "r8.4.1",
            "Ｒ８．４．１",
            "令和８年４月１日",
            "令和 8年 4月 1日",
            "Reiwa 8.4.1",
            "reiwa8/4/1",
            "令和8年(2026年)4月1日",
            "令和8年（２０２６年）4月1日",
            "令和8年(2026)4月1日",
        ] {
            assert_eq!(parse_date(text), Ok(d), "{text:?}");
        }
        let first = date!(2019 - 05 - 01);
        for text in ["令和元年5月1日", "令和1年5月1日", "R1.5.1", "R元.5.1"] {
            assert_eq!(parse_date(text), Ok(first), "{text:?}");
        }
    }

    #[test]
    fn parses_every_builtin_era() {
        let cases = [
            ("平成31年4月30日", "H31.4.30", date!(2019 - 04 - 30)),
            ("平成元年1月8日", "h1/1/8", date!(1989 - 01 - 08)),
            ("昭和64年1月7日", "S64.1.7", date!(1989 - 01 - 07)),
            ("昭和20年8月15日", "s20-8-15", date!(1945 - 08 - 15)),
            ("大正12年9月1日", "T12.9.1", date!(1923 - 09 - 01)),
            ("明治45年7月29日", "M45.7.29", date!(1912 - 07 - 29)),
        ];
        for (kanji, short, d) in cases {
            assert_eq!(parse_date(kanji), Ok(d), "{kanji}");
            assert_eq!(parse_date(short), Ok(d), "{short}");
        }
    }

    #[test]
    fn refuses_dates_that_do_not_exist() {
        for text in [
            "2026-13-01",
            "2026-02-30",
            "2026-00-10",
            "2026-01-00",
            "R8.2.29",
        ] {
            assert_eq!(parse_date(text), Err(DateParseError::NoSuchDate), "{text}");
        }
        assert_eq!(parse_date("2024-02-29"), Ok(date!(2024 - 02 - 29)));
    }

    #[test]
    fn refuses_dates_outside_their_era() {
        let heisei = DateParseError::OutsideEra {
            era: "平成".into()
        };
        let reiwa = DateParseError::OutsideEra {
            era: "令和".into()
        };
        assert_eq!(parse_date("H31.5.1"), Err(heisei.clone()));
        assert_eq!(parse_date("平成32年1月1日"), Err(heisei.clone()));
        assert_eq!(parse_date("H1.1.7"), Err(heisei));
        assert_eq!(parse_date("令和1年4月30日"), Err(reiwa.clone()));
        assert_eq!(parse_date("令和元年4月30日"), Err(reiwa.clone()));
        assert_eq!(parse_date("R0.1.1"), Err(reiwa.clone()));
        assert_eq!(parse_date("令和0年5月1日"), Err(reiwa.clone()));
        assert_eq!(parse_date("R9999.1.1"), Err(reiwa));
        assert_eq!(
            parse_date("S64.1.8"),
            Err(DateParseError::OutsideEra {
                era: "昭和".into()
            })
        );
        assert_eq!(parse_date("平成31年4月30日"), Ok(date!(2019 - 04 - 30)));
    }

    #[test]
    fn refuses_disagreeing_years_in_both_form() {
        assert_eq!(
            parse_date("令和8年(2025年)3月25日"),
            Err(DateParseError::YearMismatch {
                expected: 2026,
                found: 2025
            })
        );
    }

    #[test]
    fn refuses_other_forms_and_unknown_eras() {
        for text in [
            "",
            "   ",
            "2026",
            "2026-04",
            "26-4-1",
            "2026-4/1",
            "2026.04.01.",
            "2026-004-01",
            "20260401",
            "2026年4月1日です",
            "元年5月1日",
            "2026年(2026年)4月1日",
            "令和",
            "R",
            "R8",
            "R8年",
            "令和8年4月",
            "abc",
            "tomorrow",
            "25 March 2026",
            "明日",
            "R8.4.1.",
            "令和8年((2026年)4月1日",
        ] {
            assert_eq!(parse_date(text), Err(DateParseError::Format), "{text:?}");
        }
        for text in [
            "X8.4.1",
            "慶応3年1月1日",
            "慶応元年1月1日",
            "Edo 3.1.1",
            "ｘ８．４．１",
        ] {
            assert_eq!(
                parse_date(text),
                Err(DateParseError::UnknownEra),
                "{text:?}"
            );
        }
    }

    #[test]
    fn error_message_ids() {
        assert_eq!(DateParseError::Format.message_id(), "date-format");
        assert_eq!(DateParseError::NoSuchDate.message_id(), "date-no-such-date");
        assert_eq!(
            DateParseError::OutsideEra {
                era: "平成".into()
            }
            .message_id(),
            "date-outside-era"
        );
        assert_eq!(DateParseError::UnknownEra.message_id(), "date-unknown-era");
        assert_eq!(
            DateParseError::YearMismatch {
                expected: 1,
                found: 2
            }
            .message_id(),
            "date-year-mismatch"
        );
    }

    #[test]
    fn fiscal_years() {
        assert_eq!(fiscal_year(date!(2026 - 03 - 31)), 2025);
        assert_eq!(fiscal_year(date!(2026 - 04 - 01)), 2026);
        assert_eq!(fiscal_year(date!(2026 - 12 - 31)), 2026);
        assert_eq!(fiscal_year(date!(2027 - 01 - 01)), 2026);
    }

    #[test]
    fn folds_fullwidth() {
        assert_eq!(fold_fullwidth("Ｒ８．４．１"), "R8.4.1");
        assert_eq!(fold_fullwidth("ＡＢＣ　ａｂｃ！～"), "ABC abc!~");
        assert_eq!(fold_fullwidth("令和８年"), "令和8年");
        assert_eq!(fold_fullwidth("ｶﾀｶﾅ and ascii"), "ｶﾀｶﾅ and ascii");
    }

    #[test]
    fn codes_and_serde() {
        for style in DateStyle::ALL {
            assert_eq!(style.code().parse::<DateStyle>(), Ok(style));
            let json = serde_json::to_string(&style).expect("serialises");
            assert_eq!(json, format!("\"{}\"", style.code()));
            assert_eq!(serde_json::from_str::<DateStyle>(&json).ok(), Some(style));
            assert_eq!(style.to_string(), style.code());
        }
        for lang in Lang::ALL {
            assert_eq!(lang.code().parse::<Lang>(), Ok(lang));
            let json = serde_json::to_string(&lang).expect("serialises");
            assert_eq!(json, format!("\"{}\"", lang.code()));
            assert_eq!(serde_json::from_str::<Lang>(&json).ok(), Some(lang));
            assert_eq!(lang.to_string(), lang.code());
        }
        assert_eq!(DateStyle::default(), DateStyle::Wareki);
        assert_eq!(Lang::default(), Lang::Ja);
        assert_eq!(" Both ".parse::<DateStyle>(), Ok(DateStyle::Both));
        assert_eq!("ja-JP".parse::<Lang>(), Ok(Lang::Ja));
        assert_eq!("EN_gb".parse::<Lang>(), Ok(Lang::En));
        assert!("fr".parse::<Lang>().is_err());
        assert!("".parse::<Lang>().is_err());
        assert!("gregorian".parse::<DateStyle>().is_err());
        assert!(serde_json::from_str::<DateStyle>("\"Wareki\"").is_err());
    }

    fn date_between(from: Date, to: Date) -> impl Strategy<Value = Date> {
        (from.to_julian_day()..=to.to_julian_day())
            .prop_map(|jd| Date::from_julian_day(jd).expect("julian day within range"))
    }

    fn any_date() -> impl Strategy<Value = Date> {
        date_between(Date::MIN, Date::MAX)
    }

    fn any_style() -> impl Strategy<Value = DateStyle> {
        prop_oneof![
            Just(DateStyle::Wareki),
            Just(DateStyle::Seireki),
            Just(DateStyle::Both)
        ]
    }

    fn any_lang() -> impl Strategy<Value = Lang> {
        prop_oneof![Just(Lang::Ja), Just(Lang::En)]
    }

    proptest! {
        #[test]
        fn japanese_formats_round_trip(d in date_between(date!(1900-01-01), date!(2200-12-31))) {
            for style in DateStyle::ALL {
                let text = format_date(d, style, Lang::Ja);
                prop_assert_eq!(parse_date(&text), Ok(d), "{}", text);
            }
        }

        #[test]
        fn era_year_is_at_least_one(d in any_date()) {
            if let Some((era, year)) = EraTable::builtin().era_of(d) {
                prop_assert!(year >= 1);
                prop_assert!(era.first_day <= d);
            }
        }

        #[test]
        fn formatting_never_panics(d in any_date(), style in any_style(), lang in any_lang()) {
            let text = format_date(d, style, lang);
            prop_assert!(!text.is_empty());
        }

        #[test]
        fn parsing_never_panics(s in ".{0,40}") {
            let _ = parse_date(&s);
        }

        #[test]
        fn parsing_date_like_text_never_panics(
            s in "[ 0-9./\\-()年月日元令和平成昭大正明治RHSTMrhstmXｘ０-９（）．／－　]{0,24}"
        ) {
            if let Ok(d) = parse_date(&s) {
                // Whatever is accepted formats back to something that parses to the same date.
                prop_assert_eq!(parse_date(&format_date(d, DateStyle::Both, Lang::Ja)), Ok(d));
            }
        }

        #[test]
        fn abbreviated_wareki_round_trips(d in date_between(date!(1900-01-01), date!(2200-12-31))) {
            let (era, year) = EraTable::builtin().era_of(d).expect("1900 is after 明治");
            let text = format!("{}{}.{}.{}", era.abbrev, year, u8::from(d.month()), d.day());
            prop_assert_eq!(parse_date(&text), Ok(d), "{}", text);
        }

        #[test]
        fn fiscal_year_is_year_or_previous(d in any_date()) {
            let fy = fiscal_year(d);
            prop_assert!(fy == d.year() || fy == d.year() - 1);
        }
    }
}

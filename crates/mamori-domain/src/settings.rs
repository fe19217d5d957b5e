//! Organisation settings: name, date style, time zone, MFA policy and session lifetimes.

use crate::risk::{RiskLevel, RiskScale};
use crate::wareki::DateStyle;
use serde::{Deserialize, Serialize};

/// The settings an administrator edits on the settings page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSettings {
    /// The organisation's name as shown in the header.
    pub name: String,
    /// How dates are shown: 和暦, 西暦 or both.
    pub date_style: DateStyle,
    /// IANA time zone; 年度, due dates and daily jobs follow it.
    pub time_zone: String,
    /// Roles whose holders must use MFA.
    pub mfa_required_roles: Vec<String>,
    /// Minutes of inactivity after which a session ends.
    pub session_idle_minutes: i64,
    /// Hours after which a session ends however active.
    pub session_absolute_hours: i64,
    /// The scale risks are rated on (3×3 by default; changed only while no risk is recorded).
    pub risk_scale: RiskScale,
    /// Accepting a residual risk at or above this level needs the CISO's approval (中 by
    /// default).
    pub risk_acceptance_threshold: RiskLevel,
}

impl Default for OrgSettings {
    fn default() -> Self {
        OrgSettings {
            name: "桑名・員弁広域連合".into(),
            date_style: DateStyle::Wareki,
            time_zone: "Asia/Tokyo".into(),
            mfa_required_roles: vec!["admin".into(), "ciso".into(), "chief_officer".into()],
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            risk_scale: RiskScale::ThreeByThree,
            risk_acceptance_threshold: RiskLevel::Medium,
        }
    }
}

/// A problem with one field, as a Fluent message id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The field's name in the form.
    pub field: &'static str,
    /// The Fluent message id that explains it.
    pub message_id: &'static str,
}

impl OrgSettings {
    /// Checks every field, returning all problems.
    pub fn validate(&self) -> Result<(), Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let name_len = self.name.trim().chars().count();
        if name_len == 0 || name_len > 200 {
            problems.push(FieldProblem {
                field: "name",
                message_id: "error-required-text",
            });
        }
        if jiff::tz::TimeZone::get(&self.time_zone).is_err() {
            problems.push(FieldProblem {
                field: "time_zone",
                message_id: "error-time-zone",
            });
        }
        if !(5..=24 * 60).contains(&self.session_idle_minutes) {
            problems.push(FieldProblem {
                field: "session_idle_minutes",
                message_id: "error-idle-range",
            });
        }
        if !(1..=24 * 7).contains(&self.session_absolute_hours) {
            problems.push(FieldProblem {
                field: "session_absolute_hours",
                message_id: "error-absolute-range",
            });
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// The calendar date at `unix_seconds` in the time zone `tz` (UTC when the zone is unknown).
pub fn local_date(unix_seconds: i64, tz: &str) -> Option<time::Date> {
    let ts = jiff::Timestamp::from_second(unix_seconds).ok()?;
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    let d = ts.to_zoned(zone).date();
    let month = time::Month::try_from(u8::try_from(d.month()).ok()?).ok()?;
    time::Date::from_calendar_date(i32::from(d.year()), month, u8::try_from(d.day()).ok()?).ok()
}

/// The UTC offset in seconds in force at `unix_seconds` in `tz` (0 for an unknown zone).
pub fn utc_offset_seconds(unix_seconds: i64, tz: &str) -> i32 {
    let Ok(ts) = jiff::Timestamp::from_second(unix_seconds) else {
        return 0;
    };
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    zone.to_offset(ts).seconds()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_named() {
        assert_eq!(OrgSettings::default().validate(), Ok(()));
        let bad = OrgSettings {
            time_zone: "Mars/Olympus".into(),
            session_idle_minutes: 0,
            ..Default::default()
        };
        let problems = bad.validate().err().unwrap_or_default();
        let fields: Vec<_> = problems.iter().map(|p| p.field).collect();
        assert_eq!(fields, ["time_zone", "session_idle_minutes"]);
    }

    #[test]
    fn tokyo_date_differs_from_utc_near_midnight() {
        // 2026-03-31T15:30:00Z is 2026-04-01 00:30 in Tokyo: a new 年度 there.
        let t = 1_774_971_000;
        assert_eq!(
            local_date(t, "UTC"),
            time::Date::from_calendar_date(2026, time::Month::March, 31).ok()
        );
        assert_eq!(
            local_date(t, "Asia/Tokyo"),
            time::Date::from_calendar_date(2026, time::Month::April, 1).ok()
        );
    }
}

//! Times are stored as RFC 3339 UTC text with microseconds, so they sort as text and read the
//! same on both databases.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// `2026-11-26T12:00:00.000000Z`.
pub fn format_ts(t: OffsetDateTime) -> String {
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    t.to_offset(UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000000Z".into())
}

/// Parses a stored time (any RFC 3339).
pub fn parse_ts(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_sorts_as_text() {
        let a = OffsetDateTime::from_unix_timestamp(1_774_971_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let b = a + time::Duration::microseconds(1);
        assert_eq!(parse_ts(&format_ts(a)), Some(a));
        assert!(format_ts(a) < format_ts(b));
        assert_eq!(format_ts(a), "2026-03-31T15:30:00.000000Z");
    }
}

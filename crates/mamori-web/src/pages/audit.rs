//! The audit-log page: filter by actor, entity and time; export exactly what is filtered as CSV.

use crate::error::{AppError, AppResult};
use crate::i18n::tr;
use crate::view::{query_string, Chrome, Ctx, Pager};
use askama::Template;
use axum::extract::Query;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use mamori_domain::audit::AuditEntry;
use mamori_domain::interchange::{formula_safe, UTF8_BOM};
use mamori_domain::wareki::parse_date;
use mamori_store::AuditFilter;
use serde::Deserialize;

const PER_PAGE: i64 = 50;

/// Filters, as typed (dates in 西暦 or 和暦).
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    entity_type: String,
    #[serde(default)]
    entity_id: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    page: Option<i64>,
}

impl AuditQuery {
    /// The store filter; dates are whole days in the organisation's time zone. Unparseable
    /// dates are reported, not ignored.
    fn filter(&self, tz: &str) -> Result<AuditFilter, &'static str> {
        let day_start = |s: &str, plus_days: i64| -> Result<Option<String>, &'static str> {
            if s.trim().is_empty() {
                return Ok(None);
            }
            let d = parse_date(s.trim()).map_err(|e| e.message_id())?;
            let d = d + time::Duration::days(plus_days);
            let midnight_utc = d.midnight().assume_utc().unix_timestamp();
            let offset = mamori_domain::settings::utc_offset_seconds(midnight_utc, tz);
            let t = time::OffsetDateTime::from_unix_timestamp(midnight_utc - i64::from(offset))
                .map_err(|_| "date-no-such-date")?;
            Ok(Some(mamori_store::format_ts(t)))
        };
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        Ok(AuditFilter {
            actor: text(&self.actor),
            entity_type: text(&self.entity_type),
            entity_id: text(&self.entity_id),
            action_prefix: text(&self.action),
            from: day_start(&self.from, 0)?,
            until: day_start(&self.until, 1)?,
        })
    }

    fn query_string(&self) -> String {
        query_string(&[
            ("actor", &self.actor),
            ("entity_type", &self.entity_type),
            ("entity_id", &self.entity_id),
            ("action", &self.action),
            ("from", &self.from),
            ("until", &self.until),
        ])
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    entries: Vec<AuditEntry>,
    pager: Pager,
    q: AuditQuery,
    csv_link: String,
    error: Option<String>,
}

/// GET `/admin/audit`.
pub async fn list(ctx: Ctx, Query(q): Query<AuditQuery>) -> AppResult<Response> {
    let mut pager = Pager::new(q.page, PER_PAGE, q.query_string());
    let csv_link = format!("/admin/audit.csv?{}", q.query_string());
    let (entries, error) = match q.filter(&ctx.settings.time_zone) {
        Ok(filter) => {
            let (entries, total) = ctx
                .state
                .store
                .audit_page(&filter, pager.per_page, pager.offset())
                .await?;
            pager.total = total;
            (entries, None)
        }
        Err(id) => (Vec::new(), Some(tr(ctx.lang, id))),
    };
    Ok(ctx.page(&AuditPage {
        c: ctx.chrome(),
        entries,
        pager,
        q,
        csv_link,
        error,
    }))
}

/// GET `/admin/audit.csv`: UTF-8 with BOM, CRLF, Japanese (or English) headers, formula-safe.
pub async fn export_csv(ctx: Ctx, Query(q): Query<AuditQuery>) -> AppResult<Response> {
    let filter = q
        .filter(&ctx.settings.time_zone)
        .map_err(AppError::BadRequest)?;
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let headers: Vec<String> = [
        "audit-col-seq",
        "audit-col-at",
        "audit-col-actor",
        "audit-col-source",
        "audit-col-action",
        "audit-col-entity-type",
        "audit-col-entity-id",
        "audit-col-before",
        "audit-col-after",
        "audit-col-prev-hash",
        "audit-col-hash",
    ]
    .iter()
    .map(|id| tr(ctx.lang, id))
    .collect();
    writer
        .write_record(&headers)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let mut failure = None;
    ctx.state
        .store
        .audit_for_each(&filter, |e| {
            let seq = e.seq.to_string();
            let before = e.record.before.clone().unwrap_or_default();
            let after = e.record.after.clone().unwrap_or_default();
            let cells = [
                seq.as_str(),
                &e.record.at,
                &e.record.actor,
                &e.record.source,
                &e.record.action,
                &e.record.entity_type,
                &e.record.entity_id,
                &before,
                &after,
                &e.prev_hash,
                &e.hash,
            ];
            if let Err(err) =
                writer.write_record(cells.iter().map(|c| formula_safe(c).into_owned()))
            {
                failure = Some(err.to_string());
            }
            Ok(())
        })
        .await?;
    if let Some(f) = failure {
        return Err(AppError::Internal(f));
    }
    let body = writer
        .into_inner()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let mut out = UTF8_BOM.as_bytes().to_vec();
    out.extend_from_slice(&body);
    let mut res = out.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"audit-log.csv\""),
    );
    Ok(res)
}

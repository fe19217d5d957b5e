//! The information asset register (`DOMAIN.md` §3): the list with its filters, an asset's
//! page (class, handling rules, relations with the container warning, files, disposal), and
//! the create and edit forms. Access rules are in [`crate::assets`].

use crate::assets::{self as access, AssetFields, ListParams};
use crate::error::{AppError, AppResult};
use crate::i18n::{tr, Lang};
use crate::view::{Chrome, Ctx, FormErrors, Pager};
use askama::Template;
use axum::body::Body;
use axum::extract::{Multipart, Path, Query};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use mamori_domain::assets::classification::{lower_axes, Axis, Level, Scheme};
use mamori_domain::assets::handling::{rules_for, HandlingRule};
use mamori_domain::assets::{AssetStatus, AssetType, RelationKind, Segment};
use mamori_domain::authz::Target;
use mamori_domain::interchange::assets::Assets;
use mamori_domain::interchange::values::fold;
use mamori_domain::permission::Permission;
use mamori_store::{
    AssetRow, AssetSort, AttachmentRow, FileWriter, RelationRow, StatusFilter, Store, UnitRow,
};
use serde::Deserialize;

/// Rows per page.
const PER_PAGE: i64 = 50;

/// Labels and definitions the asset templates share.
pub(crate) struct Vocab {
    lang: Lang,
    /// The organisation's scheme.
    pub scheme: Scheme,
}

impl Vocab {
    pub(crate) fn type_label(&self, code: &str) -> String {
        AssetType::parse(code).map_or(code.to_owned(), |t| tr(self.lang, &t.message_id()))
    }
    pub(crate) fn segment_label(&self, code: &str) -> String {
        Segment::parse(code).map_or(code.to_owned(), |s| tr(self.lang, &s.message_id()))
    }
    pub(crate) fn status_label(&self, code: &str) -> String {
        AssetStatus::parse(code).map_or(code.to_owned(), |s| tr(self.lang, &s.message_id()))
    }
    pub(crate) fn relation_label(&self, code: &str) -> String {
        RelationKind::parse(code).map_or(code.to_owned(), |k| tr(self.lang, &k.message_id()))
    }
    pub(crate) fn axis_label(&self, axis: &Axis) -> String {
        tr(self.lang, &format!("axis-{}", axis.code()))
    }
    pub(crate) fn levels(&self, axis: &Axis) -> Vec<&Level> {
        self.scheme.axis(*axis).collect()
    }
    pub(crate) fn definition(&self, level: &Level) -> String {
        if self.lang == Lang::En {
            level.definition_en.clone()
        } else {
            level.definition_ja.clone()
        }
    }
    pub(crate) fn level_definition(&self, axis: &Axis, code: &str) -> String {
        self.scheme
            .level(*axis, code)
            .map(|l| self.definition(l))
            .unwrap_or_default()
    }
    pub(crate) fn types(&self) -> Vec<(&'static str, String)> {
        AssetType::ALL
            .iter()
            .map(|t| (t.code(), tr(self.lang, &t.message_id())))
            .collect()
    }
    pub(crate) fn segments(&self) -> Vec<(&'static str, String)> {
        Segment::ALL
            .iter()
            .map(|s| (s.code(), tr(self.lang, &s.message_id())))
            .collect()
    }
    pub(crate) fn statuses(&self) -> Vec<(&'static str, String)> {
        AssetStatus::ALL
            .iter()
            .map(|s| (s.code(), tr(self.lang, &s.message_id())))
            .collect()
    }
    pub(crate) fn relation_kinds(&self) -> Vec<(&'static str, String)> {
        RelationKind::ALL
            .iter()
            .map(|k| (k.code(), tr(self.lang, &k.message_id())))
            .collect()
    }
    pub(crate) fn axes(&self) -> [Axis; 3] {
        Axis::ALL
    }
    pub(crate) fn rule_label(&self, r: &HandlingRule) -> String {
        if self.lang == Lang::En {
            r.label_en.clone()
        } else {
            r.label_ja.clone()
        }
    }
}

impl Vocab {
    /// The vocabulary for this request's language, with the organisation's scheme.
    pub(crate) async fn load(ctx: &Ctx) -> AppResult<Vocab> {
        Ok(Vocab {
            lang: ctx.lang,
            scheme: ctx.state.store.scheme().await?,
        })
    }
}

#[derive(Template)]
#[template(path = "assets.html")]
struct ListPage {
    c: Chrome,
    v: Vocab,
    assets: Vec<AssetRow>,
    pager: Pager,
    params: ListParams,
    units: Vec<UnitRow>,
    can_create: bool,
    today: String,
}

impl ListPage {
    fn export_link(&self, format: &str) -> String {
        format!("/assets/export/{format}?{}", self.params.query_string())
    }
    fn sorts(&self) -> Vec<(&'static str, String)> {
        AssetSort::ALL
            .iter()
            .map(|(code, _)| (*code, self.c.t(&format!("asset-sort-{code}"))))
            .collect()
    }
    fn is_overdue(&self, a: &AssetRow) -> bool {
        a.status != "disposed"
            && a.review_on
                .as_deref()
                .is_some_and(|d| d < self.today.as_str())
    }
}

async fn list_filter(
    ctx: &Ctx,
    params: &ListParams,
    scheme: &Scheme,
) -> AppResult<mamori_store::AssetFilter> {
    let p = ctx.principal()?;
    let scope = access::scope(&ctx.state, p, scheme).await?;
    params
        .filter(&ctx.state, scheme, scope, StatusFilter::Active, ctx.today())
        .await
}

/// List parameters plus the page number.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(flatten)]
    params: ListParams,
    page: Option<i64>,
}

/// GET `/assets`.
pub async fn list(ctx: Ctx, Query(query): Query<ListQuery>) -> AppResult<Response> {
    let v = Vocab::load(&ctx).await?;
    let filter = list_filter(&ctx, &query.params, &v.scheme).await?;
    let mut pager = Pager::new(query.page, PER_PAGE, query.params.query_string());
    let (assets, total) = ctx
        .state
        .store
        .assets_page(&filter, pager.per_page, pager.offset())
        .await?;
    pager.total = total;
    let p = ctx.principal()?;
    let page = ListPage {
        c: ctx.chrome(),
        can_create: p.can(Permission::AssetsEdit, &Target::Anywhere),
        units: ctx.state.store.units().await?,
        v,
        assets,
        pager,
        params: query.params,
        today: ctx.today().to_string(),
    };
    Ok(ctx.page(&page))
}

/// GET `/assets/export/{format}`: exactly what the list shows (same filters and scope), as
/// CSV or XLSX in the format imports read.
pub async fn export(
    ctx: Ctx,
    Path(format): Path<String>,
    Query(params): Query<ListParams>,
) -> AppResult<Response> {
    let scheme = ctx.state.store.scheme().await?;
    let filter = list_filter(&ctx, &params, &scheme).await?;
    let mut records = Vec::new();
    ctx.state
        .store
        .assets_for_each(&filter, |a| {
            records.push(a.to_record()?);
            Ok(())
        })
        .await?;
    match format.as_str() {
        "csv" => {
            let body = mamori_domain::interchange::kind::write_csv::<Assets>(&records, true)
                .map_err(AppError::Internal)?;
            Ok(crate::view::csv_download("assets.csv", body))
        }
        "xlsx" => crate::view::xlsx_download::<Assets>("assets.xlsx", records).await,
        _ => Err(AppError::NotFound),
    }
}

/// A stored file (chunked in the database) streamed as a download, with its length.
pub(crate) fn stored_file(store: &Store, sha256: &str, filename: &str, size: i64) -> Response {
    let store = store.clone();
    let sha = sha256.to_owned();
    let stream = futures_util::stream::unfold(0i64, move |seq| {
        let store = store.clone();
        let sha = sha.clone();
        async move {
            match store.file_chunk(&sha, seq).await {
                Ok(Some(bytes)) => Some((Ok::<_, std::io::Error>(bytes), seq + 1)),
                Ok(None) => None,
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), i64::MAX)),
            }
        }
    });
    let mut res = download(
        filename,
        "application/octet-stream",
        Body::from_stream(stream),
    );
    if let Ok(v) = HeaderValue::from_str(&size.to_string()) {
        res.headers_mut().insert(header::CONTENT_LENGTH, v);
    }
    res
}

/// A download: never rendered inline, whatever the declared type.
pub(crate) fn download(filename: &str, content_type: &str, body: Body) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

/// A relation as the asset page shows it.
pub(crate) struct RelationView {
    row: RelationRow,
    /// True when the shown asset is the `from` side.
    outgoing: bool,
    /// Axes on which the container is classified lower than its part.
    lower: Vec<Axis>,
}

impl RelationView {
    fn other(&self) -> &mamori_store::AssetBrief {
        if self.outgoing {
            &self.row.to
        } else {
            &self.row.from
        }
    }
}

#[derive(Template)]
#[template(path = "asset.html")]
struct AssetPage {
    c: Chrome,
    v: Vocab,
    asset: AssetRow,
    rules: Vec<HandlingRule>,
    relations: Vec<RelationView>,
    attachments: Vec<AttachmentRow>,
    can_edit: bool,
    can_audit: bool,
    errors: FormErrors,
    overdue: bool,
    max_upload: String,
    /// Risk register: the open risks naming the asset (`None`: the reader may not see risks).
    risk_count: Option<i64>,
    /// Risk register: the reader may record a risk for the asset's unit.
    can_record_risk: bool,
}

impl AssetPage {
    fn has_warning(&self) -> bool {
        self.relations.iter().any(|r| !r.lower.is_empty())
    }
    fn lower_text(&self, r: &RelationView) -> String {
        let axes: Vec<String> = r.lower.iter().map(|a| self.v.axis_label(a)).collect();
        let (container, part) = match r.row.relation_kind() {
            Some(k) => k.container_first(&r.row.from, &r.row.to),
            None => (&r.row.from, &r.row.to),
        };
        crate::i18n::tr_args(
            self.c.lang,
            "asset-lower-container",
            &[
                ("container", container.name.clone()),
                ("part", part.name.clone()),
                ("axes", axes.join("・")),
            ],
        )
    }
    fn class(&self) -> mamori_domain::assets::classification::Class {
        self.asset.class()
    }
}

async fn asset_page(ctx: &Ctx, id: i64, errors: FormErrors) -> AppResult<AssetPage> {
    let p = ctx.principal()?;
    let v = Vocab::load(ctx).await?;
    let (asset, lineage) = access::visible(&ctx.state, p, &v.scheme, id).await?;
    let all_rules = ctx.state.store.handling_rules().await?;
    let rules = rules_for(&all_rules, &v.scheme, &asset.class())
        .into_iter()
        .cloned()
        .collect();
    let relations = ctx
        .state
        .store
        .asset_relations(asset.id)
        .await?
        .into_iter()
        .map(|row| {
            let lower = match row.relation_kind() {
                Some(k) => {
                    let (container, part) = k.container_first(&row.from, &row.to);
                    lower_axes(&v.scheme, &container.class(), &part.class())
                }
                None => Vec::new(),
            };
            RelationView {
                outgoing: row.from.id == asset.id,
                row,
                lower,
            }
        })
        .collect();
    let today = ctx.today().to_string();
    // Risk register
    let target = Target::Unit { lineage: &lineage };
    let risk_count = if crate::pages::risks::RISK_READ
        .iter()
        .any(|perm| p.can(*perm, &target))
    {
        let filter = mamori_store::RiskFilter {
            asset: Some(asset.id.0),
            ..Default::default()
        };
        Some(
            ctx.state
                .store
                .risks_page(&filter, mamori_store::RiskSort::Code, 1, 0)
                .await?
                .1,
        )
    } else {
        None
    };
    let can_record_risk = p.can(Permission::RisksEdit, &target) && asset.status != "disposed";
    Ok(AssetPage {
        c: ctx.chrome(),
        risk_count,
        can_record_risk,
        overdue: asset.status != "disposed"
            && asset
                .review_on
                .as_deref()
                .is_some_and(|d| d < today.as_str()),
        attachments: ctx.state.store.asset_attachments(asset.id).await?,
        can_edit: access::may_edit(p, &lineage),
        can_audit: p.can(Permission::AuditRead, &Target::Organisation),
        max_upload: format!("{} MB", ctx.state.config.max_upload_bytes / (1024 * 1024)),
        v,
        asset,
        rules,
        relations,
        errors,
    })
}

/// GET `/assets/{id}`.
pub async fn show(ctx: Ctx, Path(id): Path<i64>) -> AppResult<Response> {
    let page = asset_page(&ctx, id, FormErrors::default()).await?;
    Ok(ctx.page(&page))
}

#[derive(Template)]
#[template(path = "asset_form.html")]
struct FormPage {
    c: Chrome,
    v: Vocab,
    asset: Option<AssetRow>,
    values: AssetFields,
    units: Vec<UnitRow>,
    errors: FormErrors,
}

impl FormPage {
    fn level_value(&self, axis: &Axis) -> String {
        match axis {
            Axis::Confidentiality => self.values.confidentiality.clone(),
            Axis::Integrity => self.values.integrity.clone(),
            Axis::Availability => self.values.availability.clone(),
        }
    }
    fn text_fields(&self) -> Vec<(&'static str, &'static str, String)> {
        vec![
            ("location", "asset-location", self.values.location.clone()),
            (
                "custodian",
                "asset-custodian",
                self.values.custodian.clone(),
            ),
            (
                "rto_hours",
                "asset-rto-hours",
                self.values.rto_hours.clone(),
            ),
            (
                "review_on",
                "asset-review-on",
                self.values.review_on.clone(),
            ),
        ]
    }
    fn current_unit_missing(&self) -> bool {
        self.asset
            .as_ref()
            .is_some_and(|a| !self.units.iter().any(|u| u.code == a.owner_unit))
    }
}

/// Units where the principal may edit assets.
async fn editable_units(ctx: &Ctx) -> AppResult<Vec<UnitRow>> {
    let p = ctx.principal()?;
    let mut out = Vec::new();
    for u in ctx.state.store.units().await? {
        let lineage = ctx.state.store.unit_lineage(u.id).await?;
        if access::may_edit(p, &lineage) {
            out.push(u);
        }
    }
    Ok(out)
}

async fn form_page(
    ctx: &Ctx,
    asset: Option<AssetRow>,
    values: AssetFields,
    errors: FormErrors,
) -> AppResult<FormPage> {
    Ok(FormPage {
        c: ctx.chrome(),
        v: Vocab::load(ctx).await?,
        asset,
        values,
        units: editable_units(ctx).await?,
        errors,
    })
}

/// GET `/assets/new`.
pub async fn new_form(ctx: Ctx) -> AppResult<Response> {
    let units = editable_units(&ctx).await?;
    let values = AssetFields {
        asset_type: "information".into(),
        segment: "none".into(),
        status: "in_use".into(),
        owner_unit: units.first().map(|u| u.code.clone()).unwrap_or_default(),
        ..AssetFields::default()
    };
    let page = form_page(&ctx, None, values, FormErrors::default()).await?;
    Ok(ctx.page(&page))
}

fn form_errors(lang: Lang, problems: &[(&'static str, &'static str)]) -> FormErrors {
    let mut errors = FormErrors::default();
    for (field, id) in problems {
        errors.add(lang, field, id);
    }
    errors
}

/// POST `/assets`.
pub async fn create(ctx: Ctx, Form(fields): Form<AssetFields>) -> AppResult<Response> {
    let p = ctx.principal()?;
    let scheme = ctx.state.store.scheme().await?;
    match access::draft(&ctx.state, p, &scheme, &fields).await? {
        Ok(draft) => {
            let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
            let asset = Store::create_asset(&mut tx, &draft).await?;
            ctx.state.commit(tx).await?;
            Ok(ctx.redirect_flash(&format!("/assets/{}", asset.id), "flash-saved"))
        }
        Err(problems) => {
            if problems
                .iter()
                .any(|(_, id)| *id == "error-unit-not-permitted")
            {
                let lineage = match ctx
                    .state
                    .store
                    .unit_by_code(&fold(&fields.owner_unit))
                    .await?
                {
                    Some(u) => ctx.state.store.unit_lineage(u.id).await?,
                    None => Vec::new(),
                };
                p.require(Permission::AssetsEdit, &Target::Unit { lineage: &lineage })?;
            }
            let page = form_page(&ctx, None, fields, form_errors(ctx.lang, &problems)).await?;
            Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

/// GET `/assets/{id}/edit`.
pub async fn edit_form(ctx: Ctx, Path(id): Path<i64>) -> AppResult<Response> {
    let asset = editable(&ctx, id).await?;
    let values = AssetFields::of(&asset);
    let page = form_page(&ctx, Some(asset), values, FormErrors::default()).await?;
    Ok(ctx.page(&page))
}

/// POST `/assets/{id}`.
pub async fn update(
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(fields): Form<AssetFields>,
) -> AppResult<Response> {
    let asset = editable(&ctx, id).await?;
    let p = ctx.principal()?;
    let scheme = ctx.state.store.scheme().await?;
    match access::draft(&ctx.state, p, &scheme, &fields).await? {
        Ok(draft) => {
            let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
            Store::update_asset(&mut tx, asset.id, &draft).await?;
            ctx.state.commit(tx).await?;
            Ok(ctx.redirect_flash(&format!("/assets/{}", asset.id), "flash-saved"))
        }
        Err(problems) => {
            let page =
                form_page(&ctx, Some(asset), fields, form_errors(ctx.lang, &problems)).await?;
            Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

async fn editable(ctx: &Ctx, id: i64) -> AppResult<AssetRow> {
    let scheme = ctx.state.store.scheme().await?;
    access::editable(&ctx.state, ctx.principal()?, &scheme, id).await
}

/// A file field read from a multipart form into the database, chunk by chunk.
struct Upload {
    sha256: String,
    size: u64,
    filename: String,
    content_type: String,
}

fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if cleaned.trim().is_empty() {
        "file".into()
    } else {
        cleaned
    }
}

async fn read_file_field(
    tx: &mut mamori_store::WriteTx,
    mut field: axum::extract::multipart::Field<'_>,
    max: u64,
) -> AppResult<Option<Upload>> {
    let filename = clean_filename(field.file_name().unwrap_or(""));
    let content_type = field
        .content_type()
        .filter(|t| t.len() < 100 && t.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("application/octet-stream")
        .to_owned();
    let mut writer = FileWriter::begin(tx, max).await?;
    let mut any = false;
    while let Some(chunk) = field.chunk().await.map_err(crate::error::multipart_error)? {
        any = true;
        match writer.write(tx, &chunk).await {
            Err(mamori_store::StoreError::Rule(id)) => return Err(AppError::BadRequest(id)),
            other => other?,
        }
    }
    let (sha256, size) = writer.finish(tx).await?;
    if !any || size == 0 {
        return Ok(None);
    }
    Ok(Some(Upload {
        sha256,
        size,
        filename,
        content_type,
    }))
}

/// POST `/assets/{id}/attachments` (multipart `file`): an evidence file.
pub async fn upload(
    ctx: Ctx,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let asset = editable(&ctx, id).await?;
    let p = ctx.principal()?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let mut stored = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(crate::error::multipart_error)?
    {
        if field.name() == Some("file") {
            stored = read_file_field(&mut tx, field, ctx.state.config.max_upload_bytes).await?;
        }
    }
    let Some(file) = stored else {
        drop(tx);
        let page = asset_page(
            &ctx,
            id,
            form_errors(ctx.lang, &[("file", "error-file-empty")]),
        )
        .await?;
        return Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    Store::attach_to_asset(
        &mut tx,
        asset.id,
        "evidence",
        &file.sha256,
        file.size,
        &file.filename,
        &file.content_type,
    )
    .await?;
    ctx.state.commit(tx).await?;
    Ok(ctx.redirect_flash(&format!("/assets/{id}#files"), "flash-saved"))
}

/// GET `/assets/{id}/attachments/{attachment}`: always a download.
pub async fn download_attachment(
    ctx: Ctx,
    Path((id, attachment)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let scheme = ctx.state.store.scheme().await?;
    let (asset, _) = access::visible(&ctx.state, p, &scheme, id).await?;
    let a = ctx
        .state
        .store
        .attachment(attachment)
        .await?
        .filter(|a| a.asset_id == asset.id)
        .ok_or(AppError::NotFound)?;
    Ok(stored_file(
        &ctx.state.store,
        &a.sha256,
        &a.filename,
        a.size,
    ))
}

/// POST `/assets/{id}/dispose` (multipart: `disposed_on`, `disposal_method`, optional
/// `certificate`): the disposal record, in one step.
pub async fn dispose(
    ctx: Ctx,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let asset = editable(&ctx, id).await?;
    let p = ctx.principal()?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let (mut on, mut method, mut certificate) = (String::new(), String::new(), None);
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(crate::error::multipart_error)?
    {
        match field.name() {
            Some("disposed_on") => {
                on = field.text().await.map_err(crate::error::multipart_error)?
            }
            Some("disposal_method") => {
                method = field.text().await.map_err(crate::error::multipart_error)?
            }
            Some("certificate") => {
                certificate =
                    read_file_field(&mut tx, field, ctx.state.config.max_upload_bytes).await?
            }
            _ => {}
        }
    }
    let mut problems = Vec::new();
    let date = match mamori_domain::wareki::parse_date(&fold(&on)) {
        Ok(d) => Some(d),
        Err(e) if on.trim().is_empty() => {
            let _ = e;
            problems.push(("disposed_on", "error-disposal-date-required"));
            None
        }
        Err(e) => {
            problems.push(("disposed_on", e.message_id()));
            None
        }
    };
    if method.trim().is_empty() {
        problems.push(("disposal_method", "error-disposal-method-required"));
    }
    if asset.status == "disposed" {
        problems.push(("disposal_method", "error-already-disposed"));
    }
    let Some(date) = date.filter(|_| problems.is_empty()) else {
        drop(tx);
        let page = asset_page(&ctx, id, form_errors(ctx.lang, &problems)).await?;
        return Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    Store::dispose_asset(&mut tx, asset.id, date, method.trim()).await?;
    if let Some(file) = certificate {
        Store::attach_to_asset(
            &mut tx,
            asset.id,
            "disposal_certificate",
            &file.sha256,
            file.size,
            &file.filename,
            &file.content_type,
        )
        .await?;
    }
    ctx.state.commit(tx).await?;
    Ok(ctx.redirect_flash(&format!("/assets/{id}"), "flash-disposed"))
}

/// The relation form.
#[derive(Debug, Deserialize)]
pub struct RelationForm {
    other: String,
    kind: String,
    /// `from` (this asset is the `from` side) or `to`.
    #[serde(default)]
    direction: String,
}

/// POST `/assets/{id}/relations`.
pub async fn relate(
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<RelationForm>,
) -> AppResult<Response> {
    let asset = editable(&ctx, id).await?;
    let p = ctx.principal()?;
    let scheme = ctx.state.store.scheme().await?;
    let mut problems = Vec::new();
    let kind = RelationKind::parse(&form.kind);
    if kind.is_none() {
        problems.push(("kind", "error-unknown-relation"));
    }
    let other_id = fold(&form.other)
        .trim_start_matches('#')
        .parse::<i64>()
        .ok();
    let other = match other_id {
        Some(o) => match access::visible(&ctx.state, p, &scheme, o).await {
            Ok((a, _)) => Some(a),
            Err(AppError::NotFound) => {
                problems.push(("other", "error-unknown-asset"));
                None
            }
            Err(e) => return Err(e),
        },
        None => {
            problems.push(("other", "error-asset-id"));
            None
        }
    };
    if let (Some(kind), Some(other), true) = (kind, other, problems.is_empty()) {
        let (from, to) = if form.direction == "to" {
            (other.id, asset.id)
        } else {
            (asset.id, other.id)
        };
        let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
        match Store::add_relation(&mut tx, from, to, kind).await {
            Ok(_) => {
                ctx.state.commit(tx).await?;
                return Ok(ctx.redirect_flash(&format!("/assets/{id}#relations"), "flash-saved"));
            }
            Err(mamori_store::StoreError::Rule(m)) => problems.push(("kind", m)),
            Err(mamori_store::StoreError::Duplicate(_)) => {
                problems.push(("other", "error-relation-exists"))
            }
            Err(e) => return Err(e.into()),
        }
    }
    let page = asset_page(&ctx, id, form_errors(ctx.lang, &problems)).await?;
    Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

/// POST `/assets/{id}/relations/{relation}/delete`.
pub async fn unrelate(ctx: Ctx, Path((id, relation)): Path<(i64, i64)>) -> AppResult<Response> {
    let asset = editable(&ctx, id).await?;
    let p = ctx.principal()?;
    let row = ctx
        .state
        .store
        .relation(relation)
        .await?
        .filter(|r| r.from.id == asset.id || r.to.id == asset.id)
        .ok_or(AppError::NotFound)?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    Store::remove_relation(&mut tx, row.id).await?;
    ctx.state.commit(tx).await?;
    Ok(ctx.redirect_flash(&format!("/assets/{id}#relations"), "flash-saved"))
}

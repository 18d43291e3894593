//! The do-not-call lists' HTTP API: bulk import, listing and removal, for the global list (one
//! file shared by the scheduled callbacks and the campaigns, see [`crate::callbacks::dnc`]) and
//! for each campaign's own list (kept in the journal's `campaign.dnc_added` and
//! `campaign.dnc_removed` events, so a restart replays it).
//!
//! - `POST /api/v1/dnc[?country=GB]`, `POST /api/v1/campaigns/{id}/dnc[?country=GB]`: numbers
//!   as one per line (`#` comments), a CSV export with a number column, or
//!   `{"numbers": [...]}`; UTF-8 with or without its byte order mark, or UTF-16. Numbers are
//!   normalized as campaign lists are (national numbers in `country`, else the `campaigns:`
//!   section's). The answer gives a verdict on every line (added, already listed, duplicate,
//!   rejected with the reason) and the totals; a bad line never keeps the good ones out.
//! - `GET /api/v1/dnc`, `GET /api/v1/campaigns/{id}/dnc`: the numbers, in order, a page at a
//!   time (`?offset=0&limit=1000`, at most 10000; `next_offset` while more follow).
//! - `DELETE /api/v1/campaigns/{id}/dnc/{number}`: takes a number off a campaign's list (404
//!   when it is not on it); the global list's is `DELETE /api/v1/dnc/{number}`.

use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use hotline_campaigns::campaign::{CampaignId, CommandError};
use hotline_campaigns::list::dnc::{DncReport, NumberList};
use hotline_campaigns::list::{normalize, Country, ImportOptions};
use hotline_campaigns::E164;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::CampaignsHandle;
use crate::callbacks::CallbacksHandle;
use crate::http::errors::{error, unavailable};

/// The longest page of a listing.
pub const MAX_PAGE: usize = 10_000;

/// A page when the request names none.
pub const DEFAULT_PAGE: usize = 1_000;

/// The query of an import.
#[derive(Debug, Deserialize)]
pub struct ImportQuery {
    /// The country of numbers without a country code (`GB`).
    pub country: Option<String>,
}

/// The query of a listing.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    /// The first number shown (0-based).
    pub offset: Option<usize>,
    /// How many are shown.
    pub limit: Option<usize>,
}

/// A page of a listing.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Page {
    /// The numbers of the page.
    pub numbers: Vec<String>,
    /// How many are listed in all.
    pub total: usize,
    /// The first number shown.
    pub offset: usize,
    /// The most shown.
    pub limit: usize,
    /// The offset of the next page, while more follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
}

impl Page {
    /// The page `query` asks of `numbers`.
    pub fn of(numbers: Vec<String>, query: &PageQuery) -> Self {
        let total = numbers.len();
        let offset = query.offset.unwrap_or(0).min(total);
        let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        let numbers: Vec<String> = numbers.into_iter().skip(offset).take(limit).collect();
        let end = offset + numbers.len();
        Self {
            numbers,
            total,
            offset,
            limit,
            next_offset: (end < total).then_some(end),
        }
    }
}

/// The answer to an import.
#[derive(Debug, Serialize)]
struct ImportAnswer {
    /// The list: `global` or the campaign's id.
    list: String,
    /// Numbers that joined the list.
    added: usize,
    #[serde(flatten)]
    report: DncReport,
}

/// The country of an import: the query's, else the `campaigns:` section's.
fn country(handle: &CampaignsHandle, query: &ImportQuery) -> Result<Option<Country>, String> {
    match query.country.as_deref().map(str::parse::<Country>) {
        None => Ok(handle.settings.country),
        Some(Ok(country)) => Ok(Some(country)),
        Some(Err(e)) => Err(format!("country: {e}")),
    }
}

/// Reads an import's body: `{"numbers": [...]}`, else text (one per line or CSV).
pub fn read_body(body: &[u8], country: Option<Country>) -> Result<NumberList, String> {
    let options = ImportOptions { country };
    let unmarked = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if unmarked.trim_ascii_start().starts_with(b"{") {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Numbers {
            numbers: Vec<String>,
        }
        let numbers: Numbers =
            serde_json::from_slice(unmarked).map_err(|e| format!("body: {e}"))?;
        return Ok(NumberList::from_texts(numbers.numbers, &options));
    }
    NumberList::from_slice(body, &options).map_err(|e| format!("list: {e}"))
}

fn answer(list: String, numbers: &NumberList, added: &[E164]) -> Response {
    let new: std::collections::HashSet<&E164> = added.iter().collect();
    let report = numbers.report(|n| new.contains(n));
    Json(ImportAnswer {
        list,
        added: report.summary.added,
        report,
    })
    .into_response()
}

/// `POST /api/v1/dnc`: a bulk import into the global list.
pub async fn global_import(
    Extension(callbacks): Extension<CallbacksHandle>,
    Extension(campaigns): Extension<CampaignsHandle>,
    Query(query): Query<ImportQuery>,
    body: Bytes,
) -> Response {
    let country = match country(&campaigns, &query) {
        Ok(country) => country,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let numbers = match read_body(&body, country) {
        Ok(numbers) => numbers,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    match callbacks
        .dnc_import(numbers.numbers().cloned().collect())
        .await
    {
        None => unavailable(),
        Some(Ok(added)) => answer("global".into(), &numbers, &added),
        Some(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

/// `GET /api/v1/dnc`: the global list, a page at a time.
pub async fn global_list(
    Extension(callbacks): Extension<CallbacksHandle>,
    Query(page): Query<PageQuery>,
) -> Response {
    match callbacks.dnc_list().await {
        None => unavailable(),
        Some(numbers) => Json(Page::of(numbers, &page)).into_response(),
    }
}

fn unknown(id: &str) -> Response {
    error(StatusCode::NOT_FOUND, format!("no campaign {id}"))
}

fn refused(e: CommandError) -> Response {
    error(super::api::status_of(&e), e.to_string())
}

/// `POST /api/v1/campaigns/{id}/dnc`: a bulk import into a campaign's own list.
pub async fn campaign_import(
    Extension(handle): Extension<CampaignsHandle>,
    Path(id): Path<String>,
    Query(query): Query<ImportQuery>,
    body: Bytes,
) -> Response {
    let country = match country(&handle, &query) {
        Ok(country) => country,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let numbers = match read_body(&body, country) {
        Ok(numbers) => numbers,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let wanted = numbers.numbers().cloned().collect();
    match handle.dnc(CampaignId::new(id.as_str()), wanted).await {
        None => unavailable(),
        Some(Ok(added)) => answer(id, &numbers, &added),
        Some(Err(e)) => refused(e),
    }
}

/// `GET /api/v1/campaigns/{id}/dnc`: a campaign's own list, a page at a time.
pub async fn campaign_list(
    Extension(handle): Extension<CampaignsHandle>,
    Path(id): Path<String>,
    Query(page): Query<PageQuery>,
) -> Response {
    match handle.dnc_list(CampaignId::new(id.as_str())).await {
        None => unavailable(),
        Some(None) => unknown(&id),
        Some(Some(numbers)) => {
            let numbers = numbers.iter().map(|n| n.as_str().to_owned()).collect();
            Json(Page::of(numbers, &page)).into_response()
        }
    }
}

/// `DELETE /api/v1/campaigns/{id}/dnc/{number}`: 200 when taken off, 404 when not listed.
pub async fn campaign_remove(
    Extension(handle): Extension<CampaignsHandle>,
    Path((id, number)): Path<(String, String)>,
) -> Response {
    let number = match normalize(&number, handle.settings.country) {
        Ok(number) => number,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("number {number:?}: {e}")),
    };
    let shown = number.as_str().to_owned();
    match handle
        .dnc_remove(CampaignId::new(id.as_str()), number)
        .await
    {
        None => unavailable(),
        Some(Ok(true)) => Json(json!({"number": shown, "listed": false})).into_response(),
        Some(Ok(false)) => error(
            StatusCode::NOT_FOUND,
            format!("{shown} is not on campaign {id}'s do-not-call list"),
        ),
        Some(Err(e)) => refused(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("+4420794600{i:02}")).collect()
    }

    #[test]
    fn a_listing_is_paged_and_says_where_the_next_page_starts() {
        let query = |offset, limit| PageQuery { offset, limit };
        let first = Page::of(numbers(25), &query(None, Some(10)));
        assert_eq!(first.numbers.len(), 10);
        assert_eq!((first.total, first.next_offset), (25, Some(10)));
        let last = Page::of(numbers(25), &query(Some(20), Some(10)));
        assert_eq!(last.numbers, numbers(25)[20..]);
        assert_eq!(last.next_offset, None);
        let past = Page::of(numbers(3), &query(Some(9), None));
        assert!(past.numbers.is_empty() && past.offset == 3 && past.limit == DEFAULT_PAGE);
        assert_eq!(
            Page::of(numbers(3), &query(None, Some(1_000_000))).limit,
            MAX_PAGE
        );
    }

    #[test]
    fn a_body_reads_as_json_numbers_or_as_text() {
        let json = br#"{"numbers": ["020 7946 0001", "12ab"]}"#;
        let list = read_body(json, Some(Country::GB)).unwrap_or_default();
        let read: Vec<&str> = list.numbers().map(E164::as_str).collect();
        assert_eq!(read, ["+442079460001"]);
        assert_eq!(list.lines.len(), 2);
        let text = read_body(b"\xEF\xBB\xBF+442079460001\n", None).unwrap_or_default();
        assert_eq!(text.numbers().count(), 1);
        let bad = read_body(br#"{"number": []}"#, None)
            .err()
            .unwrap_or_default();
        assert!(bad.starts_with("body:"), "{bad}");
        assert!(read_body(b"", None).is_err());
    }
}

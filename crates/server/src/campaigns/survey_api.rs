//! `GET /api/v1/campaigns/{id}/survey`: an agentless campaign's survey answers per customer,
//! as a supervisor reads them: one row per surveyed call (the record's entry, number and name,
//! the attempt), its outcome (`completed`, `skipped` with why, `in_progress`) and the score of
//! each question. JSON by default (`answers` maps the 0-based question index to the score);
//! `?format=csv` gives a spreadsheet with one column per question (`q1`, `q2`, ...).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::extract::{Path, Query};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use hotline_campaigns::campaign::{CampaignId, Entry};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::surveys::{SurveyBook, SurveyCounts};
use super::CampaignsHandle;

/// A campaign's survey answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SurveyReport {
    /// The campaign.
    pub campaign: String,
    /// Completed and skipped surveys, answers given.
    pub counts: SurveyCounts,
    /// One row per surveyed call, by entry then attempt.
    pub records: Vec<SurveyRow>,
}

/// One surveyed call of one customer record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SurveyRow {
    /// The record's entry id.
    pub entry: u64,
    /// The customer's number (E.164).
    pub number: String,
    /// The customer's name, if the list gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The attempt that ran the survey (1 = the first).
    pub attempt: u32,
    /// The survey's name.
    pub survey: String,
    /// `completed`, `skipped`, or `in_progress` (the call is still on, or a stop cut it).
    pub outcome: &'static str,
    /// Why it was skipped: `no_answer` or `caller_hung_up`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// Scores by 0-based question index.
    pub answers: BTreeMap<u32, u8>,
}

/// The report of `campaign` from the book and the campaign's entries (numbers and names).
pub fn report(campaign: &str, book: &SurveyBook, entries: &[Entry]) -> SurveyReport {
    let records = book
        .of(campaign)
        .map(|(key, result)| {
            let record = usize::try_from(key.entry)
                .ok()
                .and_then(|i| entries.get(i))
                .map(|e| &e.record);
            SurveyRow {
                entry: key.entry,
                number: record.map_or_else(String::new, |r| r.number.as_str().to_string()),
                name: record.and_then(|r| r.name.clone()),
                attempt: key.attempt,
                survey: result.survey.clone(),
                outcome: result.outcome.map_or("in_progress", |o| o.word()),
                reason: result.outcome.and_then(|o| o.reason()),
                answers: result.answers.clone(),
            }
        })
        .collect();
    SurveyReport {
        campaign: campaign.to_string(),
        counts: book.counts(campaign),
        records,
    }
}

/// The report as CSV: `entry,number,name,attempt,survey,outcome,reason,q1..qN`, N the most
/// questions any row answered; an unanswered question is an empty cell.
pub fn csv(report: &SurveyReport) -> String {
    let questions = report
        .records
        .iter()
        .filter_map(|r| r.answers.keys().next_back())
        .max()
        .map_or(0, |q| q + 1);
    let mut out = String::from("entry,number,name,attempt,survey,outcome,reason");
    for q in 1..=questions {
        let _ = write!(out, ",q{q}");
    }
    out.push('\n');
    for r in &report.records {
        let _ = write!(
            out,
            "{},{},{},{},{},{},{}",
            r.entry,
            cell(&r.number),
            cell(r.name.as_deref().unwrap_or_default()),
            r.attempt,
            cell(&r.survey),
            r.outcome,
            r.reason.unwrap_or_default()
        );
        for q in 0..questions {
            out.push(',');
            if let Some(score) = r.answers.get(&q) {
                let _ = write!(out, "{score}");
            }
        }
        out.push('\n');
    }
    out
}

/// One CSV cell: quoted when it holds a comma, a quote or a line break (RFC 4180). A cell
/// a spreadsheet would run as a formula (`=`, `-`, `@` first; `+` starts every E.164 number
/// and is kept) gets a leading `'`.
fn cell(text: &str) -> String {
    let text = if text.starts_with(['=', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The query of the survey report.
#[derive(Debug, Deserialize)]
pub struct SurveyQuery {
    /// `csv` for a spreadsheet; JSON otherwise.
    pub format: Option<String>,
}

/// `GET /api/v1/campaigns/{id}/survey`.
pub async fn survey(
    Extension(handle): Extension<CampaignsHandle>,
    Path(id): Path<String>,
    Query(query): Query<SurveyQuery>,
) -> Response {
    let csv_wanted = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            let message = format!("format {other:?}: json or csv");
            return (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response();
        }
    };
    match handle.survey(CampaignId::new(id.as_str())).await {
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "shutting down"})),
        )
            .into_response(),
        Some(None) => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no campaign {id}")})),
        )
            .into_response(),
        Some(Some(report)) if csv_wanted => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            csv(&report),
        )
            .into_response(),
        Some(Some(report)) => Json(report).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaigns::surveys::{SurveyKey, SurveyNote, SurveyOutcome};

    fn key(entry: u64) -> SurveyKey {
        SurveyKey {
            campaign: "sat".into(),
            entry,
            attempt: 1,
        }
    }

    fn answer(book: &mut SurveyBook, entry: u64, question: u32, score: u8) {
        let note = SurveyNote::Answered {
            survey: "csat".into(),
            question,
            score,
        };
        book.note(key(entry), note);
    }

    #[test]
    fn the_csv_has_a_column_per_question_and_blank_cells_for_unanswered_ones() {
        let mut book = SurveyBook::default();
        answer(&mut book, 0, 0, 4);
        answer(&mut book, 0, 1, 2);
        book.note(
            key(0),
            SurveyNote::Ended {
                survey: "csat".into(),
                answered: 2,
                outcome: SurveyOutcome::Completed,
            },
        );
        answer(&mut book, 1, 0, 5);
        book.note(
            key(1),
            SurveyNote::Ended {
                survey: "csat".into(),
                answered: 1,
                outcome: SurveyOutcome::CallerHungUp,
            },
        );
        answer(&mut book, 2, 0, 3);
        let mut report = report("sat", &book, &[]);
        report.records[0].name = Some("Chen, Alex".into());
        report.records[1].name = Some("=cmd()".into());
        assert_eq!(
            csv(&report),
            "entry,number,name,attempt,survey,outcome,reason,q1,q2\n\
             0,,\"Chen, Alex\",1,csat,completed,,4,2\n\
             1,,'=cmd(),1,csat,skipped,caller_hung_up,5,\n\
             2,,,1,csat,in_progress,,3,\n"
        );
        let json = serde_json::to_value(&report).unwrap_or_default();
        assert_eq!(json["records"][0]["answers"], json!({"0": 4, "1": 2}));
        assert_eq!(json["records"][1]["reason"], "caller_hung_up");
        assert_eq!(
            json["counts"],
            json!({"completed": 1, "skipped": 1, "answers": 4})
        );
    }
}

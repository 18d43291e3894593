//! Schedules across time zones and daylight-saving changes, holidays, make-up working days and
//! overrides; E.164 normalization of caller numbers.

use hotline_dialplan::{
    normalize, CountryCode, Dialplan, E164Error, ScheduleStatus, ValidationContext,
};

fn schedule_plan(schedules: &str) -> Dialplan {
    let source = format!(
        "version: 1\nschedules:\n{schedules}numbers:\n  \"1\":\n    start: h\n    nodes:\n      h: {{ schedule: s, open: o, closed: c }}\n      o: {{ queue: open }}\n      c: {{ queue: closed }}\n"
    );
    Dialplan::parse(&source, "schedules.yaml", &ValidationContext::default())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn status(plan: &Dialplan, at: &str) -> ScheduleStatus {
    let ts: jiff::Timestamp = at.parse().unwrap_or_else(|e| panic!("{at}: {e}"));
    plan.schedules()["s"].status_at(ts)
}

const NEW_YORK: &str =
    "  s:\n    time_zone: America/New_York\n    hours: { mon-fri: \"09:00-17:00\" }\n";

#[test]
fn hours_follow_local_time_across_the_autumn_dst_change() {
    let plan = schedule_plan(NEW_YORK);
    // Friday 30 October 2026: EDT, UTC-4. 13:30 UTC is 09:30 local.
    assert_eq!(status(&plan, "2026-10-30T13:30:00Z"), ScheduleStatus::Open);
    assert_eq!(
        status(&plan, "2026-10-30T12:59:00Z"),
        ScheduleStatus::Closed
    );
    // Clocks go back on Sunday 1 November. Monday: EST, UTC-5. 13:30 UTC is 08:30 local.
    assert_eq!(
        status(&plan, "2026-11-02T13:30:00Z"),
        ScheduleStatus::Closed
    );
    assert_eq!(status(&plan, "2026-11-02T14:00:00Z"), ScheduleStatus::Open);
    assert_eq!(status(&plan, "2026-11-02T21:59:00Z"), ScheduleStatus::Open);
    assert_eq!(
        status(&plan, "2026-11-02T22:00:00Z"),
        ScheduleStatus::Closed
    );
}

#[test]
fn hours_follow_local_time_across_the_spring_dst_change() {
    let plan = schedule_plan(
        "  s:\n    time_zone: Europe/Paris\n    hours: { sun: \"01:00-04:00\", mon-fri: \"09:00-17:00\" }\n",
    );
    // Sunday 29 March 2026, 02:00 local does not exist: clocks jump from 02:00 CET to 03:00 CEST.
    // 00:30 UTC is 01:30 CET; 01:30 UTC is 03:30 CEST (both open); 02:00 UTC is 04:00 CEST.
    assert_eq!(status(&plan, "2026-03-29T00:30:00Z"), ScheduleStatus::Open);
    assert_eq!(status(&plan, "2026-03-29T01:30:00Z"), ScheduleStatus::Open);
    assert_eq!(
        status(&plan, "2026-03-29T02:00:00Z"),
        ScheduleStatus::Closed
    );
    // Monday 07:00 UTC is 09:00 CEST (UTC+2), open; a week earlier it was 08:00 CET, closed.
    assert_eq!(status(&plan, "2026-03-30T07:00:00Z"), ScheduleStatus::Open);
    assert_eq!(
        status(&plan, "2026-03-23T07:00:00Z"),
        ScheduleStatus::Closed
    );
}

#[test]
fn the_same_moment_differs_by_time_zone() {
    let plan = schedule_plan(concat!(
        "  s:\n    time_zone: Asia/Shanghai\n    hours: { daily: \"09:00-18:00\" }\n",
        "  london:\n    time_zone: Europe/London\n    hours: { daily: \"09:00-18:00\" }\n",
    ));
    let moment: jiff::Timestamp = "2026-06-10T03:00:00Z"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        plan.schedules()["s"].status_at(moment),
        ScheduleStatus::Open
    );
    assert_eq!(
        plan.schedules()["london"].status_at(moment),
        ScheduleStatus::Closed
    );
}

const SHANGHAI: &str = concat!(
    "  s:\n    time_zone: Asia/Shanghai\n",
    "    hours: { mon-fri: [\"09:00-12:00\", \"13:00-18:00\"] }\n",
    "    holidays: [\"2026-10-01..2026-10-03\", \"2027-01-01\"]\n",
    "    working_days: [\"2026-10-10\"]\n",
    "    working_day_hours: \"10:00-16:00\"\n",
    "    overrides: { \"2026-10-02\": \"10:00-11:00\", \"2026-12-31\": closed }\n",
);

#[test]
fn a_holiday_closes_the_whole_day() {
    let plan = schedule_plan(SHANGHAI);
    assert_eq!(
        status(&plan, "2026-10-01T10:00:00+08:00"),
        ScheduleStatus::Holiday
    );
    assert_eq!(
        status(&plan, "2026-10-03T23:59:00+08:00"),
        ScheduleStatus::Holiday
    );
    assert_eq!(
        status(&plan, "2027-01-01T10:00:00+08:00"),
        ScheduleStatus::Holiday
    );
    // The day after the range is an ordinary Sunday.
    assert_eq!(
        status(&plan, "2026-10-04T10:00:00+08:00"),
        ScheduleStatus::Closed
    );
}

#[test]
fn a_make_up_working_day_opens_a_weekend_day_with_its_own_hours() {
    let plan = schedule_plan(SHANGHAI);
    // Saturday 10 October 2026.
    assert_eq!(
        status(&plan, "2026-10-10T09:30:00+08:00"),
        ScheduleStatus::Closed
    );
    assert_eq!(
        status(&plan, "2026-10-10T10:00:00+08:00"),
        ScheduleStatus::Open
    );
    assert_eq!(
        status(&plan, "2026-10-10T16:00:00+08:00"),
        ScheduleStatus::Closed
    );
    // The Saturday after is not.
    assert_eq!(
        status(&plan, "2026-10-17T11:00:00+08:00"),
        ScheduleStatus::Closed
    );
}

#[test]
fn overrides_win_over_holidays_and_weekdays() {
    let plan = schedule_plan(SHANGHAI);
    assert_eq!(
        status(&plan, "2026-10-02T10:30:00+08:00"),
        ScheduleStatus::Open
    );
    assert_eq!(
        status(&plan, "2026-10-02T11:30:00+08:00"),
        ScheduleStatus::Closed
    );
    // A Thursday overridden as closed: closed, not a holiday.
    assert_eq!(
        status(&plan, "2026-12-31T10:00:00+08:00"),
        ScheduleStatus::Closed
    );
    // The lunch break of an ordinary weekday.
    assert_eq!(
        status(&plan, "2026-12-30T12:30:00+08:00"),
        ScheduleStatus::Closed
    );
    assert_eq!(
        status(&plan, "2026-12-30T13:00:00+08:00"),
        ScheduleStatus::Open
    );
}

#[test]
fn caller_numbers_normalize_to_e164() {
    let cn = CountryCode::DEFAULT;
    let us = CountryCode::new(1).unwrap_or_default();
    let uk = CountryCode::parse("44").unwrap_or_default();
    let ok =
        |raw: &str, country: CountryCode| normalize(raw, country).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ok("+8613800000000", cn), "+8613800000000");
    assert_eq!(ok("13800000000", cn), "+8613800000000");
    assert_eq!(ok("008613800000000", cn), "+8613800000000");
    assert_eq!(ok("010-6000-0000", cn), "+861060000000");
    assert_eq!(ok("(010) 6000 0000", cn), "+861060000000");
    assert_eq!(ok("020 7946 0958", uk), "+442079460958");
    assert_eq!(ok("+44 20 7946 0958", cn), "+442079460958");
    assert_eq!(ok("212-555-0100", us), "+12125550100");
    assert_eq!(ok("1 212 555 0100", us), "+12125550100");
    assert_eq!(ok("011 44 20 7946 0958", us), "+442079460958");
    assert_eq!(
        normalize("alice", cn),
        Err(E164Error::NotANumber("alice".into()))
    );
    assert_eq!(
        normalize("95500", cn),
        Err(E164Error::TooShort("95500".into()))
    );
    assert_eq!(
        normalize("+1234567890123456", cn),
        Err(E164Error::TooLong("+1234567890123456".into()))
    );
    // A number that has no E.164 form is compared as sent.
    assert_eq!(hotline_dialplan::comparable(" 8001 ", cn), "8001");
}

#[test]
fn the_dialplan_country_reads_national_numbers() {
    let source = "version: 1\ncountry: \"44\"\nlists:\n  vip: [\"020 7946 0958\"]\nnumbers:\n  \"1\":\n    start: q\n    nodes:\n      q: { queue: s }\n";
    let plan = Dialplan::parse(source, "uk.yaml", &ValidationContext::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.country().code(), 44);
    assert!(plan.lists()["vip"].contains("+442079460958"));
}

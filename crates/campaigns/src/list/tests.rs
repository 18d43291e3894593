//! Whole lists: messy exports, the seed campaign's list, and properties over random input.

use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::due::Deadline;

fn cn() -> ImportOptions {
    ImportOptions {
        country: Some(Country::CN),
    }
}

fn import(text: &str) -> ListImport {
    ListImport::from_slice(text.as_bytes(), &cn()).unwrap_or_else(|e| panic!("{e}"))
}

fn verdicts(list: &ListImport) -> Vec<(u64, String)> {
    list.lines
        .iter()
        .map(|l| (l.line, l.verdict.to_string()))
        .collect()
}

#[test]
fn the_seed_campaign_list_reports_its_200_lines_without_a_number() {
    let mut csv = String::from("phone,name,city\r\n");
    for i in 0..325u32 {
        if i % 13 < 5 {
            // 125 lines with a number, each different.
            csv.push_str(&format!(
                "139 {:04} {:04},Customer {i},Hangzhou\r\n",
                i,
                1000 + i
            ));
        } else {
            csv.push_str(&format!(",Customer {i},Hangzhou\r\n"));
        }
    }
    let list = import(&csv);
    assert_eq!(list.summary.lines, 325);
    assert_eq!(list.summary.accepted, 125);
    assert_eq!(list.records.len(), 125);
    assert_eq!(list.summary.rejected, 200);
    assert_eq!(
        list.summary.by_reason,
        [(ReasonKind::MissingNumber, 200)].into()
    );
    // Line 1 is the header; the 6th data line (i = 5) is line 7 and has no number.
    assert_eq!(list.lines[5].line, 7);
    assert_eq!(
        list.lines[5].verdict,
        Verdict::Rejected(RejectReason::MissingNumber)
    );
    let first = &list.records[0];
    assert_eq!(first.line, 2);
    assert_eq!(first.number.as_str(), "+8613900001000");
    assert_eq!(first.name.as_deref(), Some("Customer 0"));
    assert_eq!(
        first.time_zone.as_ref().map(Zone::name),
        Some("Asia/Shanghai")
    );
    assert_eq!(
        first.attributes.get("city").map(String::as_str),
        Some("Hangzhou")
    );
}

#[test]
fn a_spreadsheet_export_with_bom_semicolons_quotes_and_crlf() {
    let csv = "\u{feff}手机号码;姓名;时区;优先级;截止;备注\r\n\
               138-0013-8000;\"Li; Na\";;5;24h;\"VIP\r\ncalled twice\"\r\n\
               ;王伟;;;;\r\n\
               +44 (0)20 7946 0000;Smith;;;2026-12-08;\r\n\
               (212) 555-0100;Jones;America/New_York;high;;\r\n\
               12345;Short;;;;\r\n\
               0086 138 0013 8000;Li Na again;;;;\r\n\
               ;;;;;\r\n\
               \r\n\
               +1 212 555 0199;Brown;;;;\r\n\
               13900139000;Zhao;Mars/Base;;;\r\n\
               13700137000;Qian;;;soon;\r\n";
    let list = import(csv);
    assert_eq!(list.delimiter, ';');
    assert_eq!(
        verdicts(&list),
        [
            (2, "ok".to_owned()),
            (4, "missing number".to_owned()),
            (5, "ok".to_owned()),
            (6, "bad priority: \"high\" is not a whole number".to_owned()),
            (
                7,
                "invalid number: not a CN number: too short: 5 digits, a mobile has at least 11"
                    .to_owned()
            ),
            (8, "duplicate of line 2".to_owned()),
            (11, "ok".to_owned()),
            (
                12,
                "bad time zone: \"Mars/Base\" is not an IANA time zone such as Asia/Shanghai"
                    .to_owned()
            ),
            (
                13,
                format!(
                    "bad due: \"soon\" is not a due window ({})",
                    super::fields::DUE_FORMS
                )
            ),
        ]
    );
    assert_eq!(list.summary.blank_lines, 1);
    let li = &list.records[0];
    assert_eq!(li.name.as_deref(), Some("Li; Na"));
    assert_eq!(li.priority, 5);
    assert_eq!(
        li.due.deadline,
        Some(Deadline::Within(Duration::from_secs(86_400)))
    );
    assert_eq!(
        li.attributes.get("备注").map(String::as_str),
        Some("VIP\r\ncalled twice")
    );
    // London from the country code; end of 8 December in London.
    let smith = &list.records[1];
    assert_eq!(smith.number.as_str(), "+442079460000");
    assert_eq!(
        smith.time_zone.as_ref().map(Zone::name),
        Some("Europe/London")
    );
    assert_eq!(
        smith.due.deadline,
        Some(Deadline::At(
            "2026-12-09T00:00:00Z"
                .parse()
                .unwrap_or_else(|e| panic!("{e}"))
        ))
    );
    // NANP spans several zones: unknown, held until set.
    assert_eq!(list.records[2].time_zone, None);
    assert_eq!(
        list.lines[6].verdict,
        Verdict::Ok {
            zone: ZoneSource::Unknown
        }
    );
    assert_eq!(list.summary.unknown_zone, 1);
}

#[test]
fn an_unquoted_comma_in_a_name_shifts_the_line_and_is_reported() {
    let list = import("number,name,priority\n13800138000,Li, Na,3\n13800138001,Wang,2,\n");
    assert_eq!(
        verdicts(&list),
        [
            (
                2,
                "4 cells for 3 columns (an unquoted delimiter?)".to_owned()
            ),
            (3, "ok".to_owned())
        ]
    );
}

#[test]
fn a_phone_and_a_mobile_column_take_the_first_number_present() {
    let list = import("phone,mobile,name\n,13800138000,A\n010-12345678,13800138001,B\n,,C\n");
    let numbers: Vec<_> = list.records.iter().map(|r| r.number.as_str()).collect();
    assert_eq!(numbers, ["+8613800138000", "+861012345678"]);
    assert_eq!(
        list.summary.by_reason,
        [(ReasonKind::MissingNumber, 1)].into()
    );
}

#[test]
fn tabs_and_utf16_from_unicode_text_exports() {
    let text = "Phone\tName\r\n020 7946 0000\tSmith\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let gb = ImportOptions {
        country: Some(Country::GB),
    };
    let list = ListImport::from_slice(&bytes, &gb).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(list.delimiter, '\t');
    assert_eq!(list.records[0].number.as_str(), "+442079460000");
}

#[test]
fn files_that_are_not_lists_are_refused_whole() {
    let err = |bytes: &[u8]| {
        ListImport::from_slice(bytes, &cn())
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    assert_eq!(err(b""), Err("the list is empty (no header line)".into()));
    assert_eq!(
        err(b"\n\r\n"),
        Err("the list is empty (no header line)".into())
    );
    assert!(err(b"name,city\nLi,Beijing\n").is_err_and(|e| e.contains("no number column")));
    // 电话 in GBK.
    assert_eq!(
        err(b"id,x\n1,\xb5\xe7\xbb\xb0\n"),
        Err("not UTF-8 text at line 2: save the list as CSV UTF-8".into())
    );
    assert!(err(b"\x89PNG\r\n\x1a\n\0\0\0").is_err());
    assert!(err(b"phone\n\0\0").is_err_and(|e| e.contains("binary")));
}

#[test]
fn records_become_callbacks_with_the_name_as_an_attribute() {
    let list = import("phone,name,tier\n13800138000,Li Na,gold\n");
    let cb = list.records[0].to_callback(CallbackId(7), QueueName::new("support"), "campaign");
    assert_eq!(cb.number.as_str(), "+8613800138000");
    assert_eq!(cb.attributes.get("name").map(String::as_str), Some("Li Na"));
    assert_eq!(cb.attributes.get("tier").map(String::as_str), Some("gold"));
    assert_eq!(cb.time_zone.as_ref().map(Zone::name), Some("Asia/Shanghai"));
}

/// Numbers as people type them: digits with separators, prefixes and noise.
fn messy_number() -> impl Strategy<Value = String> {
    proptest::string::string_regex(r"(\+|00|011|0|'|＋)?[0-9 ()./\-]{0,20}(x[0-9]{1,3})?")
        .unwrap_or_else(|e| panic!("{e}"))
}

fn any_country() -> impl Strategy<Value = Option<Country>> {
    prop_oneof![
        Just(None),
        Just(Some(Country::CN)),
        Just(Some(Country::US)),
        Just(Some(Country::CA)),
        Just(Some(Country::GB)),
        Just(Some(Country::DE)),
        Just(Some(Country::FR)),
        Just(Some(Country::JP)),
        Just(Some(Country::IN)),
        Just(Some(Country::AU)),
        Just(Some(Country::HK)),
        Just(Some(Country::SG)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn normalization_is_idempotent_and_yields_e164(text in messy_number(), country in any_country(), again in any_country()) {
        if let Ok(n) = normalize(&text, country) {
            prop_assert_eq!(E164::parse(n.as_str()), Ok(n.clone()));
            // Its own output reads back the same whatever the default country.
            prop_assert_eq!(normalize(n.as_str(), again), Ok(n));
        }
    }

    #[test]
    fn every_data_line_gets_exactly_one_verdict(
        rows in proptest::collection::vec(
            (proptest::option::of(messy_number()), "[a-z ]{0,8}", proptest::option::of("-?[0-9]{1,4}|x")),
            0..40,
        )
    ) {
        let mut csv = String::from("phone,name,priority\n");
        let mut data_lines = Vec::new();
        for (i, (number, name, priority)) in rows.iter().enumerate() {
            let number = number.clone().unwrap_or_default();
            let priority = priority.clone().unwrap_or_default();
            let blank = number.trim().is_empty() && name.trim().is_empty() && priority.trim().is_empty();
            if !blank {
                data_lines.push(u64::try_from(i).unwrap_or(0) + 2);
            }
            csv.push_str(&format!("\"{number}\",{name},{priority}\n"));
        }
        let list = ListImport::from_slice(csv.as_bytes(), &cn()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let lines: Vec<u64> = list.lines.iter().map(|l| l.line).collect();
        prop_assert_eq!(lines, data_lines);
        prop_assert_eq!(list.summary.accepted + list.summary.rejected, list.lines.len());
        prop_assert_eq!(list.records.len(), list.summary.accepted);
        let mut numbers: Vec<&str> = list.records.iter().map(|r| r.number.as_str()).collect();
        numbers.sort_unstable();
        let before = numbers.len();
        numbers.dedup();
        prop_assert_eq!(numbers.len(), before, "an accepted number twice");
        for r in &list.records {
            prop_assert_eq!(E164::parse(r.number.as_str()), Ok(r.number.clone()));
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = ListImport::from_slice(&bytes, &cn());
    }

    #[test]
    fn random_csv_like_text_never_panics(text in "[a-z0-9,;\t\"\r\n +()电话-]{0,400}") {
        let _ = ListImport::from_slice(format!("phone,due,tz,priority\n{text}").as_bytes(), &cn());
    }
}

/// A valid national significant number of `country` (digits after the country code), from
/// one of its number kinds, filled with `fill` digits.
fn valid_nsn(country: Country, kind: usize, fill: &[u8]) -> String {
    let digits = |n: usize| -> String {
        fill.iter()
            .take(n)
            .map(|d| char::from(b'0' + d % 10))
            .collect()
    };
    let pick = |set: &[u8], i: usize| char::from(set[fill[i] as usize % set.len()]);
    match (country, kind % 3) {
        (Country::CN, 0) => format!("1{}{}", pick(b"3456789", 0), digits(9)),
        (Country::CN, 1) => format!("10{}", digits(8)),
        (Country::CN, _) => format!("{}{}", pick(b"3456789", 1), digits(9)),
        (Country::US | Country::CA, _) => format!(
            "{}{}{}{}{}{}",
            pick(b"23456789", 0),
            pick(b"02345678", 1),
            pick(b"0123456789", 2),
            pick(b"23456789", 3),
            pick(b"023456789", 4),
            digits(5)
        ),
        (Country::GB, 0) => format!("7{}", digits(9)),
        (Country::GB, _) => format!("20{}", digits(8)),
        (Country::DE, 0) => format!("15{}", digits(9)),
        (Country::DE, _) => format!("30{}", digits(7)),
        (Country::FR, _) => format!("{}{}", pick(b"123456789", 0), digits(8)),
        (Country::JP, 0) => format!("90{}", digits(8)),
        (Country::JP, _) => format!("3{}", digits(8)),
        (Country::IN, _) => format!("{}{}", pick(b"6789", 0), digits(9)),
        (Country::AU, _) => format!("{}{}", pick(b"2347", 0), digits(8)),
        (Country::HK, _) => format!("{}{}", pick(b"2359", 0), digits(7)),
        (Country::SG, _) => format!("{}{}", pick(b"689", 0), digits(7)),
    }
}

/// `digits` with a separator from `seps` after each digit whose `cuts` entry is set.
fn spaced(digits: &str, cuts: &[u8]) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        out.push(c);
        match cuts.get(i).copied().unwrap_or(0) % 8 {
            1 => out.push(' '),
            2 => out.push('-'),
            3 => out.push('.'),
            _ => {}
        }
    }
    out.trim_end_matches([' ', '-', '.']).to_owned()
}

const COUNTRIES: [Country; 11] = [
    Country::CN,
    Country::US,
    Country::CA,
    Country::GB,
    Country::DE,
    Country::FR,
    Country::JP,
    Country::IN,
    Country::AU,
    Country::HK,
    Country::SG,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn a_valid_number_in_any_written_form_gives_one_e164(
        country in 0..COUNTRIES.len(),
        kind in 0..3usize,
        fill in proptest::collection::vec(0u8..10, 12),
        cuts in proptest::collection::vec(any::<u8>(), 16),
    ) {
        let country = COUNTRIES[country];
        let nsn = valid_nsn(country, kind, &fill);
        let code = country.calling_code();
        let expected = format!("+{code}{nsn}");
        let trunk = match country {
            Country::US | Country::CA => "1",
            Country::HK | Country::SG => "",
            _ => "0",
        };
        let intl = country.international_prefixes()[0];
        let forms = [
            spaced(&nsn, &cuts),
            format!("{trunk}{}", spaced(&nsn, &cuts)),
            format!("+{code} {}", spaced(&nsn, &cuts)),
            format!("{intl} {code} {}", spaced(&nsn, &cuts)),
        ];
        for form in &forms {
            let got = normalize(form, Some(country)).map(|n| n.to_string());
            prop_assert_eq!(got.as_deref(), Ok(expected.as_str()), "{:?} in {}", form, country);
            // From another country, the international form still reads the same.
            let abroad = if country == Country::CN { Country::US } else { Country::CN };
            let plus = normalize(&forms[2], Some(abroad)).map(|n| n.to_string());
            prop_assert_eq!(plus.as_deref(), Ok(expected.as_str()));
        }
    }
}

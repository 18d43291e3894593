//! `say`: digits, numbers, durations and queue positions as a list of prompt names, spoken by
//! the rules of the call's language (English, or Mandarin for `zh...`/`cmn` languages).
//!
//! Pure: the server plays the returned names from `prompts/<language>/<name>.wav` one after
//! another. Both languages share the names of the words they share (`num_0`..`num_10`,
//! `hundred`, `thousand`, `minutes`, ...); English adds `num_11`..`num_19` and the tens
//! (`num_20`..`num_90`) and `million`; Mandarin adds `liang` (两) and `ten_thousand` (万).
//! [`SayKind::Text`] has no prompts: the server synthesizes the text itself.

use std::time::Duration;

use thiserror::Error;

/// Largest number `say` speaks.
pub const MAX_NUMBER: u64 = 99_999_999;

/// What a `say` speaks its value as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SayKind {
    /// Each digit on its own (an account or phone number): `4 0 7`.
    Digits,
    /// A whole number: `four hundred seven`.
    Number,
    /// A wait in seconds, rounded: "less than a minute", "about 3 minutes".
    Duration,
    /// A place in a queue: "you are number 3 in the queue".
    Position,
    /// Any text (a customer's name from the CRM), synthesized by the server at run time in the
    /// call's language; no prompt files.
    Text,
}

impl SayKind {
    /// Every kind, for messages.
    pub const ALL: [SayKind; 5] = [
        SayKind::Digits,
        SayKind::Number,
        SayKind::Duration,
        SayKind::Position,
        SayKind::Text,
    ];

    /// The name written in the dialplan.
    pub fn name(self) -> &'static str {
        match self {
            SayKind::Digits => "digits",
            SayKind::Number => "number",
            SayKind::Duration => "duration",
            SayKind::Position => "position",
            SayKind::Text => "text",
        }
    }

    /// The kind written as `name`, if any.
    pub fn from_name(name: &str) -> Option<SayKind> {
        SayKind::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// The rules a number is spoken by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SayLanguage {
    /// English (every language that is not Mandarin).
    English,
    /// Mandarin Chinese.
    Mandarin,
}

impl SayLanguage {
    /// The rules for a prompt language folder name: `zh`, `zh-CN`, `cmn...` are Mandarin;
    /// anything else, and no language, English.
    pub fn of(language: Option<&str>) -> SayLanguage {
        match language {
            Some(l) if l == "zh" || l.starts_with("zh-") || l.starts_with("zh_") => {
                SayLanguage::Mandarin
            }
            Some(l) if l.starts_with("cmn") => SayLanguage::Mandarin,
            _ => SayLanguage::English,
        }
    }
}

/// Why a value cannot be said.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SayError {
    /// The value is not a whole number (or, for digits, not only digits).
    #[error("`{0}` is not a whole number")]
    NotANumber(String),
    /// The value is beyond what `say` speaks.
    #[error("{0} is beyond {MAX_NUMBER}")]
    TooLarge(u64),
    /// A position starts at 1.
    #[error("a queue position starts at 1")]
    ZeroPosition,
}

/// The prompt names that speak `value` as `kind` in `language`. Durations are whole seconds
/// (`95`) or a dialplan duration (`95s`, `2m`). Text is synthesized, not built from prompts:
/// none.
pub fn say(kind: SayKind, value: &str, language: SayLanguage) -> Result<Vec<String>, SayError> {
    let value = value.trim();
    match kind {
        SayKind::Digits => {
            if value.is_empty() || !value.chars().all(|c| c.is_ascii_digit()) {
                return Err(SayError::NotANumber(value.to_owned()));
            }
            Ok(value.chars().map(|c| format!("num_{c}")).collect())
        }
        SayKind::Number => Ok(number(whole(value)?, language, Style::Plain)),
        SayKind::Duration => {
            let seconds = match value.parse::<u64>() {
                Ok(seconds) => seconds,
                Err(_) => crate::duration::parse_duration(value)
                    .map_err(|_| SayError::NotANumber(value.to_owned()))?
                    .as_secs(),
            };
            Ok(duration(Duration::from_secs(seconds), language))
        }
        SayKind::Position => position(whole(value)?, language),
        SayKind::Text => Ok(Vec::new()),
    }
}

/// A number as a list of prompt names.
pub fn say_number(n: u64, language: SayLanguage) -> Result<Vec<String>, SayError> {
    if n > MAX_NUMBER {
        return Err(SayError::TooLarge(n));
    }
    Ok(number(n, language, Style::Plain))
}

/// "You are number N in the queue" as a list of prompt names.
pub fn position(n: u64, language: SayLanguage) -> Result<Vec<String>, SayError> {
    if n == 0 {
        return Err(SayError::ZeroPosition);
    }
    if n > MAX_NUMBER {
        return Err(SayError::TooLarge(n));
    }
    let mut out = vec!["position_prefix".to_owned()];
    out.extend(number(n, language, Style::Ordinal));
    out.push("position_suffix".to_owned());
    Ok(out)
}

/// A wait, rounded for a caller: under a minute "less than a minute"; under an hour "about N
/// minutes" (to the nearest minute); else "about H hours [M minutes]" (minutes to the nearest 5).
pub fn duration(wait: Duration, language: SayLanguage) -> Vec<String> {
    let seconds = wait.as_secs();
    if seconds < 60 {
        return vec!["less_than_a_minute".to_owned()];
    }
    let minutes = (seconds + 30) / 60;
    let mut out = vec!["about".to_owned()];
    if minutes < 60 {
        counted(&mut out, minutes, "minute", language);
        return out;
    }
    let rounded = (minutes + 2) / 5 * 5;
    let (hours, rest) = (rounded / 60, rounded % 60);
    counted(&mut out, hours.min(MAX_NUMBER), "hour", language);
    if rest > 0 {
        counted(&mut out, rest, "minute", language);
    }
    out
}

/// Every prompt name `say` may use for `kind`, in either language.
pub fn vocabulary(kind: SayKind) -> Vec<&'static str> {
    const NUMBERS: &[&str] = &[
        "num_0",
        "num_1",
        "num_2",
        "num_3",
        "num_4",
        "num_5",
        "num_6",
        "num_7",
        "num_8",
        "num_9",
        "num_10",
        "num_11",
        "num_12",
        "num_13",
        "num_14",
        "num_15",
        "num_16",
        "num_17",
        "num_18",
        "num_19",
        "num_20",
        "num_30",
        "num_40",
        "num_50",
        "num_60",
        "num_70",
        "num_80",
        "num_90",
        "hundred",
        "thousand",
        "ten_thousand",
        "million",
        "liang",
    ];
    match kind {
        SayKind::Digits => NUMBERS[..10].to_vec(),
        SayKind::Number => NUMBERS.to_vec(),
        SayKind::Duration => {
            let mut words = NUMBERS.to_vec();
            words.extend([
                "less_than_a_minute",
                "about",
                "minute",
                "minutes",
                "hour",
                "hours",
            ]);
            words
        }
        SayKind::Position => {
            let mut words = NUMBERS.to_vec();
            words.extend(["position_prefix", "position_suffix"]);
            words
        }
        SayKind::Text => Vec::new(),
    }
}

/// The prompt names `say` may use for `kind` in one language (the files that language's
/// folder needs).
pub fn vocabulary_in(kind: SayKind, language: SayLanguage) -> Vec<&'static str> {
    let only_other: &[&str] = match language {
        SayLanguage::English => &["liang", "ten_thousand"],
        SayLanguage::Mandarin => &[
            "num_11", "num_12", "num_13", "num_14", "num_15", "num_16", "num_17", "num_18",
            "num_19", "num_20", "num_30", "num_40", "num_50", "num_60", "num_70", "num_80",
            "num_90", "million",
        ],
    };
    vocabulary(kind)
        .into_iter()
        .filter(|word| !only_other.contains(word))
        .collect()
}

/// How a Mandarin number is read where it matters (2 as 两 or 二).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// A plain number: 两 before 百, 千 and 万 (两百, 两千), else 二.
    Plain,
    /// A count before a measure word: also 两 for 2 alone (两分钟).
    Count,
    /// An ordinal (第二, 第二百): always 二.
    Ordinal,
}

fn whole(value: &str) -> Result<u64, SayError> {
    let n = value
        .parse::<u64>()
        .map_err(|_| SayError::NotANumber(value.to_owned()))?;
    if n > MAX_NUMBER {
        return Err(SayError::TooLarge(n));
    }
    Ok(n)
}

/// `n` then the unit, singular or plural (`minute`/`minutes`, `hour`/`hours`).
fn counted(out: &mut Vec<String>, n: u64, unit: &str, language: SayLanguage) {
    out.extend(number(n, language, Style::Count));
    out.push(if n == 1 {
        unit.to_owned()
    } else {
        format!("{unit}s")
    });
}

fn number(n: u64, language: SayLanguage, style: Style) -> Vec<String> {
    let mut out = Vec::new();
    match language {
        SayLanguage::English => english(n, &mut out),
        SayLanguage::Mandarin => mandarin(n, style, &mut out),
    }
    out
}

fn english(n: u64, out: &mut Vec<String>) {
    if n == 0 {
        out.push("num_0".to_owned());
        return;
    }
    let mut rest = n;
    for (scale, word) in [(1_000_000, "million"), (1_000, "thousand")] {
        if rest >= scale {
            english_below_thousand(rest / scale, out);
            out.push(word.to_owned());
            rest %= scale;
        }
    }
    english_below_thousand(rest, out);
}

/// 1..=999 (nothing for 0).
fn english_below_thousand(n: u64, out: &mut Vec<String>) {
    if n >= 100 {
        out.push(format!("num_{}", n / 100));
        out.push("hundred".to_owned());
    }
    match n % 100 {
        0 => {}
        small @ 1..=19 => out.push(format!("num_{small}")),
        tens => {
            out.push(format!("num_{}", tens / 10 * 10));
            if tens % 10 > 0 {
                out.push(format!("num_{}", tens % 10));
            }
        }
    }
}

fn mandarin(n: u64, style: Style, out: &mut Vec<String>) {
    if n == 0 {
        out.push("num_0".to_owned());
        return;
    }
    if n == 2 && style == Style::Count {
        out.push("liang".to_owned());
        return;
    }
    let (high, low) = (n / 10_000, n % 10_000);
    if high > 0 {
        if high == 2 && style != Style::Ordinal {
            out.push("liang".to_owned());
        } else {
            mandarin_section(high, true, style, out);
        }
        out.push("ten_thousand".to_owned());
        // A gap before the low section is read as one 零: 一万零五, 十万零一百.
        if low > 0 && low < 1_000 {
            out.push("num_0".to_owned());
        }
    }
    if low > 0 {
        mandarin_section(low, high == 0, style, out);
    }
}

/// 1..=9999 with 千/百/十; `leading`: the first section of the number (10-19 read 十, 十一).
fn mandarin_section(n: u64, leading: bool, style: Style, out: &mut Vec<String>) {
    let digits = [n / 1000, n / 100 % 10, n / 10 % 10, n % 10];
    let units = [Some("thousand"), Some("hundred"), Some("num_10"), None];
    let first = digits.iter().position(|d| *d > 0).unwrap_or(3);
    let mut gap = false;
    for (place, (digit, unit)) in digits.iter().zip(units).enumerate().skip(first) {
        if *digit == 0 {
            gap = true;
            continue;
        }
        if gap {
            out.push("num_0".to_owned());
            gap = false;
        }
        match unit {
            // 十 alone for 10-19 at the start of the number; 一十 within it (一百一十).
            Some("num_10") if *digit == 1 && leading && place == first => {}
            Some("thousand" | "hundred") if *digit == 2 && style != Style::Ordinal => {
                out.push("liang".to_owned());
            }
            _ => out.push(format!("num_{digit}")),
        }
        if let Some(unit) = unit {
            out.push(unit.to_owned());
        }
    }
    // A section whose last digits are zero ends without 零 (一千, 两百).
}

#[cfg(test)]
mod tests {
    use super::*;

    fn en(kind: SayKind, value: &str) -> String {
        say(kind, value, SayLanguage::English)
            .expect("sayable")
            .join(" ")
    }

    fn zh(kind: SayKind, value: &str) -> String {
        say(kind, value, SayLanguage::Mandarin)
            .expect("sayable")
            .join(" ")
    }

    #[test]
    fn english_numbers_follow_the_spoken_form() {
        let cases = [
            ("0", "num_0"),
            ("7", "num_7"),
            ("13", "num_13"),
            ("20", "num_20"),
            ("42", "num_40 num_2"),
            ("100", "num_1 hundred"),
            ("105", "num_1 hundred num_5"),
            ("999", "num_9 hundred num_90 num_9"),
            ("1000", "num_1 thousand"),
            ("2019", "num_2 thousand num_19"),
            ("12345", "num_12 thousand num_3 hundred num_40 num_5"),
            ("1000001", "num_1 million num_1"),
            (
                "99999999",
                "num_90 num_9 million num_9 hundred num_90 num_9 thousand num_9 hundred num_90 num_9",
            ),
        ];
        for (value, spoken) in cases {
            assert_eq!(en(SayKind::Number, value), spoken, "{value}");
        }
    }

    #[test]
    fn mandarin_numbers_use_shi_ling_and_liang() {
        let cases = [
            ("0", "num_0"),
            ("2", "num_2"),
            ("10", "num_10"),
            ("12", "num_10 num_2"),
            ("20", "num_2 num_10"),
            ("22", "num_2 num_10 num_2"),
            ("101", "num_1 hundred num_0 num_1"),
            ("110", "num_1 hundred num_1 num_10"),
            ("200", "liang hundred"),
            ("1001", "num_1 thousand num_0 num_1"),
            ("2002", "liang thousand num_0 num_2"),
            ("1010", "num_1 thousand num_0 num_1 num_10"),
            ("10005", "num_1 ten_thousand num_0 num_5"),
            ("20000", "liang ten_thousand"),
            ("100000", "num_10 ten_thousand"),
            ("120100", "num_10 num_2 ten_thousand num_0 num_1 hundred"),
            ("1000100", "num_1 hundred ten_thousand num_0 num_1 hundred"),
            (
                "99999999",
                "num_9 thousand num_9 hundred num_9 num_10 num_9 ten_thousand num_9 thousand num_9 hundred num_9 num_10 num_9",
            ),
        ];
        for (value, spoken) in cases {
            assert_eq!(zh(SayKind::Number, value), spoken, "{value}");
        }
    }

    #[test]
    fn digits_are_read_one_by_one_in_both_languages() {
        assert_eq!(en(SayKind::Digits, "4071"), "num_4 num_0 num_7 num_1");
        assert_eq!(zh(SayKind::Digits, "20"), "num_2 num_0");
        assert!(say(SayKind::Digits, "12a", SayLanguage::English).is_err());
        assert!(say(SayKind::Digits, "", SayLanguage::English).is_err());
    }

    #[test]
    fn durations_are_rounded_for_the_caller() {
        assert_eq!(en(SayKind::Duration, "0"), "less_than_a_minute");
        assert_eq!(en(SayKind::Duration, "59"), "less_than_a_minute");
        assert_eq!(en(SayKind::Duration, "60"), "about num_1 minute");
        assert_eq!(en(SayKind::Duration, "89"), "about num_1 minute");
        assert_eq!(en(SayKind::Duration, "90"), "about num_2 minutes");
        assert_eq!(en(SayKind::Duration, "3m"), "about num_3 minutes");
        assert_eq!(en(SayKind::Duration, "3600"), "about num_1 hour");
        assert_eq!(
            en(SayKind::Duration, "4800"),
            "about num_1 hour num_20 minutes"
        );
        assert_eq!(en(SayKind::Duration, "7200"), "about num_2 hours");
        assert_eq!(zh(SayKind::Duration, "120"), "about liang minutes");
        assert_eq!(zh(SayKind::Duration, "720"), "about num_10 num_2 minutes");
        assert_eq!(zh(SayKind::Duration, "30"), "less_than_a_minute");
        assert!(say(SayKind::Duration, "soon", SayLanguage::English).is_err());
    }

    #[test]
    fn positions_wrap_the_number() {
        assert_eq!(
            en(SayKind::Position, "3"),
            "position_prefix num_3 position_suffix"
        );
        assert_eq!(
            zh(SayKind::Position, "2"),
            "position_prefix num_2 position_suffix"
        );
        assert_eq!(
            zh(SayKind::Position, "200"),
            "position_prefix num_2 hundred position_suffix"
        );
        assert_eq!(
            say(SayKind::Position, "0", SayLanguage::English),
            Err(SayError::ZeroPosition)
        );
    }

    #[test]
    fn numbers_beyond_the_limit_are_refused() {
        assert_eq!(
            say(SayKind::Number, "100000000", SayLanguage::English),
            Err(SayError::TooLarge(100_000_000))
        );
        assert!(say(SayKind::Number, "-1", SayLanguage::Mandarin).is_err());
    }

    #[test]
    fn languages_are_recognised_by_folder_name() {
        assert_eq!(SayLanguage::of(Some("zh-CN")), SayLanguage::Mandarin);
        assert_eq!(SayLanguage::of(Some("zh")), SayLanguage::Mandarin);
        assert_eq!(SayLanguage::of(Some("cmn")), SayLanguage::Mandarin);
        assert_eq!(SayLanguage::of(Some("en")), SayLanguage::English);
        assert_eq!(SayLanguage::of(None), SayLanguage::English);
    }

    #[test]
    fn every_word_said_is_in_the_vocabulary_of_its_language() {
        for kind in SayKind::ALL {
            for value in [
                "1", "2", "12", "20", "110", "2002", "10005", "99999999", "4980",
            ] {
                for language in [SayLanguage::English, SayLanguage::Mandarin] {
                    let words = vocabulary_in(kind, language);
                    if let Ok(said) = say(kind, value, language) {
                        for word in said {
                            assert!(words.contains(&word.as_str()), "{word} ({kind:?})");
                        }
                    }
                }
            }
        }
    }
}

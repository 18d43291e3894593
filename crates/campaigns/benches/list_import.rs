//! Importing a 100,000-row campaign list: CSV reading, header mapping, number normalization
//! (CN default, mixed forms), time zones, priorities, due cells, duplicates and the report.
//!
//! The list is made in memory (about 7 MB): numbers written in five forms (plain, spaced,
//! dashed, `+86`, `0086`), one line in 20 without a number, one in 50 a duplicate, one in 100
//! too short; a `;` delimiter with quoted names; due cells `24h`, `5 working days` or a local
//! date; every tenth line a London number with its time zone column set.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hotline_campaigns::list::{Country, ImportOptions, ListImport};

const ROWS: u64 = 100_000;

fn list() -> String {
    let mut csv = String::from("\u{feff}手机号码;姓名;时区;优先级;截止;city;segment\r\n");
    for i in 0..ROWS {
        let n = 10_000_000 + i;
        let number = match i {
            _ if i % 20 == 7 => String::new(),
            _ if i % 50 == 3 => format!("138{:08}", 10_000_000 + i - 1),
            _ if i % 100 == 11 => "1380013".to_owned(),
            _ if i % 10 == 9 => format!("+44 20 {:04} {:04}", 7000 + i / 10_000, i % 10_000),
            _ => match i % 5 {
                0 => format!("138{n:08}"),
                1 => format!("138 {:04} {:04}", n / 10_000, n % 10_000),
                2 => format!("138-{:04}-{:04}", n / 10_000, n % 10_000),
                3 => format!("+86 138{n:08}"),
                _ => format!("0086 138{n:08}"),
            },
        };
        let zone = if i % 10 == 9 { "Europe/London" } else { "" };
        let due = match i % 3 {
            0 => "24h",
            1 => "5 working days",
            _ => "2026-12-20",
        };
        let _ = write!(
            csv,
            "{number};\"Customer {i}\";{zone};{};{due};Hangzhou;gold\r\n",
            i % 7
        );
    }
    csv
}

fn bench(c: &mut Criterion) {
    let csv = list();
    let options = ImportOptions {
        country: Some(Country::CN),
    };
    let once = ListImport::from_slice(csv.as_bytes(), &options).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "list: {} bytes, {} lines, {} accepted, rejected by reason {:?}",
        csv.len(),
        once.summary.lines,
        once.summary.accepted,
        once.summary.by_reason
    );
    let mut group = c.benchmark_group("list_import");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ROWS));
    group.bench_function("import_100k_rows", |b| {
        b.iter(|| {
            let list = ListImport::from_slice(black_box(csv.as_bytes()), &options);
            black_box(list.map(|l| l.summary.accepted).unwrap_or(0))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

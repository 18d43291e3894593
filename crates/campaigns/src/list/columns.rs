//! The header line: which column holds the number, name, time zone, priority and due window
//! (each under its usual names, English and Chinese); every other column is a free attribute.

use serde::Serialize;

use super::ListError;

/// A field of a list line with a column of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The phone number.
    Number,
    /// The customer's name.
    Name,
    /// The customer's IANA time zone.
    TimeZone,
    /// The base priority.
    Priority,
    /// The due window.
    Due,
}

impl Field {
    /// The field's name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Number => "number",
            Self::Name => "name",
            Self::TimeZone => "time_zone",
            Self::Priority => "priority",
            Self::Due => "due",
        }
    }

    /// The field a header names, if any: case, spaces, `_` and `-` do not matter.
    pub fn from_header(header: &str) -> Option<Self> {
        let key: String = header
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-' | '.'))
            .flat_map(char::to_lowercase)
            .collect();
        Some(match key.as_str() {
            "number" | "phone" | "phonenumber" | "mobile" | "mobilenumber" | "mobilephone"
            | "cell" | "cellphone" | "tel" | "telephone" | "msisdn" | "电话" | "电话号码"
            | "手机" | "手机号" | "手机号码" | "联系电话" | "号码" => Self::Number,
            "name" | "fullname" | "customer" | "customername" | "contact" | "contactname"
            | "姓名" | "名字" | "客户" | "客户名称" | "客户姓名" => Self::Name,
            "timezone" | "tz" | "zone" | "时区" => Self::TimeZone,
            "priority" | "prio" | "优先级" => Self::Priority,
            "due" | "within" | "deadline" | "dueby" | "duewithin" | "截止" | "截止时间"
            | "期限" => Self::Due,
            _ => return None,
        })
    }
}

/// Where each field is in a line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Columns {
    /// The number columns in header order (`phone` and `mobile` both): a line's number is
    /// the first one not empty.
    pub number: Vec<usize>,
    /// The name column.
    pub name: Option<usize>,
    /// The time zone column.
    pub time_zone: Option<usize>,
    /// The priority column.
    pub priority: Option<usize>,
    /// The due column.
    pub due: Option<usize>,
    /// The other columns: index and attribute key (the header, made unique).
    pub attributes: Vec<(usize, String)>,
    /// The headers as written.
    pub headers: Vec<String>,
}

impl Columns {
    /// Maps a header line.
    pub fn from_headers(headers: Vec<String>) -> Result<Self, ListError> {
        let mut columns = Self::default();
        for (i, header) in headers.iter().enumerate() {
            let slot = match Field::from_header(header) {
                Some(Field::Number) => {
                    columns.number.push(i);
                    continue;
                }
                Some(Field::Name) => &mut columns.name,
                Some(Field::TimeZone) => &mut columns.time_zone,
                Some(Field::Priority) => &mut columns.priority,
                Some(Field::Due) => &mut columns.due,
                None => {
                    let key = unique_key(header.trim(), i, &columns.attributes);
                    columns.attributes.push((i, key));
                    continue;
                }
            };
            if let Some(first) = slot.replace(i) {
                return Err(ListError::DuplicateColumn {
                    field: Field::from_header(header).map_or("", Field::as_str),
                    first: headers[first].clone(),
                    second: header.clone(),
                });
            }
        }
        if columns.number.is_empty() {
            let digits = |h: &String| h.chars().filter(char::is_ascii_digit).count();
            if headers.iter().any(|h| digits(h) >= 7) {
                return Err(ListError::NoHeader);
            }
            return Err(ListError::NoNumberColumn { headers });
        }
        columns.headers = headers;
        Ok(columns)
    }
}

/// An attribute key not used yet: the header, `column_N` for an empty one, `key_2` for a
/// repeated one.
fn unique_key(header: &str, index: usize, taken: &[(usize, String)]) -> String {
    let base = if header.is_empty() {
        format!("column_{}", index + 1)
    } else {
        header.to_owned()
    };
    let used = |k: &str| taken.iter().any(|(_, t)| t == k);
    if !used(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}_{n}"))
        .find(|k| !used(k))
        .unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn aliases_in_english_and_chinese_map_to_fields() {
        let c = Columns::from_headers(headers(&[
            "Phone Number",
            "姓名",
            "TZ",
            "Priority",
            "Within",
            "city",
            "手机",
            "",
            "city",
        ]))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.number, [0, 6]);
        assert_eq!(c.name, Some(1));
        assert_eq!(c.time_zone, Some(2));
        assert_eq!(c.priority, Some(3));
        assert_eq!(c.due, Some(4));
        assert_eq!(
            c.attributes,
            [
                (5, "city".to_owned()),
                (7, "column_8".to_owned()),
                (8, "city_2".to_owned())
            ]
        );
    }

    #[test]
    fn a_list_without_a_number_column_or_with_two_due_columns_is_refused() {
        assert!(matches!(
            Columns::from_headers(headers(&["name", "city"])),
            Err(ListError::NoNumberColumn { .. })
        ));
        assert!(matches!(
            Columns::from_headers(headers(&["138 0013 8000", "Li Na"])),
            Err(ListError::NoHeader)
        ));
        assert!(matches!(
            Columns::from_headers(headers(&["phone", "due", "deadline"])),
            Err(ListError::DuplicateColumn { field: "due", .. })
        ));
    }
}

//! Small lexical helpers shared by the header grammars: token characters, quoted strings,
//! top-level splitting that respects quotes and angle brackets, `;name=value` parameters.

use super::uri::Param;

/// Why a structured header value could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldError {
    /// The value does not follow the header's grammar.
    Malformed,
    /// A quoted string is not closed.
    UnterminatedQuote,
    /// An IPv6 address appears without `[ ]`.
    Ipv6WithoutBrackets,
}

/// RFC 3261 `token` characters.
pub(crate) fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c)
}

/// True when `s` is a non-empty RFC 3261 token.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_token_char)
}

/// Splits `s` on `sep` where it appears outside quoted strings and `< >`.
///
/// Fails on an unterminated quoted string.
pub(crate) fn split_top_level(s: &str, sep: char) -> Result<Vec<&str>, FieldError> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    let mut in_angle = false;
    for (i, c) in s.char_indices() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quotes = false;
            }
            continue;
        }
        match c {
            '"' if !in_angle => in_quotes = true,
            '<' => in_angle = true,
            '>' => in_angle = false,
            c if c == sep && !in_angle => {
                parts.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    if in_quotes {
        return Err(FieldError::UnterminatedQuote);
    }
    parts.push(&s[start..]);
    Ok(parts)
}

/// Reads a quoted string at the start of `s` (which must begin with `"`).
///
/// Returns the unescaped content and the rest of `s` after the closing quote.
pub(crate) fn take_quoted(s: &str) -> Result<(String, &str), FieldError> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    match chars.next() {
        Some((_, '"')) => {}
        _ => return Err(FieldError::Malformed),
    }
    let mut escaped = false;
    for (i, c) in chars {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            return Ok((out, &s[i + 1..]));
        } else {
            out.push(c);
        }
    }
    Err(FieldError::UnterminatedQuote)
}

/// Quotes `s` as an RFC 3261 quoted-string, escaping `"` and `\`.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Parses header parameters: `s` is the text after the first `;` (e.g. `tag=1 ; lr`).
///
/// LWS around `;` and `=` is allowed (RFC 3261 SEMI and EQUAL); empty parameters are not.
pub(crate) fn parse_header_params(s: &str) -> Result<Vec<Param>, FieldError> {
    let mut params = Vec::new();
    for piece in split_top_level(s, ';')? {
        let piece = piece.trim();
        if piece.is_empty() {
            return Err(FieldError::Malformed);
        }
        let (name, value) = match piece.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (piece, None),
        };
        if !is_token(name) {
            return Err(FieldError::Malformed);
        }
        if let Some(v) = value {
            let ok = if v.starts_with('"') {
                matches!(take_quoted(v), Ok((_, rest)) if rest.is_empty())
            } else {
                !v.is_empty() && !v.chars().any(|c| c.is_whitespace() || c == ',' || c == '"')
            };
            if !ok {
                return Err(FieldError::Malformed);
            }
        }
        params.push(Param::new(name, value));
    }
    Ok(params)
}

/// Decodes `%HH` escapes once (no recursive unescaping); a `%` not followed by two hex
/// digits is kept as is.
pub fn unescape(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = (hex_val(bytes[i + 1]), hex_val(bytes[i + 2]));
            if let (Some(h), Some(l)) = hex {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn split_respects_quotes_and_brackets() {
        let parts = split_top_level(r#""a,b" <sip:x;y=1,z>, <sip:q>"#, ',').unwrap();
        assert_eq!(parts.len(), 2);
        assert!(split_top_level(r#""open"#, ',').is_err());
    }

    #[test]
    fn quoted_strings_unescape_backslashes() {
        let (s, rest) = take_quoted(r#""J R \\\"" <x>"#).unwrap();
        assert_eq!(s, r#"J R \""#);
        assert_eq!(rest, " <x>");
    }

    #[test]
    fn unescape_is_not_recursive() {
        assert_eq!(unescape("v%61lue%25%34%31"), b"value%41");
        assert_eq!(unescape("%Z%45%"), b"%ZE%");
        assert_eq!(unescape("a%4"), b"a%4");
    }

    #[test]
    fn params_allow_lws_but_not_empty_pieces() {
        let p = parse_header_params(" tag = 98asjd8 ; lr").unwrap();
        assert_eq!(p[0].name, "tag");
        assert_eq!(p[0].value.as_deref(), Some("98asjd8"));
        assert!(parse_header_params(";;").is_err());
    }
}

//! Go's formatting of values, in one place: `fmt`'s `%v` (`fmt.Sprint`), `encoding/json`'s
//! `Marshal` and `strconv.Quote`, as the reference tools print them (a recent Go: since Go 1.22
//! `encoding/json` writes `\b` and `\f` as those escapes, not `\u0008` and `\u000c`).
//!
//! The template engine prints its own values with these, and score-core uses the same functions
//! where it prints a JSON value the way the tools' Go code would: a placeholder's non-string
//! value (`json.Marshal`) and the upgrade of a v1 field (`fmt.Sprint`).
//!
//! ```
//! use score_gotemplate::gofmt;
//! use serde_json::json;
//! assert_eq!(gofmt::sprint_json(&json!({"b": [1, "x", null], "a": 1e6})), "map[a:1e+06 b:[1 x <nil>]]");
//! assert_eq!(gofmt::marshal_json(&json!({"k": "a<b\u{8}", "f": 1.0, "e": 1e21})),
//!            r#"{"e":1e+21,"f":1,"k":"a\u003cb\b"}"#);
//! assert_eq!(gofmt::quote("tab\there\u{7f}"), r#""tab\there\x7f""#);
//! ```

use std::fmt::Write as _;

use serde_json::Value as Json;

/// Go's `%v` of a float64: `strconv.FormatFloat(f, 'g', -1, 64)`, the shortest digits that read
/// back as `f`, with an exponent when the decimal exponent is below -4 or at least 6 (`1e+06`).
pub fn float_v(f: f64) -> String {
    let mut out = String::new();
    write_float_v(&mut out, f);
    out
}

/// [`float_v`], appended to `out`.
pub fn write_float_v(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("NaN");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    let (neg, digits, exp) = shortest(f);
    if neg {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        e_format(out, &digits, exp);
    } else {
        f_format(out, &digits, exp);
    }
}

/// `encoding/json`'s form of a finite float64 (`strconv.AppendFloat(f, 'f' or 'e', -1, 64)`):
/// an exponent only below 1e-6 or from 1e21 on, written `1e+21` and `1e-7`.
pub fn write_json_float(out: &mut String, f: f64) {
    let (neg, digits, exp) = shortest(f);
    if neg {
        out.push('-');
    }
    let a = f.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        let mut e = String::new();
        e_format(&mut e, &digits, exp);
        // encoding/json writes e-07 as e-7.
        if let Some(i) = e.find("e-0") {
            e.remove(i + 2);
        }
        out.push_str(&e);
    } else {
        f_format(out, &digits, exp);
    }
}

/// The shortest round-trip digits of `f` (no point, no sign) and its decimal exponent
/// (`d.ddd × 10^exp`), and whether it is negative.
pub(crate) fn shortest(f: f64) -> (bool, String, i32) {
    let e = format!("{:e}", f.abs());
    let (m, x) = e.split_once('e').unwrap_or((&e, "0"));
    let digits: String = m.chars().filter(|c| *c != '.').collect();
    let digits = if digits.chars().all(|c| c == '0') {
        "0".to_string()
    } else {
        digits
    };
    (f.is_sign_negative(), digits, x.parse().unwrap_or(0))
}

/// `d.ddde±XX` (at least two exponent digits, as Go's `%e`).
pub(crate) fn e_format(out: &mut String, digits: &str, exp: i32) {
    out.push_str(&digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    let _ = write!(
        out,
        "e{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.unsigned_abs()
    );
}

/// The digits without an exponent: `0.000ddd`, `ddd000` or `dd.dd`.
pub(crate) fn f_format(out: &mut String, digits: &str, exp: i32) {
    if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
}

/// Go's `strconv.Quote`: a double-quoted Go string literal, with `\a`..`\v`, `\xNN` for other
/// control bytes and `\uNNNN`/`\UNNNNNNNN` for runes Go does not print.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.IsPrint`, as far as the runes a provisioner file meets go.
fn is_go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c as u32, 0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x200b..=0x200f
            | 0x202a..=0x202e | 0x2060..=0x2064 | 0x2066..=0x206f | 0xfeff | 0xfff9..=0xfffb
            | 0xe000..=0xf8ff | 0xfdd0..=0xfdef | 0xfffe | 0xffff))
}

/// `encoding/json`'s string: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, `\u00XX` for other control
/// characters, `\u2028`/`\u2029` always, and `<`, `>`, `&` as `\u003c`.. when `html` (the
/// `json.Marshal` default; sprig's `toRawJson` turns it off).
pub fn write_json_string(out: &mut String, s: &str, html: bool) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if html => {
                let b = c as u8;
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
            '\u{0}'..='\u{1f}' => {
                let b = c as u8;
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `fmt.Sprint` of a JSON value as Go holds it (`map[string]interface{}`, `[]interface{}`):
/// `<nil>`, `map[a:1 b:[x y]]` with sorted keys, floats as [`float_v`], strings bare.
pub fn sprint_json(v: &Json) -> String {
    let mut out = String::new();
    write_sprint_json(&mut out, v);
    out
}

fn write_sprint_json(out: &mut String, v: &Json) {
    match v {
        Json::Null => out.push_str("<nil>"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => write_json_number(out, n, write_float_v),
        Json::String(s) => out.push_str(s),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_sprint_json(out, item);
            }
            out.push(']');
        }
        Json::Object(map) => {
            // fmt prints map keys sorted.
            let mut entries: Vec<(&String, &Json)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push_str("map[");
            for (i, (k, x)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_sprint_json(out, x);
            }
            out.push(']');
        }
    }
}

/// Go's `json.Marshal` of a JSON value as Go holds it: compact, keys sorted, HTML-escaped
/// strings, integers as written and floats in `encoding/json`'s form (`1` for 1.0, `1e+21`).
pub fn marshal_json(v: &Json) -> String {
    let mut out = String::new();
    write_marshal_json(&mut out, v);
    out
}

/// [`marshal_json`], appended to `out`.
pub fn write_marshal_json(out: &mut String, v: &Json) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => write_json_number(out, n, write_json_float),
        Json::String(s) => write_json_string(out, s, true),
        Json::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_marshal_json(out, x);
            }
            out.push(']');
        }
        Json::Object(m) => {
            let mut entries: Vec<(&String, &Json)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, x)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, k, true);
                out.push(':');
                write_marshal_json(out, x);
            }
            out.push('}');
        }
    }
}

/// An integer as written (`i64`, then `u64`), a float through `float`.
fn write_json_number(out: &mut String, n: &serde_json::Number, float: fn(&mut String, f64)) {
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(f) = n.as_f64() {
        float(out, f);
    } else {
        let _ = write!(out, "{n}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Go's answers (`fmt.Sprint(f)`, `json.Marshal(f)`), one table for both forms.
    #[test]
    fn floats_as_go_prints_them() {
        for (f, v, j) in [
            (0.0, "0", "0"),
            (-0.0, "-0", "-0"),
            (1.0, "1", "1"),
            (1.5, "1.5", "1.5"),
            (-2.25, "-2.25", "-2.25"),
            (0.1, "0.1", "0.1"),
            (123456.0, "123456", "123456"),
            (1e6, "1e+06", "1000000"),
            (1234567.0, "1.234567e+06", "1234567"),
            (0.0001, "0.0001", "0.0001"),
            (0.00001, "1e-05", "0.00001"),
            (1e-7, "1e-07", "1e-7"),
            (1.5e-7, "1.5e-07", "1.5e-7"),
            (1e20, "1e+20", "100000000000000000000"),
            (1e21, "1e+21", "1e+21"),
            (1e100, "1e+100", "1e+100"),
            (
                f64::MAX,
                "1.7976931348623157e+308",
                "1.7976931348623157e+308",
            ),
            (0.000001, "1e-06", "0.000001"),
            (1.5e-10, "1.5e-10", "1.5e-10"),
            (1.5e-300, "1.5e-300", "1.5e-300"),
            (1.2345e22, "1.2345e+22", "1.2345e+22"),
            (0.1 + 0.2, "0.30000000000000004", "0.30000000000000004"),
            (100.25, "100.25", "100.25"),
        ] {
            assert_eq!(float_v(f), v, "%v of {f}");
            let mut out = String::new();
            write_json_float(&mut out, f);
            assert_eq!(out, j, "json.Marshal of {f}");
        }
        assert_eq!(float_v(f64::NAN), "NaN");
        assert_eq!(float_v(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn json_strings_as_go_1_22_writes_them() {
        let mut out = String::new();
        write_json_string(&mut out, "q\"b\\n\n\u{1}\u{8}\u{c}<>&\u{2028}é", true);
        assert_eq!(out, r#""q\"b\\n\n\u0001\b\f\u003c\u003e\u0026\u2028é""#);
        out.clear();
        write_json_string(&mut out, "<&>\u{2029}", false);
        assert_eq!(out, r#""<&>\u2029""#);
    }

    #[test]
    fn sprint_and_marshal_of_values() {
        assert_eq!(sprint_json(&json!(null)), "<nil>");
        assert_eq!(
            sprint_json(&json!([1, [true, null], "a b"])),
            "[1 [true <nil>] a b]"
        );
        assert_eq!(
            sprint_json(&json!({"z": 1, "a": {"k": "v"}})),
            "map[a:map[k:v] z:1]"
        );
        assert_eq!(sprint_json(&json!(u64::MAX)), "18446744073709551615");
        assert_eq!(marshal_json(&json!(-5)), "-5");
        assert_eq!(marshal_json(&json!(u64::MAX)), "18446744073709551615");
        assert_eq!(
            marshal_json(&json!({"b": [true, null], "a": {}})),
            r#"{"a":{},"b":[true,null]}"#
        );
    }

    #[test]
    fn quotes_as_strconv() {
        assert_eq!(quote("a\"b\\"), r#""a\"b\\""#);
        assert_eq!(quote("\u{7}\u{b}\u{1}"), r#""\a\v\x01""#);
        assert_eq!(quote("\u{200b}é\u{e000}"), r#""\u200bé\ue000""#);
    }
}

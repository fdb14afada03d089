//! Output formatters matching score-go's `formatter` package (used by `provisioners list`).
//!
//! score-go renders tables with `olekukonko/tablewriter` (v0.0.x: auto-formatted headers, row
//! lines, `+`/`|`/`-` borders), JSON with Go's `json.Encoder` (two-space indent, HTML-escaped,
//! trailing newline) and YAML with `yaml.v3`'s encoder (four-space indent). These functions
//! reproduce that output byte for byte for the inputs score-gen produces (the `formatter` table
//! of the conformance corpus, `misc_cases.json`, is checked row by row below).

/// Renders a table exactly like score-go's `TableOutputFormatter`.
///
/// * headers are upper-cased, `_` becomes a space, and they are centred (extra space on the right);
/// * cells are left-aligned, except cells that look like numbers (`1,234.5`), which are
///   right-aligned, as tablewriter does;
/// * a `\n` inside a cell makes a multi-line row; a separator line follows every row;
/// * column width counts characters (tablewriter counts terminal cells; they differ only for
///   wide East Asian characters and emoji);
/// * rows shorter than the header get empty cells; extra cells widen the table.
pub fn render_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let headers: Vec<String> = headers.iter().map(|h| title(h)).collect();
    let cols = rows
        .iter()
        .map(Vec::len)
        .chain(std::iter::once(headers.len()))
        .max()
        .unwrap_or(0);
    let split = |cells: &[String]| -> Vec<Vec<String>> {
        (0..cols)
            .map(|i| {
                cells.get(i).map_or_else(
                    || vec![String::new()],
                    // A cell may come from a remote provisioner file or the state: no
                    // control character reaches the terminal (spec/security.md).
                    |c| {
                        c.split('\n')
                            .map(|l| score_core::diag::escape_controls(l).into_owned())
                            .collect()
                    },
                )
            })
            .collect()
    };
    let body: Vec<Vec<Vec<String>>> = rows.iter().map(|r| split(r)).collect();
    let mut widths = vec![0usize; cols];
    for (i, h) in headers.iter().enumerate() {
        widths[i] = width(h);
    }
    for row in &body {
        for (i, lines) in row.iter().enumerate() {
            for l in lines {
                widths[i] = widths[i].max(width(l));
            }
        }
    }
    let line: String = {
        let mut s = String::from("+");
        for w in &widths {
            s.push_str(&"-".repeat(w + 2));
            s.push('+');
        }
        s.push('\n');
        s
    };
    let mut out = line.clone();
    if !headers.is_empty() {
        out.push('|');
        for (i, w) in widths.iter().enumerate() {
            let h = headers.get(i).map_or("", String::as_str);
            out.push(' ');
            out.push_str(&center(h, *w));
            out.push_str(" |");
        }
        out.push('\n');
        out.push_str(&line);
    }
    for row in &body {
        let height = row.iter().map(Vec::len).max().unwrap_or(1);
        for k in 0..height {
            out.push('|');
            for (i, lines) in row.iter().enumerate() {
                let cell = lines.get(k).map_or("", String::as_str);
                out.push(' ');
                if is_number(cell) {
                    out.push_str(&" ".repeat(widths[i] - width(cell)));
                    out.push_str(cell);
                } else {
                    out.push_str(cell);
                    out.push_str(&" ".repeat(widths[i] - width(cell)));
                }
                out.push_str(" |");
            }
            out.push('\n');
        }
        out.push_str(&line);
    }
    out
}

/// Renders JSON exactly like Go's `json.Encoder` with `SetIndent("", "  ")`: two-space indent,
/// `<`, `>`, `&`, U+2028 and U+2029 escaped as `\u003c` etc., and a trailing newline. Object keys
/// keep the value's order (Go sorts map keys; build the value sorted when it stands for a map).
pub fn render_json(value: &serde_json::Value) -> String {
    // Serialising a Value cannot fail (its keys are strings); fall back to compact just in case.
    let pretty = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    let mut out = String::with_capacity(pretty.len() + 1);
    // These characters can only occur inside JSON strings, so escaping them everywhere is safe.
    for c in pretty.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('\n');
    out
}

/// Renders YAML like score-go's `YAMLOutputFormatter` (yaml.v3, four-space indent). Unlike
/// yaml.v3 our emitter quotes strings that YAML 1.1 would read as booleans or numbers (`"no"`,
/// `"0755"`), which keeps the output safe for every consumer.
pub fn render_yaml(value: &serde_json::Value) -> String {
    let opts = serde_saphyr::ser_options! { indent_step: 4 };
    serde_saphyr::to_string_with_options(value, opts)
        .unwrap_or_else(|e| unreachable!("serde-saphyr cannot emit a JSON value: {e}"))
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// tablewriter's `Title`: `_` → space, `.` → space unless between digits/spaces, trim, upper-case.
fn title(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let num_or_space = |c: char| c.is_ascii_digit() || c == ' ';
    let mapped: String = chars
        .iter()
        .enumerate()
        .map(|(i, &c)| match c {
            '_' => ' ',
            '.' if (i != 0 && !num_or_space(chars[i - 1]))
                || (i + 1 != chars.len() && !num_or_space(chars[i + 1])) =>
            {
                ' '
            }
            c => c,
        })
        .collect();
    let trimmed = mapped.trim();
    if trimmed.is_empty() && !name.is_empty() {
        " ".to_string()
    } else {
        trimmed.to_uppercase()
    }
}

/// tablewriter's `Pad`: the smaller half of the gap on the left.
fn center(s: &str, w: usize) -> String {
    let gap = w.saturating_sub(width(s));
    let left = gap / 2;
    format!("{}{s}{}", " ".repeat(left), " ".repeat(gap - left))
}

/// tablewriter's `decimal` pattern `^-?(?:\d{1,3}(?:,\d{3})*|\d+)(?:\.\d+)?$`.
fn is_number(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if let Some(f) = frac
        && !digits(f)
    {
        return false;
    }
    if digits(int) {
        return true;
    }
    let groups: Vec<&str> = int.split(',').collect();
    groups.len() > 1
        && digits(groups[0])
        && groups[0].len() <= 3
        && groups[1..].iter().all(|g| g.len() == 3 && digits(g))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_examples() {
        let out = render_table(&["Name", "Value"], &[vec!["n1".into(), "v1".into()]]);
        assert_eq!(
            out,
            "+------+-------+\n| NAME | VALUE |\n+------+-------+\n| n1   | v1    |\n+------+-------+\n"
        );
        let v = serde_json::json!({"a": "<b>"});
        assert_eq!(render_json(&v), "{\n  \"a\": \"\\u003cb\\u003e\"\n}\n");
        let v = serde_json::json!([{"k1": "v1"}]);
        assert_eq!(render_yaml(&v), "- k1: v1\n");
    }

    /// The `formatter` table of the conformance corpus (score-go's formatter `output_test.go`):
    /// every row, byte for byte.
    #[test]
    fn formatter_rows() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/conformance/misc_cases.json"
        );
        let text = std::fs::read_to_string(path).expect("the conformance corpus is vendored");
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let tables: Vec<_> = doc
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.starts_with("formatter"))
            .collect();
        assert_eq!(tables.len(), 1, "exactly one formatter table");
        let mut kinds = Vec::new();
        for row in tables[0].1.as_array().unwrap() {
            let kind = row["kind"].as_str().unwrap();
            let want = row["out"].as_str().unwrap();
            let got = match kind {
                "table" => {
                    let headers: Vec<&str> = row["headers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|h| h.as_str().unwrap())
                        .collect();
                    let body: Vec<Vec<String>> = row["rows"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| {
                            r.as_array()
                                .unwrap()
                                .iter()
                                .map(|c| c.as_str().unwrap().to_string())
                                .collect()
                        })
                        .collect();
                    render_table(&headers, &body)
                }
                "json" => render_json(&row["data"]),
                "yaml" => render_yaml(&row["data"]),
                other => panic!("unknown formatter kind {other}"),
            };
            assert_eq!(got, want, "formatter {kind}");
            kinds.push(kind.to_string());
        }
        assert_eq!(kinds, ["table", "json", "yaml"]);
    }

    #[test]
    fn title_matches_tablewriter() {
        assert_eq!(title("expected_outputs"), "EXPECTED OUTPUTS");
        assert_eq!(title("v1.2"), "V1.2");
        assert_eq!(title("a.b"), "A B");
        assert_eq!(title("1.5"), "1.5");
        assert_eq!(title("_"), " ");
    }

    #[test]
    fn numbers_are_right_aligned_and_headers_centred() {
        let out = render_table(&["Port"], &[vec!["80".into()], vec!["x".into()]]);
        assert_eq!(
            out,
            "+------+\n| PORT |\n+------+\n|   80 |\n+------+\n| x    |\n+------+\n"
        );
        let out = render_table(&["a"], &[vec!["long".into()]]);
        assert_eq!(out, "+------+\n|  A   |\n+------+\n| long |\n+------+\n");
    }

    #[test]
    fn decimal_pattern() {
        for yes in ["0", "-1", "1,234", "12.5", "1,234,567.89", "12345"] {
            assert!(is_number(yes), "{yes}");
        }
        for no in ["", "-", "1,23", "1234,567", "1.", ".5", "a1", "1,2345"] {
            assert!(!is_number(no), "{no}");
        }
    }

    #[test]
    fn multi_line_and_ragged_rows() {
        let out = render_table(&["a", "b"], &[vec!["x\ny".into()]]);
        assert_eq!(
            out,
            "+---+---+\n| A | B |\n+---+---+\n| x |   |\n| y |   |\n+---+---+\n"
        );
    }
}

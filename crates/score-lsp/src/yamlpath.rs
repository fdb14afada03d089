//! Where the cursor is in a YAML block structure, read from indentation alone.
//!
//! While a user types, the file is often not valid YAML, so completion cannot wait for a parse:
//! the path of keys above the cursor is read from the lines (each parent is the nearest line
//! above with less indentation). Flow collections (`{a: 1}`) and block scalars are not
//! followed; the answer is then a shorter path, never a panic.

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// An item of a sequence.
    Item,
}

/// What the cursor is on within its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Keys (and sequence items) of the mappings that contain the cursor's line.
    pub parents: Vec<Seg>,
    /// The line's own key, when it has one (`key:` before the cursor or the word being typed).
    pub key: Option<String>,
    /// True when the cursor is in key position: nothing but a word (the key being typed)
    /// between the line's indentation (or `- `) and the cursor.
    pub in_key: bool,
    /// The partial word before the cursor (key or value being typed).
    pub prefix: String,
    /// The value text before the cursor when the cursor is after `key:`.
    pub value_before: Option<String>,
}

/// Splits a line into (indent of content, text after an optional `- `, dash indent).
fn content(line: &str) -> (usize, &str, Option<usize>) {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[indent..];
    if let Some(after) = rest
        .strip_prefix("- ")
        .or(if rest == "-" { Some("") } else { None })
    {
        let extra = after.len() - after.trim_start_matches(' ').len();
        return (indent + 2 + extra, &after[extra..], Some(indent));
    }
    (indent, rest, None)
}

/// The key of a `key: value` / `key:` text, when it starts with one.
pub fn key_of(text: &str) -> Option<&str> {
    let t = text.trim_end();
    if t.starts_with('#') || t.is_empty() {
        return None;
    }
    // A quoted key.
    if let Some(q @ ('"' | '\'')) = t.chars().next() {
        let close = t[1..].find(q)? + 1;
        let after = &t[close + 1..];
        return (after.starts_with(':')).then(|| &t[1..close]);
    }
    let colon = t
        .find(": ")
        .or_else(|| t.strip_suffix(':').map(|s| s.len()))?;
    let k = &t[..colon];
    (!k.is_empty() && !k.contains(['{', '[', '"', '\'', '#'])).then_some(k.trim_end())
}

fn blank(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// The cursor's place: `lines` are the document's lines, `line` and `col` (a byte offset into
/// that line) the cursor.
pub fn cursor(lines: &[&str], line: usize, col: usize) -> Cursor {
    let cur = lines.get(line).copied().unwrap_or("");
    let col = crate::text::floor_boundary(cur, col);
    let (cindent, ctext, cdash) = content(cur);
    let before = &cur[..col];
    let mut parents = Vec::new();
    // The items and keys of the cursor's own line.
    let mut threshold = cindent;
    if let Some(d) = cdash {
        if col > d {
            parents.push(Seg::Item);
        }
        threshold = d;
    }
    let key = key_of(ctext).map(str::to_string);
    let typed = before.get(cindent.min(before.len())..).unwrap_or("");
    let in_key =
        col >= cindent && !typed.contains(':') && typed.chars().all(|c| !c.is_whitespace());
    let prefix_start = before
        .rfind(|c: char| c.is_whitespace() || matches!(c, ':' | '{' | '[' | ',' | '"' | '\''))
        .map_or(0, |i| i + 1);
    let prefix = before[prefix_start..].to_string();
    let value_before = if in_key {
        None
    } else {
        typed
            .find(':')
            .map(|i| typed[i + 1..].trim_start().to_string())
    };
    // Each parent is the nearest non-blank line above with less indentation.
    for l in (0..line).rev() {
        let text = lines[l];
        if blank(text) {
            continue;
        }
        let (ind, body, dash) = content(text);
        let outer = dash.unwrap_or(ind);
        if outer >= threshold {
            continue;
        }
        if let Some(d) = dash {
            // `- key: v` above with the cursor's line nested under `key`.
            if ind < threshold
                && let Some(k) = key_of(body)
            {
                parents.push(Seg::Key(k.to_string()));
            }
            parents.push(Seg::Item);
            threshold = d;
        } else if let Some(k) = key_of(body) {
            parents.push(Seg::Key(k.to_string()));
            threshold = ind;
        } else {
            threshold = ind;
        }
        if threshold == 0 {
            break;
        }
    }
    parents.reverse();
    Cursor {
        parents,
        key,
        in_key,
        prefix,
        value_before,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, marker: &str) -> Cursor {
        let off = text.find(marker).unwrap();
        let line = text[..off].matches('\n').count();
        let col = off - text[..off].rfind('\n').map_or(0, |i| i + 1);
        let clean = text.replacen(marker, "", 1);
        let lines: Vec<&str> = clean.split('\n').collect();
        cursor(&lines, line, col)
    }

    fn keys(c: &Cursor) -> Vec<String> {
        c.parents
            .iter()
            .map(|s| match s {
                Seg::Key(k) => k.clone(),
                Seg::Item => "-".into(),
            })
            .collect()
    }

    #[test]
    fn nested_keys() {
        let c = at(
            "apiVersion: x\ncontainers:\n  web:\n    image: a\n    vari|\n",
            "|",
        );
        assert_eq!(keys(&c), ["containers", "web"]);
        assert!(c.in_key);
        assert_eq!(c.prefix, "vari");
    }

    #[test]
    fn value_position() {
        let c = at("resources:\n  db:\n    type: pos|\n", "|");
        assert_eq!(keys(&c), ["resources", "db"]);
        assert_eq!(c.key.as_deref(), Some("type"));
        assert!(!c.in_key);
        assert_eq!(c.prefix, "pos");
    }

    #[test]
    fn sequence_items() {
        let c = at("service:\n  ports:\n    - name: a\n      |\n", "|");
        assert_eq!(keys(&c), ["service", "ports", "-"]);
        let c = at("a:\n  - b: 1\n    c:\n      d|\n", "|");
        assert_eq!(keys(&c), ["a", "-", "c"]);
    }

    #[test]
    fn empty_line_at_top_level() {
        let c = at("apiVersion: x\n|\n", "|");
        assert!(c.parents.is_empty());
        assert!(c.in_key);
    }
}

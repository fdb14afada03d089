//! Code actions come from fixes: text edits that make a diagnostic go away.
//!
//! score-core's `Diagnostic` carries machine-applicable fixes (`Diagnostic::fixes`,
//! spec/fixes.md); [`of`] offers them as they are, a machine-applicable one as the preferred
//! action. For a diagnostic that has none yet, it derives the one fix whose meaning is certain:
//! an unknown field (`score::schema::violation` on a key, or a provisioner entry's unknown key)
//! whose help names the one field meant (`did you mean "image"?`) is renamed to it.

use score_core::{Code, Diagnostic};

/// One fix: a title and byte-range edits (offset, length, replacement) in the diagnostic's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// What the action says, e.g. `rename \`imge\` to \`image\``.
    pub title: String,
    /// (offset, len, new text).
    pub edits: Vec<(usize, usize, String)>,
    /// Whether the editor may apply it as the preferred fix (core: machine-applicable).
    pub preferred: bool,
}

/// The fixes of one diagnostic: core's own when it has any, else the derived rename.
pub fn of(d: &Diagnostic) -> Vec<Fix> {
    if !d.fixes.is_empty() {
        return d
            .fixes
            .iter()
            .map(|f| Fix {
                title: f.message.clone(),
                edits: f
                    .edits
                    .iter()
                    .map(|e| (e.span.offset, e.span.len, e.replacement.clone()))
                    .collect(),
                preferred: f.is_machine_applicable(),
            })
            .collect();
    }
    derived(d)
}

/// The rename of an unknown key to the one name its help suggests.
fn derived(d: &Diagnostic) -> Vec<Fix> {
    let (Some(span), Some(help), Some(file)) = (d.span, d.help.as_deref(), d.file.as_ref()) else {
        return Vec::new();
    };
    let unknown_key = match d.code {
        Code::SchemaViolation => d.message.starts_with("unknown field "),
        Code::ProvisionerFileInvalid => d.message.contains("unknown key"),
        _ => false,
    };
    if !unknown_key {
        return Vec::new();
    }
    let Some(meant) = did_you_mean(help) else {
        return Vec::new();
    };
    // The span must cover exactly the key (with or without its quotes).
    let Some(key) = file.text.get(span.offset..span.offset + span.len) else {
        return Vec::new();
    };
    let bare = key.trim_matches(|c| c == '"' || c == '\'');
    if bare.is_empty() || bare.contains([':', '\n']) || !d.message.contains(bare) {
        return Vec::new();
    }
    let (o, l) = if bare.len() == key.len() {
        (span.offset, span.len)
    } else {
        (span.offset + 1, bare.len())
    };
    vec![Fix {
        title: format!("rename `{bare}` to `{meant}`"),
        edits: vec![(o, l, meant.to_string())],
        preferred: true,
    }]
}

/// The one name in `did you mean "x"?` / `did you mean 'x'?`.
fn did_you_mean(help: &str) -> Option<&str> {
    let rest = &help[help.find("did you mean ")? + "did you mean ".len()..];
    let q = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let end = rest[1..].find(q)? + 1;
    let name = &rest[1..end];
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_is_renamed() {
        let text = "apiVersion: score.dev/v1b1\nmetadata: {name: app}\ncontainers:\n  main:\n    imge: x\n";
        let err =
            score_core::load_workload("s.yaml", text.as_bytes(), &Default::default()).unwrap_err();
        let d = err.iter().find(|d| d.message.contains("imge")).unwrap();
        let fixes = of(d);
        assert_eq!(fixes.len(), 1, "{err}");
        let (o, l, new) = &fixes[0].edits[0];
        let mut fixed = text.to_string();
        fixed.replace_range(*o..*o + *l, new);
        assert!(fixed.contains("    image: x"));
        assert!(score_core::load_workload("s.yaml", fixed.as_bytes(), &Default::default()).is_ok());
    }

    #[test]
    fn core_fixes_come_first() {
        use score_core::diag::{Edit, SourceFile};
        let f = SourceFile::new("s.yaml", "a: {imagee: x}\n");
        let d = Diagnostic::new(Code::SchemaViolation, "unknown field \"imagee\"")
            .with_help("did you mean \"image\"?")
            .with_fix(score_core::diag::Fix::maybe(
                "rename `imagee` to `images`",
                vec![Edit::at(&f, 4, 6, "images")],
            ));
        let fixes = of(&d);
        assert_eq!(fixes.len(), 1);
        assert_eq!(fixes[0].title, "rename `imagee` to `images`");
        assert_eq!(fixes[0].edits, vec![(4, 6, "images".to_string())]);
        assert!(
            !fixes[0].preferred,
            "a maybe-incorrect fix is not preferred"
        );
    }

    #[test]
    fn help_parsing() {
        assert_eq!(did_you_mean("did you mean \"image\"?"), Some("image"));
        assert_eq!(did_you_mean("did you mean 'type'?"), Some("type"));
        assert_eq!(did_you_mean("remove it"), None);
    }
}

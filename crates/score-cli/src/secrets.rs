//! Secrets never reach a diagnostic: a value a provisioner lists as a secret output
//! (`secret_outputs`, e.g. a generated database password) is replaced, wherever a message, help,
//! label or note of an error would show it, by its uid path (`<secret
//! redis.default#app.cache.password>`), and in a snippet's text by `*`s of the same length (so
//! every span still points where it did). spec/security.md "Secrets in diagnostics".

use std::sync::Arc;

use score_core::{Diagnostic, Diagnostics, SourceFile, State};

/// Secret values shorter than this are not searched for: a one- or two-character value would
/// turn every digit or word of a message into a mask, and is no secret worth the name.
const MIN_SECRET_CHARS: usize = 3;

/// The secret values a run knows, each with the uid path that stands for it.
#[derive(Debug, Clone, Default)]
pub struct Secrets(Vec<(String, String)>);

impl Secrets {
    /// Every string output listed as secret by a resource of `state`.
    pub fn of(state: &State) -> Self {
        let mut s = Secrets::default();
        s.add(state);
        s
    }

    /// Adds `state`'s secret outputs.
    pub fn add(&mut self, state: &State) {
        for (uid, r) in &state.resources {
            for key in &r.secret_outputs {
                if let Some(v) = r.outputs.get(key) {
                    collect(v, &format!("{uid}.{key}"), &mut self.0);
                }
            }
        }
        // Longest first: a secret that contains another is replaced whole.
        self.0
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.cmp(b)));
        self.0.dedup_by(|a, b| a.0 == b.0);
    }

    /// `diags` with every secret value replaced.
    pub fn scrub(&self, mut diags: Diagnostics) -> Diagnostics {
        if !self.0.is_empty() {
            for d in &mut diags.0 {
                self.scrub_one(d);
            }
        }
        diags
    }

    fn scrub_one(&self, d: &mut Diagnostic) {
        d.message = self.text(&d.message);
        d.help = d.help.as_deref().map(|h| self.text(h));
        d.label = d.label.as_deref().map(|l| self.text(l));
        d.pointer = d.pointer.as_deref().map(|p| self.text(p));
        // A fix whose edit would write a secret into a file is not offered; its message is
        // scrubbed like the rest.
        d.fixes
            .retain(|f| !f.edits.iter().any(|e| self.holds_secret(&e.replacement)));
        for f in &mut d.fixes {
            f.message = self.text(&f.message);
        }
        if let Some(f) = &d.file {
            if self.0.iter().any(|(v, _)| f.text.contains(v.as_str())) {
                let mut text = f.text.clone();
                for (v, _) in &self.0 {
                    text = text.replace(v.as_str(), &"*".repeat(v.len()));
                }
                let mut file = SourceFile::new(f.name.clone(), text);
                if f.contents_hidden() {
                    file = file.with_contents_hidden();
                }
                d.file = Some(Arc::new(file));
            }
        }
        for r in &mut d.related {
            self.scrub_one(r);
        }
    }

    fn holds_secret(&self, s: &str) -> bool {
        self.0.iter().any(|(v, _)| s.contains(v.as_str()))
    }

    fn text(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (v, path) in &self.0 {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), &format!("<secret {path}>"));
            }
        }
        out
    }
}

/// The strings of a secret output (a map or list output is secret in every string it holds),
/// and numbers as written.
fn collect(v: &serde_json::Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::String(s) if s.chars().count() >= MIN_SECRET_CHARS => {
            out.push((s.clone(), path.to_string()));
        }
        serde_json::Value::Number(n) if n.to_string().len() >= MIN_SECRET_CHARS => {
            out.push((n.to_string(), path.to_string()));
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                collect(x, &format!("{path}.{i}"), out);
            }
        }
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                collect(x, &format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use score_core::{Code, ResourceState, Span};

    fn state() -> State {
        let mut s = State::with_seed("0123456789abcdef");
        let mut r = ResourceState::new("redis", "default", None, "app", "p");
        r.outputs.insert("host".into(), "redis-x1".into());
        r.outputs.insert("password".into(), "hunter2hunter2".into());
        r.outputs.insert("short".into(), "ab".into());
        r.secret_outputs.insert("password".into());
        r.secret_outputs.insert("short".into());
        s.resources.insert("redis.default#app.cache".into(), r);
        s
    }

    #[test]
    fn secret_outputs_are_replaced_by_their_uid_path_everywhere() {
        let file = Arc::new(SourceFile::new("x (rendered)", "a: hunter2hunter2\nb: 1\n"));
        let d = Diagnostic::new(Code::Usage, "bad port 'hunter2hunter2' for redis-x1")
            .with_help("not hunter2hunter2")
            .with_label("hunter2hunter2")
            .with_file(file)
            .with_span(Span::new(3, 14, 1, 4));
        let mut d2 = Diagnostic::new(Code::Usage, "top")
            .with_fix(score_core::Fix::machine("use hunter2hunter2", Vec::new()))
            .with_fix(score_core::Fix::machine(
                "write it",
                vec![score_core::Edit::new(
                    Span::new(0, 0, 1, 1),
                    "hunter2hunter2",
                )],
            ));
        d2.related
            .push(Diagnostic::new(Code::Usage, "note hunter2hunter2"));
        let out = Secrets::of(&state()).scrub(Diagnostics(vec![d, d2]));
        let shown = format!("{out:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        let d = &out.0[0];
        assert_eq!(
            d.message,
            "bad port '<secret redis.default#app.cache.password>' for redis-x1"
        );
        assert_eq!(
            out.0[1].fixes.len(),
            1,
            "the fix that writes the secret is dropped"
        );
        assert_eq!(
            out.0[1].fixes[0].message,
            "use <secret redis.default#app.cache.password>"
        );
        let f = d.file.as_ref().unwrap();
        assert_eq!(f.text, "a: **************\nb: 1\n");
        assert_eq!(f.name, "x (rendered)");
        // Too short to search for: "ab" stays (it would mask every "ab" of every message).
        let d = Diagnostic::new(Code::Usage, "about");
        let out = Secrets::of(&state()).scrub(d.into());
        assert_eq!(out.0[0].message, "about");
    }
}

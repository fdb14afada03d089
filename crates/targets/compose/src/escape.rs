//! Escaping for the three languages a compose file mixes: compose interpolation (`$`), POSIX
//! shell (healthcheck `CMD-SHELL`), and host file names (mounted files).

/// Escapes `$` as `$$` so compose passes the text through literally instead of interpolating it.
///
/// ```
/// assert_eq!(score_target_compose::escape_dollars("a$b ${C}"), "a$$b $${C}");
/// ```
pub fn escape_dollars(s: &str) -> String {
    s.replace('$', "$$")
}

/// Escapes `command`/`args` for compose as score-compose does: a lone `$` becomes `$$`, an
/// existing `$$` stays. Score files written for score-compose already write `$${VAR}` for a
/// variable the container's shell should expand, so `$X`, `$$X` and `$${X}` all reach the
/// container as `$X` / `${X}`, as they do through score-k8s (the kubelet reads `$$` as `$`).
///
/// ```
/// use score_target_compose::escape_command_dollars as e;
/// assert_eq!(e("echo $HOME"), "echo $$HOME");
/// assert_eq!(e("echo $${GREETING}"), "echo $${GREETING}");
/// assert_eq!(e("a$$$b"), "a$$$$b");
/// ```
pub fn escape_command_dollars(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        out.push_str("$$");
        // An existing `$$` is already an escape: keep it as one.
        rest = rest[i + 1..].strip_prefix('$').unwrap_or(&rest[i + 1..]);
    }
    out.push_str(rest);
    out
}

/// The host file name of a mounted file: the container target path without its leading `/`,
/// with every byte outside `[A-Za-z0-9._-]` percent-encoded, so distinct targets never share a
/// name and no target can climb out of the mounts directory.
///
/// ```
/// use score_target_compose::mount_file_name;
/// assert_eq!(mount_file_name("/etc/app/config.yaml"), "etc%2Fapp%2Fconfig.yaml");
/// assert_eq!(mount_file_name("/.."), "%2E%2E");
/// ```
pub fn mount_file_name(target: &str) -> String {
    let trimmed = target.trim_start_matches('/');
    let mut out = String::new();
    for b in trimmed.bytes() {
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    // `.`, `..` and the empty name are directory entries, not files.
    if out.is_empty() {
        return "%2F".into();
    }
    if out.bytes().all(|b| b == b'.') {
        return "%2E".repeat(out.len());
    }
    out
}

/// POSIX single-quoting: `it's` → `'it'\''s'`.
pub(crate) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_names_on_examples() {
        let names: Vec<String> = ["/a/b", "/a%2Fb", "/a_b", "a/b", "/a b", "/", "/.", "/.."]
            .iter()
            .map(|t| mount_file_name(t))
            .collect();
        assert_eq!(
            names,
            vec!["a%2Fb", "a%252Fb", "a_b", "a%2Fb", "a%20b", "%2F", "%2E", "%2E%2E"]
        );
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
    }
}

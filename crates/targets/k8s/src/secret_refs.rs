//! score-k8s's secret references: `encodeSecretRef "name" "key"` in a Go-template provisioner
//! gives `🔐💬name_key💬🔐`, a reference to key `key` of the Secret `name` (which the provisioner's
//! manifests create). Where such a reference lands decides what the target writes: a variable
//! that is exactly one reference reads it with `secretKeyRef`; a variable mixing text and
//! references gets one `__ref_<hash>` variable per reference and `$(__ref_<hash>)` in its value
//! (score-k8s's `container_variables.go`); a file that is exactly one reference is projected from
//! the Secret; anything else holding a reference is an error.

/// Start of an encoded reference (score-k8s's `magicPrefix`).
pub(crate) const PREFIX: &str = "🔐💬";
/// End of an encoded reference.
pub(crate) const SUFFIX: &str = "💬🔐";

/// score-k8s's `encodeSecretRef SECRET KEY`, the function this target adds to Go-template
/// provisioner entries.
pub(crate) const ENCODE_SECRET_REF: score_core::target::GoFunction =
    score_core::target::GoFunction {
        name: "encodeSecretRef",
        params: &[
            score_core::target::GoParam::String,
            score_core::target::GoParam::String,
        ],
        call: encode,
    };

/// `🔐💬SECRET_KEY💬🔐`, exactly as score-k8s writes it (`internal/secrets.go`).
fn encode(args: &[score_core::target::GoValue]) -> Result<score_core::target::GoValue, String> {
    let arg = |i: usize| args[i].as_str().unwrap_or_default();
    Ok(score_core::target::GoValue::String(
        format!("{PREFIX}{}_{}{SUFFIX}", arg(0), arg(1)).into(),
    ))
}

/// One decoded reference: a key of a Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecretRef {
    pub name: String,
    pub key: String,
}

/// Text split around its references: `parts.len() == refs.len() + 1`.
pub(crate) type Split = (Vec<String>, Vec<SecretRef>);

/// `text` split around its references. `Ok(None)` when the text holds no reference; an error
/// names a reference without the `_` between secret and key.
pub(crate) fn decode(text: &str) -> Result<Option<Split>, String> {
    if !text.contains(PREFIX) {
        return Ok(None);
    }
    let mut chunks = text.split(PREFIX);
    let mut parts = vec![chunks.next().unwrap_or_default().to_string()];
    let mut refs = Vec::new();
    for chunk in chunks {
        match chunk.find(SUFFIX) {
            Some(end) => {
                let inner = &chunk[..end];
                let (name, key) = inner.split_once('_').ok_or_else(|| {
                    format!("invalid secret reference '{inner}': it has no '_' between the secret name and the key")
                })?;
                refs.push(SecretRef {
                    name: name.to_string(),
                    key: key.to_string(),
                });
                parts.push(chunk[end + SUFFIX.len()..].to_string());
            }
            // An opening mark without its end is text, as in score-k8s.
            None => {
                let last = parts.last_mut().expect("parts starts non-empty");
                last.push_str(PREFIX);
                last.push_str(chunk);
            }
        }
    }
    Ok(Some((parts, refs)))
}

/// Whether `text` still holds a reference (an opening mark followed by a closing one).
pub(crate) fn holds_reference(text: &str) -> bool {
    // The opening mark first: most strings have none, and then the end is not searched.
    text.find(PREFIX)
        .is_some_and(|p| text.rfind(SUFFIX).is_some_and(|s| s > p))
}

/// The variable score-k8s adds for a reference inside a longer value: `__ref_` and the URL-safe
/// unpadded base64 of the 128-bit FNV-1 hash of name and key, with `_` and `-` made `0`.
pub(crate) fn ref_var_name(r: &SecretRef) -> String {
    use base64::Engine as _;
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut h = OFFSET;
    for b in r.name.bytes().chain(r.key.bytes()) {
        h = h.wrapping_mul(PRIME);
        h ^= u128::from(b);
    }
    let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(h.to_be_bytes());
    format!("__ref_{}", enc.replace(['_', '-'], "0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_whole_mixed_and_plain_text() {
        let whole = format!("{PREFIX}db-secret_password{SUFFIX}");
        let (parts, refs) = decode(&whole).unwrap().unwrap();
        assert_eq!(parts, ["", ""]);
        assert_eq!(
            refs,
            [SecretRef {
                name: "db-secret".into(),
                key: "password".into()
            }]
        );
        let mixed = format!("postgres://u:{PREFIX}s_k{SUFFIX}@h");
        let (parts, refs) = decode(&mixed).unwrap().unwrap();
        assert_eq!(parts, ["postgres://u:", "@h"]);
        assert_eq!(refs.len(), 1);
        assert_eq!(decode("plain").unwrap(), None);
        assert!(decode(&format!("{PREFIX}nokey{SUFFIX}")).is_err());
        assert!(holds_reference(&whole) && !holds_reference("x"));
    }

    #[test]
    fn ref_names_are_stable_and_kubernetes_safe() {
        let a = ref_var_name(&SecretRef {
            name: "s".into(),
            key: "k".into(),
        });
        let b = ref_var_name(&SecretRef {
            name: "s".into(),
            key: "j".into(),
        });
        assert_ne!(a, b);
        // Go's own answers (hash/fnv New128, base64.RawURLEncoding), as score-k8s computes them.
        assert_eq!(a, "__ref_CICUWtyrG0laoHMwVSaqrw");
        assert_eq!(
            ref_var_name(&SecretRef {
                name: "db-secret".into(),
                key: "password".into()
            }),
            "__ref_schpI419bJBSV9sWaKh6yw"
        );
        assert_eq!(a.len(), "__ref_".len() + 22);
        assert!(a[6..].chars().all(|c| c.is_ascii_alphanumeric()), "{a}");
    }
}

//! compose `--publish HOSTPORT:RES_UID.OUTPUT:PORT`: the resource-output form of score-compose,
//! e.g. `5432:postgres#my-workload.db.host:5432` publishes port 5432 of the service named by the
//! `host` output of resource `postgres.default#my-workload.db`. [`resolve`] rewrites such an entry
//! to `HOSTPORT:SERVICE:PORT`, the form [`ComposeOptions::publish`](crate::ComposeOptions)
//! publishes, once the resources are provisioned (the caller then builds the target with the
//! rewritten list). Other entries pass through unchanged.

use crate::codes;
use score_core::{Diagnostic, Diagnostics, State};

/// `publish` with every resource-output entry replaced by the service its output names, read
/// from `state` (the state after provisioning; every resource it holds, as score-compose).
pub fn resolve(publish: &[String], state: &State) -> Result<Vec<String>, Diagnostics> {
    let mut out = Vec::with_capacity(publish.len());
    let mut diags = Diagnostics::default();
    for entry in publish {
        match resolve_one(entry, state) {
            Ok(e) => out.push(e),
            Err(d) => diags.push(d),
        }
    }
    diags.into_result()?;
    Ok(out)
}

// One diagnostic per entry: `resolve` collects them.
#[allow(clippy::result_large_err)]
fn resolve_one(entry: &str, state: &State) -> Result<String, Diagnostic> {
    let parts: Vec<&str> = entry.split(':').collect();
    let [host, middle @ .., port] = parts.as_slice() else {
        return Ok(entry.to_string());
    };
    let reference = middle.join(":");
    if middle.is_empty() || !reference.contains('#') {
        return Ok(entry.to_string());
    }
    let invalid = |message: String| {
        Diagnostic::new(codes::INVALID_PUBLISH, message).with_help(
            "use --publish HOSTPORT:RES_UID.OUTPUT:PORT, e.g. 15432:postgres#my-workload.db.host:5432 \
             (score-gen resources list shows the uids)",
        )
    };
    let Some((raw_uid, key)) = reference.rsplit_once('.') else {
        return Err(invalid(format!(
            "--publish '{entry}': '{reference}' must be RES_UID.OUTPUT"
        )));
    };
    let uid = full_uid(raw_uid);
    let Some(res) = state.resources.get(&uid) else {
        let known: Vec<&str> = state.resources.keys().map(String::as_str).collect();
        return Err(invalid(format!(
            "--publish '{entry}': there is no resource '{uid}' in the compose state"
        ))
        .with_help(if known.is_empty() {
            "the state holds no resources".to_string()
        } else {
            format!("known resources: {}", known.join(", "))
        }));
    };
    let service = match res.outputs.get(key) {
        Some(serde_json::Value::String(s)) => s,
        Some(_) => {
            return Err(invalid(format!(
                "--publish '{entry}': output '{key}' of resource '{uid}' is not a string"
            )))
        }
        None => {
            let mut keys: Vec<&str> = res.outputs.keys().map(String::as_str).collect();
            keys.sort_unstable();
            return Err(invalid(format!(
                "--publish '{entry}': resource '{uid}' has no output '{key}'"
            ))
            .with_help(format!("its outputs: {}", keys.join(", "))));
        }
    };
    Ok(format!("{host}:{service}:{port}"))
}

/// `type#id` and `type#workload.name` with the class left out mean class `default`, as in
/// score-compose's parseResourceUid.
fn full_uid(raw: &str) -> String {
    match raw.split_once('#') {
        Some((kind, rest)) if !kind.contains('.') => format!("{kind}.default#{rest}"),
        _ => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        let mut s = State::with_seed("0123456789abcdef");
        let mut r = score_core::project::ResourceState::new("postgres", "default", None, "w", "p");
        r.outputs.insert("host".into(), "pg-1".into());
        r.outputs.insert("port".into(), 5432.into());
        s.resources.insert("postgres.default#w.db".into(), r);
        s
    }

    #[test]
    fn resource_outputs_name_the_service() {
        let s = state();
        let ok = |e: &str| resolve_one(e, &s).unwrap();
        assert_eq!(ok("5432:postgres#w.db.host:5432"), "5432:pg-1:5432");
        assert_eq!(ok("5432:postgres.default#w.db.host:5432"), "5432:pg-1:5432");
        assert_eq!(ok("8080:web:80"), "8080:web:80");
        assert_eq!(ok("nonsense"), "nonsense");
        let err = |e: &str| resolve_one(e, &s).unwrap_err().message;
        assert!(err("1:postgres#w.db.port:2").contains("is not a string"));
        assert!(err("1:postgres#w.db.nope:2").contains("has no output 'nope'"));
        assert!(err("1:redis#w.db.host:2").contains("no resource 'redis.default#w.db'"));
        assert!(err("1:postgres#w:2").contains("must be RES_UID.OUTPUT"));
    }
}

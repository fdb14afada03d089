//! The Go-template engine (the `score-gotemplate` crate: Go `text/template` semantics plus
//! sprig) with the extra functions the tools' files expect: score-k8s's `encodeSecretRef` in
//! provisioner sections and `substituteValue` in its patch templates. The engine knows neither;
//! they are registered here through [`Functions::with`].

use std::sync::{Arc, OnceLock};

pub use score_gotemplate::{
    network_services, to_value, Extra, Functions, GoError, GoTemplate, Param, RenderContext, Value,
};

/// Which extra functions a template gets beyond Go's built-ins and sprig.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// score-compose's set (sprig only).
    #[default]
    Compose,
    /// score-k8s's set (sprig and `encodeSecretRef`).
    K8s,
    /// A patch template of score-k8s (sprig and `substituteValue`).
    K8sPatch,
}

/// `substituteValue WORKLOAD VALUE` of score-k8s patch templates: substitutes the Score
/// placeholders (`${metadata.name}`, `${resources.db.host}`, ...) of `VALUE` as the named
/// workload sees them. `Err` carries why (the template then gets score-k8s's
/// `failed to substitute placeholders with:VALUE` string, as score-k8s does).
pub type SubstituteFn = dyn Fn(&str, &str) -> Result<String, String> + Send + Sync;

/// The function set of a flavour: built once, shared by every template.
pub fn functions(flavor: Flavor) -> &'static Functions {
    static SETS: OnceLock<[Functions; 3]> = OnceLock::new();
    let sets = SETS.get_or_init(|| {
        let str_arg = |a: &[Value], i: usize| a[i].as_str().unwrap_or_default().to_string();
        [
            Functions::sprig(),
            Functions::sprig().with(
                "encodeSecretRef",
                &[Param::String, Param::String],
                move |a, _| {
                    Ok(Value::String(
                        format!("🔐💬{}_{}💬🔐", str_arg(a, 0), str_arg(a, 1)).into(),
                    ))
                },
            ),
            Functions::sprig().with(
                "substituteValue",
                &[Param::String, Param::String],
                move |a, extra| {
                    let value = str_arg(a, 1);
                    let f = extra.and_then(|e| e.downcast_ref::<Arc<SubstituteFn>>());
                    Ok(Value::String(
                        match f {
                            // Without a project, score-k8s answers this (no state directory).
                            None => "failed to load state directory".to_string(),
                            Some(f) => f(&str_arg(a, 0), &value).unwrap_or_else(|_| {
                                format!("failed to substitute placeholders with:{value}")
                            }),
                        }
                        .into(),
                    ))
                },
            ),
        ]
    });
    match flavor {
        Flavor::Compose => &sets[0],
        Flavor::K8s => &sets[1],
        Flavor::K8sPatch => &sets[2],
    }
}

/// The render data of a [`Flavor::K8sPatch`] template whose `substituteValue` calls `f`.
pub fn substitute_extra(f: &Arc<SubstituteFn>) -> Extra {
    Arc::new(Arc::clone(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(flavor: Flavor, src: &str, extra: Option<&Extra>) -> Result<String, GoError> {
        let t = GoTemplate::parse(src, functions(flavor), None)?;
        let ctx = RenderContext {
            random_key: b"",
            fuel: 1000,
        };
        t.render_value(&to_value(&serde_json::json!({})), &ctx, extra)
    }

    #[test]
    fn each_flavour_has_its_extra_function_and_only_that() {
        assert_eq!(
            render(Flavor::K8s, "{{ encodeSecretRef \"s\" \"k\" }}", None).unwrap(),
            "🔐💬s_k💬🔐"
        );
        for (flavor, src) in [
            (Flavor::Compose, "{{ encodeSecretRef \"s\" \"k\" }}"),
            (Flavor::Compose, "{{ substituteValue \"w\" \"v\" }}"),
            (Flavor::K8s, "{{ substituteValue \"w\" \"v\" }}"),
            (Flavor::K8sPatch, "{{ encodeSecretRef \"s\" \"k\" }}"),
        ] {
            let e = render(flavor, src, None).unwrap_err();
            assert!(e.message.contains("not defined"), "{flavor:?} {src}: {e:?}");
        }
        let e = render(Flavor::K8s, "{{ encodeSecretRef \"s\" 1 }}", None).unwrap_err();
        assert!(e.message.contains("expected string; got int"), "{e:?}");
    }

    #[test]
    fn substitute_value_calls_the_callback_of_the_render() {
        let f: Arc<SubstituteFn> = Arc::new(|w: &str, v: &str| {
            if v.contains("bad") {
                Err("no".into())
            } else {
                Ok(format!("{w}:{v}"))
            }
        });
        let src = "{{ substituteValue \"web\" \"x\" }} {{ substituteValue \"web\" \"bad\" }}";
        assert_eq!(
            render(Flavor::K8sPatch, src, Some(&substitute_extra(&f))).unwrap(),
            "web:x failed to substitute placeholders with:bad"
        );
        assert_eq!(
            render(Flavor::K8sPatch, src, None).unwrap(),
            "failed to load state directory failed to load state directory"
        );
    }
}

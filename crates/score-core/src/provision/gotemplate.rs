//! The Go-template engine (the `score-gotemplate` crate: Go `text/template` semantics plus
//! sprig) as core uses it. The functions beyond sprig come from the caller: a target's
//! [`GoFunction`]s for the provisioner entries it renders ([`crate::Target::go_template_functions`])
//! and, for patch templates, the name its dialect gives core's placeholder substitution
//! ([`crate::target::PatchDialect::with_substitute_function`]). Neither the engine nor this module knows
//! a target.

use std::sync::{Arc, Mutex, OnceLock};

pub(crate) use score_gotemplate::{network_services, to_value, Extra, Functions};
pub use score_gotemplate::{GoError, GoTemplate, Param, RenderContext, Value};

/// A function a target adds to the Go templates of the provisioner entries it renders (as
/// score-k8s adds `encodeSecretRef`). An entry that calls it fails for any target that does
/// not supply it, with Go's `function "NAME" not defined`, as in the tool that lacks it.
#[derive(Clone, Copy)]
pub struct GoFunction {
    /// The name templates call it by.
    pub name: &'static str,
    /// Its parameters: the arguments are checked against them as Go checks a function's.
    pub params: &'static [Param],
    /// The function: the checked arguments in, the value (or why it failed) out.
    pub call: fn(&[Value]) -> Result<Value, String>,
}

impl std::fmt::Debug for GoFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoFunction")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// `substituteValue WORKLOAD VALUE` of a patch dialect that names core's substitution:
/// substitutes the Score placeholders (`${metadata.name}`, `${resources.db.host}`, ...) of
/// `VALUE` as the named workload sees them. `Err` carries why (the template then gets
/// `failed to substitute placeholders with:VALUE`, as score-k8s gives).
pub(crate) type SubstituteFn = dyn Fn(&str, &str) -> Result<String, String> + Send + Sync;

/// Function sets built so far, by the address of the `'static` list they were built from.
type Cache = Mutex<Vec<((usize, usize), Functions)>>;

/// Sprig plus `extra`: built once per list and shared by every template.
pub fn functions(extra: &'static [GoFunction]) -> Functions {
    static SPRIG: OnceLock<Functions> = OnceLock::new();
    if extra.is_empty() {
        return SPRIG.get_or_init(Functions::sprig).clone();
    }
    static SETS: OnceLock<Cache> = OnceLock::new();
    let key = (extra.as_ptr() as usize, extra.len());
    let mut sets = SETS
        .get_or_init(Cache::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some((_, f)) = sets.iter().find(|(k, _)| *k == key) {
        return f.clone();
    }
    let f = extra.iter().fold(Functions::sprig(), |set, g| {
        let call = g.call;
        set.with(g.name, g.params, move |args, _| call(args))
    });
    sets.push((key, f.clone()));
    f
}

/// Sprig, plus `substitute` (when named) calling the render's [`SubstituteFn`]: the functions of
/// a patch template. Built once per name.
pub(crate) fn patch_functions(substitute: Option<&'static str>) -> Functions {
    let Some(name) = substitute else {
        return functions(&[]);
    };
    static SETS: OnceLock<Mutex<Vec<(&'static str, Functions)>>> = OnceLock::new();
    let mut sets = SETS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some((_, f)) = sets.iter().find(|(n, _)| *n == name) {
        return f.clone();
    }
    let str_arg = |a: &[Value], i: usize| a[i].as_str().unwrap_or_default().to_string();
    let f = Functions::sprig().with(name, &[Param::String, Param::String], move |a, extra| {
        let value = str_arg(a, 1);
        let f = extra.and_then(|e| e.downcast_ref::<Arc<SubstituteFn>>());
        Ok(Value::String(
            match f {
                // Without a project, score-k8s answers this (no state directory).
                None => "failed to load state directory".to_string(),
                Some(f) => f(&str_arg(a, 0), &value)
                    .unwrap_or_else(|_| format!("failed to substitute placeholders with:{value}")),
            }
            .into(),
        ))
    });
    sets.push((name, f.clone()));
    f
}

/// The render data of a patch template whose substitution function calls `f`.
pub(crate) fn substitute_extra(f: &Arc<SubstituteFn>) -> Extra {
    Arc::new(Arc::clone(f))
}

/// The names `src` calls that `funcs` lacks, found by parsing it with a stand-in for each
/// (Go reports one undefined function per parse): what a target must supply for the text to
/// parse, or the parse error that is not about an undefined function. `src` is then known to
/// parse with any set that has these names.
pub(crate) fn undefined_functions(
    src: &str,
    funcs: &Functions,
    root_fields: Option<&'static [&'static str]>,
) -> Result<(GoTemplate, Vec<String>), GoError> {
    let mut names: Vec<String> = Vec::new();
    let mut set = funcs.clone();
    loop {
        match GoTemplate::parse(src, &set, root_fields) {
            Ok(t) => return Ok((t, names)),
            Err(e) => {
                let name = undefined_name(&e.message);
                match name {
                    // A bound on the retries: each adds one name the text really calls.
                    Some(n) if names.len() < 64 && !names.iter().any(|x| x == n) => {
                        names.push(n.to_string());
                        set = set.with(n, &[], |_, _| Err("not supplied".to_string()));
                    }
                    _ => return Err(e),
                }
            }
        }
    }
}

/// `NAME` of Go's `function "NAME" not defined`.
fn undefined_name(message: &str) -> Option<&str> {
    let rest = &message[message.find("function \"")? + "function \"".len()..];
    let (name, tail) = rest.split_once('"')?;
    tail.starts_with(" not defined").then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(funcs: &Functions, src: &str, extra: Option<&Extra>) -> Result<String, GoError> {
        let t = GoTemplate::parse(src, funcs, None)?;
        let ctx = RenderContext {
            random_key: b"",
            fuel: 1000,
        };
        t.render_value(&to_value(&serde_json::json!({})), &ctx, extra)
    }

    fn shout(a: &[Value]) -> Result<Value, String> {
        Ok(Value::String(
            a[0].as_str().unwrap_or_default().to_uppercase().into(),
        ))
    }

    static SHOUT: [GoFunction; 1] = [GoFunction {
        name: "shout",
        params: &[Param::String],
        call: shout,
    }];

    #[test]
    fn a_set_has_the_functions_of_its_list_and_only_those() {
        assert_eq!(
            render(&functions(&SHOUT), "{{ shout \"a\" }}", None).unwrap(),
            "A"
        );
        let e = render(&functions(&SHOUT), "{{ shout 1 }}", None).unwrap_err();
        assert!(e.message.contains("expected string; got int"), "{e:?}");
        for set in [functions(&[]), patch_functions(Some("substituteValue"))] {
            let e = render(&set, "{{ shout \"a\" }}", None).unwrap_err();
            assert!(e.message.contains("not defined"), "{e:?}");
        }
        let e = render(
            &functions(&SHOUT),
            "{{ substituteValue \"w\" \"v\" }}",
            None,
        )
        .unwrap_err();
        assert!(e.message.contains("not defined"), "{e:?}");
    }

    #[test]
    fn undefined_functions_are_named_and_other_errors_kept() {
        let (_, names) = undefined_functions(
            "{{ a 1 }}{{ b }}{{ a }}{{ upper \"x\" }}",
            &functions(&[]),
            None,
        )
        .unwrap();
        assert_eq!(names, ["a", "b"]);
        let e = undefined_functions("{{ a 1 }}{{ if }}", &functions(&[]), None).unwrap_err();
        assert!(!e.message.contains("not defined"), "{e:?}");
        assert_eq!(undefined_name("function \"x\" not defined"), Some("x"));
        assert_eq!(undefined_name("unexpected \"}\""), None);
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
        let set = patch_functions(Some("substituteValue"));
        let src = "{{ substituteValue \"web\" \"x\" }} {{ substituteValue \"web\" \"bad\" }}";
        assert_eq!(
            render(&set, src, Some(&substitute_extra(&f))).unwrap(),
            "web:x failed to substitute placeholders with:bad"
        );
        assert_eq!(
            render(&set, src, None).unwrap(),
            "failed to load state directory failed to load state directory"
        );
    }
}

//! `template://` entries with `engine: minijinja`: score-gen's own Jinja2 dialect, compiled into
//! one minijinja environment per entry at load and rendered with the resource's context.

use std::collections::BTreeMap;
use std::path::Path;

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::{core_map, not_yaml, own_secrets, section_diag, ProvisionerKind, CORE_SECTIONS};
use crate::diag::{Code, Diagnostic};
use crate::provision::loader::{
    args_only_for_cmd, known_keys, known_keys_list, member, CommonFields, EntryCx, COMMON_KEYS,
};
use crate::provision::template::{self, ErrorSite, SectionTemplate, Templates};
use crate::provision::{
    helpers, merge_patch, ProvisionInput, ProvisionOptions, ProvisionOutput, ProvisionTarget,
    Provisioner,
};

/// The compiled sections of a minijinja entry.
#[derive(Debug, Clone)]
pub(crate) struct MinijinjaEntry {
    pub templates: Templates,
    /// `init`, `state`, `shared`, `outputs` (those present).
    pub core: BTreeMap<String, SectionTemplate>,
    /// target name → section name → template, in file order.
    pub targets: BTreeMap<String, IndexMap<String, SectionTemplate>>,
}

/// A minijinja entry while its keys are read: its sections compile into one environment.
pub(crate) struct Builder {
    env: minijinja::Environment<'static>,
    core: BTreeMap<String, SectionTemplate>,
    targets: BTreeMap<String, IndexMap<String, SectionTemplate>>,
}

impl ProvisionerKind for MinijinjaEntry {
    type Builder = Builder;

    const COMMON_KEYS: &'static [&'static str] = &COMMON_KEYS;

    fn start(
        _cx: &EntryCx<'_>,
        _pointer: &str,
        _fields: &Map<String, Value>,
        _common: &mut CommonFields,
    ) -> Result<Builder, Diagnostic> {
        Ok(Builder {
            env: template::new_environment(),
            core: BTreeMap::new(),
            targets: BTreeMap::new(),
        })
    }

    fn read_key(
        b: &mut Builder,
        cx: &EntryCx<'_>,
        _common: &mut CommonFields,
        key: &str,
        at: &str,
        v: &Value,
    ) -> Result<(), Diagnostic> {
        match key {
            // Read by the loader, to choose this kind.
            "engine" => {}
            "args" => return Err(args_only_for_cmd(cx, at)),
            "init" | "state" | "shared" | "outputs" => {
                let s = cx.add_template(&mut b.env, key.to_string(), key.to_string(), at, v)?;
                b.core.insert(key.to_string(), s);
            }
            target => {
                let m = cx.target_templates(&mut b.env, target, at, v)?;
                b.targets.insert(target.to_string(), m);
            }
        }
        Ok(())
    }

    fn finish(b: Builder, _cx: &EntryCx<'_>, _dir: Option<&Path>) -> Self {
        MinijinjaEntry {
            templates: Templates::new(b.env),
            core: b.core,
            targets: b.targets,
        }
    }

    fn provision(
        &self,
        p: &Provisioner,
        input: &ProvisionInput,
        target: &ProvisionTarget<'_>,
        opts: &ProvisionOptions,
    ) -> Result<ProvisionOutput, Diagnostic> {
        render_all(p, self, input, target.name, opts)
    }
}

/// Renders the entry's sections: `init`, `state`, `shared`, `outputs`, then those nested under
/// the target's name.
fn render_all(
    p: &Provisioner,
    t: &MinijinjaEntry,
    input: &ProvisionInput,
    target: &str,
    opts: &ProvisionOptions,
) -> Result<ProvisionOutput, Diagnostic> {
    // The template context, each member converted once; a section's result replaces its member.
    let mut ctx = Context::default();
    ctx.set("uid", Value::String(input.uid.to_string()));
    ctx.set("type", Value::String(input.kind.clone()));
    ctx.set("class", Value::String(input.class.clone()));
    ctx.set("id", Value::String(input.id.clone()));
    ctx.set("guid", Value::String(input.guid()));
    ctx.set("params", Value::Object(input.params.clone()));
    ctx.set("metadata", Value::Object(input.metadata.clone()));
    ctx.set(
        "source_workload",
        Value::String(input.source_workload.clone()),
    );
    ctx.set("target", input.target.clone());
    ctx.set(
        "requested_outputs",
        Value::Array(
            input
                .requested_outputs
                .iter()
                .map(|k| Value::String(k.clone()))
                .collect(),
        ),
    );
    ctx.set("init", Value::Object(Map::new()));
    ctx.set("state", Value::Object(input.state.clone()));
    ctx.set("shared", Value::Object(input.shared.clone()));
    ctx.set("outputs", Value::Object(Map::new()));

    let mut out = ProvisionOutput {
        state: input.state.clone(),
        shared_patch: Value::Object(Map::new()),
        ..ProvisionOutput::default()
    };
    for name in CORE_SECTIONS {
        let Some(section) = t.core.get(name) else {
            continue;
        };
        let value = render_section(p, t, section, name, &ctx, input, opts)?;
        let map = core_map(value).map_err(|m| section_diag(p, section.first_line, name, m))?;
        match name {
            "init" => {
                ctx.set("init", Value::Object(map));
            }
            "state" => {
                out.state = map.clone();
                ctx.set("state", Value::Object(map));
            }
            "shared" => {
                let patch = Value::Object(map);
                let mut merged = Value::Object(input.shared.clone());
                merge_patch(&mut merged, &patch);
                ctx.set("shared", merged);
                out.shared_patch = patch;
            }
            _ => {
                out.outputs = map.clone();
                ctx.set("outputs", Value::Object(map));
            }
        }
    }
    if let Some(sections) = t.targets.get(target) {
        for (name, section) in sections {
            let label = format!("{target}.{name}");
            let rendered = render_section(p, t, section, &label, &ctx, input, opts)
                .map_err(|d| own_secrets(p, input, &out.outputs).scrub_diagnostic(d))?;
            if let Some(v) = rendered {
                out.fragments.insert(name.clone(), v);
            }
        }
    }
    Ok(out)
}

/// A resource's template context: its members as template values, each converted from JSON
/// once (rendering a section used to convert them all again).
#[derive(Default)]
struct Context(Vec<(&'static str, minijinja::Value)>);

impl Context {
    fn set(&mut self, key: &'static str, value: Value) {
        let converted = template::to_template(&value);
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = converted,
            None => self.0.push((key, converted)),
        }
    }
}

fn render_section(
    p: &Provisioner,
    t: &MinijinjaEntry,
    section: &SectionTemplate,
    label: &str,
    ctx: &Context,
    input: &ProvisionInput,
    opts: &ProvisionOptions,
) -> Result<Option<Value>, Diagnostic> {
    // `rand_alnum`'s key, for the sections that call it; `workload_services` goes in lazily
    // (see `LazyJsonMap`).
    let rand_key = section
        .uses_rand
        .then(|| minijinja::Value::from(input.rand_key(label)));
    let template_ctx = minijinja::Value::from_pairs(
        ctx.0
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .chain(rand_key.map(|k| (helpers::RAND_KEY, k)))
            .chain(std::iter::once((
                "workload_services",
                template::LazyJsonMap::into_value(input.workload_services.clone()),
            ))),
    );
    let text = t
        .templates
        .render(section, template_ctx, opts.fuel)
        .map_err(|e| {
            template::template_diagnostic(
                Code::ProvisionTemplateRender,
                &e,
                &ErrorSite {
                    file: &p.source.file,
                    uri: &p.uri,
                    section: label,
                    first_line: section.first_line,
                },
            )
        })?;
    t.templates
        .parse(section, &text)
        .map_err(|e| not_yaml(p, section.first_line, label, &e, &text))
}

impl EntryCx<'_> {
    /// Compiles the sections of the target section `target` (at `at`), which must be a mapping.
    fn target_templates(
        &self,
        env: &mut minijinja::Environment<'static>,
        target: &str,
        at: &str,
        v: &Value,
    ) -> Result<IndexMap<String, SectionTemplate>, Diagnostic> {
        let Value::Object(sections) = v else {
            // Not a target's sections: most likely a misspelt key.
            let help = match crate::validate::schema::closest(target, known_keys()) {
                Some(k) => format!("did you mean '{k}'?"),
                None => format!(
                    "known keys: {}; a target's name as a key maps section names to templates",
                    known_keys_list()
                ),
            };
            return Err(self.unknown_key(at, target, help));
        };
        let mut m = IndexMap::new();
        for (name, sv) in sections {
            let label = format!("{target}.{name}");
            let s = self.add_template(
                env,
                format!("{target}/{name}"),
                label,
                &member(at, name),
                sv,
            )?;
            m.insert(name.clone(), s);
        }
        Ok(m)
    }

    /// Compiles one template section (at `at`) into `env` under `env_name`; `label` names it in
    /// errors.
    fn add_template(
        &self,
        env: &mut minijinja::Environment<'static>,
        env_name: String,
        label: String,
        at: &str,
        v: &Value,
    ) -> Result<SectionTemplate, Diagnostic> {
        let doc = self.doc;
        let uri = &self.uri;
        let text = self.template_text(&label, at, v)?.to_string();
        // The loader's span of a block scalar starts at its first content line, which is the
        // line a template's own line 1 maps to.
        let first_line = doc.spans.value(at).map_or(1, |s| s.line.max(1));
        let section = SectionTemplate {
            env_name: env_name.clone(),
            first_line,
            // Without a loader, every call is in the section's own text.
            uses_rand: text.contains("rand_alnum"),
        };
        env.add_template_owned(env_name, text).map_err(|e| {
            template::template_diagnostic(
                Code::ProvisionTemplateSyntax,
                &e,
                &ErrorSite {
                    file: &doc.source,
                    uri,
                    section: &label,
                    first_line: section.first_line,
                },
            )
        })?;
        Ok(section)
    }
}

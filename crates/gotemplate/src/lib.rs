//! Go `text/template` with sprig, as score-compose and score-k8s render their provisioner
//! files, on top of the pure-Rust `gotmpl` crate.
//!
//! One [`GoTemplate`] per template text, compiled once and shared by every render.
//! [`GoTemplate::render`] takes the template data as JSON (objects become Go maps; with
//! `root_fields`, the root is a struct with those fields, like the tools' `Data` struct) and
//! the per-render context that the seeded random functions and the fuel need.
//!
//! The functions a template may call are a [`Functions`] set: Go's built-ins and sprig 3.3.0
//! ([`Functions::sprig`]), plus any the caller adds with [`Functions::with`]. An added
//! function gets its arguments checked as Go checks them for its [`Param`] types, its result
//! counted against the fuel, and the render's extra data (an [`Extra`] passed to
//! [`GoTemplate::render_with`]), e.g. a callback only one render knows:
//!
//! ```
//! use std::sync::Arc;
//! use score_gotemplate::{Extra, Functions, GoTemplate, Param, RenderContext, Value};
//!
//! let funcs = Functions::sprig().with("greet", &[Param::String], |args, extra| {
//!     let who = args[0].as_str().unwrap_or_default();
//!     let greeting = extra.and_then(|e| e.downcast_ref::<String>()).map_or("hello", |s| s);
//!     Ok(Value::String(format!("{greeting}, {who}").into()))
//! });
//! let t = GoTemplate::parse("{{ greet .name | upper }}", &funcs, None).unwrap();
//! let ctx = RenderContext { random_key: b"seed", fuel: 10_000 };
//! let data = serde_json::json!({"name": "web"});
//! assert_eq!(t.render(&data, &ctx).unwrap(), "HELLO, WEB");
//! let extra: Extra = Arc::new(String::from("hi"));
//! assert_eq!(t.render_with(&data, &ctx, &extra).unwrap(), "HI, WEB");
//! ```
//!
//! Which sprig functions are refused and why (environment, network, clock), the seeded
//! randomness and the fuel are described in score-gen's `spec/gotemplate.md`.
//!
//! Compilation parses the text once with gotmpl, then rewrites the parse tree so that Go's
//! behaviour holds where gotmpl alone differs or where a bound is needed:
//! - comments follow Go's lexer (`{{- /* c */}}` trims only before it; `{{ /* c */}}` is an
//!   error), where gotmpl's differs;
//! - a function name that is not defined is a parse error (Go checks this when parsing);
//! - `{{template "x"}}` without a pipeline gets nil as its data (Go), and every template call
//!   costs one unit of fuel, as does every value a built-in printing function returns;
//! - the format of `printf` is checked against the fuel before it runs (huge widths);
//! - with `root_fields`, `.Foo` (dot being the root) and `$.Foo` for a field the root struct
//!   lacks become a run-time error with Go's wording, raised when (and only when) it executes;
//! - an action's printed value is formatted the way Go's `fmt` prints it (floats as `%v`).

mod comments;
pub mod gofmt;
mod random;
mod rewrite;
mod semver;
mod sprig;
mod typed;

use std::any::Any;
use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use serde_json::Value as Json;

/// The engine's value: what template functions take and return (gotmpl's).
pub use gotmpl::Value;
pub use sprig::Param;
pub use typed::{network_services, struct_value, typed_map};

/// What a Go template failed with: the message, and where in the template text (1-based line
/// and column, relative to the section's text) when the engine knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoError {
    /// What went wrong, without a `template:` prefix or position.
    pub message: String,
    /// 1-based line within the template text.
    pub line: Option<usize>,
    /// 1-based column within that line.
    pub column: Option<usize>,
}

impl std::fmt::Display for GoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Per-render data for the caller's functions (see [`GoTemplate::render_with`]); a function
/// reads it with `downcast_ref`.
pub type Extra = Arc<dyn Any + Send + Sync>;

/// A caller's template function: its arguments (already checked against its [`Param`]s) and
/// the render's [`Extra`] data, if any. `Err` fails the render with
/// `error calling NAME: MESSAGE`, as Go reports a function's error.
pub type ExtraFn =
    dyn Fn(&[Value], Option<&(dyn Any + Send + Sync)>) -> Result<Value, String> + Send + Sync;

/// The functions templates may call: Go's built-ins, sprig, and the caller's additions.
/// Build a set once and share it (cloning is cheap); every template parsed with it sees the
/// same functions.
#[derive(Clone)]
pub struct Functions {
    map: Arc<gotmpl::FuncMap>,
}

impl std::fmt::Debug for Functions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Functions")
            .field("len", &self.map.len())
            .finish()
    }
}

impl Default for Functions {
    fn default() -> Self {
        Functions::sprig()
    }
}

impl Functions {
    /// Go's built-ins and sprig 3.3.0 (refused functions included: they fail when called,
    /// saying why).
    pub fn sprig() -> Functions {
        Functions {
            map: sprig::sprig_map(),
        }
    }

    /// Adds `name` (replacing a sprig function of that name), taking exactly `params`.
    pub fn with<F>(self, name: &str, params: &'static [Param], f: F) -> Functions
    where
        F: Fn(&[Value], Option<&(dyn Any + Send + Sync)>) -> Result<Value, String>
            + Send
            + Sync
            + 'static,
    {
        let mut map = Arc::unwrap_or_clone(self.map);
        sprig::register_extra(&mut map, name, params, Arc::new(f));
        Functions { map: Arc::new(map) }
    }

    /// Whether a template may call `name` (Go's built-ins aside).
    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }
}

/// The context one render needs besides its data.
#[derive(Debug, Clone, Copy)]
pub struct RenderContext<'a> {
    /// Key material for the seeded random functions: the same key gives the same bytes.
    pub random_key: &'a [u8],
    /// Upper bound on the work of one render: range iterations, and separately the sum of
    /// output bytes, sizes of values functions produce and template invocations.
    pub fuel: u64,
}

/// A template with the range bound of one fuel value.
type FuelBound = (u64, Arc<gotmpl::Template>);

/// Line and column of the last action a position marker recorded (0: none).
type Position = (usize, usize);

/// One compiled Go template.
#[derive(Clone)]
pub struct GoTemplate {
    /// The rewritten template (see the module docs).
    base: Arc<gotmpl::Template>,
    /// The same with a position marker before each action: rendered again only when a render
    /// fails, to say where.
    traced: Arc<gotmpl::Template>,
    /// `base` with the range bound of the last fuel asked for (renders share it).
    by_fuel: Arc<Mutex<Option<FuelBound>>>,
    /// The field names of the root data struct, when the data is the tools' `Data` struct
    /// (`None`: the root is a plain map and a missing key renders `<no value>`).
    root_fields: Option<&'static [&'static str]>,
    /// Whether the text may call a random function (see [`GoTemplate::uses_random`]).
    uses_random: bool,
}

impl std::fmt::Debug for GoTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoTemplate").finish_non_exhaustive()
    }
}

/// The name the rewritten top-level tree is stored under (an invisible separator keeps it
/// apart from the names templates define).
const MAIN: &str = "score-gen\u{2063}main";

impl GoTemplate {
    /// Compiles `src`. A syntax error names its line and column within `src`.
    pub fn parse(
        src: &str,
        functions: &Functions,
        root_fields: Option<&'static [&'static str]>,
    ) -> Result<Self, GoError> {
        let funcs = Arc::clone(&functions.map);
        let normalized = comments::normalize(src)?;
        let src: &str = &normalized;
        // gotmpl's own parse: every syntax error and Go's define-merging rules.
        gotmpl::Template::new("")
            .funcs((*funcs).clone())
            .parse(src)
            .map_err(convert_error)?;
        rewrite::check_structure(src)?;
        let (tree, defines) = gotmpl::parse::Parser::new(src, "{{", "}}")
            .and_then(|p| p.parse())
            .map_err(convert_error)?;
        let build = |markers: bool| -> Result<gotmpl::Template, GoError> {
            let mut rw = rewrite::Rewriter::new(src, &funcs, root_fields, markers);
            let tree = rw.main(tree.clone())?;
            let mut template = gotmpl::Template::new("")
                .funcs((*funcs).clone())
                .parse(&format!("{{{{template \"{MAIN}\" .}}}}"))
                .map_err(convert_error)?
                .add_parse_tree(MAIN, tree);
            // Later non-empty bodies win, an empty body never replaces one (gotmpl's rule,
            // which the validation parse above has already applied to errors).
            let mut bodies: std::collections::BTreeMap<String, gotmpl::parse::ListNode> =
                Default::default();
            for def in &defines {
                if def.body.is_empty_tree() && bodies.contains_key(def.name.as_str()) {
                    continue;
                }
                bodies.insert(def.name.to_string(), def.body.clone());
            }
            for (name, body) in &bodies {
                template = template.add_parse_tree(name, rw.define(body.clone())?);
            }
            // A template called with the root as dot gets a copy that checks root fields.
            let mut done = std::collections::BTreeSet::new();
            loop {
                let todo: Vec<String> = rw
                    .root_calls()
                    .into_iter()
                    .filter(|n| !done.contains(n))
                    .collect();
                if todo.is_empty() {
                    break;
                }
                for name in todo {
                    if let Some(body) = bodies.get(&name) {
                        let checked = rw.main(body.clone())?;
                        template = template.add_parse_tree(&rewrite::root_variant(&name), checked);
                    }
                    done.insert(name);
                }
            }
            Ok(template)
        };
        Ok(GoTemplate {
            base: Arc::new(build(false)?),
            traced: Arc::new(build(true)?),
            by_fuel: Arc::default(),
            root_fields,
            uses_random: ["rand", "uuidv4", "shuffle"]
                .iter()
                .any(|name| src.contains(name)),
        })
    }

    /// Whether a render may call one of the seeded random functions (`randAlphaNum`,
    /// `uuidv4`, `shuffle`, ...): false only when the text cannot name one, so a caller may
    /// skip deriving [`RenderContext::random_key`] (an empty key) when it is false.
    pub fn uses_random(&self) -> bool {
        self.uses_random
    }

    /// Renders with `data` (a JSON value; objects become Go maps, or the root struct).
    pub fn render(&self, data: &Json, ctx: &RenderContext<'_>) -> Result<String, GoError> {
        self.render_value(&to_value(data), ctx, None)
    }

    /// Renders with `data` and `extra`, the data the caller's functions see in this render.
    pub fn render_with(
        &self,
        data: &Json,
        ctx: &RenderContext<'_>,
        extra: &Extra,
    ) -> Result<String, GoError> {
        self.render_value(&to_value(data), ctx, Some(extra))
    }

    /// Renders with data already converted by [`to_value`] (a caller that renders several
    /// sections with the same data converts it once).
    pub fn render_value(
        &self,
        data: &gotmpl::Value,
        ctx: &RenderContext<'_>,
        extra: Option<&Extra>,
    ) -> Result<String, GoError> {
        let _ = self.root_fields;
        let fuel = ctx.fuel.max(1);
        let template = self.for_fuel(fuel);
        match run(&template, data, ctx, extra, fuel) {
            Ok((out, _)) => Ok(out),
            Err((e, _)) if e.line.is_some() => Err(e),
            // Render again with position markers (same key, same steps) to say where.
            Err((e, _)) => {
                let traced = (*self.traced).clone().max_range_iters(fuel);
                let position = match run(&traced, data, ctx, extra, fuel) {
                    Err((_, position)) | Ok((_, position)) => position,
                };
                Err(match position {
                    (0, _) => e,
                    (line, column) => GoError {
                        line: Some(line),
                        column: Some(column),
                        ..e
                    },
                })
            }
        }
    }

    /// `base` bounded to `fuel` range iterations (built once per fuel value).
    fn for_fuel(&self, fuel: u64) -> Arc<gotmpl::Template> {
        let mut cache = self.by_fuel.lock().unwrap_or_else(|p| p.into_inner());
        match &*cache {
            Some((f, t)) if *f == fuel => Arc::clone(t),
            _ => {
                let t = Arc::new((*self.base).clone().max_range_iters(fuel));
                *cache = Some((fuel, Arc::clone(&t)));
                t
            }
        }
    }
}

/// One execution with its render state; the error comes with the last position a marker
/// recorded (none without markers).
fn run(
    template: &gotmpl::Template,
    data: &gotmpl::Value,
    ctx: &RenderContext<'_>,
    extra: Option<&Extra>,
    fuel: u64,
) -> Result<(String, Position), (GoError, Position)> {
    let state = RenderState {
        key: ctx.random_key.to_vec(),
        calls: 0,
        fuel_left: fuel,
        fuel,
        extra: extra.cloned(),
        position: (0, 0),
        kept: Vec::new(),
    };
    let _guard = StateGuard::install(state);
    let mut out = FuelWriter {
        buf: String::new(),
        exhausted: false,
    };
    let result = template.execute_fmt(&mut out, data);
    let position = STATE.with(|s| s.borrow().as_ref().map_or((0, 0), |st| st.position));
    match result {
        Ok(()) => Ok((out.buf, position)),
        Err(gotmpl::TemplateError::Write) if out.exhausted => Err((fuel_error(fuel), position)),
        Err(gotmpl::TemplateError::RangeIterLimit) => Err((
            GoError {
                message: format!(
                    "template exceeded its fuel: more than {fuel} range iterations in one render"
                ),
                line: None,
                column: None,
            },
            position,
        )),
        Err(e) => Err((convert_error(e), position)),
    }
}

fn fuel_error(fuel: u64) -> GoError {
    GoError {
        message: fuel_message(fuel),
        line: None,
        column: None,
    }
}

fn fuel_message(fuel: u64) -> String {
    format!(
        "template exceeded its fuel of {fuel} (output bytes, sizes of values functions produce \
         and template calls in one render)"
    )
}

/// The per-render state the functions see (they are registered once, at parse time).
struct RenderState {
    key: Vec<u8>,
    /// How many random functions this render has called so far (each call's stream is
    /// derived from the key and this index).
    calls: u64,
    fuel_left: u64,
    fuel: u64,
    /// The caller's data for its functions.
    extra: Option<Extra>,
    /// Line and column of the action running (set by the rewrite's markers).
    position: (usize, usize),
    /// The dicts map-changing calls returned, by call id, until written back.
    kept: Vec<(i64, Value)>,
}

thread_local! {
    static STATE: RefCell<Option<RenderState>> = const { RefCell::new(None) };
}

/// Installs a render's state for the current thread and restores the previous one (a render
/// inside a render, e.g. from a callback) when dropped.
struct StateGuard(Option<RenderState>);

impl StateGuard {
    fn install(state: RenderState) -> Self {
        StateGuard(STATE.with(|s| s.borrow_mut().replace(state)))
    }
}

impl Drop for StateGuard {
    fn drop(&mut self) {
        let prev = self.0.take();
        STATE.with(|s| *s.borrow_mut() = prev);
    }
}

/// Takes `n` units of the current render's fuel (no render: nothing to bound).
pub(crate) fn charge(n: u64) -> Result<(), String> {
    STATE.with(|s| match s.borrow_mut().as_mut() {
        Some(st) => {
            if st.fuel_left < n {
                st.fuel_left = 0;
                Err(fuel_message(st.fuel))
            } else {
                st.fuel_left -= n;
                Ok(())
            }
        }
        None => Ok(()),
    })
}

/// The fuel left in the current render (`u64::MAX` outside a render).
pub(crate) fn fuel_left() -> u64 {
    STATE.with(|s| s.borrow().as_ref().map_or(u64::MAX, |st| st.fuel_left))
}

/// The key and the index of this random call within the render.
pub(crate) fn next_random_call() -> (Vec<u8>, u64) {
    STATE.with(|s| match s.borrow_mut().as_mut() {
        Some(st) => {
            let i = st.calls;
            st.calls += 1;
            (st.key.clone(), i)
        }
        None => (Vec::new(), 0),
    })
}

/// Records the line and column of the action about to run.
pub(crate) fn set_position(line: usize, column: usize) {
    STATE.with(|s| {
        if let Some(st) = s.borrow_mut().as_mut() {
            st.position = (line, column);
        }
    });
}

/// Keeps the dict the map-changing call `id` returned (see the rewrite's write-back).
pub(crate) fn keep(id: i64, v: Value) {
    STATE.with(|s| {
        if let Some(st) = s.borrow_mut().as_mut() {
            st.kept.retain(|(k, _)| *k != id);
            st.kept.push((id, v));
        }
    });
}

/// The dict kept for call `id`, if it ran since it was last taken.
pub(crate) fn take_kept(id: i64) -> Option<Value> {
    STATE.with(|s| {
        let mut st = s.borrow_mut();
        let st = st.as_mut()?;
        let i = st.kept.iter().position(|(k, _)| *k == id)?;
        Some(st.kept.swap_remove(i).1)
    })
}

thread_local! {
    static GENERATED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Runs `f` and returns, with its result, every random string (`randAlphaNum`, `randAscii`,
/// `randBytes`, `uuidv4`, ...) the renders inside it generated on this thread: a caller that
/// shows errors keeps these values (passwords, often) out of them.
pub fn collect_generated<R>(f: impl FnOnce() -> R) -> (R, Vec<String>) {
    let outer = GENERATED.with(|g| g.borrow_mut().replace(Vec::new()));
    let r = f();
    let mine = GENERATED.with(|g| std::mem::replace(&mut *g.borrow_mut(), outer));
    let mine = mine.unwrap_or_default();
    if !mine.is_empty() {
        // A collection inside another: the outer one sees these too.
        GENERATED.with(|g| {
            if let Some(o) = g.borrow_mut().as_mut() {
                o.extend(mine.iter().cloned());
            }
        });
    }
    (r, mine)
}

/// Records a random string for [`collect_generated`] (nothing to do outside one).
pub(crate) fn note_generated(v: &str) {
    GENERATED.with(|g| {
        if let Some(list) = g.borrow_mut().as_mut() {
            list.push(v.to_string());
        }
    });
}

/// The caller's extra data of the current render.
pub(crate) fn render_extra() -> Option<Extra> {
    STATE.with(|s| s.borrow().as_ref().and_then(|st| st.extra.clone()))
}

/// Collects the output and counts it against the fuel.
struct FuelWriter {
    buf: String,
    exhausted: bool,
}

impl std::fmt::Write for FuelWriter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if charge(s.len() as u64).is_err() {
            self.exhausted = true;
            return Err(std::fmt::Error);
        }
        self.buf.push_str(s);
        Ok(())
    }
}

/// JSON → the engine's value (integers stay integers, other numbers are floats).
pub fn to_value(v: &Json) -> Value {
    match v {
        Json::Null => gotmpl::Value::Nil,
        Json::Bool(b) => gotmpl::Value::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => gotmpl::Value::Int(i),
            (None, Some(u)) => gotmpl::Value::Uint(u),
            _ => gotmpl::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => gotmpl::Value::String(s.as_str().into()),
        Json::Array(a) => gotmpl::Value::List(a.iter().map(to_value).collect()),
        Json::Object(m) => gotmpl::Value::Map(Arc::new(
            m.iter()
                .map(|(k, v)| (Arc::<str>::from(k.as_str()), to_value(v)))
                .collect(),
        )),
    }
}

fn convert_error(e: gotmpl::TemplateError) -> GoError {
    match e {
        gotmpl::TemplateError::Parse {
            line, col, message, ..
        }
        | gotmpl::TemplateError::Lex {
            line, col, message, ..
        } => GoError {
            message,
            line: (line > 0).then_some(line),
            column: (col > 0).then_some(col),
        },
        gotmpl::TemplateError::Exec(message) => GoError {
            message,
            line: None,
            column: None,
        },
        gotmpl::TemplateError::UndefinedTemplate(name) if name == MAIN => GoError {
            message: "template has no body".into(),
            line: None,
            column: None,
        },
        other => GoError {
            message: other.to_string(),
            line: None,
            column: None,
        },
    }
}

#[cfg(test)]
mod tests;

//! Go values of a struct type, which gotmpl (maps only) cannot hold: the caller's typed maps
//! (the tools' `map[string]NetworkService`, whose missing entry is a zero struct, not nil),
//! struct values (printed `{f1 f2}` in field order) and sprig's semver versions (printed
//! through their `String` method, with methods the rewrite routes to [`method`]).
//!
//! A typed value is an ordinary map of the engine, so every function sees its fields; what it
//! stands for is kept beside it, keyed by the address of the map's allocation. The registry
//! holds a `Weak` to that allocation, so the address cannot be reused while the entry exists;
//! entries whose value has been dropped are pruned as the registry grows.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock, Weak};

use gotmpl::Value;

type Fields = BTreeMap<Arc<str>, Value>;

/// What a registered map stands for.
#[derive(Clone)]
pub(crate) enum Kind {
    /// `map[string]T` with T a struct: a missing key reads as T's zero value.
    MapOf(Value),
    /// A struct value: its fields in declaration order (how Go prints it).
    Struct(Arc<[Arc<str>]>),
    /// A Masterminds/semver version: `*Version` from `semver` (true), or the `Version` its
    /// `Inc*`/`Set*` methods return, on which Go cannot call the pointer methods
    /// (`Original`, `LessThan`, `GreaterThan`, `Equal`, `Compare`).
    Semver(bool),
}

struct Entry {
    map: Weak<Fields>,
    kind: Kind,
    go_type: &'static str,
}

#[derive(Default)]
struct Registry {
    by_addr: HashMap<usize, Entry>,
    prune_at: usize,
}

static REGISTRY: RwLock<Option<Registry>> = RwLock::new(None);

fn register(map: &Arc<Fields>, kind: Kind, go_type: &'static str) {
    let mut guard = REGISTRY.write().unwrap_or_else(|p| p.into_inner());
    let reg = guard.get_or_insert_with(Registry::default);
    if reg.by_addr.len() >= reg.prune_at {
        reg.by_addr.retain(|_, e| e.map.strong_count() > 0);
        reg.prune_at = (reg.by_addr.len() * 2).max(256);
    }
    reg.by_addr.insert(
        Arc::as_ptr(map) as usize,
        Entry {
            map: Arc::downgrade(map),
            kind,
            go_type,
        },
    );
}

/// What `map` stands for, if it was registered.
pub(crate) fn kind_of(map: &Arc<Fields>) -> Option<Kind> {
    lookup(map, |e| e.kind.clone())
}

/// The Go type `map` stands for (`%T`), if it was registered.
pub(crate) fn go_type_of(map: &Arc<Fields>) -> Option<&'static str> {
    lookup(map, |e| e.go_type)
}

fn lookup<T>(map: &Arc<Fields>, f: impl FnOnce(&Entry) -> T) -> Option<T> {
    let guard = REGISTRY.read().unwrap_or_else(|p| p.into_inner());
    let e = guard.as_ref()?.by_addr.get(&(Arc::as_ptr(map) as usize))?;
    // The `Weak` keeps the allocation, so a live entry at this address is this map.
    (e.map.strong_count() > 0).then(|| f(e))
}

/// The zero value `index` gives for a key `map` lacks: Go's zero struct for a typed map,
/// nil otherwise.
pub(crate) fn missing_entry(map: &Arc<Fields>) -> Value {
    match kind_of(map) {
        Some(Kind::MapOf(zero)) => zero,
        _ => Value::Nil,
    }
}

/// A Go `map[string]T` where T is a struct type whose zero value is `zero`: `index` of a key
/// it lacks gives `zero` (truthy, its fields `0`/`""`), as in Go, instead of nil. The tools'
/// `WorkloadServices` and each service's `Ports` are such maps.
/// `go_type` is its Go type as `%T` prints it (`map[string]provisioners.NetworkService`);
/// sprig functions that want a `map[string]interface {}` refuse it, as Go's do.
pub fn typed_map(go_type: &'static str, entries: BTreeMap<Arc<str>, Value>, zero: Value) -> Value {
    let map = Arc::new(entries);
    register(&map, Kind::MapOf(zero), go_type);
    Value::Map(map)
}

/// A Go struct value with `fields` in declaration order (each present in `values`): it reads
/// like a map, and prints as Go prints a struct (`{v1 v2}`).
/// `go_type` is its Go type as `%T` prints it (`provisioners.ServicePort`).
pub fn struct_value(
    go_type: &'static str,
    fields: &[&str],
    values: BTreeMap<Arc<str>, Value>,
) -> Value {
    let map = Arc::new(values);
    register(
        &map,
        Kind::Struct(fields.iter().map(|f| Arc::from(*f)).collect()),
        go_type,
    );
    Value::Map(map)
}

/// A semver version as the engine holds it: its fields under their method names; `pointer`
/// as for [`Kind::Semver`].
pub(crate) fn semver_value(v: &crate::semver::Version, pointer: bool) -> Value {
    let mut out = BTreeMap::new();
    for (k, x) in [
        ("Major", Value::Uint(v.major)),
        ("Minor", Value::Uint(v.minor)),
        ("Patch", Value::Uint(v.patch)),
        ("Prerelease", Value::String(v.pre.as_str().into())),
        ("Metadata", Value::String(v.metadata.as_str().into())),
        ("Original", Value::String(v.original.as_str().into())),
        ("String", Value::String(v.canonical().into())),
    ] {
        out.insert(Arc::from(k), x);
    }
    let map = Arc::new(out);
    register(
        &map,
        Kind::Semver(pointer),
        if pointer {
            "*semver.Version"
        } else {
            "semver.Version"
        },
    );
    Value::Map(map)
}

/// The semver version a registered value holds, and whether it is a pointer.
pub(crate) fn as_semver(v: &Value) -> Option<(crate::semver::Version, bool)> {
    let Value::Map(m) = v else { return None };
    let Kind::Semver(pointer) = kind_of(m)? else {
        return None;
    };
    let u = |k: &str| match m.get(k) {
        Some(Value::Uint(u)) => *u,
        _ => 0,
    };
    let s = |k: &str| match m.get(k) {
        Some(Value::String(s)) => s.to_string(),
        _ => String::new(),
    };
    Some((
        crate::semver::Version {
            major: u("Major"),
            minor: u("Minor"),
            patch: u("Patch"),
            pre: s("Prerelease"),
            metadata: s("Metadata"),
            original: s("Original"),
        },
        pointer,
    ))
}

/// The names the rewrite routes through [`method`]: semver's methods that are not plain
/// fields of the engine's value (a map key of the same name still reads as the key).
pub(crate) const METHODS: &[&str] = &[
    "Original",
    "IncMajor",
    "IncMinor",
    "IncPatch",
    "SetPrerelease",
    "SetMetadata",
    "LessThan",
    "LessThanEqual",
    "GreaterThan",
    "GreaterThanEqual",
    "Equal",
    "Compare",
];

/// `X.NAME args...`: a semver method when X is a version, else Go's field access (a map key,
/// `<no value>` for a missing one, nil through nil).
pub(crate) fn method(recv: &Value, name: &str, args: &[Value]) -> Result<Value, String> {
    if let Some((v, pointer)) = as_semver(recv) {
        let pointer_method = matches!(
            name,
            "Original"
                | "LessThan"
                | "LessThanEqual"
                | "GreaterThan"
                | "GreaterThanEqual"
                | "Equal"
                | "Compare"
        );
        if pointer_method && !pointer {
            return Err(format!(
                "can't evaluate field {name} in type semver.Version"
            ));
        }
        let other = |i: usize| -> Result<crate::semver::Version, String> {
            match args.get(i) {
                Some(a) => match as_semver(a) {
                    Some((o, true)) => Ok(o),
                    _ => Err(format!(
                        "wrong type for value; expected *semver.Version; got {}",
                        crate::sprig::go_type(a)
                    )),
                },
                None => Err(format!(
                    "wrong number of args for {name}: want 1 got {}",
                    args.len()
                )),
            }
        };
        let no_args = || -> Result<(), String> {
            if args.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "wrong number of args for {name}: want 0 got {}",
                    args.len()
                ))
            }
        };
        return match name {
            "Original" => no_args().map(|()| Value::String(v.original.as_str().into())),
            "IncMajor" => no_args().map(|()| semver_value(&v.inc_major(), false)),
            "IncMinor" => no_args().map(|()| semver_value(&v.inc_minor(), false)),
            "IncPatch" => no_args().map(|()| semver_value(&v.inc_patch(), false)),
            "SetPrerelease" | "SetMetadata" => match args {
                [Value::String(s)] => {
                    let r = if name == "SetPrerelease" {
                        v.set_prerelease(s)
                    } else {
                        v.set_metadata(s)
                    };
                    r.map(|n| semver_value(&n, false))
                        .map_err(|e| format!("error calling {name}: {e}"))
                }
                [a] => Err(format!(
                    "wrong type for value; expected string; got {}",
                    crate::sprig::go_type(a)
                )),
                _ => Err(format!(
                    "wrong number of args for {name}: want 1 got {}",
                    args.len()
                )),
            },
            "LessThan" => Ok(Value::Bool(v.cmp_version(&other(0)?).is_lt())),
            "GreaterThan" => Ok(Value::Bool(v.cmp_version(&other(0)?).is_gt())),
            // semver 3.3.0 (what sprig 3.3.0 and so the tools use).
            "LessThanEqual" => Ok(Value::Bool(v.cmp_version(&other(0)?).is_le())),
            "GreaterThanEqual" => Ok(Value::Bool(v.cmp_version(&other(0)?).is_ge())),
            "Equal" => Ok(Value::Bool(v.cmp_version(&other(0)?).is_eq())),
            "Compare" => Ok(Value::Int(v.cmp_version(&other(0)?) as i64)),
            _ => Err(format!(
                "can't evaluate field {name} in type *semver.Version"
            )),
        };
    }
    if matches!(recv, Value::Nil) {
        // A missing value: Go's field access on it gives the invalid value (`<no value>`).
        return Ok(Value::Nil);
    }
    if !args.is_empty() {
        return Err(format!("{name} is not a method but has arguments"));
    }
    match recv {
        Value::Map(m) => Ok(m.get(name).cloned().unwrap_or(Value::Nil)),
        Value::Nil => Ok(Value::Nil),
        other => Err(format!(
            "can't evaluate field {name} in type {}",
            crate::sprig::go_type(other)
        )),
    }
}

const SERVICE_PORT: &str = "provisioners.ServicePort";
const SERVICE_PORT_FIELDS: &[&str] = &["Name", "Port", "TargetPort", "Protocol"];
const PORTS: &str = "map[string]provisioners.ServicePort";
const NETWORK_SERVICE: &str = "provisioners.NetworkService";
const NETWORK_SERVICE_FIELDS: &[&str] = &["ServiceName", "Ports"];
const NETWORK_SERVICES: &str = "map[string]provisioners.NetworkService";

/// The struct `fields` with each missing one set to its zero value (`""`, or 0 for `ints`).
fn go_struct(
    go_type: &'static str,
    fields: &[&str],
    ints: &[&str],
    mut values: BTreeMap<Arc<str>, Value>,
) -> Value {
    for f in fields {
        values.entry(Arc::from(*f)).or_insert_with(|| {
            if ints.contains(f) {
                Value::Int(0)
            } else {
                Value::String("".into())
            }
        });
    }
    struct_value(go_type, fields, values)
}

fn zero_port() -> Value {
    static Z: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    Z.get_or_init(|| {
        go_struct(
            SERVICE_PORT,
            SERVICE_PORT_FIELDS,
            &["Port", "TargetPort"],
            BTreeMap::new(),
        )
    })
    .clone()
}

fn zero_service() -> Value {
    static Z: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    Z.get_or_init(|| {
        let mut f = BTreeMap::new();
        f.insert(
            Arc::from("Ports"),
            typed_map(PORTS, BTreeMap::new(), zero_port()),
        );
        go_struct(NETWORK_SERVICE, NETWORK_SERVICE_FIELDS, &[], f)
    })
    .clone()
}

/// The tools' `Data.WorkloadServices` (`map[string]provisioners.NetworkService`, each with
/// `ServiceName` and `Ports map[string]provisioners.ServicePort`) from JSON in those Go field
/// names: `index` of a workload or port it lacks is the zero struct, as in the tools (the
/// default `service-port` provisioner then renders `port: 0`), and the structs print as Go's.
pub fn network_services(services: &serde_json::Value) -> Value {
    let mut out = BTreeMap::new();
    if let serde_json::Value::Object(m) = services {
        for (name, svc) in m {
            let mut ports = BTreeMap::new();
            if let Some(serde_json::Value::Object(ps)) = svc.get("Ports") {
                for (pname, p) in ps {
                    let fields = match crate::to_value(p) {
                        Value::Map(f) => Arc::unwrap_or_clone(f),
                        _ => BTreeMap::new(),
                    };
                    ports.insert(
                        Arc::from(pname.as_str()),
                        go_struct(
                            SERVICE_PORT,
                            SERVICE_PORT_FIELDS,
                            &["Port", "TargetPort"],
                            fields,
                        ),
                    );
                }
            }
            let mut fields = BTreeMap::new();
            if let Some(n) = svc.get("ServiceName") {
                fields.insert(Arc::from("ServiceName"), crate::to_value(n));
            }
            fields.insert(Arc::from("Ports"), typed_map(PORTS, ports, zero_port()));
            out.insert(
                Arc::from(name.as_str()),
                go_struct(NETWORK_SERVICE, NETWORK_SERVICE_FIELDS, &[], fields),
            );
        }
    }
    typed_map(NETWORK_SERVICES, out, zero_service())
}

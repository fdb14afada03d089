//! Template helper filters and functions: the small sprig subset platform teams reach for.
//!
//! All helpers are registered both as filters and as functions where both spellings make sense
//! (`{{ x | b64encode }}` and `{{ b64encode(x) }}`), so provisioner authors need not remember which.
//!
//! | name | kind | result |
//! |---|---|---|
//! | `quote` | filter/function | a double-quoted JSON string (a valid YAML scalar), e.g. `"a\"b"` |
//! | `b64encode` / `b64decode` | filter/function | standard base64 with padding / its inverse (UTF-8) |
//! | `sha256` | filter/function | lowercase hex digest of the UTF-8 bytes |
//! | `to_yaml` / `to_json` | filter/function | block YAML without trailing newline / compact JSON |
//! | `dig(map, "a.b.c", default)` | filter/function | the nested value, or `default` when any step is missing |
//! | `fail("msg")` | function | aborts the render; the diagnostic carries `msg` |
//! | `rand_alnum(n)` | function | `n` characters of `[A-Za-z0-9]`, deterministic (see below) |
//!
//! `rand_alnum` draws from SHA-256 over a per-render key (derived by the caller from the project
//! seed, the resource uid and the section name) and the call's index within the render. The same
//! state therefore gives the same bytes on every run. Stability of a *password* across changes to
//! the template comes from storing it in `state`:
//! `password: {{ state.password | default(rand_alnum(16)) }}`.

use base64::Engine as _;
use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind, State};
use sha2::{Digest, Sha256};

/// Context key holding the hex key `rand_alnum` draws from. Set by the renderer per section.
pub(crate) const RAND_KEY: &str = "__score_rand_key";

/// Upper bound for `rand_alnum(n)`; a password longer than this is a template bug.
pub(crate) const MAX_RAND_LEN: usize = 4096;

/// The error a template raises through `fail(...)`; the renderer recognises it by type so the
/// user's message is shown verbatim instead of minijinja's wording.
#[derive(Debug)]
pub(crate) struct FailError(pub String);

impl std::fmt::Display for FailError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FailError {}

/// Registers every helper on `env`.
pub(crate) fn register(env: &mut Environment<'_>) {
    macro_rules! both {
        ($($name:literal => $f:path),* $(,)?) => {
            $(
                env.add_filter($name, $f);
                env.add_function($name, $f);
            )*
        };
    }
    both!(
        "quote" => quote,
        "b64encode" => b64encode,
        "b64decode" => b64decode,
        "sha256" => sha256,
        "to_yaml" => to_yaml,
        "to_json" => to_json,
    );
    env.add_filter("dig", dig);
    env.add_function("dig", dig);
    env.add_function("fail", fail);
    env.add_function("rand_alnum", rand_alnum);
}

/// Text a helper builds, bounded by what the render's remaining fuel can pay for.
///
/// The engine charges for a helper's result only after it returns: without a bound, `to_json`
/// of a list holding 100 000 references to one 100 kB string would build 10 GB first.
struct Bounded {
    buf: String,
    limit: usize,
    exceeded: bool,
}

impl Bounded {
    fn new(state: &State<'_, '_>) -> Self {
        // One fuel pays for 64 bytes (minijinja's `UNITS_PER_FUEL`).
        let limit = state.fuel_levels().map_or(
            super::template::output_limit(super::template::DEFAULT_FUEL),
            |(_, remaining)| super::template::output_limit(remaining),
        );
        Self {
            buf: String::new(),
            limit,
            exceeded: false,
        }
    }

    /// The text, or an out-of-fuel error naming `helper` when it grew past the limit.
    fn finish(self, helper: &str) -> Result<String, Error> {
        if self.exceeded {
            return Err(Error::new(
                ErrorKind::OutOfFuel,
                format!(
                    "{helper}: the result would be larger than the {} bytes the remaining fuel pays for",
                    self.limit
                ),
            ));
        }
        Ok(self.buf)
    }
}

impl std::fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.buf.len().saturating_add(s.len()) > self.limit {
            self.exceeded = true;
            return Err(std::fmt::Error);
        }
        self.buf.push_str(s);
        Ok(())
    }
}

impl std::io::Write for Bounded {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        // serde_json writes UTF-8 only; anything else is a bug worth an error, not a panic.
        let s = std::str::from_utf8(data).map_err(std::io::Error::other)?;
        std::fmt::Write::write_str(self, s).map_err(|_| std::io::Error::other("size limit"))?;
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// String form of a value for the string helpers: strings as-is, `none` as empty, else Display
/// (bounded: a list's Display can be far larger than the list).
fn string_of(state: &State<'_, '_>, v: &Value, helper: &str) -> Result<String, Error> {
    if let Some(s) = v.as_str() {
        Ok(s.to_string())
    } else if v.is_none() {
        Ok(String::new())
    } else {
        let mut out = Bounded::new(state);
        let _ = std::fmt::Write::write_fmt(&mut out, format_args!("{v}"));
        out.finish(helper)
    }
}

fn undefined_check(v: &Value, helper: &str) -> Result<(), Error> {
    if v.is_undefined() {
        Err(Error::new(
            ErrorKind::UndefinedError,
            format!("{helper} received an undefined value"),
        ))
    } else {
        Ok(())
    }
}

/// `quote`: a JSON double-quoted string, which is also a valid YAML double-quoted scalar.
fn quote(state: &State<'_, '_>, v: &Value) -> Result<String, Error> {
    undefined_check(v, "quote")?;
    let text = string_of(state, v, "quote")?;
    let mut out = Bounded::new(state);
    if let Err(e) = serde_json::to_writer(&mut out, &text)
        && !out.exceeded
    {
        return Err(Error::new(ErrorKind::BadSerialization, e.to_string()));
    }
    out.finish("quote")
}

fn b64encode(state: &State<'_, '_>, v: &Value) -> Result<String, Error> {
    undefined_check(v, "b64encode")?;
    let text = string_of(state, v, "b64encode")?;
    let mut out = Bounded::new(state);
    if text.len().div_ceil(3).saturating_mul(4) > out.limit {
        out.exceeded = true;
        return out.finish("b64encode");
    }
    Ok(base64::engine::general_purpose::STANDARD.encode(text))
}

fn b64decode(state: &State<'_, '_>, v: &Value) -> Result<String, Error> {
    undefined_check(v, "b64decode")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(string_of(state, v, "b64decode")?.trim())
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("b64decode: {e}")))?;
    String::from_utf8(bytes).map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            "b64decode: decoded bytes are not UTF-8",
        )
    })
}

fn sha256(state: &State<'_, '_>, v: &Value) -> Result<String, Error> {
    undefined_check(v, "sha256")?;
    Ok(hex(&Sha256::digest(
        string_of(state, v, "sha256")?.as_bytes(),
    )))
}

fn to_yaml(state: &State<'_, '_>, v: &Value) -> Result<String, Error> {
    undefined_check(v, "to_yaml")?;
    let mut out = Bounded::new(state);
    if let Err(e) = serde_saphyr::to_fmt_writer(&mut out, v)
        && !out.exceeded
    {
        return Err(Error::new(
            ErrorKind::BadSerialization,
            format!("to_yaml: {e}"),
        ));
    }
    let s = out.finish("to_yaml")?;
    Ok(s.trim_end_matches('\n').to_string())
}

fn to_json(state: &State<'_, '_>, v: &Value) -> Result<String, Error> {
    undefined_check(v, "to_json")?;
    let mut out = Bounded::new(state);
    if let Err(e) = serde_json::to_writer(&mut out, v)
        && !out.exceeded
    {
        return Err(Error::new(
            ErrorKind::BadSerialization,
            format!("to_json: {e}"),
        ));
    }
    out.finish("to_json")
}

/// `dig(map, "a.b.c", default)`: walks dotted keys (integers index lists); any miss → default.
fn dig(map: &Value, path: &str, default: Option<Value>) -> Result<Value, Error> {
    let default = default.unwrap_or(Value::from(()));
    let mut cur = map.clone();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let next = match cur.get_attr(part) {
            Ok(v) if !v.is_undefined() => v,
            _ => match part.parse::<i64>() {
                Ok(i) => cur.get_item(&Value::from(i)).unwrap_or(Value::UNDEFINED),
                Err(_) => Value::UNDEFINED,
            },
        };
        if next.is_undefined() {
            return Ok(default);
        }
        cur = next;
    }
    if cur.is_undefined() {
        Ok(default)
    } else {
        Ok(cur)
    }
}

fn fail(msg: Option<String>) -> Result<Value, Error> {
    let msg = msg.unwrap_or_else(|| "fail() called".to_string());
    Err(Error::new(ErrorKind::InvalidOperation, msg.clone()).with_source(FailError(msg)))
}

/// Counts `rand_alnum` calls within one render so each call gets fresh bytes.
#[derive(Default)]
struct RandCalls(u64);

fn rand_alnum(state: &mut State<'_, '_>, n: usize) -> Result<String, Error> {
    if n > MAX_RAND_LEN {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("rand_alnum: length {n} is larger than {MAX_RAND_LEN}"),
        ));
    }
    let key = state
        .lookup(RAND_KEY)
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let calls = state.get_or_insert_extension(RandCalls::default());
    let index = calls.0;
    calls.0 += 1;
    let out = rand_alnum_from(&key, index, n);
    GENERATED.with(|g| {
        if let Some(list) = g.borrow_mut().as_mut() {
            list.push(out.clone());
        }
    });
    Ok(out)
}

thread_local! {
    static GENERATED: std::cell::RefCell<Option<Vec<String>>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f` and returns, with its result, every `rand_alnum` value (a password, often) and every
/// random string a Go template generated on this thread meanwhile, so a failing resource's error
/// can leave them out (spec/security.md "Secrets in diagnostics").
pub(crate) fn collect_generated<R>(f: impl FnOnce() -> R) -> (R, Vec<String>) {
    let outer = GENERATED.with(|g| g.borrow_mut().replace(Vec::new()));
    let (r, mut go) = score_gotemplate::collect_generated(f);
    let mine = GENERATED.with(|g| std::mem::replace(&mut *g.borrow_mut(), outer));
    let mut mine = mine.unwrap_or_default();
    GENERATED.with(|g| {
        if let Some(o) = g.borrow_mut().as_mut() {
            o.extend(mine.iter().cloned());
        }
    });
    mine.append(&mut go);
    (r, mine)
}

/// The pure core of `rand_alnum`: `n` alphanumerics from SHA-256(key, index, block).
///
/// Rejection sampling (bytes ≥ 248 are skipped) keeps the 62 symbols equally likely.
pub(crate) fn rand_alnum_from(key: &str, index: u64, n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(n);
    let mut block: u64 = 0;
    while out.len() < n {
        let mut h = Sha256::new();
        h.update(key.as_bytes());
        h.update([0u8]);
        h.update(index.to_be_bytes());
        h.update(block.to_be_bytes());
        for b in h.finalize() {
            if out.len() == n {
                break;
            }
            if b < 248 {
                out.push(ALPHABET[(b % 62) as usize] as char);
            }
        }
        block += 1;
    }
    out
}

/// Lowercase hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::rand_alnum_from;

    #[test]
    fn rand_alnum_from_is_a_function_of_key_and_index() {
        let a = rand_alnum_from("k", 0, 16);
        assert_eq!(a.len(), 16);
        assert_eq!(a, rand_alnum_from("k", 0, 16));
        assert_ne!(a, rand_alnum_from("k", 1, 16));
    }
}

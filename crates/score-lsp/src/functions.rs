//! One-line documentation of the functions a provisioner template may call, for hover: Go's
//! `text/template` built-ins and the sprig functions (the ecosystem's dialect), and minijinja's
//! built-in filters plus score-gen's helpers (score-gen's own dialect). Text written from each
//! function's behaviour as score-gen implements it (spec/gotemplate.md, spec/provisioners.md).

/// Go `text/template` built-ins and sprig: (name, signature, what it does).
pub const GO: &[(&str, &str, &str)] = &[
    (
        "and",
        "and x y ...",
        "the first empty argument, or the last one (Go built-in)",
    ),
    (
        "or",
        "or x y ...",
        "the first non-empty argument, or the last one (Go built-in)",
    ),
    (
        "not",
        "not x",
        "the boolean negation of x's truth (Go built-in)",
    ),
    (
        "len",
        "len x",
        "the length of a string, list or map (Go built-in)",
    ),
    (
        "index",
        "index x k ...",
        "x[k] for a list, map or string, nested for several keys (Go built-in)",
    ),
    (
        "slice",
        "slice x i j",
        "x[i:j] of a list or string (Go built-in)",
    ),
    (
        "print",
        "print args...",
        "the arguments formatted as Go's fmt.Sprint (Go built-in)",
    ),
    (
        "printf",
        "printf format args...",
        "the arguments formatted by a Go format string (Go built-in)",
    ),
    (
        "println",
        "println args...",
        "fmt.Sprintln: arguments separated by spaces, then a newline (Go built-in)",
    ),
    (
        "eq",
        "eq a b ...",
        "a == b (or a equals any of the later arguments) (Go built-in)",
    ),
    ("ne", "ne a b", "a != b (Go built-in)"),
    ("lt", "lt a b", "a < b (Go built-in)"),
    ("le", "le a b", "a <= b (Go built-in)"),
    ("gt", "gt a b", "a > b (Go built-in)"),
    ("ge", "ge a b", "a >= b (Go built-in)"),
    ("html", "html s", "s escaped for HTML (Go built-in)"),
    ("js", "js s", "s escaped for JavaScript (Go built-in)"),
    (
        "urlquery",
        "urlquery s",
        "s escaped for a URL query (Go built-in)",
    ),
    (
        "call",
        "call f args...",
        "calls a function value (Go built-in)",
    ),
    ("default", "default d x", "x, or d when x is empty (sprig)"),
    (
        "empty",
        "empty x",
        "true when x is its type's zero value (sprig)",
    ),
    (
        "coalesce",
        "coalesce x ...",
        "the first non-empty argument (sprig)",
    ),
    (
        "ternary",
        "ternary a b cond",
        "a when cond is true, else b (sprig)",
    ),
    (
        "quote",
        "quote s ...",
        "each argument in double quotes, Go-escaped (sprig)",
    ),
    (
        "squote",
        "squote s ...",
        "each argument in single quotes (sprig)",
    ),
    ("upper", "upper s", "s in upper case (sprig)"),
    ("lower", "lower s", "s in lower case (sprig)"),
    ("title", "title s", "s with each word capitalised (sprig)"),
    (
        "trim",
        "trim s",
        "s without leading and trailing white space (sprig)",
    ),
    (
        "trimAll",
        "trimAll cut s",
        "s without leading and trailing characters of cut (sprig)",
    ),
    (
        "trimPrefix",
        "trimPrefix p s",
        "s without the prefix p (sprig)",
    ),
    (
        "trimSuffix",
        "trimSuffix x s",
        "s without the suffix x (sprig)",
    ),
    (
        "replace",
        "replace old new s",
        "s with every old replaced by new (sprig)",
    ),
    (
        "contains",
        "contains sub s",
        "true when s contains sub (sprig)",
    ),
    (
        "hasPrefix",
        "hasPrefix p s",
        "true when s starts with p (sprig)",
    ),
    (
        "hasSuffix",
        "hasSuffix x s",
        "true when s ends with x (sprig)",
    ),
    (
        "indent",
        "indent n s",
        "every line of s indented by n spaces (sprig)",
    ),
    (
        "nindent",
        "nindent n s",
        "a newline, then every line of s indented by n spaces (sprig)",
    ),
    ("repeat", "repeat n s", "s repeated n times (sprig)"),
    ("substr", "substr start end s", "s[start:end] (sprig)"),
    (
        "trunc",
        "trunc n s",
        "the first n characters of s (the last -n when negative) (sprig)",
    ),
    (
        "join",
        "join sep list",
        "the list's items as strings joined by sep (sprig)",
    ),
    (
        "split",
        "split sep s",
        "a map _0, _1, ... of s's parts (sprig)",
    ),
    (
        "splitList",
        "splitList sep s",
        "a list of s's parts (sprig)",
    ),
    ("toString", "toString x", "x as a string (sprig)"),
    ("toJson", "toJson x", "x as compact JSON (sprig)"),
    (
        "toPrettyJson",
        "toPrettyJson x",
        "x as indented JSON (sprig)",
    ),
    (
        "toRawJson",
        "toRawJson x",
        "x as JSON without HTML escaping (sprig)",
    ),
    (
        "fromJson",
        "fromJson s",
        "the value of a JSON string (sprig)",
    ),
    ("b64enc", "b64enc s", "s in standard base64 (sprig)"),
    ("b64dec", "b64dec s", "the bytes of a base64 string (sprig)"),
    ("sha256sum", "sha256sum s", "the hex SHA-256 of s (sprig)"),
    ("sha1sum", "sha1sum s", "the hex SHA-1 of s (sprig)"),
    (
        "randAlphaNum",
        "randAlphaNum n",
        "n random letters and digits, seeded from the state (sprig)",
    ),
    (
        "randAlpha",
        "randAlpha n",
        "n random letters, seeded from the state (sprig)",
    ),
    (
        "randNumeric",
        "randNumeric n",
        "n random digits, seeded from the state (sprig)",
    ),
    (
        "randAscii",
        "randAscii n",
        "n random printable ASCII characters, seeded from the state (sprig)",
    ),
    (
        "uuidv4",
        "uuidv4",
        "a random UUID, seeded from the state (sprig)",
    ),
    ("list", "list x ...", "a list of the arguments (sprig)"),
    ("dict", "dict k v ...", "a map from key/value pairs (sprig)"),
    ("get", "get map key", "map[key], or \"\" (sprig)"),
    (
        "set",
        "set map key value",
        "sets map[key] and returns the map (sprig)",
    ),
    (
        "unset",
        "unset map key",
        "removes map[key] and returns the map (sprig)",
    ),
    (
        "hasKey",
        "hasKey map key",
        "true when the map has the key (sprig)",
    ),
    (
        "keys",
        "keys map ...",
        "the maps' keys (unordered in Go; sort them with sortAlpha) (sprig)",
    ),
    (
        "pick",
        "pick map k ...",
        "a map of only the given keys (sprig)",
    ),
    (
        "omit",
        "omit map k ...",
        "a map without the given keys (sprig)",
    ),
    (
        "merge",
        "merge dst src ...",
        "dst with the keys of each src it lacks (sprig)",
    ),
    (
        "mergeOverwrite",
        "mergeOverwrite dst src ...",
        "dst with each src's keys written over it (sprig)",
    ),
    (
        "dig",
        "dig k ... default map",
        "the value at a path of keys, or default (sprig)",
    ),
    ("first", "first list", "the first item (sprig)"),
    ("last", "last list", "the last item (sprig)"),
    ("append", "append list x", "the list with x added (sprig)"),
    ("has", "has x list", "true when the list holds x (sprig)"),
    (
        "uniq",
        "uniq list",
        "the list without repeated items (sprig)",
    ),
    (
        "sortAlpha",
        "sortAlpha list",
        "the list's items as strings, sorted (sprig)",
    ),
    ("until", "until n", "the list 0..n-1 (sprig)"),
    ("add", "add a b ...", "the sum of integers (sprig)"),
    ("add1", "add1 a", "a + 1 (sprig)"),
    ("sub", "sub a b", "a - b (sprig)"),
    ("mul", "mul a b ...", "the product of integers (sprig)"),
    ("div", "div a b", "a / b, integer division (sprig)"),
    ("mod", "mod a b", "a % b (sprig)"),
    ("max", "max a b ...", "the largest integer (sprig)"),
    ("min", "min a b ...", "the smallest integer (sprig)"),
    ("atoi", "atoi s", "s as an integer (sprig)"),
    ("int", "int x", "x as an integer (sprig)"),
    (
        "regexMatch",
        "regexMatch re s",
        "true when s matches the regular expression (sprig)",
    ),
    (
        "regexReplaceAll",
        "regexReplaceAll re s repl",
        "s with every match of re replaced, $1 expanded (sprig)",
    ),
    (
        "fail",
        "fail msg",
        "stops rendering with the error msg (sprig)",
    ),
    (
        "kindIs",
        "kindIs kind x",
        "true when x's Go kind is kind (sprig)",
    ),
    ("typeOf", "typeOf x", "x's Go type as text (sprig)"),
    (
        "semverCompare",
        "semverCompare constraint version",
        "true when the version meets the constraint (sprig)",
    ),
    (
        "encodeSecretRef",
        "encodeSecretRef secret key",
        "a reference to key of a Kubernetes Secret, resolved in manifests (score-k8s)",
    ),
    (
        "substituteValue",
        "substituteValue s",
        "s with the workload's placeholders resolved (patch templates only, not provisioner files)",
    ),
];

/// minijinja's filters and functions and score-gen's helpers: (name, signature, what it does).
pub const MINIJINJA: &[(&str, &str, &str)] = &[
    (
        "quote",
        "x | quote",
        "x as a double-quoted YAML/JSON string (score-gen helper)",
    ),
    (
        "b64encode",
        "x | b64encode",
        "x in standard base64 (score-gen helper)",
    ),
    (
        "b64decode",
        "x | b64decode",
        "the text of a base64 string (score-gen helper)",
    ),
    (
        "sha256",
        "x | sha256",
        "the hex SHA-256 of x (score-gen helper)",
    ),
    ("to_yaml", "x | to_yaml", "x as YAML (score-gen helper)"),
    (
        "to_json",
        "x | to_json",
        "x as compact JSON (score-gen helper)",
    ),
    (
        "to_yaml",
        "x | to_yaml",
        "x as YAML, without the final line break (score-gen helper)",
    ),
    (
        "dig",
        "dig(map, k, ..., default)",
        "the value at a path of keys, or default (score-gen helper)",
    ),
    (
        "default",
        "x | default(d)",
        "x, or d when x is undefined (minijinja)",
    ),
    (
        "fail",
        "fail(msg)",
        "stops rendering with the error msg (score-gen helper)",
    ),
    (
        "rand_alnum",
        "rand_alnum(n)",
        "n random letters and digits, seeded from the state (score-gen helper)",
    ),
    (
        "replace",
        "s | replace(old, new)",
        "s with every old replaced by new (minijinja)",
    ),
    ("upper", "s | upper", "s in upper case (minijinja)"),
    ("lower", "s | lower", "s in lower case (minijinja)"),
    (
        "title",
        "s | title",
        "s with each word capitalised (minijinja)",
    ),
    (
        "trim",
        "s | trim",
        "s without leading and trailing white space (minijinja)",
    ),
    (
        "length",
        "x | length",
        "the length of a string, list or map (minijinja)",
    ),
    (
        "join",
        "list | join(sep)",
        "the items joined by sep (minijinja)",
    ),
    ("first", "list | first", "the first item (minijinja)"),
    ("last", "list | last", "the last item (minijinja)"),
    ("list", "x | list", "x as a list (minijinja)"),
    (
        "items",
        "map | items",
        "the (key, value) pairs of a map (minijinja)",
    ),
    (
        "dictsort",
        "map | dictsort",
        "the (key, value) pairs sorted by key (minijinja)",
    ),
    ("sort", "list | sort", "the list sorted (minijinja)"),
    (
        "unique",
        "list | unique",
        "the list without repeated items (minijinja)",
    ),
    ("string", "x | string", "x as a string (minijinja)"),
    ("int", "x | int", "x as an integer (minijinja)"),
    ("tojson", "x | tojson", "x as JSON (minijinja)"),
    (
        "indent",
        "s | indent(n)",
        "the lines of s after the first indented by n spaces (minijinja)",
    ),
    (
        "safe",
        "s | safe",
        "s marked safe (no escaping) (minijinja)",
    ),
    ("range", "range(n)", "the list 0..n-1 (minijinja)"),
    (
        "dict",
        "dict(k=v, ...)",
        "a map from keyword arguments (minijinja)",
    ),
    (
        "namespace",
        "namespace()",
        "an object whose attributes can be set inside loops (minijinja)",
    ),
];

/// The documentation of `name` in `table`, as Markdown.
pub fn doc(table: &[(&str, &str, &str)], name: &str) -> Option<String> {
    table
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, sig, what)| format!("```\n{sig}\n```\n{what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether sprig, or the k8s target's functions, define `name` (an unknown name fails to
    /// parse with Go's `function "NAME" not defined`).
    fn defined(name: &str) -> bool {
        use score_core::provision::gotemplate::{functions, GoTemplate};
        use score_core::Target;
        let src = format!("{{{{ {name} }}}}");
        let k8s = score_target_k8s::K8sTarget::default().go_template_functions();
        [functions(&[]), functions(k8s)].iter().any(|set| {
            match GoTemplate::parse(&src, set, None) {
                Ok(_) => true,
                Err(e) => !e.message.contains("not defined"),
            }
        })
    }

    /// Every Go-template function documented for hover is one the engine or a target supplies,
    /// and the check itself can fail.
    #[test]
    fn go_functions_exist() {
        assert!(!defined("noSuchFunction"));
        let unknown: Vec<&str> = GO
            .iter()
            .map(|(name, _, _)| *name)
            // Defined for patch templates only (score-k8s's patching), documented as such.
            .filter(|name| *name != "substituteValue")
            .filter(|name| !defined(name))
            .collect();
        assert_eq!(unknown, Vec::<&str>::new());
    }
}

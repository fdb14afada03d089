use super::*;

fn ctx(key: &[u8], fuel: u64) -> RenderContext<'_> {
    RenderContext {
        random_key: key,
        fuel,
    }
}

fn render(src: &str, data: serde_json::Value) -> Result<String, GoError> {
    GoTemplate::parse(src, &Functions::sprig(), None)?.render(&data, &ctx(b"k", 1_000_000))
}

#[test]
fn renders_a_field_and_reports_a_syntax_error_position() {
    let out = render(
        "a: {{ .Params.x }}",
        serde_json::json!({"Params": {"x": 3}}),
    )
    .unwrap();
    assert_eq!(out, "a: 3");
    let e = GoTemplate::parse("x\n{{ .a", &Functions::sprig(), None).unwrap_err();
    assert_eq!(e.line, Some(2), "{e:?}");
}

#[test]
fn empty_lists_print_as_go_does() {
    assert_eq!(
        render(
            "{{ list }}|{{ concat }}|{{ rest (list) }}",
            serde_json::json!({})
        )
        .unwrap(),
        "[]|[]|[]"
    );
}

#[test]
fn a_run_time_error_names_the_action_that_failed() {
    let e = render(
        "a: 1\nb: {{ .x }}\nc: {{ fail \"boom\" }}\n",
        serde_json::json!({"x": 1}),
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (Some(3), Some(7)), "{e:?}");
    assert!(e.message.contains("boom"), "{e:?}");
    let t = GoTemplate::parse(
        "{{ define \"d\" }}\n{{ .Nope }}{{ end }}x{{ template \"d\" . }}",
        &Functions::sprig(),
        Some(&["Uid"]),
    )
    .unwrap();
    let e = t
        .render(&serde_json::json!({"Uid": "u"}), &ctx(b"k", 100))
        .unwrap_err();
    assert_eq!(e.line, Some(2), "{e:?}");
}

/// Cost of score-gen's layer over gotmpl alone on a provisioner-shaped template (run by hand:
/// `cargo test -p score-gotemplate --lib tests::overhead -- --ignored --nocapture`).
#[test]
#[ignore]
fn overhead() {
    let src = "services:\n  {{ .Id }}:\n    image: {{ .Params.image | default \"postgres:17\" | quote }}\n    environment:\n      POSTGRES_USER: {{ .State.username | quote }}\n      POSTGRES_PASSWORD: {{ .State.password | quote }}\n    ports:\n    {{- range $k, $v := .Params.ports }}\n      - {{ printf \"%s:%d\" $k $v | quote }}\n    {{- end }}\n    healthcheck:\n      test: [\"CMD\", \"pg_isready\", \"-U\", {{ .State.username | quote }}]\n";
    let data = serde_json::json!({"Id": "db", "Params": {"ports": {"5432": 5432, "5433": 5433}}, "State": {"username": "u", "password": "p"}});
    let ours =
        GoTemplate::parse(src, &Functions::sprig(), Some(&["Id", "Params", "State"])).unwrap();
    let raw = gotmpl::Template::new("")
        .funcs((*sprig::sprig_map()).clone())
        .parse(src)
        .unwrap();
    let value = to_value(&data);
    let n = 20_000;
    let t0 = std::time::Instant::now();
    for _ in 0..n {
        ours.render_value(&value, &ctx(b"k", 1_000_000), None)
            .unwrap();
    }
    let a = t0.elapsed();
    let t1 = std::time::Instant::now();
    for _ in 0..n {
        raw.execute_to_string(&value).unwrap();
    }
    let b = t1.elapsed();
    eprintln!(
        "score-gen {:?}/render, gotmpl alone {:?}/render, ratio {:.2}",
        a / n,
        b / n,
        a.as_secs_f64() / b.as_secs_f64()
    );
}

/// sprig 3.3.0's function names: the keys of `genericMap` in its `functions.go`.
const SPRIG_3_3_0: &[&str] = &[
    "abbrev",
    "abbrevboth",
    "add",
    "add1",
    "add1f",
    "addf",
    "adler32sum",
    "ago",
    "all",
    "any",
    "append",
    "atoi",
    "b32dec",
    "b32enc",
    "b64dec",
    "b64enc",
    "base",
    "bcrypt",
    "biggest",
    "buildCustomCert",
    "camelcase",
    "cat",
    "ceil",
    "chunk",
    "clean",
    "coalesce",
    "compact",
    "concat",
    "contains",
    "date",
    "date_in_zone",
    "date_modify",
    "dateInZone",
    "dateModify",
    "decryptAES",
    "deepCopy",
    "deepEqual",
    "default",
    "derivePassword",
    "dict",
    "dig",
    "dir",
    "div",
    "divf",
    "duration",
    "durationRound",
    "empty",
    "encryptAES",
    "env",
    "expandenv",
    "ext",
    "fail",
    "first",
    "float64",
    "floor",
    "fromJson",
    "genCA",
    "genCAWithKey",
    "genPrivateKey",
    "genSelfSignedCert",
    "genSelfSignedCertWithKey",
    "genSignedCert",
    "genSignedCertWithKey",
    "get",
    "getHostByName",
    "has",
    "hasKey",
    "hasPrefix",
    "hasSuffix",
    "hello",
    "htmlDate",
    "htmlDateInZone",
    "htpasswd",
    "indent",
    "initial",
    "initials",
    "int",
    "int64",
    "isAbs",
    "join",
    "kebabcase",
    "keys",
    "kindIs",
    "kindOf",
    "last",
    "list",
    "lower",
    "max",
    "maxf",
    "merge",
    "mergeOverwrite",
    "min",
    "minf",
    "mod",
    "mul",
    "mulf",
    "must_date_modify",
    "mustAppend",
    "mustChunk",
    "mustCompact",
    "mustDateModify",
    "mustDeepCopy",
    "mustFirst",
    "mustFromJson",
    "mustHas",
    "mustInitial",
    "mustLast",
    "mustMerge",
    "mustMergeOverwrite",
    "mustPrepend",
    "mustPush",
    "mustRegexFind",
    "mustRegexFindAll",
    "mustRegexMatch",
    "mustRegexReplaceAll",
    "mustRegexReplaceAllLiteral",
    "mustRegexSplit",
    "mustRest",
    "mustReverse",
    "mustSlice",
    "mustToDate",
    "mustToJson",
    "mustToPrettyJson",
    "mustToRawJson",
    "mustUniq",
    "mustWithout",
    "nindent",
    "nospace",
    "now",
    "omit",
    "osBase",
    "osClean",
    "osDir",
    "osExt",
    "osIsAbs",
    "pick",
    "pluck",
    "plural",
    "prepend",
    "push",
    "quote",
    "randAlpha",
    "randAlphaNum",
    "randAscii",
    "randBytes",
    "randInt",
    "randNumeric",
    "regexFind",
    "regexFindAll",
    "regexMatch",
    "regexQuoteMeta",
    "regexReplaceAll",
    "regexReplaceAllLiteral",
    "regexSplit",
    "repeat",
    "replace",
    "rest",
    "reverse",
    "round",
    "semver",
    "semverCompare",
    "seq",
    "set",
    "sha1sum",
    "sha256sum",
    "sha512sum",
    "shuffle",
    "slice",
    "snakecase",
    "sortAlpha",
    "split",
    "splitList",
    "splitn",
    "squote",
    "sub",
    "subf",
    "substr",
    "swapcase",
    "ternary",
    "title",
    "toDate",
    "toDecimal",
    "toJson",
    "toPrettyJson",
    "toRawJson",
    "toString",
    "toStrings",
    "trim",
    "trimall",
    "trimAll",
    "trimPrefix",
    "trimSuffix",
    "trunc",
    "tuple",
    "typeIs",
    "typeIsLike",
    "typeOf",
    "uniq",
    "unixEpoch",
    "unset",
    "until",
    "untilStep",
    "untitle",
    "upper",
    "urlJoin",
    "urlParse",
    "uuidv4",
    "values",
    "without",
    "wrap",
    "wrapWith",
];

/// A template may call exactly sprig 3.3.0's functions and Go's built-ins, except the refused
/// ones, which are registered to fail saying why; nothing else is registered but the internal
/// helpers (their names start with NUL, which no template can spell).
#[test]
fn the_registered_names_are_sprig_3_3_0_and_go_builtins_minus_the_refused() {
    use std::collections::BTreeSet;
    let map = sprig::sprig_map();
    let registered: BTreeSet<&str> = map
        .keys()
        .map(String::as_str)
        .filter(|n| !n.starts_with('\u{0}'))
        .collect();
    let refused: BTreeSet<&str> = sprig::REFUSED.iter().map(|(n, _)| *n).collect();
    let sprig: BTreeSet<&str> = SPRIG_3_3_0.iter().copied().collect();
    assert_eq!(sprig.len(), SPRIG_3_3_0.len(), "a name listed twice");
    assert_eq!(
        refused.difference(&sprig).collect::<Vec<_>>(),
        Vec::<&&str>::new(),
        "refused names sprig does not have"
    );
    let builtins: BTreeSet<&str> = sprig::GO_BUILTINS.iter().copied().collect();
    let callable: BTreeSet<&str> = registered
        .difference(&refused)
        .copied()
        .chain(builtins.iter().copied())
        .collect();
    let want: BTreeSet<&str> = sprig
        .union(&builtins)
        .copied()
        .filter(|n| !refused.contains(n))
        .collect();
    assert_eq!(callable, want);
    // Refused functions are registered (to fail with a reason), and nothing beyond.
    assert!(refused.is_subset(&registered));
    let known: BTreeSet<&str> = sprig.union(&builtins).copied().collect();
    assert!(
        registered.is_subset(&known),
        "{:?}",
        registered.difference(&known)
    );
    // The functions that print their result as a scalar are callable ones.
    for n in sprig::SCALAR_RESULTS {
        assert!(callable.contains(n), "{n}");
    }
}

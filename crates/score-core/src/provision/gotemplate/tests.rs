use super::*;

fn ctx(key: &[u8], fuel: u64) -> RenderContext<'_> {
    RenderContext {
        random_key: key,
        fuel,
    }
}

fn render(src: &str, data: serde_json::Value) -> Result<String, GoError> {
    GoTemplate::parse(src, Flavor::Compose, None)?.render(&data, &ctx(b"k", 1_000_000))
}

#[test]
fn renders_a_field_and_reports_a_syntax_error_position() {
    let out = render(
        "a: {{ .Params.x }}",
        serde_json::json!({"Params": {"x": 3}}),
    )
    .unwrap();
    assert_eq!(out, "a: 3");
    let e = GoTemplate::parse("x\n{{ .a", Flavor::Compose, None).unwrap_err();
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
        Flavor::Compose,
        Some(&["Uid"]),
    )
    .unwrap();
    let e = t
        .render(&serde_json::json!({"Uid": "u"}), &ctx(b"k", 100))
        .unwrap_err();
    assert_eq!(e.line, Some(2), "{e:?}");
}

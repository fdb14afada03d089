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

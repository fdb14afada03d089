"""End-to-end tests of `score-gen lsp` over stdio, driven by pytest-lsp (a real LSP client).

The binary is $SCORE_GEN (default: target/debug/score-gen of this checkout). Every test works in
its own temporary project folder.
"""

import asyncio
import os
import pathlib

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

ROOT = pathlib.Path(__file__).resolve().parents[3]
BIN = os.environ.get("SCORE_GEN", str(ROOT / "target" / "debug" / "score-gen"))

GOOD = """\
apiVersion: score.dev/v1b1
metadata:
  name: web
containers:
  main:
    image: nginx
    variables:
      DB_HOST: ${resources.db.host}
resources:
  db:
    type: postgres
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[BIN, "lsp"]))
async def client(lsp_client: LanguageClient, tmp_path: pathlib.Path):
    await lsp_client.initialize_session(
        t.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=tmp_path.as_uri(),
            workspace_folders=[t.WorkspaceFolder(uri=tmp_path.as_uri(), name="p")],
        )
    )
    lsp_client.root = tmp_path
    yield
    await lsp_client.shutdown_session()


async def open_doc(client: LanguageClient, path: pathlib.Path, text: str):
    """Opens `text` as `path` and waits for its diagnostics."""
    uri = path.as_uri()
    client.diagnostics.pop(uri, None)
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(
            text_document=t.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)
        )
    )
    return await diagnostics_of(client, uri)


async def diagnostics_of(client: LanguageClient, uri: str):
    for _ in range(200):
        if uri in client.diagnostics:
            return client.diagnostics[uri]
        await asyncio.sleep(0.01)
    raise AssertionError(f"no diagnostics published for {uri}")


async def change(client: LanguageClient, uri: str, version: int, changes):
    """Sends a change and waits for the file's new diagnostics."""
    client.diagnostics.pop(uri, None)
    client.text_document_did_change(
        t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=changes,
        )
    )


def pos(line: int, character: int) -> t.Position:
    return t.Position(line=line, character=character)


def labels(result) -> list[str]:
    items = result.items if isinstance(result, t.CompletionList) else result
    return [i.label for i in items]


async def test_diagnostics_at_their_ranges_with_codes(client: LanguageClient):
    text = GOOD.replace("    image: nginx", "    imge: nginx")
    diags = await open_doc(client, client.root / "score.yaml", text)
    by_code = {(d.code, d.range.start.line, d.range.start.character, d.range.end.character): d for d in diags}
    unknown = by_code[("score::schema::violation", 5, 4, 8)]
    assert 'unknown field "imge"' in unknown.message
    assert 'did you mean "image"?' in unknown.message
    assert unknown.severity == t.DiagnosticSeverity.Error
    # As `score-gen validate` says it: the misspelt key is the one problem (the missing `image`
    # it implies is not reported separately).
    assert len(diags) == 1, diags


async def test_completion_of_type_output_and_key(client: LanguageClient):
    text = GOOD + "    \n"
    uri = (client.root / "score.yaml").as_uri()
    await open_doc(client, client.root / "score.yaml", text)
    doc = t.TextDocumentIdentifier(uri=uri)
    # A resource type after `type: ` (line 10), from the compose target's defaults.
    types = labels(await client.text_document_completion_async(t.CompletionParams(text_document=doc, position=pos(10, 10))))
    assert {"postgres", "redis", "volume"} <= set(types), types
    # A placeholder output after `${resources.db.` (line 7).
    col = text.splitlines()[7].index("host}")
    outs = labels(await client.text_document_completion_async(t.CompletionParams(text_document=doc, position=pos(7, col))))
    assert outs == ["host", "port", "name", "database", "username", "password", "uri"]
    # A key of a resource (the empty line 11 under `db:`).
    keys = labels(await client.text_document_completion_async(t.CompletionParams(text_document=doc, position=pos(11, 4))))
    assert {"type", "class", "id", "params", "metadata"} <= set(keys), keys


async def test_hover_and_definition(client: LanguageClient):
    uri = (client.root / "score.yaml").as_uri()
    await open_doc(client, client.root / "score.yaml", GOOD)
    doc = t.TextDocumentIdentifier(uri=uri)
    h = await client.text_document_hover_async(t.HoverParams(text_document=doc, position=pos(9, 3)))
    assert "template://default/postgres" in h.contents.value
    assert "`password` (secret)" in h.contents.value
    h = await client.text_document_hover_async(t.HoverParams(text_document=doc, position=pos(5, 5)))
    assert h.contents.value.startswith("**image**")
    col = GOOD.splitlines()[7].index("db.host")
    d = await client.text_document_definition_async(t.DefinitionParams(text_document=doc, position=pos(7, col)))
    loc = d[0] if isinstance(d, list) else d
    assert loc.uri == uri
    assert (loc.range.start.line, loc.range.start.character, loc.range.end.character) == (9, 2, 4)


async def test_code_action_applied_gives_clean_diagnostics(client: LanguageClient):
    path = client.root / "score.yaml"
    uri = path.as_uri()
    text = GOOD.replace("    type: postgres", "    tpye: postgres")
    diags = await open_doc(client, path, text)
    unknown = [d for d in diags if '"tpye"' in d.message]
    assert len(unknown) == 1, diags
    actions = await client.text_document_code_action_async(
        t.CodeActionParams(
            text_document=t.TextDocumentIdentifier(uri=uri),
            range=unknown[0].range,
            context=t.CodeActionContext(diagnostics=unknown),
        )
    )
    assert len(actions) == 1 and actions[0].kind == t.CodeActionKind.QuickFix, actions
    edits = actions[0].edit.changes[uri]
    await change(
        client,
        uri,
        2,
        [t.TextDocumentContentChangePartial(range=e.range, text=e.new_text) for e in edits],
    )
    assert list(await diagnostics_of(client, uri)) == []


async def test_editing_a_provisioner_file_rechecks_score_files(client: LanguageClient):
    score = client.root / "score.yaml"
    text = GOOD.replace("type: postgres", "type: my-queue")
    diags = await open_doc(client, score, text)
    assert [d.code for d in diags] == ["score::provision::no-match"]
    assert diags[0].severity == t.DiagnosticSeverity.Warning
    prov = client.root / ".score-gen" / "compose" / "provisioners" / "queue.yaml"
    prov.parent.mkdir(parents=True)
    prov.write_text("")
    entry = "- uri: template://q\n  type: my-queu\n  outputs: |\n    host: q\n"
    assert list(await open_doc(client, prov, entry)) == []
    assert [d.code for d in await diagnostics_of(client, score.as_uri())] == ["score::provision::no-match"]
    client.diagnostics.pop(score.as_uri(), None)
    await change(
        client,
        prov.as_uri(),
        2,
        [t.TextDocumentContentChangePartial(range=t.Range(start=pos(1, 15), end=pos(1, 15)), text="e")],
    )
    assert list(await diagnostics_of(client, score.as_uri())) == []


async def test_provisioner_template_error_and_function_hover(client: LanguageClient):
    prov = client.root / "x.provisioners.yaml"
    diags = await open_doc(client, prov, "- uri: template://a\n  type: t\n  outputs: |\n    host: {{ .Init.x \n")
    assert len(diags) == 1 and diags[0].range.start.line == 3, diags
    await change(
        client,
        prov.as_uri(),
        2,
        [t.TextDocumentContentChangeWholeDocument(text="- uri: template://a\n  type: t\n  engine: minijinja\n  outputs: |\n    host: {{ init.x | upper }}\n")],
    )
    assert list(await diagnostics_of(client, prov.as_uri())) == []
    h = await client.text_document_hover_async(
        t.HoverParams(text_document=t.TextDocumentIdentifier(uri=prov.as_uri()), position=pos(4, 25))
    )
    assert "minijinja" in h.contents.value, h


async def test_unknown_method_and_bad_input_keep_serving(client: LanguageClient):
    with pytest.raises(Exception, match="does not handle"):
        await client.protocol.send_request_async("score/unknown", {})
    path = client.root / "score.yaml"
    diags = await open_doc(client, path, "apiVersion: [\n")
    assert len(diags) == 1 and diags[0].code.startswith("score::load::"), diags
    h = await client.text_document_hover_async(
        t.HoverParams(text_document=t.TextDocumentIdentifier(uri=path.as_uri()), position=pos(40, 40))
    )
    assert h is None
    # Still serving.
    diags = await open_doc(client, client.root / "b" / "score.yaml", GOOD)
    assert list(diags) == []

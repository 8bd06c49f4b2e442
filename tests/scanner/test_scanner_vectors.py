"""The shared test vectors: the same verdict from `portal verify` (Python) and the scanner page's verifier."""
from __future__ import annotations

import json
import re

import pytest

from portal import PROJECT_ROOT
from portal.scanner import vectors as generator
from portal.scanner.services import known_outcomes

VECTORS_FILE = PROJECT_ROOT / "tests" / "scanner" / "vectors.json"


def test_the_committed_vectors_are_what_the_generator_writes():
    assert VECTORS_FILE.read_text(encoding="utf-8") == generator.render(), (
        "tests/scanner/vectors.json is out of date: run .venv/bin/python -m portal.scanner.vectors")


def test_the_vectors_cover_every_outcome_and_mutation_class():
    document = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
    outcomes = {vector["outcome"] for vector in document["vectors"]}
    assert outcomes == known_outcomes()  # every outcome the portal defines
    names = " | ".join(vector["name"] for vector in document["vectors"])
    for kind in ("bit flip in version", "bit flip in valid_from", "bit flip in valid_until", "bit flip in window",
                 "bit flip in serial", "bit flip in unit", "bit flip in name", "bit flip in the padding",
                 "signature", "removed", "appended", "padding", "spare bits", "unknown key", "retired key",
                 "wrong format byte", "another key", "not yet valid"):
        assert kind in names, kind


def _python_verdict(runner, keys_file, list_file, vector) -> str:
    result = runner.invoke(args=["verify", "--keys", str(keys_file), "--revocations", str(list_file),
                                 "--at", vector["at"], "--", vector["text"]])
    found = re.search(r"^outcome: (\w+)$", result.output, re.MULTILINE)
    assert found, result.output
    return found.group(1)


_BROWSER_VERDICTS = """async ({vectors, keys, list}) => {
  const verifier = await import('/static/scanner/verifier.js');
  const settings = JSON.parse(document.getElementById('scanner-settings').textContent);
  const outcomes = new Set(Object.keys(settings.labels));
  const state = verifier.revocationState(list);
  const verifying = verifier.verifyingKeys(keys);
  return vectors.map((v) => verifier.verify(v.text, verifying, state, Date.parse(v.at), outcomes).outcome);
}"""


@pytest.mark.browser
def test_python_and_the_browser_reach_the_same_verdict_for_every_vector(runner, live_server, in_chromium, tmp_path):
    document = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
    keys_file, list_file = tmp_path / "keys.json", tmp_path / "revocations.json"
    keys_file.write_text(json.dumps(document["keys"]), encoding="utf-8")
    list_file.write_text(json.dumps(document["revocations"]), encoding="utf-8")
    python = [_python_verdict(runner, keys_file, list_file, vector) for vector in document["vectors"]]

    def in_the_browser(launch):
        context = launch().new_context(base_url=live_server)
        page = context.new_page()
        page.goto("/quet")
        return page.evaluate(_BROWSER_VERDICTS, {"vectors": document["vectors"], "keys": document["keys"],
                                                 "list": document["compact_revocations"]})

    browser = in_chromium(in_the_browser)

    expected = [vector["outcome"] for vector in document["vectors"]]
    names = [vector["name"] for vector in document["vectors"]]
    assert dict(zip(names, python, strict=True)) == dict(zip(names, expected, strict=True)), (
        "regenerate: python -m portal.scanner.vectors")
    assert dict(zip(names, browser, strict=True)) == dict(zip(names, python, strict=True))

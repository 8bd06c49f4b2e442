"""The plugin author's guide (docs/plugins.md) kept in step with the hookspecs and the plugins' setup.cfg."""
from __future__ import annotations

import configparser
import inspect
import re

import pytest

from portal import PROJECT_ROOT
from portal.plugins import ENTRY_POINT_GROUP, PROJECT_NAME, hookspecs
from portal.plugins.manager import DEFAULT_PLUGIN_NAME

DOCS = PROJECT_ROOT / "docs" / "plugins.md"
SETUP_CFGS = sorted((PROJECT_ROOT / "plugins").glob("*/setup.cfg"))
HEADING = re.compile(r"^### `(portal_\w+)\(([^)]*)\)`\s*$", re.MULTILINE)


def hookspec_functions() -> dict:
    return {name: function for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
            if hasattr(function, f"{PROJECT_NAME}_spec")}


def docs_sections() -> dict[str, tuple[list[str], str]]:
    """Return ``{hook name: (arguments in the heading, section text)}`` from the docs."""
    text = DOCS.read_text(encoding="utf-8")
    matches = list(HEADING.finditer(text))
    sections = {}
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() if following else text.find("\n## ", match.end())
        body = text[match.end():end if end != -1 else len(text)]
        arguments = [argument.strip() for argument in match.group(2).split(",") if argument.strip()]
        sections[match.group(1)] = (arguments, body)
    return sections


def test_hookspecs_are_found():
    assert len(hookspec_functions()) >= 13
    assert "portal_worker_eligibility" in hookspec_functions()


def test_every_hookspec_has_a_section_and_every_section_a_hookspec():
    assert set(docs_sections()) == set(hookspec_functions())


@pytest.mark.parametrize("name", sorted(hookspec_functions()))
def test_section_heading_gives_the_hook_arguments(name):
    arguments, _body = docs_sections()[name]
    assert arguments == list(inspect.signature(hookspec_functions()[name]).parameters)


@pytest.mark.parametrize("name", sorted(hookspec_functions()))
def test_section_starts_with_the_hookspec_summary(name):
    summary = inspect.getdoc(hookspec_functions()[name]).splitlines()[0].replace("``", "`")
    _arguments, body = docs_sections()[name]
    assert body.strip().splitlines()[0] == summary


@pytest.mark.parametrize("name", sorted(hookspec_functions()))
def test_section_says_firstresult_exactly_when_the_hookspec_is(name):
    firstresult = getattr(hookspec_functions()[name], f"{PROJECT_NAME}_spec").get("firstresult", False)
    _arguments, body = docs_sections()[name]
    assert ("Stops at first non-None result." in body) == firstresult
    assert ("Stops at first non-None result." in inspect.getdoc(hookspec_functions()[name])) == firstresult


@pytest.mark.parametrize("name", sorted(hookspec_functions()))
def test_section_has_an_example_implementing_the_hook(name):
    _arguments, body = docs_sections()[name]
    assert f"@hookimpl\ndef {name}(" in body


def test_every_portal_name_in_the_docs_is_a_hook_or_a_plugin_package():
    packages = {f"portal_{cfg.parent.name}" for cfg in SETUP_CFGS}
    mentioned = set(re.findall(r"\bportal_[a-z0-9_]+", DOCS.read_text(encoding="utf-8")))
    assert mentioned - set(hookspec_functions()) - packages == set()


def test_docs_give_the_entry_point_group():
    text = DOCS.read_text(encoding="utf-8")
    groups = re.findall(r"^\[options\.entry_points\]\n([\w.]+) =$", text, re.MULTILINE)
    assert groups == [ENTRY_POINT_GROUP]
    assert f"`{ENTRY_POINT_GROUP}`" in text


def test_docs_explain_disabling():
    text = DOCS.read_text(encoding="utf-8")
    assert "PORTAL_DISABLED_PLUGINS" in text and f"`{DEFAULT_PLUGIN_NAME}`" in text


def test_five_plugin_folders():
    assert {cfg.parent.name for cfg in SETUP_CFGS} >= {"district7", "cugi", "cangio", "industrial_zones",
                                                        "hitech_park"}


@pytest.mark.parametrize("setup_cfg", SETUP_CFGS, ids=lambda path: path.parent.name)
def test_plugin_setup_cfg_uses_the_entry_point_group(setup_cfg):
    folder = setup_cfg.parent.name
    config = configparser.ConfigParser(interpolation=None)
    config.read(setup_cfg, encoding="utf-8")
    assert config.options("options.entry_points") == [ENTRY_POINT_GROUP]
    entry_points = [line.split("=") for line in config["options.entry_points"][ENTRY_POINT_GROUP].split("\n")
                    if line.strip()]
    assert [(name.strip(), target.strip()) for name, target in entry_points] == [(folder, f"portal_{folder}")]
    assert config["metadata"]["name"] == f"portal-unit-{folder}"
    assert "greencard-portal" in config["options"]["install_requires"].split()
    assert config["options.package_data"][f"portal_{folder}"] == "translations/*/LC_MESSAGES/*"
    catalog = setup_cfg.parent / f"portal_{folder}" / "translations" / "vi" / "LC_MESSAGES" / "messages.po"
    assert catalog.is_file()

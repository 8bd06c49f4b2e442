"""The plugin author's guide (docs/plugins.md) kept in step with the hookspecs, the plugins and the one import."""
from __future__ import annotations

import ast
import builtins
import configparser
import inspect
import re
import textwrap
import types
from datetime import date

import pytest

from portal import PROJECT_ROOT
from portal.plugins import ENTRY_POINT_GROUP, PLUGIN_IMPORT, PROJECT_NAME, api, hookspecs
from portal.plugins.manager import DEFAULT_PLUGIN_NAME, build_plugin_manager

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


# -- one import for plugin authors --------------------------------------------------------

PLUGIN_MODULES = sorted((PROJECT_ROOT / "plugins").glob("*/portal_*/**/*.py"))
FIVE_ENTRY_POINTS = ("district7", "cugi", "cangio", "industrial_zones", "hitech_park")


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", DOCS.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)


def preamble() -> str:
    """Return the guide's "one import" block, which every other example assumes."""
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## The one import"):]
    return re.search(r"^```python\n(.*?)^```$", section, re.MULTILINE | re.DOTALL).group(1)


def hookspec_examples() -> dict[str, str]:
    examples = {}
    for name, function in hookspec_functions().items():
        doc = inspect.getdoc(function)
        assert "Example::\n" in doc, f"{name} has no Example::"
        examples[name] = textwrap.dedent(doc.split("Example::\n", 1)[1]).strip() + "\n"
    return examples


def examples() -> dict[str, str]:
    """Every code example plugin authors read: the hookspecs' and the guide's (its preamble aside)."""
    found = {f"hookspecs.{name}": code for name, code in hookspec_examples().items()}
    blocks = [block for block in python_blocks() if block != preamble()]
    found.update({f"docs/plugins.md#{index}": block for index, block in enumerate(blocks, start=1)})
    return found


def portal_imports(tree: ast.AST) -> list[str]:
    """Return each import of the portal in ``tree`` as written (``from portal.plugins import api, hookimpl``)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "portal":
            found.append(f"from {node.module} import {', '.join(alias.name for alias in node.names)}")
        elif isinstance(node, ast.Import):
            found += [f"import {alias.name}" for alias in node.names if alias.name.split(".")[0] == "portal"]
    return found


def free_names(tree: ast.AST) -> set[str]:
    """Return the names ``tree`` reads but neither defines, imports, nor takes as a parameter."""
    defined = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            defined |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    read = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return read - defined - set(dir(builtins))


def test_the_one_import_is_the_guide_s_and_the_hookspecs():
    assert PLUGIN_IMPORT == "from portal.plugins import api, hookimpl"
    assert portal_imports(ast.parse(preamble())) == [PLUGIN_IMPORT]
    # The hookspec module's docstring shows the same preamble its examples assume.
    assert textwrap.indent(preamble().strip(), "    ") in hookspecs.__doc__
    assert f"`{PLUGIN_IMPORT}`" in DOCS.read_text(encoding="utf-8")


@pytest.mark.parametrize("where", sorted(examples()))
def test_example_uses_only_the_one_import(where):
    tree = ast.parse(examples()[where])
    assert set(portal_imports(tree)) <= {PLUGIN_IMPORT}
    assert free_names(tree) - free_names_allowed() == set(), (
        f"{where} uses names the one import does not give: write api.<name>")
    used = {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "api"}
    assert used <= set(api.__all__), f"{where} uses api names that do not exist: {used - set(api.__all__)}"


def free_names_allowed() -> set[str]:
    """The names the preamble gives (the one import, the dates, ``_``)."""
    tree = ast.parse(preamble())
    return {(alias.asname or alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            for alias in node.names} | {"_"}


SAMPLES = {
    "unit": api.UnitDescriptor("example", "EX", "Đơn vị ví dụ", "Example unit", "UBND", "People's Committee"),
    "shift": "shift3",
    "enterprise": api.EnterpriseFacts("0301234562", "cooperative", "local_tourism", None, "Tân Phong", "Quận 7"),
    "approved_count": 150,
    "worker": api.WorkerFacts(date_of_birth=date(1990, 5, 17), sex="F", shift="shift3", job_title="Công nhân",
                              doses=(api.Dose(1, "janssen", "Janssen", 1, date(2021, 9, 1)),),
                              sector="local_tourism", business_type="cooperative"),
    "on_date": date(2021, 10, 1),
    "eligibility": api.Eligibility(True, api.Basis.VACCINATED, "", since=date(2021, 9, 15), until=date(2021, 10, 20)),
    "issued_on": date(2021, 10, 1),
    "pass_": api.PassFacts("EX-0000000001", 1, "example", "0301234562", date(2021, 10, 1), date(2021, 10, 20)),
    "reason": "Nghỉ việc",
}


@pytest.mark.parametrize("where", sorted(examples()))
def test_example_runs_with_the_one_import(where):
    """Run the example after the preamble; call each hook function it defines, then register it as a plugin."""
    module = types.ModuleType(f"portal_example_{abs(hash(where))}")
    exec(compile(preamble() + "\n" + examples()[where], where, "exec"), module.__dict__)  # noqa: S102
    hooks = [name for name in hookspec_functions() if callable(module.__dict__.get(name))]
    if where.startswith("hookspecs."):
        assert hooks == [where.removeprefix("hookspecs.")]
    for name in hooks:
        function = module.__dict__[name]
        assert hasattr(function, f"{PROJECT_NAME}_impl"), f"{where}: mark {name} with @hookimpl"
        function(**{parameter: SAMPLES[parameter] for parameter in inspect.signature(function).parameters})
    if hooks:
        # Alone (no installed unit), so that it cannot clash with one: pluggy checks its arguments.
        build_plugin_manager(disabled=FIVE_ENTRY_POINTS, extra=[module])


@pytest.mark.parametrize("module", PLUGIN_MODULES, ids=lambda path: str(path.relative_to(PROJECT_ROOT)))
def test_every_plugin_module_uses_the_one_import(module):
    tree = ast.parse(module.read_text(encoding="utf-8"))
    assert portal_imports(tree) in ([], [PLUGIN_IMPORT])

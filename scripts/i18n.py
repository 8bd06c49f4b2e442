#!/usr/bin/env python3
"""Translation catalogs: one per feature folder that owns strings, one for the core, one per plugin.

    python scripts/i18n.py compile   # build the .mo files (run by the README's commands)
    python scripts/i18n.py update [PATH ...]  # extract strings and merge them into the vi catalogs
    python scripts/i18n.py check [PATH ...]   # list strings without a Vietnamese translation (exit 1 if any)

With PATHs (e.g. ``portal/workers``), only the catalogs inside those folders are touched.

A folder ``portal/<feature>/`` owns a catalog when it has ``translations/``; the core catalog
(``portal/translations``) covers everything else under ``portal/`` and the top-level ``templates/``.
A plugin's catalog lives beside its module (``plugins/<name>/portal_<name>/translations``).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ("vi",)


def catalogs(only: list[str] | None = None) -> list[tuple[Path, list[Path], list[Path]]]:
    """Return (translations dir, source paths, paths to skip) for every catalog (or those under ``only``)."""
    portal = ROOT / "portal"
    from portal import FEATURES  # the one list of features

    feature_dirs = [portal / feature for feature in FEATURES if (portal / feature / "translations").is_dir()]
    found = [(portal / "translations", [portal, ROOT / "templates"], feature_dirs)]
    found += [(folder / "translations", [folder], []) for folder in feature_dirs]
    found += [(p, [p.parent], []) for p in sorted(ROOT.glob("plugins/*/portal_*/translations")) if p.is_dir()]
    if only:
        roots = [(ROOT / path).resolve() for path in only]
        found = [entry for entry in found
                 if any(entry[0].resolve() == r or r in entry[0].resolve().parents for r in roots)]
    return found


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract(sources: list[Path], skip: list[Path], output: Path) -> None:
    args = ["extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext", "--no-location",
            "--sort-output", "--no-wrap", "-o", str(output)]
    for path in skip:
        args += ["--ignore-dirs", path.name]
    # pybabel's --ignore-dirs matches folder names; the feature folders have distinct names.
    _pybabel(*args, *(str(s) for s in sources))


def update(only: list[str] | None = None) -> None:
    for directory, sources, skip in catalogs(only):
        directory.mkdir(parents=True, exist_ok=True)
        pot = directory / "messages.pot"
        extract(sources, skip, pot)
        for locale in LOCALES:
            po = directory / locale / "LC_MESSAGES" / "messages.po"
            if po.exists():
                _pybabel("update", "-i", str(pot), "-d", str(directory), "-l", locale, "--no-fuzzy-matching",
                         "--ignore-obsolete", "--no-wrap")
            else:
                _pybabel("init", "-i", str(pot), "-d", str(directory), "-l", locale, "--no-wrap")
        pot.unlink()


def compile_all() -> None:
    for directory, _sources, _skip in catalogs():
        if any(directory.glob("*/LC_MESSAGES/messages.po")):
            _pybabel("compile", "-d", str(directory), "--statistics")


def untranslated(only: list[str] | None = None) -> list[str]:
    """Return 'catalog: msgid' for every extracted string lacking a Vietnamese translation."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for directory, sources, skip in catalogs(only):
            pot = Path(tmp) / "messages.pot"
            extract(sources, skip, pot)
            with pot.open("rb") as handle:
                template = read_po(handle)
            po_path = directory / "vi" / "LC_MESSAGES" / "messages.po"
            translated = {}
            if po_path.exists():
                with po_path.open("rb") as handle:
                    translated = {m.id: m for m in read_po(handle) if m.id}
            for message in template:
                if not message.id:
                    continue
                found = translated.get(message.id)
                strings = found.string if found else None
                empty = not strings or (isinstance(strings, tuple) and not all(strings))
                if found is None or empty or found.fuzzy:
                    label = message.id if isinstance(message.id, str) else message.id[0]
                    problems.append(f"{directory.relative_to(ROOT)}: {label}")
    return problems


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "compile"
    if command == "compile":
        compile_all()
    elif command == "update":
        update(argv[2:])
    elif command == "check":
        problems = untranslated(argv[2:])
        print("\n".join(problems) or "every string has a Vietnamese translation")
        return 1 if problems else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""``portal storage ...``: the blob store every node reads (check it, see what it holds, empty its caches)."""
from __future__ import annotations

import uuid
from collections import Counter

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group()
def storage() -> None:
    """Files every node reads (print sheets, cached card PDFs)."""


def _backend(app) -> str:
    return app.config.get("STORAGE_BACKEND") or "database"


@storage.command("check")
@with_appcontext
def check() -> None:
    """Write, read, list and delete a test file: run it on each new node."""
    from portal.storage import blob_store

    app = current_app._get_current_object()
    store = blob_store(app)
    key = f"check/{uuid.uuid4().hex}"
    payload = b"the portal's storage check " + key.encode()
    try:
        store.put(key, payload, content_type="text/plain")
        with store.open(key) as stream:
            read = stream.read()
        listed = [info.key for info in store.list(key)]
    finally:
        deleted = store.delete(key)
    if read != payload or listed != [key] or not deleted or store.exists(key):
        raise click.ClickException(f"the {_backend(app)} blob store did not give back what was written")
    click.echo(f"The {_backend(app)} blob store works: a file was written, read, listed and deleted.")


@storage.command("usage")
@with_appcontext
def usage() -> None:
    """Count the stored files and their size, by folder."""
    from portal.storage import blob_store

    files, sizes = Counter(), Counter()
    for info in blob_store(current_app).list():
        parts = info.key.split("/")
        folder = "/".join(parts[:2]) if parts[0] == "cache" else parts[0]
        files[folder] += 1
        sizes[folder] += info.size
    click.echo(f"Blob store: {_backend(current_app)}")
    for folder in sorted(files):
        click.echo(f"  {folder + '/':24} {files[folder]:>8} files {sizes[folder] / 1e6:>10.1f} MB")
    click.echo(f"  {'total':24} {sum(files.values()):>8} files {sum(sizes.values()) / 1e6:>10.1f} MB")


@storage.command("purge-cache")
@with_appcontext
def purge_cache() -> None:
    """Delete every cached file (card PDFs): they are made again on the next download."""
    from portal.storage import blob_store
    from portal.storage.cache import ROOT, purge

    deleted, size = purge(current_app)
    click.echo(f"Deleted {deleted} cached files ({size / 1e6:.1f} MB) from the {_backend(current_app)} blob store.")
    again = sum(1 for _info in blob_store(current_app).list(ROOT))
    if again:
        click.echo(f"{again} were made again since, by downloads.")


commands = [storage]

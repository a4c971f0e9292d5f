"""docs/design.md's layout table matches the tree.

Every path in the table (the backquoted paths of a row's first cell) exists, and every file under
plugins/ and roles/server/tasks/ has a row of its own or sits under a directory row. A directory row
covers what is beneath it, but a row for plugins/, roles/ or roles/server/ (or their subdirectories
plugins/X/ and roles/server/tasks/) is too coarse to say anything and covers nothing.
"""

from __future__ import annotations

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DESIGN = os.path.join(ROOT, "docs", "design.md")
LISTED = ("plugins", os.path.join("roles", "server", "tasks"))
TOO_COARSE = {"plugins", "roles", "roles/server", "roles/server/tasks"}


def layout_rows(text):
    """The first-cell paths of the table under the '## Layout' heading."""
    section = text.split("\n## Layout", 1)[1].split("\n## ", 1)[0]
    paths = []
    for line in section.splitlines():
        if not line.startswith("|") or re.match(r"^\|\s*(path|-+)\s*\|", line):
            continue
        first = line.split("|")[1]
        paths += [path.rstrip("/") for path in re.findall(r"`([^`]+)`", first)]
    return paths


def files_to_list(root):
    found = []
    for top in LISTED:
        for directory, dirs, files in os.walk(os.path.join(root, top)):
            dirs[:] = [name for name in dirs if name != "__pycache__"]
            found += [os.path.relpath(os.path.join(directory, name), root).replace(os.sep, "/")
                      for name in files if not name.endswith(".pyc") and name != "__init__.py"]
    return sorted(found)


def unlisted(files, rows):
    directories = {row for row in rows if row not in TOO_COARSE and not re.match(r"^plugins/[^/]+$", row)}
    return [path for path in files
            if path not in rows and not any(path.startswith(directory + "/") for directory in directories)]


def read_design():
    with open(DESIGN, encoding="utf-8") as handle:
        return handle.read()


def test_every_path_in_the_layout_table_exists():
    rows = layout_rows(read_design())
    assert len(rows) > 20, rows  # the table was found and read
    missing = [path for path in rows if not os.path.lexists(os.path.join(ROOT, path))]
    assert not missing, "docs/design.md names paths that do not exist: %s" % missing


def test_every_plugin_and_task_file_is_in_the_layout_table():
    missing = unlisted(files_to_list(ROOT), layout_rows(read_design()))
    assert not missing, "docs/design.md's layout table lacks a row for: %s" % missing


def test_the_check_catches_a_missing_row_and_ignores_coarse_directory_rows():
    text = """# design
## Layout
| path | what it is |
| --- | --- |
| `plugins/modules/a.py`, `plugins/modules/b.py` | two modules |
| `roles/server/templates/` | templates |
| `plugins/filter` | too coarse |
| `roles/server` | the role |

## Flow
| `plugins/modules/c.py` | not the layout table |
"""
    rows = layout_rows(text)
    assert rows == ["plugins/modules/a.py", "plugins/modules/b.py", "roles/server/templates", "plugins/filter",
                    "roles/server"]
    files = ["plugins/modules/a.py", "plugins/modules/b.py", "plugins/modules/c.py", "plugins/filter/f.py",
             "roles/server/tasks/main.yml", "roles/server/templates/x.j2"]
    assert unlisted(files, rows) == ["plugins/modules/c.py", "plugins/filter/f.py", "roles/server/tasks/main.yml"]

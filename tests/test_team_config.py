"""A team's first edits keep the bake's ``make check`` green: a key and a table added the way
``schema.py`` says (the platform's tests check the loader against keys of their own), and a handler
that imports ``os`` and the runtime's own ``multienv.secrets`` at the top (the cold-start rule
measures against what AWS Lambda's Python runtime has loaded, not a bare interpreter). One bake and
one ``make check`` for both: each is a full run of the project's checks."""

from __future__ import annotations

import json

import pytest
from conftest import DEFAULT_ANSWERS, run_project
from test_infra import checkov_venv

PACKAGE = DEFAULT_ANSWERS["package_name"]


def add_to_schema(schema_text: str) -> str:
    """``KEYS`` with one more key in ``[service]`` and a new table, as the module's docstring says."""
    keys = 'KEYS = {\n    "service": {\n'
    assert schema_text.count(keys) == 1, "schema.py no longer opens KEYS with its [service] table"
    new_table = '    "payments": {\n        "provider": Key(str, choices=("stripe", "adyen"), doc="who takes payments"),\n    },\n'
    new_key = '        "page_size": Key(int, minimum=1, doc="items on one page"),\n'
    return schema_text.replace(keys, f'KEYS = {{\n{new_table}    "service": {{\n{new_key}')


def import_os_and_secrets(handler_text: str) -> str:
    anchor = "from multienv.env import resolve\n"
    assert handler_text.count(anchor) == 1
    text = handler_text.replace(anchor, "import os\n\nfrom multienv import secrets\n" + anchor)
    # Used, so that lint has nothing to say about the imports themselves.
    return text + '\n\nREGION = os.environ.get("AWS_REGION")\nSECRETS = secrets.Secrets\n'


@pytest.mark.slow
def test_a_key_a_table_and_handler_imports_added_the_documented_way_keep_make_check_green(bake_copy, node_modules):
    project = bake_copy().project
    schema = project / "src" / PACKAGE / "schema.py"
    schema.write_text(add_to_schema(schema.read_text(encoding="utf-8")), encoding="utf-8")
    shared = project / "config" / "shared.toml"
    text = shared.read_text(encoding="utf-8")
    assert text.count("[service]\n") == 1
    text = text.replace("[service]\n", "[service]\npage_size = 50\n") + '\n[payments]\nprovider = "stripe"\n'
    shared.write_text(text, encoding="utf-8")
    handler = project / "src" / PACKAGE / "handler.py"
    handler.write_text(import_os_and_secrets(handler.read_text(encoding="utf-8")), encoding="utf-8")

    checked = run_project(project, "check", f"CHECKOV_VENV={checkov_venv()}")
    assert checked.returncode == 0, checked.stdout[-4000:] + checked.stderr[-4000:]
    # The edit took: every environment's configuration has the new key and the new table.
    production = json.loads(run_project(project, "-s", "config", "CONFIG_ENV=prd").stdout)
    assert (production["service"]["page_size"], production["payments"]) == (50, {"provider": "stripe"})

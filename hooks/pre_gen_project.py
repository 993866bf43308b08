"""Refuse bad answers before anything is written: every problem at once, one ERROR line each, then
the command that bakes again with these answers. The rules are multienv_template.hooks.pre_gen."""

import json
import sys

sys.path.insert(0, r"""{{ multienv_template_root }}""")  # the template checkout being rendered

from multienv_template import hooks

# The answers as JSON (Jinja's tojson escapes every quote); hooks.pre_gen reads only the questions'
# keys, and _template/_output_dir for the retry command.
context = json.loads(r"""{{ cookiecutter | tojson }}""")
sys.exit(hooks.pre_gen(context))

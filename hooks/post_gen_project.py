"""Write the per-environment files, then print where the project is and the next three commands.
Offline and deterministic (a failure here deletes the bake); no git init. The rules are
multienv_template.hooks.post_gen."""

import json
import sys
from pathlib import Path

sys.path.insert(0, r"""{{ multienv_template_root }}""")  # the template checkout being rendered

from multienv_template import hooks

context = json.loads(r"""{{ cookiecutter | tojson }}""")
sys.exit(hooks.post_gen(context, Path.cwd()))

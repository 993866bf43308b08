"""Write the per-environment files. Offline and deterministic; no git init."""

import json
import sys
from pathlib import Path

sys.path.insert(0, {{ multienv_template_dir() | tojson }})

import multienv_plan

ANSWERS = json.loads(r'''{{ cookiecutter | multienv_answers | tojson }}''')

if __name__ == "__main__":
    sys.exit(multienv_plan.post_gen(ANSWERS, Path.cwd()))

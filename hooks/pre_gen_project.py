"""Reject bad answers before anything is written: all problems at once, one ERROR line each."""

import json
import sys

sys.path.insert(0, {{ multienv_template_dir() | tojson }})

import multienv_plan

ANSWERS = json.loads(r'''{{ cookiecutter | multienv_answers | tojson }}''')

if __name__ == "__main__":
    sys.exit(multienv_plan.pre_gen(ANSWERS))

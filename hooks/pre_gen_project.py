"""Reject bad answers before anything is written: all problems at once, one ERROR line each.

The lines come from multienv_plan.error_lines, evaluated while cookiecutter renders this file.
"""

import json
import sys

ERRORS = json.loads(r'''{{ cookiecutter | multienv_errors | tojson }}''')

if __name__ == "__main__":
    for line in ERRORS:
        print(line, file=sys.stderr)
    sys.exit(1 if ERRORS else 0)

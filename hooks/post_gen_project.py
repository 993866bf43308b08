"""Write the per-environment files. Offline and deterministic; no git init.

Their contents come from multienv_plan.per_environment_contents, rendered while cookiecutter
renders this file.
"""

import json
import os

FILES = json.loads(r'''{{ cookiecutter | multienv_per_environment | tojson }}''')

if __name__ == "__main__":
    for name, text in FILES.items():
        os.makedirs(os.path.dirname(name) or ".", exist_ok=True)
        with open(name, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)

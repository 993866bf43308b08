"""``python -m {{ cookiecutter.package_name }}.env [--json]``: the environment this shell resolves to.

The resolver itself is ``multienv.env`` (the runtime, kept up to date by the template).
"""

import sys

from multienv.env import main

if __name__ == "__main__":
    sys.exit(main())

"""``python -m {{ cookiecutter.package_name }}.config [--env NAME]``: the configuration of an environment.

The loader itself is ``multienv.config`` (the runtime, kept up to date by the template).
"""

import sys

from multienv.config import main

if __name__ == "__main__":
    sys.exit(main())

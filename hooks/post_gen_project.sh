#!/bin/sh
# Write the per-environment files (multienv_plan.per_environment_contents, rendered while
# cookiecutter renders this file), then print where the project is and the next three
# commands. Offline and deterministic; no git init.
{{ cookiecutter | multienv_post_gen_shell }}

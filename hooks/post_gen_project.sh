#!/bin/sh
# Write the per-environment files (multienv_plan.per_environment_contents, rendered while
# cookiecutter renders this file). Offline and deterministic; no git init.
{{ cookiecutter | multienv_post_gen_shell }}

#!/bin/sh
# Reject bad answers before anything is written: all problems at once, one ERROR line each.
# The lines come from multienv_plan.error_lines, evaluated while cookiecutter renders this file.
{{ cookiecutter | multienv_pre_gen_shell }}

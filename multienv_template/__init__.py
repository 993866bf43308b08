"""The template's own code: what the answers mean and how a bake is made. It never ships in a bake.

- ``answers``: each answer parsed and checked, every problem named at once.
- ``plan``: the answers as a validated, typed plan; the hooks, the Jinja files and the tests read it.
- ``vocabulary``: tiers, strategies, naming, personas, imported from the generated repository's
  packages in this tree (one copy of each rule).
- ``sizes``: the bake's size rule, from the policies the answers render.
- ``hooks``: what the pre- and post-generation hooks (``hooks/*.py``) do.
- ``jinja``: the Jinja extension that hands the plan to the template files (``local_extensions``).
- ``preflight``: the Python and cookiecutter version check (importable by old interpreters).
- ``bake``: ``make bake``.

Keep this file importable by old interpreters: ``preflight`` is imported through it.
"""

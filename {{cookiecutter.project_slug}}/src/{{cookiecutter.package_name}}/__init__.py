"""{{ cookiecutter.project_name }}: a service deployed across isolated AWS environments."""

"""Development and CI tooling: stacks, deploys, the local AWS, the access matrix, regeneration.

Never part of the artifact (``make build`` packs the runtime and the service only); its
dependencies are declared in platform/tools/pyproject.toml of the template repository.
"""

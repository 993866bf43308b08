"""The runtime every environment runs: which environment this is, its settings and its configuration.

Standard library only, and it ships in the artifact beside the service. The template that
generated this repository owns these modules (a regeneration updates them); the team's own
code lives in the service package next to this one.
"""

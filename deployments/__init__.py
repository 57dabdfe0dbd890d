"""What turns the flows into operated services: the bootstrap of a Prefect server, its automations, the e2e check.

`prefect.yaml` at the repository root declares the deployments; this package prepares a server for them.
"""

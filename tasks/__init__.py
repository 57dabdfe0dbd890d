"""Prefect tasks: batch-sized units of work between the connectors and the flows."""

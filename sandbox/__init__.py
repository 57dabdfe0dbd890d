"""Faithful emulators of the BigCommerce and Mirakl APIs and an ERP receiver, seeded and fault-injectable.

Nothing here imports the bridge: the emulators are written from the platforms' docs and specs.
"""

"""The base every layer above the connectors stands on: settings, configuration, the runtime, stream names.

`tasks` and `flows` import it; it imports `connectors` and `common` only. The entry points (CLI, demo) live in
`bcmirakl`, which nothing below imports.
"""

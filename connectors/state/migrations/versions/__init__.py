"""Migration scripts, one per schema revision, applied in order by `connectors.state.db.upgrade`."""

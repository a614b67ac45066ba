"""Pure clinical statistics over numpy arrays; see `data.analyzers.clinical`."""

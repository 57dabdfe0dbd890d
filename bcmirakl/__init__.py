"""The bridge's application wiring: settings, runtime (clients and state), the CLI and the demo."""

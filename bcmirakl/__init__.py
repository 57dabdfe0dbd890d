"""The bridge's entry points: the `bcmirakl` CLI, the demo, `doctor` and `status`; nothing else imports it."""

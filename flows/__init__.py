"""One Prefect flow per stream: fetch -> transform -> gate -> push -> record."""

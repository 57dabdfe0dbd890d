"""What the e2e browser check looks for is read from the summary as the UI renders it."""

from __future__ import annotations

from deployments.e2e_browser import summary_on_screen

SUMMARY = """# Offer sync (delta)

**12 changes pushed**, 3 offers quarantined: fix in [Mirakl](https://acme.mirakl.net), `0` left buyable

| measure | value |
|---|---|
| offers_read | 66 |

## Changes pushed

| SKU | price before → after | buyable |
|:---|---:|---|
| MKP-1 | 10.00 → 9.50 | yes |
"""


def test_the_verdict_is_the_first_line_as_rendered_and_the_changes_table_is_the_one_under_its_heading() -> None:
    seen = summary_on_screen(SUMMARY.replace("# Offer sync (delta)\n\n", ""), "offer-sync-delta-summary")

    assert seen.verdict == "12 changes pushed, 3 offers quarantined: fix in Mirakl, 0 left buyable"
    assert seen.headers == ("SKU", "price before → after", "buyable")


def test_without_a_changes_heading_the_first_table_is_looked_for() -> None:
    seen = summary_on_screen("# Smoke\n\n| measure | value |\n|---|---|\n| a | 1 |\n", "smoke-summary")

    assert (seen.verdict, seen.headers) == ("Smoke", ("measure", "value"))

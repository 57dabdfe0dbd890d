"""`make e2e`'s browser check: what an operator sees in the Prefect UI, in headless Chromium.

What must be seen is read from the Prefect API first, so the check follows whatever the runs publish: the
completed run's summary artifact gives its first line (the verdict) and its changes table's header (the table
under a heading about changes, else the first table); the failed run's first ERROR log line is the
plain-language failure sentence. Then the browser opens the run's Artifacts tab, finds the summary's card,
opens it and looks for that text, and opens the failed run's Logs tab and looks for the sentence. Each page is
saved as a screenshot in the e2e folder. Chromium and its driver are Debian's (`chromium`,
`chromium-driver`), which the Makefile's e2e target installs when missing; nothing is downloaded here.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

__all__ = [
    "SummaryOnScreen",
    "browser_check",
    "first_error_line",
    "summary_on_screen",
]

_WAIT_S = 30.0
# Bring the innermost element holding the text into view, so the screenshot shows what was asserted.
_SCROLL_TO_TEXT = """
const found = Array.from(document.querySelectorAll("body *")).filter(e => e.textContent.includes(arguments[0]));
if (found.length) { found[found.length - 1].scrollIntoView({block: "center"}); }
"""


@dataclass(frozen=True)
class SummaryOnScreen:
    """What a completed run's summary must show: its key, the verdict line, the changes table's column names."""

    key: str
    verdict: str
    headers: tuple[str, ...]


def summary_on_screen(markdown: str, key: str) -> SummaryOnScreen:
    """The verdict (first non-empty line, as rendered) and the changes table header of a summary artifact."""
    lines = [line.strip() for line in markdown.splitlines()]
    verdict = next((_rendered(line) for line in lines if _rendered(line)), "")
    tables = [
        (index, _cells(line))
        for index, line in enumerate(lines[:-1])
        if line.startswith("|") and re.fullmatch(r"\|(\s*:?-{3,}:?\s*\|)+", lines[index + 1])
    ]
    about_changes = [
        (index, cells)
        for index, cells in tables
        if any("change" in heading.lower() for heading in lines[max(0, index - 3) : index] if heading.startswith("#"))
    ]
    chosen = (about_changes or tables or [(0, ())])[0][1]
    return SummaryOnScreen(key=key, verdict=verdict, headers=tuple(chosen))


async def first_error_line(client: Any, flow_run_id: UUID) -> str:
    """The first line of the run's first ERROR (or worse) log message: what the Logs tab must show."""
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId, LogFilterLevel
    from prefect.client.schemas.sorting import LogSort

    logs = await client.read_logs(
        log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]), level=LogFilterLevel(ge_=40)),
        sort=LogSort.TIMESTAMP_ASC,
    )
    if not logs:
        raise AssertionError(f"failed run {flow_run_id} logged no ERROR line")
    return logs[0].message.strip().splitlines()[0].strip()


def browser_check(
    ui_url: str,
    completed: tuple[UUID, SummaryOnScreen],
    failed: tuple[UUID, str],
    screenshots: Path,
) -> list[Path]:
    """Open both runs in headless Chromium and assert what an operator must see; returns the screenshots.

    Raises AssertionError naming what was missing and the screenshot that shows the page.
    """
    from selenium.webdriver.common.by import By

    screenshots.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    run_id, summary = completed
    with _chromium() as driver:

        def shot(name: str) -> Path:
            path = screenshots / f"{name}.png"
            driver.save_screenshot(str(path))
            saved.append(path)
            return path

        driver.get(f"{ui_url}/runs/flow-run/{run_id}")
        _wait(lambda: driver.find_elements(By.CSS_SELECTOR, "li.p-tab#artifacts"), "the run page's tabs")
        driver.find_element(By.CSS_SELECTOR, "li.p-tab#artifacts").click()
        cards = _wait(
            lambda: driver.find_elements(By.XPATH, f"//*[normalize-space(.)='{summary.key}']"), summary.key, shot
        )
        shot("completed-run-artifacts")
        cards[-1].click()
        wanted = [summary.verdict, *summary.headers]
        _wait(lambda: _all_visible(driver, wanted), f"verdict {summary.verdict!r} and headers {summary.headers}", shot)
        shot("completed-run-summary")

        failed_id, sentence = failed
        driver.get(f"{ui_url}/runs/flow-run/{failed_id}")
        _wait(lambda: _all_visible(driver, [sentence]), f"failure line {sentence!r} on the Logs tab", shot)
        driver.execute_script(_SCROLL_TO_TEXT, sentence)
        shot("failed-run-logs")
    return saved


@contextmanager
def _chromium() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not browser or not driver_path:
        raise AssertionError("Chromium not found: `apt-get install chromium chromium-driver` (make e2e does)")
    options = Options()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        yield driver
    finally:
        driver.quit()


def _all_visible(driver: Any, texts: list[str]) -> bool:
    from selenium.webdriver.common.by import By

    page = _normalised(driver.find_element(By.TAG_NAME, "body").text)
    return all(_normalised(text) in page for text in texts)


def _wait(found: Callable[[], Any], what: str, shot: Callable[[str], Path] | None = None) -> Any:
    limit = time.monotonic() + _WAIT_S
    while time.monotonic() < limit:
        if result := found():
            return result
        time.sleep(0.5)
    where = f"; see {shot('missing')}" if shot else ""
    raise AssertionError(f"the Prefect UI did not show {what} within {_WAIT_S:.0f}s{where}")


def _rendered(line: str) -> str:
    """A markdown line as the UI renders it: no heading marks, emphasis, code ticks or link targets."""
    text = re.sub(r"^#+\s*|^[-*]\s+", "", line)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|\*|`)(.+?)\1", r"\2", text)
    return re.sub(r"(?<!\w)_(.+?)_(?!\w)", r"\1", text).strip()


def _cells(row: str) -> list[str]:
    return [_rendered(cell) for cell in row.strip().strip("|").split("|")]


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()

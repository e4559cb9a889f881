"""Helpers of the browser tests: call the live server's API, keep screenshots, log in."""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from pathlib import Path
from typing import Any


def http_json(url: str, token: str, body: Any = None) -> Any:
    """Call the live server's API as a client would (JSON in, JSON out)."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers)) as answer:
        return json.loads(answer.read().decode("utf-8"))


def keep_screenshot(screenshot: Path) -> None:
    """Print the screenshot's path; copy it to ``OXYROUTE_SCREENSHOT_DIR`` when that is set."""
    keep_dir = os.environ.get("OXYROUTE_SCREENSHOT_DIR")
    if keep_dir:
        Path(keep_dir).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(keep_dir) / screenshot.name)
    print(f"screenshot: {screenshot}")


def log_in(page: Any, server: str, token: str) -> None:
    """Open the page, sign in with ``token`` and wait for District 5 to be drawn."""
    page.goto(server + "/")
    page.fill("#token", token)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("body[data-region-loaded=hcmc_d5]", timeout=20_000)


def cells(page: Any, selector: str) -> list[list[str]]:
    """Return the text of each row matched by ``selector``, cell by cell.

    The rows are read in one go in the page: counting them, then reading each, raced with a
    list being drawn again in between.
    """
    texts = page.eval_on_selector_all(selector, "rows => rows.map(row => row.innerText)")
    return [text.split("\t") for text in texts]

"""The portal in a real browser: Debian's Chromium, headless, driven by Playwright.

Playwright is told to use ``/usr/bin/chromium`` and never downloads a browser of its own. Accessibility is
checked with axe-core (bundled by ``axe-playwright-python``). Without Chromium these tests skip with the reason;
in CI (CI=true) they fail instead, since ``.ci/run`` installs it.
"""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import need

CHROMIUM = os.environ.get("WALLET_TEST_CHROMIUM", "/usr/bin/chromium")
# Chromium's own background traffic would only be refused on a closed network; keep it quiet and fast.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        need(f"Chromium not found at {CHROMIUM} (apt-get install chromium), so browser tests are skipped")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need("Playwright is not installed (pip install -e '.[test]'), so browser tests are skipped")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class LiveServer:
    """The Flask app served by werkzeug in a background thread on a free loopback port."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def axe_violations(page) -> list[str]:
    """axe-core's WCAG 2.x A/AA rules on the page as it is now; one line per violation and node."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}})
    return [f"{v['id']}: {v['help']} at {node['target']}"
            for v in results.response["violations"] for node in v["nodes"]]

"""The documentation site: built with --strict as `make docs` builds it, its generated pages hold
what the code and the benchmarks say, and every page opens in headless Chromium with no broken link
or image (skipped where mkdocs or Chromium is not installed)."""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python"):
        pytest.importorskip(module, reason="the docs extra is not installed")
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "--site-dir", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def text_of(site: Path, page: str) -> str:
    html = (site / page).read_text(encoding="utf-8")
    return re.sub(r"<[^>]+>", "", html)


def test_the_reference_pages_are_generated_from_the_code(site):
    cli = text_of(site, "reference/cli.html")
    for command in ("run", "count", "estimate", "measure", "device", "import-energy", "sweep"):
        assert f"ecg-energy {command} [OPTIONS]" in cli, command
    config = text_of(site, "reference/configuration.html")
    # defaults a reader can check against `ecg-energy run --print-config`
    assert re.search(r"tracking_mode\s*str\s*\"process\"", config)
    assert re.search(r"trials\s*int\s*5\b", config)
    schema = text_of(site, "reference/results-schema.html")
    assert "schema_version" in schema and "recommendation.reason" in schema
    api = text_of(site, "reference/api.html")
    assert "measure_function" in api and "EcgEnergyError" in api


def test_results_pages_render_the_benchmark_json(site):
    # benchmarks/results/inference.json: the report's T4 time for the original, 10.48 ms
    assert "10.48" in text_of(site, "results/inference.html")
    # benchmarks/results/device_validation.json: 113 energy results, 29 boards and rounds
    validation = text_of(site, "results/device_validation.html")
    assert "113" in validation and "v1.2|NUCLEO_U575ZI_Q" in validation
    # a table inside a concept page, rendered from the same JSON: median error 17.4% over 113
    calibration = text_of(site, "concepts/device-calibration.html")
    assert "results-table" not in calibration and "0.1739" in calibration
    index = text_of(site, "results/index.html")
    for name in ("pipeline", "shared_machine", "attribution", "sweep_scaling", "real_cv"):
        assert name in index


def chromium_path() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").is_file()
                                        else None)  # fmt: skip
    if not path:
        pytest.skip("no chromium binary (install the Debian package `chromium`; `make browser`)")
    return path


@pytest.fixture()
def served(site):
    """The built site over HTTP on loopback, for the duration of one test."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_every_page_opens_with_no_broken_link_or_image(site, served):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    executable = chromium_path()
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if p.name != "404.html")  # fmt: skip
    assert len(pages) >= 30, pages
    ids: dict[str, set[str]] = {}
    problems, outside = [], []
    links: list[tuple[str, str]] = []
    start = time.monotonic()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(served)
                          or r.request.url.startswith("data:") else
                          (outside.append(r.request.url), r.abort()))  # fmt: skip
            page = context.new_page()
            page.on("pageerror", lambda e: problems.append(f"{page.url}: {e}"))
            for name in pages:
                response = page.goto(served + name, wait_until="load")
                if response is None or response.status != 200:
                    problems.append(f"{name}: HTTP {response and response.status}")
                    continue
                ids[name] = set(page.eval_on_selector_all("[id]", "e => e.map(x => x.id)"))
                images = page.eval_on_selector_all(
                    "img", "imgs => imgs.map(i => [i.currentSrc, i.complete, i.naturalWidth])"
                )
                problems += [f"{name}: broken image {src}" for src, done, width in images
                             if not (done and width > 0)]  # fmt: skip
                hrefs = page.eval_on_selector_all("a[href]", "a => a.map(x => x.href)")
                links += [(name, h) for h in hrefs]
        finally:
            browser.close()
    for name, href in links:
        url, fragment = urldefrag(href)
        if not url.startswith(served):
            continue  # a link out of the site (a paper, a project page) is not followed
        target = unquote(urlparse(url).path).lstrip("/")
        if target == "" or target.endswith("/"):
            target += "index.html"
        if not (site / target).is_file():
            problems.append(f"{name}: broken link {href}")
        elif fragment and target in ids and unquote(fragment) not in ids[target]:
            problems.append(f"{name}: no anchor #{fragment} in {target}")
    assert not problems, problems[:20]
    assert not outside, f"the site asked the network for {sorted(set(outside))[:5]}"
    assert urljoin(served, "index.html") in {h for _, h in links}
    assert time.monotonic() - start < 120


def test_the_readme_is_short_and_its_links_resolve():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme)
    local = [link for link in links if not link.startswith(("http://", "https://"))]
    assert "docs/getting-started.md" in local
    assert [link for link in local if not (ROOT / link).is_file()] == []

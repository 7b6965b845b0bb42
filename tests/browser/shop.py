"""A pretend shop for browser tests: a page on its own origin with the widget's
one script tag, and the desk environment that lets that origin embed it."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from tests.servers import StaticSite

SHOTS = os.environ.get("SCREENSHOT_DIR")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=False)


def write_shop_page(folder: Path, desk: str, *, shop: str = "demo", root: str = 'lang="en"') -> None:
    """A shop's page with the one script tag, and CSS that would wreck an unshielded widget."""
    (folder / "index.html").write_text(
        f"""<!doctype html>
<html {root}><head><meta charset="utf-8"><title>Trail Shop</title>
<style>div, button, p, li {{ font: 32px/3 fantasy !important; color: red !important; }}</style></head>
<body><h1>Trail Shop</h1><p>Tents, stoves and boots.</p>
<script src="{desk}/static/widget/widget.js" data-shop="{shop}" async></script>
</body></html>
""",
        encoding="utf-8",
    )


def shop_desk_env(site: StaticSite, **extra: str) -> dict[str, str]:
    """The desk's environment for a test with a shop page: its origin may embed the widget."""
    return {
        "WIDGET_ALLOWED_ORIGINS": site.url,
        "CHANNEL_LAYER_PREFIX": f"test-browser-{uuid.uuid4().hex[:8]}",
        **extra,
    }

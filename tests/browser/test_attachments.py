"""Files in the chat end to end, in headless Chromium: a customer sends a
photo from the widget on a shop's page, the agent sees its thumbnail with
the file name as plain text, and answers with a PDF the customer opens
through a signed link."""

from __future__ import annotations

import struct
import zlib

import pytest
from playwright.sync_api import expect

from helpdesk.tickets.models import Agent, Attachment, Ticket
from tests.browser.shop import shop_desk_env, shot, write_shop_page
from tests.factories import make_agent, make_shop, make_team

pytestmark = pytest.mark.browser

EVIL_NAME = "<img src=x onerror=alert(1)>.png"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def tiny_png() -> bytes:
    """A valid 2x2 red PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture
def desk_server_env(shop_site, tmp_path) -> dict[str, str]:
    return shop_desk_env(shop_site, MEDIA_ROOT=str(tmp_path / "media"))


@pytest.fixture
def agent(transactional_db) -> Agent:
    make_shop("demo")
    return make_agent("lena", teams=(make_team("general"),))


def test_a_photo_and_a_pdf_cross_the_chat_safely(desk_server, shop_site, shop_folder, agent, signed_in, page):
    write_shop_page(shop_folder, desk_server)
    dialogs: list[str] = []
    desk = signed_in(desk_server, agent)

    def record(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    for tab in (page, desk):
        tab.on("dialog", record)
    desk.goto(desk_server + "/desk/")
    expect(desk.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")

    # The customer starts a chat, then sends a photo with a hostile name and no text.
    page.goto(shop_site.url + "/index.html")
    page.get_by_test_id("launcher").click()
    page.get_by_test_id("prechat-name").fill("Noa Levi")
    page.get_by_test_id("prechat-email").fill("noa@example.com")
    page.get_by_test_id("prechat-submit").click()
    composer = page.get_by_test_id("composer")
    composer.fill("My tent arrived torn")
    composer.press("Enter")
    expect(page.locator('[data-testid="message"][data-seq="1"]')).to_be_visible()
    page.get_by_test_id("attach-input").set_input_files(
        files=[{"name": EVIL_NAME, "mimeType": "text/html", "buffer": tiny_png()}]
    )
    expect(page.get_by_test_id("chosen-file")).to_have_attribute("data-state", "ready")
    expect(page.get_by_test_id("send")).to_be_enabled()
    page.get_by_test_id("send").click()
    sent = page.locator('[data-testid="message"][data-seq="2"]')
    expect(sent.get_by_test_id("attachment")).to_contain_text(EVIL_NAME)
    expect(page.get_by_test_id("chosen-file")).to_have_count(0)

    # The agent opens the ticket: a thumbnail, the name as text, nothing run.
    ticket = Ticket.objects.get()
    desk.goto(f"{desk_server}/desk/tickets/{ticket.pk}/")
    expect(desk.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    photo = desk.locator('[data-testid="message"][data-seq="2"] [data-testid="attachment"]')
    expect(photo).to_have_attribute("data-kind", "image")
    expect(photo.locator(".attachment-name")).to_have_text(EVIL_NAME)
    thumbnail = photo.locator("img")
    expect(thumbnail).to_have_attribute("alt", EVIL_NAME)
    desk.wait_for_function("img => img.complete && img.naturalWidth === 2", arg=thumbnail.element_handle())
    assert desk.locator('img[src="x"]').count() == 0

    # The agent answers with a PDF and a line of text.
    desk.get_by_test_id("reply-files").set_input_files(
        files=[{"name": "return-label.pdf", "mimeType": "image/png", "buffer": PDF}]
    )
    expect(desk.get_by_test_id("chosen-file")).to_have_attribute("data-state", "ready")
    desk.get_by_test_id("reply-body").fill("Here is a return label")
    shot(desk, "desk-attachments")
    desk.get_by_test_id("reply-send").click()
    reply = desk.locator('[data-testid="message"][data-seq="3"]')
    expect(reply.get_by_test_id("attachment")).to_have_attribute("data-kind", "file")
    expect(desk.get_by_test_id("chosen-file")).to_have_count(0)

    # The customer gets a link (not an image) to the PDF, which downloads.
    theirs = page.locator('[data-testid="message"][data-author="agent"]')
    expect(theirs).to_contain_text("Here is a return label")
    link = theirs.get_by_test_id("attachment").get_by_role("link", name="return-label.pdf")
    expect(link).to_be_visible()
    assert theirs.locator("img").count() == 0
    href = link.get_attribute("href") or ""
    assert href.startswith(desk_server + "/attachments/") and "?s=" in href
    download = page.request.get(href)
    assert download.status == 200 and download.body() == PDF
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    # The customer's own photo now links to the desk too.
    expect(sent.locator("img")).to_have_attribute("alt", EVIL_NAME)
    shot(page, "widget-attachments")

    # A reload renders the thread on the server: still a thumbnail and plain text.
    desk.reload()
    photo = desk.locator('[data-testid="message"][data-seq="2"] [data-testid="attachment"]')
    expect(photo.locator(".attachment-name")).to_have_text(EVIL_NAME)
    expect(photo.locator("img")).to_have_attribute("alt", EVIL_NAME)
    expect(desk.locator('[data-testid="message"][data-seq="3"]')).to_contain_text("return-label.pdf")
    assert desk.locator('img[src="x"]').count() == 0
    assert dialogs == []
    assert sorted(Attachment.objects.values_list("content_type", flat=True)) == ["application/pdf", "image/png"]


def test_an_upload_error_is_shown_and_the_text_kept(desk_server, shop_site, shop_folder, agent, page):
    write_shop_page(shop_folder, desk_server)
    page.goto(shop_site.url + "/index.html")
    page.get_by_test_id("launcher").click()
    page.get_by_test_id("prechat-name").fill("Noa")
    page.get_by_test_id("prechat-email").fill("noa@example.com")
    page.get_by_test_id("prechat-submit").click()
    composer = page.get_by_test_id("composer")
    composer.fill("Hello")
    composer.press("Enter")
    expect(page.locator('[data-testid="message"][data-seq="1"]')).to_be_visible()

    composer.fill("See the empty file")
    page.get_by_test_id("attach-input").set_input_files(
        files=[{"name": "empty.png", "mimeType": "image/png", "buffer": b""}]
    )

    expect(page.get_by_test_id("chosen-file")).to_have_attribute("data-state", "error")
    expect(page.get_by_test_id("error")).to_contain_text("The file is empty.")
    assert composer.input_value() == "See the empty file"
    assert not Attachment.objects.exists()

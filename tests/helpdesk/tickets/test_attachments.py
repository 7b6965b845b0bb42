"""Attachments: what a file is, uploads and their limits, binding files to
messages, downloads and who may make them; and replies that would cross a
newer customer message."""

from __future__ import annotations

import os
import time
from io import StringIO
from urllib.parse import unquote

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from helpdesk.tickets import attachments
from helpdesk.tickets.models import Attachment, AuthorKind, Message
from helpdesk.tickets.services import (
    NewerMessagesError,
    attachment_upload,
    attachments_prune,
    message_post,
    ticket_note,
    ticket_reply,
)
from tests.conftest import api_client_for
from tests.factories import make_agent, make_ticket

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
GIF = b"GIF89a" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"\x00" * 64
HTML = b"<!doctype html><script>alert(1)</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ATTACHMENT_MAX_BYTES = 1024
    settings.ATTACHMENTS_PER_MESSAGE = 2
    return settings


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def agent_file(ticket, agent, name="photo.png", content=PNG) -> Attachment:
    return attachment_upload(ticket=ticket, author_kind=AuthorKind.AGENT, agent=agent, upload=upload(name, content))


def customer_file(ticket, name="photo.png", content=PNG) -> Attachment:
    return attachment_upload(ticket=ticket, author_kind=AuthorKind.CUSTOMER, upload=upload(name, content))


# What a file is: pure


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (GIF, "image/gif"),
        (b"GIF87a" + b"\x00" * 8, "image/gif"),
        (WEBP, "image/webp"),
        (PDF, "application/pdf"),
        (HTML, "application/octet-stream"),
        (SVG, "application/octet-stream"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "application/octet-stream"),
        (b"", "application/octet-stream"),
        (b"\x89PN", "application/octet-stream"),
    ],
)
def test_the_type_comes_from_the_first_bytes(head, expected):
    assert attachments.sniff_content_type(head[: attachments.SNIFF_BYTES]) == expected


def test_only_raster_images_are_shown_inline():
    assert attachments.content_disposition("a.png", "image/png").startswith("inline;")
    assert attachments.content_disposition("a.pdf", "application/pdf").startswith("attachment;")
    assert attachments.content_disposition("a.svg", "application/octet-stream").startswith("attachment;")


def test_names_are_reduced_to_a_plain_file_name():
    assert attachments.clean_name("../../etc/passwd") == "passwd"
    assert attachments.clean_name("C:\\Users\\dana\\photo.png") == "photo.png"
    assert attachments.clean_name("bad\x00name\n.pdf") == "badname.pdf"
    assert attachments.clean_name("") == "file"
    long = attachments.clean_name("x" * 300 + ".jpeg")
    assert len(long) == attachments.NAME_MAX_CHARS and long.endswith(".jpeg")


def test_content_disposition_keeps_any_name_as_utf8_with_an_ascii_fallback():
    header = attachments.content_disposition('Rechnung "März";.pdf', "application/pdf")
    assert header.startswith('attachment; filename="Rechnung _M_rz__.pdf"; ')
    assert unquote(header.split("filename*=UTF-8''")[1]) == 'Rechnung "März";.pdf'


# Uploads


def test_an_agent_uploads_a_file_and_its_type_is_sniffed_not_taken_from_the_upload(
    customer, logistics, logistics_agent
):
    ticket = make_ticket(customer, logistics)
    client = api_client_for(logistics_agent)

    response = client.post(
        f"/api/v1/tickets/{ticket.pk}/attachments/",
        {"file": upload("page.html", HTML, content_type="image/png")},
        format="multipart",
    )

    assert response.status_code == 201, response.content
    stored = Attachment.objects.get()
    assert response.json() == {
        "id": stored.pk,
        "name": "page.html",
        "size": len(HTML),
        "content_type": "application/octet-stream",
        "url": f"/attachments/{stored.pk}/page.html",
    }
    assert (stored.author_kind, stored.author_agent, stored.message) == ("agent", logistics_agent, None)
    assert "page.html" not in stored.file.name  # stored under a random name


@pytest.mark.parametrize(
    ("content", "error"),
    [(b"", "The file is empty."), (PNG * 20, "A file can have at most 1024 bytes.")],
)
def test_empty_and_too_large_uploads_are_refused_with_a_field_error(
    customer, logistics, logistics_agent, content, error
):
    ticket = make_ticket(customer, logistics)

    response = api_client_for(logistics_agent).post(
        f"/api/v1/tickets/{ticket.pk}/attachments/", {"file": upload("x.png", content)}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json() == {"file": [error]}
    assert not Attachment.objects.exists()


def test_an_upload_without_a_file_is_a_field_error(customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics)
    response = api_client_for(logistics_agent).post(f"/api/v1/tickets/{ticket.pk}/attachments/", {}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()


def test_an_author_cannot_pile_up_unsent_uploads(customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics)
    for _ in range(2 * 4):  # ATTACHMENTS_PER_MESSAGE times the allowance
        agent_file(ticket, logistics_agent)

    with pytest.raises(ValidationError) as refused:
        agent_file(ticket, logistics_agent)

    assert "file" in refused.value.message_dict


def test_uploading_to_a_ticket_of_another_team_is_not_found(customer, returns, logistics_agent):
    ticket = make_ticket(customer, returns)
    response = api_client_for(logistics_agent).post(
        f"/api/v1/tickets/{ticket.pk}/attachments/", {"file": upload("x.png", PNG)}, format="multipart"
    )
    assert response.status_code == 404
    assert not Attachment.objects.exists()


def test_unsent_uploads_older_than_a_day_are_pruned_with_their_files(customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics)
    old, fresh = agent_file(ticket, logistics_agent), agent_file(ticket, logistics_agent)
    sent = agent_file(ticket, logistics_agent)
    ticket_reply(ticket=ticket, agent=logistics_agent, body="", attachments=[sent.pk])
    Attachment.objects.filter(pk__in=[old.pk, sent.pk]).update(created_at=old.created_at.replace(year=2000))
    path = old.file.path

    out = StringIO()
    call_command("attachments_prune", stdout=out)

    assert out.getvalue().strip() == "Deleted 1 unsent attachment(s)."
    assert set(Attachment.objects.values_list("pk", flat=True)) == {fresh.pk, sent.pk}
    assert not os.path.exists(path)
    assert attachments_prune() == 0


# Sending files with a message


def test_a_reply_carries_its_files_and_may_be_files_only(customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics)
    photo, manual = agent_file(ticket, logistics_agent), agent_file(ticket, logistics_agent, "manual.pdf", PDF)

    response = api_client_for(logistics_agent).post(
        f"/api/v1/tickets/{ticket.pk}/reply/", {"attachments": [photo.pk, manual.pk]}, format="json"
    )

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["body"] == ""
    assert [(a["name"], a["content_type"]) for a in data["attachments"]] == [
        ("photo.png", "image/png"),
        ("manual.pdf", "application/pdf"),
    ]
    assert set(Attachment.objects.values_list("message_id", flat=True)) == {data["id"]}


def test_an_empty_message_without_files_is_still_refused(customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics)
    response = api_client_for(logistics_agent).post(
        f"/api/v1/tickets/{ticket.pk}/reply/", {"body": "  "}, format="json"
    )
    assert response.status_code == 400 and "body" in response.json()


def foreign_files(ticket, other_ticket, agent, other_agent):
    """Files a message on ``ticket`` by ``agent`` may not carry."""
    sent = agent_file(ticket, agent)
    ticket_note(ticket=ticket, agent=agent, body="see photo", attachments=[sent.pk])
    return {
        "another ticket's": agent_file(other_ticket, agent),
        "another agent's": agent_file(ticket, other_agent),
        "the customer's": customer_file(ticket),
        "already sent": sent,
    }


def test_a_message_cannot_carry_files_it_may_not_bind_and_then_stores_nothing(customer, logistics, logistics_agent):
    ticket, other_ticket = make_ticket(customer, logistics), make_ticket(customer, logistics)
    colleague = make_agent("colleague", teams=(logistics,))
    mine = agent_file(ticket, logistics_agent)
    client = api_client_for(logistics_agent)

    for label, foreign in foreign_files(ticket, other_ticket, logistics_agent, colleague).items():
        before = Message.objects.count()
        response = client.post(
            f"/api/v1/tickets/{ticket.pk}/reply/",
            {"body": "Here you go", "attachments": [mine.pk, foreign.pk]},
            format="json",
        )
        assert response.status_code == 400, label
        assert "attachments" in response.json(), label
        assert Message.objects.count() == before, label
        mine.refresh_from_db()
        assert mine.message is None, label
    response = client.post(f"/api/v1/tickets/{ticket.pk}/reply/", {"attachments": [999999]}, format="json")
    assert response.status_code == 400 and "attachments" in response.json()


def test_too_many_files_for_one_message_are_refused(customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics)
    ids = [agent_file(ticket, logistics_agent).pk for _ in range(3)]

    response = api_client_for(logistics_agent).post(
        f"/api/v1/tickets/{ticket.pk}/reply/", {"body": "x", "attachments": ids}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"attachments": ["A message can carry at most 2 files."]}


def test_a_retry_with_the_same_client_id_returns_the_message_with_its_files(customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics)
    photo = agent_file(ticket, logistics_agent)
    client = api_client_for(logistics_agent)
    body = {"body": "Photo", "attachments": [photo.pk], "client_msg_id": "c-1"}

    first = client.post(f"/api/v1/tickets/{ticket.pk}/reply/", body, format="json")
    again = client.post(f"/api/v1/tickets/{ticket.pk}/reply/", body, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert [a["id"] for a in again.json()["attachments"]] == [photo.pk]


def test_customer_files_go_with_customer_messages(customer, logistics):
    ticket = make_ticket(customer, logistics)
    photo = customer_file(ticket)

    posted = message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body="", attachments=[photo.pk])

    assert list(posted.message.attachments.all()) == [photo]


# Downloads


def signed_link(attachment: Attachment) -> str:
    return attachments.customer_link(attachment.pk, attachment.name)


def test_an_agent_downloads_with_safe_headers(customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics)
    photo = agent_file(ticket, logistics_agent)
    page = agent_file(ticket, logistics_agent, "<b>page</b>.html", HTML)
    client = Client()
    client.force_login(logistics_agent.user)

    image = client.get(f"/attachments/{photo.pk}/photo.png")
    html = client.get(attachments.download_path(page.pk, page.name))

    assert image.status_code == 200 and image.getvalue() == PNG
    assert image["Content-Type"] == "image/png"
    assert image["Content-Disposition"] == "inline; filename=\"photo.png\"; filename*=UTF-8''photo.png"
    assert html.status_code == 200 and html.getvalue() == HTML
    assert html["Content-Type"] == "application/octet-stream"
    assert html["Content-Disposition"].startswith("attachment; ")
    for response in (image, html):
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert response["Cache-Control"] == "private"


def test_agents_of_other_teams_and_strangers_cannot_download(customer, logistics, logistics_agent, returns_agent):
    ticket = make_ticket(customer, logistics)
    photo = agent_file(ticket, logistics_agent)
    path = attachments.download_path(photo.pk, photo.name)
    other_team = Client()
    other_team.force_login(returns_agent.user)

    assert other_team.get(path).status_code == 404
    anonymous = Client().get(path)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert Client().get(f"/attachments/{photo.pk + 1000}/x.png").status_code == 302


def test_a_customer_downloads_a_public_message_file_with_a_signed_link_only(customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics)
    photo = agent_file(ticket, logistics_agent)
    ticket_reply(ticket=ticket, agent=logistics_agent, body="", attachments=[photo.pk])
    link = signed_link(photo)

    response = Client().get(link)

    assert response.status_code == 200 and response.getvalue() == PNG
    assert response["X-Content-Type-Options"] == "nosniff"
    assert Client().get(link + "x").status_code == 403
    assert Client().get(link.replace(f"/{photo.pk}/", f"/{photo.pk + 1}/")).status_code == 403


def test_a_signed_link_expires(customer, logistics, logistics_agent, settings, monkeypatch):
    ticket = make_ticket(customer, logistics)
    photo = agent_file(ticket, logistics_agent)
    ticket_reply(ticket=ticket, agent=logistics_agent, body="", attachments=[photo.pk])
    link = signed_link(photo)
    settings.ATTACHMENT_LINK_SECONDS = 60
    later = time.time() + 120
    monkeypatch.setattr("time.time", lambda: later)

    assert Client().get(link).status_code == 403


def test_signed_links_never_open_notes_or_unsent_files(customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics)
    in_note, unsent = agent_file(ticket, logistics_agent), agent_file(ticket, logistics_agent)
    ticket_note(ticket=ticket, agent=logistics_agent, body="internal", attachments=[in_note.pk])

    assert Client().get(signed_link(in_note)).status_code == 404
    assert Client().get(signed_link(unsent)).status_code == 404


# Replies that would cross a newer customer message


def test_a_reply_that_would_cross_a_newer_customer_message_is_refused(customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics)  # seq 1
    message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body="Also, it's the blue one")  # seq 2

    with pytest.raises(NewerMessagesError) as refused:
        ticket_reply(ticket=ticket, agent=logistics_agent, body="On its way", seen_seq=1)

    assert refused.value.seqs == [2]
    assert Message.objects.filter(ticket=ticket).count() == 2
    assert ticket_reply(ticket=ticket, agent=logistics_agent, body="On its way", seen_seq=2).created
    assert ticket_note(ticket=ticket, agent=logistics_agent, body="note", seen_seq=0).created
    assert ticket_reply(ticket=ticket, agent=logistics_agent, body="no seen_seq: as before").created


def test_the_reply_api_answers_409_and_stores_nothing(customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics)
    message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body="Hello?")
    photo = agent_file(ticket, logistics_agent)
    client = api_client_for(logistics_agent)

    response = client.post(
        f"/api/v1/tickets/{ticket.pk}/reply/",
        {"body": "Sure", "seen_seq": 1, "attachments": [photo.pk]},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "newer_messages" and response.json()["newer_seqs"] == [2]
    assert Message.objects.filter(ticket=ticket).count() == 2
    photo.refresh_from_db()
    assert photo.message is None
    sent = client.post(
        f"/api/v1/tickets/{ticket.pk}/reply/",
        {"body": "Sure", "seen_seq": 2, "attachments": [photo.pk]},
        format="json",
    )
    assert sent.status_code == 201


def test_agent_messages_after_seen_seq_do_not_hold_a_reply(customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics)
    ticket_reply(ticket=ticket, agent=logistics_agent, body="first")
    ticket_note(ticket=ticket, agent=logistics_agent, body="a note")

    assert ticket_reply(ticket=ticket, agent=logistics_agent, body="second", seen_seq=1).created

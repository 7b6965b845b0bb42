"""GET /attachments/<id>/<name>: the only way attachment files leave the desk.

Agents fetch with their session and see attachments of tickets they may
see (anything else is a 404). Customers' widgets run on the shop's origin
without cookies, so their frames carry signed, expiring links instead
(helpdesk.tickets.attachments.customer_link). Every answer is a download the
browser may not sniff or run: only raster images are shown inline.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from helpdesk.tickets import attachments
from helpdesk.tickets.models import Attachment
from helpdesk.tickets.selectors import agent_for_user, attachment_for_agent, attachment_for_customer_link


@require_GET
def attachment_download(request: HttpRequest, attachment_id: int, name: str = "") -> HttpResponseBase:
    token = request.GET.get("s", "")
    found: Attachment | None
    if token:
        if not attachments.customer_link_valid(token, attachment_id):
            return HttpResponse(
                "This link has expired or is not valid. Reopen the chat to get a fresh one.",
                status=403,
                content_type="text/plain; charset=utf-8",
            )
        found = attachment_for_customer_link(attachment_id=attachment_id)
    else:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        agent = agent_for_user(request.user)
        found = attachment_for_agent(agent=agent, attachment_id=attachment_id) if agent is not None else None
    if found is None:
        raise Http404("No such attachment.")
    try:
        handle = found.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is gone.") from None
    response = FileResponse(handle, content_type=found.content_type)
    response["Content-Disposition"] = attachments.content_disposition(found.name, found.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private"
    # The widget shows images from the desk's origin on the shop's page.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Referrer-Policy"] = "no-referrer"
    return response

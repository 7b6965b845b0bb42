"""Agent API for tickets, teams and agents, and the token sign-in.

Each view parses input, calls one selector or service and shapes the output.
A ticket the agent may not see is a 404, never a 403, so ids leak nothing.
"""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.api import JSONParser, KeysetPagination, StrictFilterBackend
from helpdesk.tickets import selectors, services
from helpdesk.tickets.filters import TicketFilter
from helpdesk.tickets.models import AuthorKind, SentimentLabel, Ticket, TicketCategory, TicketPriority, TicketStatus
from helpdesk.tickets.placeholders import placeholders_render
from helpdesk.tickets.sentiment_services import message_sentiment_correct
from helpdesk.tickets.serializers import (
    AgentSerializer,
    AgentTokenInputSerializer,
    AttachmentSerializer,
    AttachmentUploadInputSerializer,
    CannedReplySerializer,
    MessageInputSerializer,
    MessageSerializer,
    SentimentCorrectionInputSerializer,
    TeamSerializer,
    TicketAssignInputSerializer,
    TicketDetailSerializer,
    TicketMergeInputSerializer,
    TicketSerializer,
    TicketUpdateInputSerializer,
    TokenSerializer,
)


class TicketPagination(KeysetPagination):
    ordering = ("-created_at", "-id")


class AgentTokenView(APIView):
    """Exchange a desk agent's username and password for an API token."""

    # No session here: the endpoint is for clients that have none, and CSRF does not apply.
    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(request=AgentTokenInputSerializer, responses={200: TokenSerializer}, auth=[])
    def post(self, request: Request) -> Response:
        serializer = AgentTokenInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response(TokenSerializer({"token": token.key}).data)


class TicketViewSet(viewsets.GenericViewSet):
    serializer_class = TicketSerializer
    filterset_class = TicketFilter
    filter_backends = [StrictFilterBackend]
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    pagination_class = TicketPagination
    lookup_value_regex = r"\d+"
    queryset = Ticket.objects.none()  # for schema generation; requests use the selectors

    def get_queryset(self):
        return selectors.ticket_list(agent=self.request.agent).prefetch_related("tags")

    def _ticket(self, pk: str) -> Ticket:
        try:
            return selectors.ticket_get(agent=self.request.agent, ticket_id=int(pk))
        except Ticket.DoesNotExist:
            raise NotFound() from None

    def _detail(self, pk: str | int) -> Response:
        try:
            ticket = selectors.ticket_detail(agent=self.request.agent, ticket_id=int(pk))
        except Ticket.DoesNotExist:
            raise NotFound() from None
        return Response(TicketDetailSerializer(ticket).data)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(TicketSerializer(page, many=True).data)

    @extend_schema(responses={200: {"type": "object", "additionalProperties": {"type": "integer"}}})
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def queues(self, request: Request) -> Response:
        """How many tickets each of the inbox queues holds for the signed-in agent."""
        return Response(selectors.ticket_queue_counts(agent=request.agent))

    @extend_schema(responses=TicketDetailSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return self._detail(pk)

    @extend_schema(request=TicketUpdateInputSerializer, responses=TicketDetailSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        """Change status, priority, category, tags and the linked order together: all of them or none."""
        ticket = self._ticket(pk)
        serializer = TicketUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes, agent = serializer.validated_data, request.agent
        with transaction.atomic():
            if "priority" in changes:
                services.ticket_set_priority(
                    ticket=ticket, actor=agent, priority=TicketPriority(changes["priority"]), reason="set by agent"
                )
            if "category" in changes:
                services.ticket_set_category(
                    ticket=ticket, actor=agent, category=TicketCategory(changes["category"]), reason="set by agent"
                )
            if "tags" in changes:
                services.ticket_set_tags(ticket=ticket, actor=agent, tags=changes["tags"])
            if "order" in changes:
                order = None
                if changes["order"] is not None:
                    order = selectors.order_for_ticket(ticket=ticket, ref=changes["order"])
                    if order is None:
                        raise ValidationError({"order": ["No order with that number."]})
                services.ticket_link_order(ticket=ticket, actor=agent, order=order)
            if "status" in changes:
                services.ticket_set_status(ticket=ticket, actor=agent, status=TicketStatus(changes["status"]))
        return self._detail(pk)

    def _post_message(self, request: Request, pk: str, *, internal: bool) -> Response:
        ticket = self._ticket(pk)
        serializer = MessageInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        post = services.ticket_note if internal else services.ticket_reply
        try:
            posted = post(ticket=ticket, agent=request.agent, **serializer.validated_data)
        except services.NewerMessagesError as newer:
            return Response(
                {
                    "detail": "The customer wrote again after the messages you have seen. "
                    "Read their new messages, then send your reply again.",
                    "code": "newer_messages",
                    "newer_seqs": newer.seqs,
                },
                status=status.HTTP_409_CONFLICT,
            )
        return Response(
            MessageSerializer(posted.message).data,
            status=status.HTTP_201_CREATED if posted.created else status.HTTP_200_OK,
        )

    @extend_schema(
        request=MessageInputSerializer,
        responses={201: MessageSerializer, 200: MessageSerializer, 409: {"type": "object"}},
        description="Reply to the customer. A retry with the same client_msg_id returns the stored message (200). "
        "With seen_seq, a reply is refused (409, code newer_messages) while the customer has written after it.",
    )
    @action(detail=True, methods=["post"])
    def reply(self, request: Request, pk: str) -> Response:
        return self._post_message(request, pk, internal=False)

    @extend_schema(
        request=MessageInputSerializer,
        responses={201: MessageSerializer, 200: MessageSerializer},
        description="Add an internal note. A retry with the same client_msg_id returns the stored note (200).",
    )
    @action(detail=True, methods=["post"])
    def notes(self, request: Request, pk: str) -> Response:
        return self._post_message(request, pk, internal=True)

    @extend_schema(request=AttachmentUploadInputSerializer, responses={201: AttachmentSerializer})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def attachments(self, request: Request, pk: str) -> Response:
        """Upload one file (multipart, field ``file``) to send with a reply or note: pass its id in
        ``attachments``. The type is read from the content; unsent uploads are deleted after a day."""
        ticket = self._ticket(pk)
        serializer = AttachmentUploadInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attachment = services.attachment_upload(
            ticket=ticket,
            author_kind=AuthorKind.AGENT,
            agent=request.agent,
            upload=serializer.validated_data["file"],
        )
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SentimentCorrectionInputSerializer, responses=MessageSerializer)
    @action(detail=True, methods=["post"], url_path=r"messages/(?P<seq>\d+)/sentiment")
    def sentiment(self, request: Request, pk: str, seq: str) -> Response:
        """Correct the sentiment tag of one of the customer's messages; the model's tag stays beside it."""
        ticket = self._ticket(pk)
        message = ticket.messages.filter(seq=int(seq)).first()
        if message is None:
            raise NotFound()
        serializer = SentimentCorrectionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = message_sentiment_correct(
            message=message, agent=request.agent, label=SentimentLabel(serializer.validated_data["label"])
        )
        return Response(MessageSerializer(message).data)

    @extend_schema(responses=CannedReplySerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def canned(self, request: Request, pk: str) -> Response:
        """Canned replies the agent may use, filled in for this ticket; ``missing`` names
        the placeholders that had no value (they render empty)."""
        ticket = self._ticket(pk)
        values = selectors.placeholder_values(ticket=ticket, agent=request.agent)
        rows = []
        for reply in selectors.canned_reply_list(agent=request.agent):
            rendered = placeholders_render(reply.body, values)
            rows.append({"id": reply.pk, "title": reply.title, "body": rendered.text, "missing": rendered.missing})
        return Response(CannedReplySerializer(rows, many=True).data)

    @extend_schema(request=TicketMergeInputSerializer, responses=TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: str) -> Response:
        """Merge this ticket into another of the same customer: this one closes and
        points at it; the other gets this conversation as an internal note."""
        source = self._ticket(pk)
        serializer = TicketMergeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        target = self._ticket(serializer.validated_data["into"])
        services.ticket_merge(source=source, target=target, actor=request.agent)
        return self._detail(pk)

    @extend_schema(request=TicketAssignInputSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str) -> Response:
        """Give the ticket to an agent (null: back to the team queue), optionally moving it to another team."""
        ticket = self._ticket(pk)
        serializer = TicketAssignInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The ticket may have left the agent's teams now, so answer from the service's row, not the scoped read.
        ticket = services.ticket_assign(ticket=ticket, actor=request.agent, **serializer.validated_data)
        return Response(TicketSerializer(ticket).data)


class TeamListView(generics.ListAPIView):
    serializer_class = TeamSerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.team_list()


class AgentListView(generics.ListAPIView):
    serializer_class = AgentSerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.agent_list()

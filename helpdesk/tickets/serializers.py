"""The JSON shapes of the ticket API: outputs read prefetched rows only,
inputs are strict (unknown keys are an error)."""

from __future__ import annotations

from django.contrib.auth import authenticate
from rest_framework import serializers

from helpdesk.api import StrictInputSerializer
from helpdesk.tickets import selectors
from helpdesk.tickets.attachments import download_path
from helpdesk.tickets.models import (
    Agent,
    Attachment,
    Message,
    SentimentLabel,
    Team,
    Ticket,
    TicketCategory,
    TicketEvent,
    TicketPriority,
    TicketStatus,
)

# Outputs


class TeamRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["slug", "name"]


class AgentRefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")

    class Meta:
        model = Agent
        fields = ["id", "name"]


class CustomerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()


class OrderRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


class TicketSerializer(serializers.ModelSerializer):
    team = TeamRefSerializer()
    assignee = AgentRefSerializer(allow_null=True)
    customer = CustomerRefSerializer()
    order = OrderRefSerializer(allow_null=True)
    tags: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "id",
            "subject",
            "status",
            "priority",
            "category",
            "channel",
            "team",
            "assignee",
            "customer",
            "order",
            "tags",
            "merged_into",
            "created_at",
            "updated_at",
            "first_response_at",
            "last_seq",
            "sla_due_at",
            "sla_breached_at",
            "sentiment",
            "sentiment_trend",
            "sentiment_recovered_at",
        ]
        read_only_fields = fields


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Download path; needs the agent's session or token.")

    class Meta:
        model = Attachment
        fields = ["id", "name", "size", "content_type", "url"]
        read_only_fields = fields

    def get_url(self, attachment: Attachment) -> str:
        return download_path(attachment.pk, attachment.name)


class MessageSerializer(serializers.ModelSerializer):
    author = AgentRefSerializer(source="author_agent", allow_null=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "seq",
            "author_kind",
            "author",
            "internal",
            "body",
            "created_at",
            "client_msg_id",
            "attachments",
            "sentiment",
            "sentiment_confidence",
            "sentiment_model",
            "sentiment_corrected",
        ]
        read_only_fields = fields


class SentimentCorrectionInputSerializer(StrictInputSerializer):
    # DRF takes declared fields off the class, so "label" does not replace Field.label.
    label = serializers.ChoiceField(choices=SentimentLabel.choices)  # type: ignore[assignment]


class TicketEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.display_name", allow_null=True, default=None)

    class Meta:
        model = TicketEvent
        fields = ["kind", "actor", "data", "created_at"]
        read_only_fields = fields


class TicketDetailSerializer(TicketSerializer):
    messages = MessageSerializer(many=True)
    events = TicketEventSerializer(many=True)

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "solved_at", "closed_at", "messages", "events"]
        read_only_fields = fields


class AgentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")
    teams: serializers.SlugRelatedField[Team] = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True
    )

    class Meta:
        model = Agent
        fields = ["id", "name", "role", "teams", "status"]
        read_only_fields = fields


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["slug", "name", "description"]
        read_only_fields = fields


# Inputs


class MessageInputSerializer(StrictInputSerializer):
    # The service strips and length-checks the body; it may be empty only with attachments.
    body = serializers.CharField(trim_whitespace=False, allow_blank=True, required=False, default="")
    client_msg_id = serializers.CharField(max_length=64, required=False, allow_null=True, allow_blank=True)
    attachments = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=list,
        help_text="Ids of files uploaded to this ticket with POST .../attachments/ and not sent yet.",
    )
    seen_seq = serializers.IntegerField(
        min_value=0,
        required=False,
        allow_null=True,
        default=None,
        help_text="The newest message seq the agent has seen; a reply is refused (409) when the customer "
        "wrote after it. Notes ignore it.",
    )


class AttachmentUploadInputSerializer(StrictInputSerializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False)


class TicketAssignInputSerializer(StrictInputSerializer):
    assignee = serializers.PrimaryKeyRelatedField(queryset=selectors.agent_list(), allow_null=True)
    team = serializers.SlugRelatedField(slug_field="slug", queryset=selectors.team_list(), required=False)


class TicketUpdateInputSerializer(StrictInputSerializer):
    status = serializers.ChoiceField(choices=TicketStatus.choices, required=False)
    priority = serializers.ChoiceField(choices=TicketPriority.choices, required=False)
    category = serializers.ChoiceField(choices=TicketCategory.choices, required=False, allow_blank=True)
    # The whole new set; the service normalises and checks each tag.
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100, allow_blank=True, trim_whitespace=False),
        max_length=100,
        required=False,
    )
    order = serializers.CharField(
        max_length=50, allow_null=True, required=False, help_text="An order number or id of the customer; null unlinks."
    )


class TicketMergeInputSerializer(StrictInputSerializer):
    into = serializers.IntegerField(min_value=1, help_text="The ticket this one is merged into.")


class AgentTokenInputSerializer(StrictInputSerializer):
    username = serializers.CharField()
    password = serializers.CharField(trim_whitespace=False, write_only=True, style={"input_type": "password"})

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        user = authenticate(self.context.get("request"), username=attrs["username"], password=attrs["password"])
        # One message for a wrong password and for a user who is not a desk agent.
        if user is None or selectors.agent_for_user(user) is None:
            raise serializers.ValidationError(
                {"non_field_errors": ["Unable to sign in with these credentials."]}, code="authorization"
            )
        attrs["user"] = user
        return attrs


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class CannedReplySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField(help_text="Rendered for the ticket and the requesting agent.")
    missing = serializers.ListField(child=serializers.CharField(), help_text="Placeholders that had no value.")

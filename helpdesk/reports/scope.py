"""What a report covers: a period of days and optional team, agent, channel
and category. Parsed from the query string by ``ScopeForm``; a bad value is a
400 naming the parameter. Tickets are counted in the period they were opened
in (created_at), so a figure and the inbox list behind it agree."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.urls import reverse
from django.utils import timezone

from helpdesk.tickets.filters import CATEGORY_CHOICES, NONE
from helpdesk.tickets.models import Agent, Team, TicketCategory, TicketChannel

DEFAULT_DAYS = 30
MAX_DAYS = 366


@dataclass(frozen=True)
class ReportScope:
    date_from: date  # first day, inclusive, in the desk's time zone
    date_to: date  # last day, inclusive
    team: Team | None = None
    agent: Agent | None = None
    channel: str = ""
    category: str | None = None  # None: any; "" (TicketCategory.UNSORTED): unsorted

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.date_from, time.min))

    @property
    def end(self) -> datetime:
        """Exclusive: midnight after the last day."""
        return timezone.make_aware(datetime.combine(self.date_to + timedelta(days=1), time.min))

    def previous(self) -> ReportScope:
        """The same number of days right before this period."""
        return replace(
            self, date_from=self.date_from - timedelta(days=self.days), date_to=self.date_from - timedelta(days=1)
        )

    def query(self) -> dict[str, str]:
        """The scope as report query parameters (what ScopeForm reads)."""
        params = {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()}
        if self.team is not None:
            params["team"] = self.team.slug
        if self.agent is not None:
            params["agent"] = str(self.agent.pk)
        if self.channel:
            params["channel"] = self.channel
        if self.category is not None:
            params["category"] = self.category or NONE
        return params

    def inbox_url(self, **extra: str | int) -> str:
        """The inbox list of the tickets behind a figure: this scope as inbox
        filters plus ``extra`` (more TicketFilter parameters)."""
        params: dict[str, str | int] = {
            "created_from": self.date_from.isoformat(),
            "created_to": self.date_to.isoformat(),
            "merged": "false",  # reports leave out tickets merged into another
        }
        if self.team is not None:
            params["team"] = self.team.slug
        if self.agent is not None:
            params["assignee"] = self.agent.pk
        if self.channel:
            params["channel"] = self.channel
        if self.category is not None:
            params["category"] = self.category or NONE
        params.update(extra)
        return reverse("inbox") + "?" + urlencode(params)


class ScopeForm(forms.Form):
    from_ = forms.DateField(required=False, label="From")
    to = forms.DateField(required=False)
    team = forms.ModelChoiceField(queryset=Team.objects.all(), to_field_name="slug", required=False)
    agent = forms.ModelChoiceField(queryset=Agent.objects.all(), required=False)
    channel = forms.ChoiceField(choices=[("", "Any"), *TicketChannel.choices], required=False)
    category = forms.ChoiceField(choices=[("", "Any"), *CATEGORY_CHOICES], required=False)

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        # "from" is a keyword in Python; the form field is from_.
        if data is not None:
            data = data.copy()
            if "from" in data:
                data["from_"] = data["from"]
        super().__init__(data, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        today = timezone.localdate()
        date_to = cleaned.get("to") or today
        date_from = cleaned.get("from_") or date_to - timedelta(days=DEFAULT_DAYS - 1)
        if date_from > date_to:
            raise forms.ValidationError({"from_": "The period starts after it ends."})
        if (date_to - date_from).days + 1 > MAX_DAYS:
            raise forms.ValidationError({"from_": f"A report covers at most {MAX_DAYS} days."})
        cleaned["from_"], cleaned["to"] = date_from, date_to
        return cleaned

    def scope(self) -> ReportScope:
        """Call after is_valid()."""
        data = self.cleaned_data
        category = data.get("category") or None
        return ReportScope(
            date_from=data["from_"],
            date_to=data["to"],
            team=data.get("team"),
            agent=data.get("agent"),
            channel=data.get("channel") or "",
            category=TicketCategory.UNSORTED if category == NONE else category,
        )

    def field_errors(self) -> dict[str, list[str]]:
        """Errors keyed by query parameter name ("from", not "from_")."""
        return {("from" if k == "from_" else k): [str(m) for m in v] for k, v in self.errors.items()}

"""Admin screens for routing: the ordered rules and the category keyword sets.
Managers (and superusers) edit them; other agents may read them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from helpdesk.admin_scope import AgentScopedAdmin, desk_agent
from helpdesk.customers.models import CustomerTier, OrderStatus
from helpdesk.tickets.models import CategoryKeywords, RoutingRule, TicketCategory, TicketChannel
from helpdesk.tickets.routing import words

SENTIMENTS = [("negative", "Negative"), ("neutral", "Neutral"), ("positive", "Positive")]
LANGUAGES = [("en", "English (and other Latin-script text)"), ("he", "Hebrew"), ("fa", "Persian"), ("ar", "Arabic")]
LIST_FIELDS = {
    "categories": [c for c in TicketCategory.choices if c[0]],
    "channels": TicketChannel.choices,
    "sentiments": SENTIMENTS,
    "tiers": CustomerTier.choices,
    "order_statuses": OrderStatus.choices,
    "languages": LANGUAGES,
}
CONDITION_FIELDS = (*LIST_FIELDS, "keywords", "min_lifetime_value", "business_hours")


class ManagerEditedAdmin(AgentScopedAdmin):
    """Every agent may read; managers and holders of the model permissions edit."""

    def _may_edit(self, request: HttpRequest, perm: str) -> bool:
        agent = desk_agent(request)
        return bool(agent and agent.is_manager) or request.user.has_perm(
            f"{self.opts.app_label}.{perm}_{self.opts.model_name}"  # type: ignore[attr-defined]
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may_edit(request, "add")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request, "change")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request, "delete") and not (obj is not None and getattr(obj, "is_default", False))


def _keywords_clean(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    bad = [line for line in lines if not words(line)]
    if bad:
        raise forms.ValidationError(f"These lines hold no word: {', '.join(bad[:3])}")
    return "\n".join(lines)


class RoutingRuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = ("name", "position", "active", "is_default", *CONDITION_FIELDS, "team", "priority", "tags")
        widgets = {"keywords": forms.Textarea(attrs={"rows": 4, "dir": "auto"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, choices in LIST_FIELDS.items():
            self.fields[name] = forms.MultipleChoiceField(
                choices=choices,
                required=False,
                widget=forms.CheckboxSelectMultiple,
                help_text="Any of these; none ticked: any.",
                label=self.fields[name].label,
            )

    def clean_keywords(self) -> str:
        return _keywords_clean(self.cleaned_data["keywords"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("is_default"):
            set_conditions = [name for name in CONDITION_FIELDS if data.get(name) not in (None, "", [])]
            if set_conditions:
                raise forms.ValidationError(
                    f"The default rule matches every ticket: leave its conditions empty ({', '.join(set_conditions)})."
                )
        return data


@admin.register(RoutingRule)
class RoutingRuleAdmin(ManagerEditedAdmin, admin.ModelAdmin):
    form = RoutingRuleForm
    list_display = ("position", "name", "active", "is_default", "conditions", "team", "priority", "tags")
    list_display_links = ("name",)
    list_editable = ("position", "active")
    list_select_related = ("team",)
    ordering = ("is_default", "position", "id")
    fieldsets = (
        (None, {"fields": ("name", "position", "active", "is_default")}),
        (
            "When (all that are set must hold)",
            {"fields": ("categories", "keywords", "channels", "sentiments", "tiers", "min_lifetime_value")},
        ),
        (None, {"fields": ("order_statuses", "languages", "business_hours")}),
        ("Then", {"fields": ("team", "priority", "tags")}),
    )

    @admin.display(description="When")
    def conditions(self, rule: RoutingRule) -> str:
        if rule.is_default:
            return "every other ticket"
        parts = [
            f"{name.replace('_', ' ')}: {', '.join(getattr(rule, name))}" for name in LIST_FIELDS if getattr(rule, name)
        ]
        if rule.keyword_list:
            parts.append("words: " + ", ".join(rule.keyword_list[:5]))
        if rule.min_lifetime_value is not None:
            parts.append(f"lifetime value ≥ {rule.min_lifetime_value}")
        if rule.business_hours:
            parts.append(rule.get_business_hours_display())
        return "; ".join(parts) or "every ticket"


class CategoryKeywordsForm(forms.ModelForm):
    class Meta:
        model = CategoryKeywords
        fields = ("category", "language", "keywords")
        widgets = {"keywords": forms.Textarea(attrs={"rows": 12, "dir": "auto"})}

    def clean_keywords(self) -> str:
        return _keywords_clean(self.cleaned_data["keywords"])


@admin.register(CategoryKeywords)
class CategoryKeywordsAdmin(ManagerEditedAdmin, admin.ModelAdmin):
    form = CategoryKeywordsForm
    list_display = ("category", "language", "count")
    list_filter = ("category", "language")

    @admin.display(description="Keywords")
    def count(self, row: CategoryKeywords) -> int:
        return len(row.keyword_list)

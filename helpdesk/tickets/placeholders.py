"""Fill the placeholders of a canned reply. Pure: no ORM, no templates.

Only the known tokens are replaced, literally and in one pass, so a value
that itself looks like a placeholder (a customer named "{order.number}")
stays as it is, and nothing typed by agents or shops can reach attributes
the way ``str.format`` or a template would. An unknown ``{...}`` stays as typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PLACEHOLDERS = (
    "{customer.first_name}",
    "{customer.name}",
    "{order.number}",
    "{order.tracking_url}",
    "{order.carrier}",
    "{agent.first_name}",
)
_TOKEN = re.compile("|".join(re.escape(token) for token in PLACEHOLDERS))


@dataclass(frozen=True)
class PlaceholderValues:
    """What a ticket knows; an empty string means no value."""

    customer_name: str = ""
    order_number: str = ""
    order_tracking_url: str = ""
    order_carrier: str = ""
    agent_first_name: str = ""

    def as_tokens(self) -> dict[str, str]:
        name = self.customer_name.strip()
        return {
            "{customer.first_name}": name.split()[0] if name else "",
            "{customer.name}": name,
            "{order.number}": self.order_number.strip(),
            "{order.tracking_url}": self.order_tracking_url.strip(),
            "{order.carrier}": self.order_carrier.strip(),
            "{agent.first_name}": self.agent_first_name.strip(),
        }


@dataclass(frozen=True)
class Rendered:
    text: str
    missing: list[str]  # placeholders used in the text that had no value, in order of first use


def placeholders_render(text: str, values: PlaceholderValues) -> Rendered:
    tokens = values.as_tokens()
    missing: list[str] = []

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        value = tokens[token]
        if not value and token not in missing:
            missing.append(token)
        return value

    return Rendered(text=_TOKEN.sub(fill, text), missing=missing)

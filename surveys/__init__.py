"""CSAT and NPS surveys: policy, tokens, responses and follow-ups."""

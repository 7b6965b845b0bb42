"""A believable demo desk: a shop with two years of customers and orders (some
customers stopped buying), four teams, five agents with known passwords and six
months of tickets with their SLA clocks, customers' moods, surveys and the
follow-ups low scores opened, so every manager report has figures.

Entry point: helpdesk.demo.seed.demo_seed, run by `manage.py seed_demo`.
"""

"""A believable demo desk: a shop with two years of customers and orders,
four teams, five agents with known passwords and six months of tickets.

Entry point: helpdesk.demo.seed.demo_seed, run by `manage.py seed_demo`.
"""

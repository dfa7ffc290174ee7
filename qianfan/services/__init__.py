"""Marketplace use cases: each opens one unit of work, checks rules, writes, commits once."""

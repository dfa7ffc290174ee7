"""Qianfan core: settings, database, tables, money, clock, errors, events and the audit chain."""

__version__ = "0.1.0"

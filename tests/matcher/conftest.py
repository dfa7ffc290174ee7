"""The marketplace builders of ``tests/services`` (organisations, orders and offers through the real use cases),
for the matcher's database use cases."""

from tests.services.conftest import in_30_days, make_org, uow

__all__ = ["in_30_days", "make_org", "uow"]

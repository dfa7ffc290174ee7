"""Who performs a use case: the acting organisation (and user).  Services check ownership against it."""

from __future__ import annotations

from dataclasses import dataclass

from qianfan.errors import NotFound, PermissionDenied
from qianfan.models import Organisation, OrgKind, User, UserRole

_KIND_ZH = {k: k.label_zh for k in OrgKind}


@dataclass(frozen=True, slots=True)
class Actor:
    organisation_id: int
    kind: OrgKind
    user_id: int | None = None
    role: UserRole = UserRole.ADMIN

    @classmethod
    def for_user(cls, user: User, organisation: Organisation) -> Actor:
        assert organisation.id is not None and user.organisation_id == organisation.id
        return cls(organisation.id, organisation.kind, user.id, user.role)

    @classmethod
    def system(cls, organisation: Organisation) -> Actor:
        """Acting for an organisation without a person (seeds, imports)."""
        assert organisation.id is not None
        return cls(organisation.id, organisation.kind)

    def require_kind(self, *kinds: OrgKind) -> None:
        if self.kind not in kinds:
            need_zh = "、".join(_KIND_ZH[k] for k in kinds)
            need_en = ", ".join(k.value for k in kinds)
            raise PermissionDenied(
                f"此操作仅限{need_zh}，当前机构类型为{_KIND_ZH[self.kind]}",
                f"Only {need_en} organisations may do this; this one is {self.kind.value}",
            )

    def require_owner(self, owner_id: int, what_zh: str, what_en: str, ident: object) -> None:
        """Another organisation's record is reported as not found: its existence is not disclosed."""
        if owner_id != self.organisation_id:
            raise NotFound.of(what_zh, what_en, ident)

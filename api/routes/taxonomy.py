"""Reference data: industry clusters and categories, branch parks, qualifications, organisation kinds."""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter

from api.schemas import CategoryPublic, ClusterPublic, LabelPublic, TaxonomyPublic
from qianfan import taxonomy
from qianfan.models import OrgKind

router = APIRouter(prefix="/api/v1", tags=["taxonomy"])


@cache
def _taxonomy() -> TaxonomyPublic:
    return TaxonomyPublic(
        clusters=[
            ClusterPublic(
                code=cluster.code,
                name=cluster.name_zh,
                name_en=cluster.name_en,
                categories=[
                    CategoryPublic(code=c.code, name=c.name_zh, name_en=c.name_en, keywords=list(c.keywords))
                    for c in cluster.categories
                ],
            )
            for cluster in taxonomy.CLUSTERS
        ],
        districts=list(taxonomy.DISTRICTS),
        qualifications=[LabelPublic(code=q.code, name=q.name_zh, name_en=q.name_en) for q in taxonomy.QUALIFICATIONS],
        organisation_kinds=[
            LabelPublic(code=kind.value, name=kind.label_zh, name_en=kind.label_en) for kind in OrgKind
        ],
    )


@router.get("/taxonomy", response_model=TaxonomyPublic, summary="分类与参考数据 / Taxonomy and reference data")
def get_taxonomy() -> TaxonomyPublic:
    return _taxonomy()

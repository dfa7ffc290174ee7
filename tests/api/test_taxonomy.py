"""GET /api/v1/taxonomy."""

from __future__ import annotations

from qianfan import taxonomy
from tests.api.conftest import TestClient


def test_taxonomy(client: TestClient) -> None:
    response = client.get("/api/v1/taxonomy")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"clusters", "districts", "qualifications", "organisation_kinds"}
    assert [c["code"] for c in body["clusters"]] == list(taxonomy.CLUSTER_CODES)
    ict = body["clusters"][0]
    assert ict["name"] == "新一代信息技术" and ict["name_en"] == "Next-generation information technology"
    cloud = next(c for c in ict["categories"] if c["code"] == "ict.cloud")
    assert cloud == {
        "code": "ict.cloud",
        "name": "云计算与云平台",
        "name_en": "Cloud computing and platforms",
        "keywords": ["云计算", "PaaS", "IaaS", "SaaS"],
    }
    assert sum(len(c["categories"]) for c in body["clusters"]) == len(taxonomy.CATEGORY_CODES)
    assert body["districts"] == list(taxonomy.DISTRICTS)
    assert {"code": "hnte", "name": "国家高新技术企业", "name_en": "National high-tech enterprise"} in body[
        "qualifications"
    ]
    assert len(body["qualifications"]) == len(taxonomy.QUALIFICATIONS)
    assert {"code": "sme", "name": "中小微企业", "name_en": "SME"} in body["organisation_kinds"]

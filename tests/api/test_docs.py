"""The API's documentation is written for integrators: a summary per operation, every error answer documented
with the error body's shape, an example of supplier updates, no implementation notes as descriptions."""

import pytest
import yaml

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_every_operation_has_a_summary_and_its_error_answers(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), (method, path)
            responses = operation["responses"]
            assert {"401", "403", "429"} <= set(responses), (method, path, sorted(responses))
            if "{" in path:
                assert "404" in responses, (method, path)
            if method in ("post", "patch"):
                assert "400" in responses, (method, path)
    parts = schema["paths"]["/api/parts/"]
    assert parts["get"]["summary"] == "List parts" and parts["post"]["summary"] == "Create a part"
    assert schema["paths"]["/api/parts/{id}/"]["patch"]["summary"] == "Change a part"
    assert "Error" in schema["components"]["schemas"]


def test_descriptions_speak_to_integrators_and_supplier_updates_have_examples(schema):
    parts = schema["paths"]["/api/parts/"]["get"]["description"]
    assert "effective_need_date" in parts and "values()" not in parts and "Serializer" not in parts
    create = schema["paths"]["/api/supplier-updates/"]["post"]
    examples = create["requestBody"]["content"]["application/json"]["examples"]
    assert len(examples) == 2 and any(isinstance(example["value"], list) for example in examples.values())
    assert "all or nothing" in create["description"]


def test_the_evidence_files_of_parts_and_handover_items_are_documented_as_uploads_and_downloads(schema):
    for owner in ("/api/parts/{part_pk}", "/api/handover-items/{item_pk}"):
        files = schema["paths"][f"{owner}/files/"]
        assert "multipart/form-data" in files["post"]["requestBody"]["content"], owner
        assert "limit" in files["post"]["description"] and {"400", "403", "404"} <= set(files["post"]["responses"])
        content = schema["paths"][f"{owner}/files/{{id}}/content/"]["get"]
        assert content["summary"] == "Download an evidence file"
        assert "application/octet-stream" in content["responses"]["200"]["content"]
    item_files = schema["paths"]["/api/handover-items/{item_pk}/files/"]["post"]["description"]
    assert "responsible person or a checklist owner" in item_files

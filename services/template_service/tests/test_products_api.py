"""The products API through the app envoxyd serves, on SQLite and PostgreSQL."""

import uuid
from typing import Any

from werkzeug.test import Client

#: clients of a JSON API accept JSON; errors then come back as JSON bodies
ACCEPT_JSON = {"Accept": "application/json"}


def create(client: Client, **fields: Any) -> dict[str, Any]:
    body = {"sku": f"SKU-{uuid.uuid4().hex[:8]}", "name": "Lamp", "price_cents": 1999, **fields}
    response = client.post("/v1/products", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def test_create_returns_the_stored_product(client: Client) -> None:
    product = create(client, sku="SKU-1", cdata={"color": "red"})

    assert product["sku"] == "SKU-1"
    assert product["name"] == "Lamp"
    assert product["price_cents"] == 1999
    assert product["cdata"] == {"color": "red"}
    uuid.UUID(product["id"])
    assert product["href"] == f"/v3/data-layer/aux_products/{product['id']}"
    assert product["created"].endswith("+0000")
    assert product["updated"].endswith("+0000")


def test_get_by_id_and_unknown_id(client: Client) -> None:
    product = create(client)

    found = client.get(f"/v1/products/{product['id']}", headers=ACCEPT_JSON)
    missing = client.get("/v1/products/does-not-exist", headers=ACCEPT_JSON)

    assert found.status_code == 200
    assert found.get_json() == product
    assert missing.status_code == 404
    assert missing.get_json()["code"] == 2404
    assert "not found" in missing.get_json()["error"]


def test_list_pages_and_filters(client: Client) -> None:
    created = [create(client, sku=f"PAGE-{index}") for index in range(5)]

    first = client.get("/v1/products?page_size=2", headers=ACCEPT_JSON).get_json()
    second = client.get(
        "/v1/products?page_size=2&page_start_index=2", headers=ACCEPT_JSON
    ).get_json()
    only = client.get("/v1/products?sku=PAGE-3", headers=ACCEPT_JSON).get_json()

    assert first["size"] == 2
    assert first["total"] == 5
    assert [p["sku"] for p in first["elements"] + second["elements"]] == [
        p["sku"] for p in created[:4]
    ]
    assert only["size"] == 1
    assert only["elements"][0]["id"] == created[3]["id"]


def test_patch_changes_only_given_fields(client: Client) -> None:
    product = create(client)

    response = client.patch(f"/v1/products/{product['id']}", json={"price_cents": 1499})

    assert response.status_code == 200
    changed = response.get_json()
    assert changed["price_cents"] == 1499
    assert changed["name"] == product["name"]
    assert changed["created"] == product["created"]
    assert (
        client.get(f"/v1/products/{product['id']}", headers=ACCEPT_JSON).get_json()["price_cents"]
        == 1499
    )


def test_delete_answers_204_then_404(client: Client) -> None:
    product = create(client)

    deleted = client.delete(f"/v1/products/{product['id']}", headers=ACCEPT_JSON)

    assert deleted.status_code == 204
    assert deleted.get_data() == b""
    assert client.get(f"/v1/products/{product['id']}", headers=ACCEPT_JSON).status_code == 404
    assert client.delete(f"/v1/products/{product['id']}", headers=ACCEPT_JSON).status_code == 404


def test_invalid_bodies_answer_412_with_the_assertz_code(client: Client) -> None:
    cases = [
        ({"name": "No sku"}, 1200),
        ({"sku": "A", "name": None}, 1200),
        ({"sku": "A", "name": 5}, 1202),
        ({"sku": "A", "name": "x", "price_cents": "12"}, 1202),
        ({"sku": "A", "name": "x", "price_cents": True}, 1202),
        ({"sku": "A", "name": "x", "colour": "red"}, 1202),
        ([1, 2], 1202),
    ]
    for body, code in cases:
        response = client.post("/v1/products", json=body)
        assert response.status_code == 412, body
        assert response.get_json()["code"] == code, body
        assert "ELRC(" in response.get_json()["error"]
    assert client.get("/v1/products", headers=ACCEPT_JSON).get_json()["size"] == 0


def test_malformed_json_answers_400(client: Client) -> None:
    response = client.post(
        "/v1/products", data=b'{"sku": "A",', headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.get_json()["code"] == 0
    assert "Malformed JSON body" in response.get_json()["error"]


def test_duplicate_sku_answers_409_and_stores_nothing(client: Client) -> None:
    create(client, sku="DUP")

    response = client.post("/v1/products", json={"sku": "DUP", "name": "Again"})

    assert response.status_code == 409
    assert response.get_json()["code"] == 2409
    assert client.get("/v1/products?sku=DUP", headers=ACCEPT_JSON).get_json()["size"] == 1


def test_bad_paging_arguments_answer_412(client: Client) -> None:
    for query in ("page_size=0", "page_size=1000", "page_size=ten", "page_start_index=-1"):
        response = client.get(f"/v1/products?{query}", headers=ACCEPT_JSON)
        assert response.status_code == 412, query
        assert response.get_json()["code"] == 1202

"""Hand-made odd and hostile JSON bodies against every write endpoint.

The generated requests of ``schema_conformance`` are well-formed JSON that
``json.dumps`` can write; these are the bodies a fuzzer does not think of and
an attacker does: 5,000 nested brackets (10 KB), ``NaN`` and ``1e999``,
integers of 5,000 digits, ``-0``, lone surrogates, NUL characters, a key
given twice. Each service's ``test_schemathesis`` subclasses
``OddBodyContract`` with a valid body for its write operations, and every
test here plants the odd value in each field of each of them in turn.

What a learner should notice: the write operations are read from the
service's own OpenAPI schema, so an endpoint added later is covered without
a change here (with a generic body until the service gives it a valid one),
and every answer must be a JSON 4xx or a success: never a 500.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from service_kit.api.parsers import MAX_JSON_DEPTH

WRITE_METHODS = ("post", "put", "patch", "delete")
DEPTH = 5000
PLACEHOLDER = "__odd_value__"

#: Raw JSON text put where a valid body has a value.
ODD_VALUES = {
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "1e999": "1e999",
    "-1e999": "-1e999",
    "1e-999": "1e-999",
    "5000 digits": "1" + "0" * 5000,
    "400 digits": "9" * 400,
    "-0": "-0",
    "-0.0": "-0.0",
    '"-0"': '"-0"',
    "lone surrogate": '"\\ud800"',
    "NUL": '"a\\u0000b"',
    "emoji": '"\\ud83d\\ude00"',
    "long string": '"' + "x" * 20_000 + '"',
    "null": "null",
    "true": "true",
    "object": '{"a": 1}',
    "array": "[1, 2]",
    "deep array": "[" * DEPTH + "]" * DEPTH,
}


def leaf_paths(value: Any, path: tuple = ()) -> Iterator[tuple]:
    """The path (keys and indexes) of every scalar in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaf_paths(item, (*path, index))
    else:
        yield path


def planted(body: dict, path: tuple, raw: str) -> str:
    """``body`` as JSON text, with the raw JSON ``raw`` at ``path``."""
    body = copy.deepcopy(body)
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = PLACEHOLDER
    return json.dumps(body).replace(json.dumps(PLACEHOLDER), raw)


class OddBodyContract:
    @pytest.fixture
    def write_bodies(self) -> dict[str, dict]:
        """A valid body per write operation, keyed ``"POST /api/.../{id}/..."``."""
        raise NotImplementedError

    @pytest.fixture
    def path_ids(self) -> dict[str, str]:
        """A real id for each path parameter, so that requests reach the body."""
        raise NotImplementedError

    @pytest.fixture(autouse=True)
    def fresh_throttle_counts(self, db):
        """The token endpoints are throttled per address: start from zero
        (the counts are rows in the service's database)."""
        cache.clear()
        yield
        cache.clear()

    @pytest.fixture
    def operations(self, api_client, write_bodies, path_ids) -> list[tuple]:
        """(name, url, valid body) of every write operation in the schema."""
        schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
        assert schema.status_code == 200
        found = []
        for path, methods in schema.json()["paths"].items():
            for method in set(methods) & set(WRITE_METHODS):
                url = re.sub(r"\{(\w+)\}", lambda m: str(path_ids[m[1]]), path)
                name = f"{method.upper()} {path}"
                body = write_bodies.get(name, {"value": "anything"})
                found.append((name, url, body))
        # The operations that delete go last, so the others find their target.
        return sorted(found, key=lambda operation: "delete" in operation[0])

    @staticmethod
    def send(client: APIClient, name: str, url: str, text: str):
        method = name.split(" ", 1)[0].lower()
        return getattr(client, method)(
            url, text.encode("utf-8"), content_type="application/json"
        )

    def test_each_valid_body_names_a_write_operation(self, operations, write_bodies):
        assert set(write_bodies) <= {name for name, _, _ in operations}

    @pytest.mark.parametrize("shape", ["arrays", "objects", "in a field"])
    def test_a_deeply_nested_body_is_a_400_that_says_why(
        self, api_client, operations, shape
    ):
        for name, url, body in operations:
            if shape == "arrays":
                text = "[" * DEPTH + "]" * DEPTH
            elif shape == "objects":
                text = '{"a": ' * DEPTH + "1" + "}" * DEPTH
            else:
                text = planted(body, next(leaf_paths(body)), ODD_VALUES["deep array"])

            response = self.send(api_client, name, url, text)

            assert response.status_code == 400, (name, response.content[:500])
            assert response.json() == {
                "detail": "JSON parse error - arrays and objects nest deeper "
                f"than {MAX_JSON_DEPTH} levels"
            }

    @pytest.mark.parametrize("value", list(ODD_VALUES))
    def test_an_odd_value_in_any_field_is_never_a_500(
        self, api_client, operations, value
    ):
        for name, url, body in operations:
            for path in leaf_paths(body):
                text = planted(body, path, ODD_VALUES[value])

                response = self.send(api_client, name, url, text)

                where = (name, path, response.content[:500])
                assert response.status_code < 500, where
                assert response["Content-Type"] == "application/json", where

    def test_a_lone_surrogate_is_a_400_that_says_why(self, api_client, operations):
        for name, url, body in operations:
            text = planted(body, next(leaf_paths(body)), '"\\udc00"')

            response = self.send(api_client, name, url, text)

            assert response.status_code == 400, (name, response.content[:500])
            assert "\\udc00, a lone surrogate" in response.json()["detail"]

    def test_a_key_given_twice_is_a_400_that_names_it(self, api_client, operations):
        for name, url, body in operations:
            key = next(iter(body))
            text = "{" + json.dumps(key) + ': "first", ' + json.dumps(body)[1:]

            response = self.send(api_client, name, url, text)

            assert response.status_code == 400, (name, response.content[:500])
            assert response.json() == {
                "detail": f"JSON parse error - the key '{key}' is given twice"
            }

    def test_a_number_too_large_for_a_float_is_a_400(self, api_client, operations):
        for name, url, body in operations:
            text = planted(body, next(leaf_paths(body)), "-1e999")

            response = self.send(api_client, name, url, text)

            assert response.status_code == 400, (name, response.content[:500])
            assert "the number -1e999 is too large" in response.json()["detail"]

"""What every read side's query API proves about the read side behind it.

Each service's read-side ``test_apis`` subclasses :class:`ReadSideApiContract`
beside ``service_kit.testing.query_api.QueryApiContract`` (what the answers
say), whose ``projected`` fixture and ``seen_by`` it uses too. What a learner
should notice, whatever the read model:

* a query is answered from the read database alone: with a JWT not one
  query reaches the service's own database but the throttle's count (kept
  there so that every worker shares it; the query process keeps it in
  memory); with a DRF token only the token's lookup does too
  (``QueriesByDatabase.assert_answered_from``, for the acceptance test each
  service writes with its own read model);
* a forged JWT is refused;
* a customer user's list holds its own rows only, and costs no query on the
  service's own database either;
* a page holds at most 100 rows, however many the read model has.

This library sits below ``service_kit``, so a subclass hands over how its
service issues JWTs (``service_kit.access.access_token_for`` for a user,
``service_kit.testing.tokens.customer_jwt_client`` for a customer's user).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from django.conf import settings
from django.db import connections, models
from django.test.utils import CaptureQueriesContext

from shared_events.consume import projecting

# The tables of the write side, in either service's database.
WRITE_SIDE_TABLES = (
    "event_store",
    "event_outbox",
    "event_processed",
    "event_aggregate_cursor",
    "customers_customer",
    "orders_order",
    "orders_orderline",
    "orders_customer_replica",
)
# Token authentication looks the token and its user up in the service's own
# database: the only reason a query request touches ``default`` at all.
AUTHENTICATION_TABLES = ("authtoken_token", "auth_user")


# Statements that read or write no table (a cache write's savepoint).
TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def beyond_throttle_counts(captured_queries: list[dict]) -> list[str]:
    """The SQL but the API throttles' counts, which a database cache
    (``CACHES``) keeps in the service's own database for every worker."""
    cache = settings.CACHES["default"]
    counts = cache["LOCATION"] if cache["BACKEND"].endswith("DatabaseCache") else None
    if counts is None:
        return [query["sql"] for query in captured_queries]
    return [
        query["sql"]
        for query in captured_queries
        if f'"{counts}"' not in query["sql"]
        and not query["sql"].startswith(TRANSACTION_CONTROL)
    ]


@dataclass(frozen=True)
class QueriesByDatabase:
    """The SQL a block of requests sent to each of the service's databases."""

    write_side: CaptureQueriesContext
    read_side: CaptureQueriesContext

    @property
    def write_side_sql(self) -> list[str]:
        """What reached the service's own database, the throttles' counts aside."""
        return beyond_throttle_counts(self.write_side.captured_queries)

    def reached(self, table: str) -> bool:
        """Whether a query on the read database named ``table``."""
        return any(table in query["sql"] for query in self.read_side.captured_queries)

    def assert_answered_from(self, read_table: str) -> None:
        """With a DRF token: the token's lookup is all that reached the
        service's own database, and the answer came from ``read_table``."""
        default_sql = self.write_side_sql
        assert default_sql, "the token is looked up in the service's own database"
        for sql in default_sql:
            assert not any(table in sql for table in WRITE_SIDE_TABLES), sql
            assert any(table in sql for table in AUTHENTICATION_TABLES), sql
        assert self.reached(read_table)


@contextmanager
def queries_by_database() -> Iterator[QueriesByDatabase]:
    with (
        CaptureQueriesContext(connections["default"]) as write_side,
        CaptureQueriesContext(connections["read"]) as read_side,
    ):
        yield QueriesByDatabase(write_side=write_side, read_side=read_side)


class ReadSideApiContract:
    list_url: ClassVar[str]  # e.g. "/api/query/orders/"
    read_model: ClassVar[type[models.Model]]  # what the list answers from
    id_name: ClassVar[str]  # the id each listed item carries, e.g. "order_id"
    access_token_for: ClassVar[Callable[[Any], str]]  # a user's JWT
    customer_jwt_client: ClassVar[Callable[[Any], Any]]  # a customer user's client

    def unprojected_row(self, index: int) -> models.Model:
        """A new row of the read model, the ``index``-th of many."""
        raise NotImplementedError

    def test_with_a_jwt_a_query_request_never_touches_the_write_database(
        self, user, anonymous_client, projected
    ):
        """Stateless authentication: the signature is checked, no user is looked
        up, so the query side serves the request from the read database alone."""
        token = self.access_token_for(user)
        anonymous_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        with queries_by_database() as queries:
            response = anonymous_client.get(self.list_url)

        assert response.status_code == 200, response.json()
        assert response.json()["results"]
        assert queries.write_side_sql == []
        assert queries.reached(self.read_model._meta.db_table)

    def test_a_forged_jwt_is_refused(self, user, anonymous_client):
        token = self.access_token_for(user)
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        anonymous_client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")

        assert anonymous_client.get(self.list_url).status_code == 401

    def test_a_customer_user_lists_only_its_own_rows(self, projected):
        customer, own, _ = self.seen_by(projected)
        client = self.customer_jwt_client(customer)

        with queries_by_database() as queries:
            response = client.get(self.list_url)

        assert response.status_code == 200
        listed = [item[self.id_name] for item in response.json()["results"]]
        assert listed == [str(own)]
        assert queries.write_side_sql == []

    def test_a_page_is_at_most_100_rows(self, api_client):
        with projecting("read"):
            self.read_model.objects.bulk_create(
                self.unprojected_row(index) for index in range(105)
            )

        response = api_client.get(self.list_url, {"limit": 500})

        assert response.status_code == 200
        assert len(response.json()["results"]) == 100
        assert "limit=100" in response.json()["next"]

"""The strangler's table copy on its own: keyset batches, compare and fill,
the digest ``verify`` compares, on two scratch databases of a real server."""

from __future__ import annotations

import pytest

from stack import postgres
from stack.connections import fetch_value, open_connection
from strangler.copying import (
    TableCopy,
    copy_missing,
    fill_differences,
    reset_sequence,
    table_digest,
)


@pytest.fixture
def copy(server_url, database_prefix, monkeypatch):
    names = [database_prefix + "strangler_old", database_prefix + "strangler_new"]
    postgres.drop_databases(server_url=server_url, names=names)
    postgres.create_databases(server_url=server_url, names=names)
    urls = [postgres.database_url(server_url, name) for name in names]
    for url in urls:
        with open_connection(url, autocommit=True) as connection:
            connection.cursor().execute(
                "CREATE TABLE line (id bigserial PRIMARY KEY, sku text, "
                "price numeric(12, 2), at timestamptz DEFAULT now())"
            )
    with open_connection(urls[0], autocommit=True) as connection:
        # Keys of one and two digits: batches must follow the numbers, not
        # their text ("10" sorts before "9").
        connection.cursor().execute(
            "INSERT INTO line (sku, price) SELECT 'sku' || g, g * 1.25 "
            "FROM generate_series(1, 27) AS g; DELETE FROM line WHERE id % 3 = 0"
        )
    monkeypatch.setenv("STRANGLER_BATCH_ROWS", "5")
    yield TableCopy(table="line", key="id", source_url=urls[0], target_url=urls[1])
    postgres.drop_databases(server_url=server_url, names=names)


def test_copy_missing_copies_every_row_once_in_batches(copy):
    lines = []
    assert copy_missing(copy, progress=lines.append) == 18
    assert len(lines) == 4  # batches of 5: 5, 10, 15, 18
    assert table_digest(copy, copy.source_url) == table_digest(copy, copy.target_url)
    # Run again (as after a crash): nothing more is inserted.
    assert copy_missing(copy) == 0
    assert fetch_value(copy.target_url, "SELECT count(*) FROM line") == 18


def test_fill_differences_mends_changed_extra_and_missing_rows(copy):
    copy_missing(copy)
    with open_connection(copy.target_url, autocommit=True) as connection:
        connection.cursor().execute(
            "UPDATE line SET price = 0 WHERE id = 1; DELETE FROM line WHERE id = 2; "
            "INSERT INTO line (id, sku, price) VALUES (500, 'stray', 1)"
        )
    assert table_digest(copy, copy.source_url) != table_digest(copy, copy.target_url)
    assert fill_differences([copy]) == {copy: (2, 1)}
    assert table_digest(copy, copy.source_url) == table_digest(copy, copy.target_url)
    assert fill_differences([copy]) == {copy: (0, 0)}


def test_reset_sequence_moves_past_the_copied_keys(copy):
    copy_missing(copy)
    reset_sequence(url=copy.target_url, table="line", key="id")
    assert (
        fetch_value(
            copy.target_url,
            "INSERT INTO line (sku, price) VALUES ('new', 1) RETURNING id",
        )
        == 27
    )


def test_rows_newer_than_their_parents_copy_are_left_for_the_fill(copy):
    """A line whose order arrived after the orders were copied cannot go in
    yet (its foreign key); the copy leaves its batch, the fill brings it."""
    for url in (copy.source_url, copy.target_url):
        with open_connection(url, autocommit=True) as connection:
            connection.cursor().execute(
                "CREATE TABLE part (id int PRIMARY KEY, line_id bigint REFERENCES "
                "line (id) DEFERRABLE INITIALLY DEFERRED)"
            )
    part = TableCopy(
        table="part", key="id", source_url=copy.source_url, target_url=copy.target_url
    )
    copy_missing(copy)
    with open_connection(copy.source_url, autocommit=True) as connection:
        connection.cursor().execute(
            "INSERT INTO line (id, sku, price) VALUES (100, 'late', 1); "
            "INSERT INTO part VALUES (1, 1), (2, 100)"
        )
    lines = []
    assert copy_missing(part, progress=lines.append) == 0
    assert "left for the fill" in lines[0]
    assert fill_differences([copy, part]) == {copy: (1, 0), part: (2, 0)}
    for table in (copy, part):
        assert table_digest(table, copy.source_url) == table_digest(
            table, copy.target_url
        )

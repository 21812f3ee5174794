"""The connection survey lists connections once and asks the status only where something may have changed."""

from __future__ import annotations

import dagster as dg
import pytest
import sqlalchemy as sa

from rutter_pipeline.defs.partitions import connection_set
from rutter_pipeline.defs.sensors import partition_requests, record_survey, survey
from rutter_pipeline.rutter.catalog import Family
from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox


def _survey(sandbox: Sandbox, client: RutterClient, engine) -> tuple[int, object]:
    before = sandbox.request_count
    report = survey(client, engine=engine)
    record_survey(engine, report, source="sandbox")  # what the sensor does after each survey
    return sandbox.request_count - before, report


def test_status_is_asked_of_new_not_ready_and_changed_connections_only(pg_engine) -> None:
    with Sandbox(seed=5, profile="empty", rate_limit=None) as sandbox:
        shop = sandbox.add_connection("SHOPIFY", name="Shop", orders=3)["id"]
        books = sandbox.add_connection("QUICKBOOKS", name="Books", invoices=3)["id"]
        late = sandbox.add_connection("SHOPIFY", name="Late", ready=False)["id"]
        login = sandbox.add_connection("XERO", name="Login", needs_update=True)["id"]
        client = RutterClient(
            base_url=sandbox.base_url, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET
        )

        requests, first = _survey(sandbox, client, pg_engine)
        assert requests == 1 + 4  # the list, and every new connection's status
        assert {c.id for c in first.ready} == {shop, books} and set(first.waiting) == {late}

        requests, steady = _survey(sandbox, client, pg_engine)
        assert requests == 1 + 2  # the list, and the two that were not ready
        assert {c.id for c in steady.ready} == {shop, books}
        assert set(steady.waiting) == {late} and set(steady.broken) == {login}

        # A ready connection whose listed status changes is asked again; one that became ready is found.
        sandbox.world.connection(books).needs_update = True
        sandbox.make_ready(late)
        requests, changed = _survey(sandbox, client, pg_engine)
        assert requests == 1 + 3
        assert {c.id for c in changed.ready} == {shop, late}
        assert changed.broken[books] == "needs re-authentication by the merchant"

        # Without a warehouse nothing is remembered: every status is asked, as before.
        before = sandbox.request_count
        survey(client)
        assert sandbox.request_count - before == 1 + 4


def test_the_many_profile_serves_that_many_small_connections() -> None:
    with Sandbox(seed=5, profile="many", connections=50, rate_limit=None) as sandbox:
        listed = sandbox.connections()
        assert len(listed) == 50 and len({c["id"] for c in listed}) == 50
        assert sum(c["status"] == "not_ready" for c in listed) == 2
        assert {c["platform"] for c in listed} == {"SHOPIFY", "QUICKBOOKS"}
        assert len(list(sandbox.truth(listed[0]["id"], "/orders"))) == 10


@pytest.mark.parametrize(("profile", "count"), [("many", 0), ("default", 5)])
def test_only_the_many_profile_takes_a_count_and_it_needs_one(profile: str, count: int) -> None:
    with pytest.raises(ValueError, match="'many' profile needs connections > 0"):
        Sandbox(seed=5, profile=profile, connections=count)


def test_a_look_asks_at_most_max_status_requests_and_leaves_the_rest_to_the_next_looks(pg_engine) -> None:
    with Sandbox(seed=5, profile="empty", rate_limit=None) as sandbox:
        shops = [sandbox.add_connection("SHOPIFY", name=f"Shop {n}", orders=1)["id"] for n in range(5)]
        client = RutterClient(
            base_url=sandbox.base_url, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET
        )
        looks = []
        for _ in range(4):
            before = sandbox.request_count
            report = survey(client, engine=pg_engine, max_status_requests=2)
            record_survey(pg_engine, report, source="sandbox")
            looks.append((sandbox.request_count - before, len(report.ready), len(report.deferred)))
            with dg.instance_for_test() as instance:
                # A connection left for later keeps its partition: it is listed, only not looked at yet.
                instance.add_dynamic_partitions(connection_set(Family.COMMERCE), shops)
                changes = partition_requests(instance, report)
                assert not [c for c in changes if isinstance(c, dg.DeleteDynamicPartitionsRequest)]
        # (requests, ready, deferred): the list and two statuses a look, until every connection is known.
        assert looks == [(3, 2, 3), (3, 4, 1), (2, 5, 0), (1, 5, 0)]
        with pg_engine.connect() as db:
            assert db.execute(sa.text("select count(*) from rutter._connections")).scalar_one() == 5

"""The snapshot cache's version read: one prebuilt statement, run below the ORM, per request."""

from __future__ import annotations

from sqlalchemy import event

from tests.fixtures_web import ANNA, TOMORROW, auth
from webapp import snapshots
from webapp.extensions import db


def test_a_repeated_grid_reads_the_version_with_the_prebuilt_statement_only(app, client):
    url = f"/api/slots?date={TOMORROW}"
    # One init data for every request (signed again a second later it would be new to the
    # server, which then stores the user once more: a query this test does not count).
    headers = auth(ANNA)
    assert client.get(url, headers=headers).status_code == 200
    with app.app_context():
        engine = db.engine
    executed, orm_executed = [], []

    def record(connection, statement, *rest) -> None:
        executed.append(statement)

    def record_orm(state) -> None:
        orm_executed.append(state.statement)

    event.listen(engine, "before_execute", record)
    event.listen(db.session, "do_orm_execute", record_orm)
    try:
        for _ in range(2):
            assert client.get(url, headers=headers).status_code == 200
    finally:
        event.remove(engine, "before_execute", record)
        event.remove(db.session, "do_orm_execute", record_orm)
    assert executed == [snapshots.VERSION, snapshots.VERSION]
    assert orm_executed == []

"""Each read endpoint answers what the read models hold, within the caller's view, on both
databases: the world of tests/api_read_support.py (two primes, two sites, one worker at both)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from ledger.actors import Actor, Role
from ledger.clock import JST
from ledger.storage.audit_reads import AuditReadLog
from tests.api_read_support import (  # noqa: F401  (read_api_fixture is a fixture)
    D0,
    D1,
    D2,
    MONTH,
    RANGE_QUERY,
    TODAY,
    ReadWorld,
    csv_rows,
    read_api_fixture,
    replay_ended,
    with_query,
)
from tests.api_support import ADMIN, AUDITOR, PROBLEM_JSON, Api, same_not_found

ReadApi = tuple[Api, ReadWorld]


def get(api: Api, path: str, actor: Actor | None, **params: Any) -> Any:
    """The JSON of a 200 answer, read once the read models hold the whole world."""
    response = api.request("GET", with_query(path, min_position=api.ledger.log_position(),
                                             **params), actor)
    assert response.status_code == 200, response.text
    return response.json()


def problem(api: Api, path: str, actor: Actor | None, status: int) -> dict[str, Any]:
    response = api.request("GET", path, actor)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    return body


def prime(business_id: str) -> Actor:
    return Actor(Role.PRIME_CONTRACTOR, business_id)


def employer(business_id: str) -> Actor:
    return Actor(Role.EMPLOYER, business_id)


def me(w: ReadWorld) -> Actor:
    return Actor(Role.WORKER, w.worker)


def records(api: Api, w: ReadWorld, actor: Actor) -> list[tuple[str, str, str]]:
    body = get(api, f"/v1/workers/{w.worker}/records{RANGE_QUERY}", actor)
    return [(r["work_date"], r["site_id"], r["status"]) for r in body["items"]]


# -- a worker's career ----------------------------------------------------------------------------
def test_the_worker_reads_every_record_of_theirs_at_both_sites(read_api: ReadApi) -> None:
    api, w = read_api
    assert records(api, w, me(w)) == [
        (str(D1), w.site_a, "counted"), (str(D2), w.site_b, "counted"),
        (str(D0), w.site_a, "pending"), (str(D0), w.site_b, "pending"),
        (str(TODAY), w.site_b, "counted")]


def test_a_prime_reads_the_worker_on_its_own_sites_only(read_api: ReadApi) -> None:
    api, w = read_api
    assert records(api, w, prime(w.prime_a)) == [
        (str(D1), w.site_a, "counted"), (str(D0), w.site_a, "pending")]
    assert records(api, w, prime(w.prime_b)) == [
        (str(D2), w.site_b, "counted"), (str(D0), w.site_b, "pending"),
        (str(TODAY), w.site_b, "counted")]


def test_an_employer_reads_the_records_it_is_the_employer_of(read_api: ReadApi) -> None:
    api, w = read_api
    assert records(api, w, employer(w.sub_a)) == [
        (str(D1), w.site_a, "counted"), (str(D0), w.site_a, "pending")]
    assert {site for _, site, _ in records(api, w, employer(w.sub_b))} == {w.site_b}


def test_a_record_carries_its_times_and_the_events_behind_it(read_api: ReadApi) -> None:
    api, w = read_api
    first = get(api, f"/v1/workers/{w.worker}/records{RANGE_QUERY}", me(w))["items"][0]
    assert first["first_entry"] == "2025-06-15T23:00:00Z"  # 08:00 JST
    assert first["minutes_on_site"] == 540
    assert first["source"] == "card" and first["trade"] == "鉄筋"
    events = get(api, f"/v1/audit/work-records/{w.worker}/{w.site_a}/{D1}/events", me(w))
    assert [e["position"] for e in events["items"]] == first["event_positions"]
    assert [(e["event_type"], e["actor"], e["business_time"]) for e in events["items"]] == [
        ("Tap.Recorded", "admin:ops", "2025-06-16T08:00:00+09:00"),
        ("Tap.Recorded", "admin:ops", "2025-06-16T17:00:00+09:00")]


def test_pages_of_records_follow_one_another_and_add_up_to_the_list(read_api: ReadApi) -> None:
    api, w = read_api
    path = f"/v1/workers/{w.worker}/records{RANGE_QUERY}"
    whole = get(api, path, me(w))["items"]
    pages, cursor = [], None
    while True:
        page = get(api, path, me(w), limit=2, cursor=cursor)
        pages.append([item["work_date"] + item["site_id"] for item in page["items"]])
        if (cursor := page["next_cursor"]) is None:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [key for page in pages for key in page] == [
        item["work_date"] + item["site_id"] for item in whole]


def test_a_cursor_belongs_to_its_query(read_api: ReadApi) -> None:
    api, w = read_api
    path = f"/v1/workers/{w.worker}/records{RANGE_QUERY}"
    cursor = get(api, path, me(w), limit=1)["next_cursor"]
    other = problem(api, f"/v1/workers/{w.worker}/records?date_from=2025-06-02&date_to="
                    f"2025-06-30&cursor={cursor}", me(w), 422)
    assert (other["field"], other["rule"]) == ("cursor", "cursor.query")
    garbage = problem(api, with_query(path, cursor="bm90LWpzb24"), me(w), 422)
    assert (garbage["field"], garbage["rule"]) == ("cursor", "cursor.format")


def test_the_career_summary_counts_days_within_the_callers_view(read_api: ReadApi) -> None:
    api, w = read_api
    mine = get(api, f"/v1/workers/{w.worker}/career{RANGE_QUERY}", me(w))
    assert (mine["work_days"], mine["record_count"]) == (3, 3)  # pending entries count nothing
    assert [(s["site_id"], s["work_days"]) for s in mine["by_site"]] == [
        (w.site_a, 1), (w.site_b, 2)]
    assert [(e["employer_business_id"], e["record_count"]) for e in mine["by_employer"]] == [
        (w.sub_a, 1), (w.sub_b, 2)]
    theirs = get(api, f"/v1/workers/{w.worker}/career{RANGE_QUERY}", prime(w.prime_a))
    assert (theirs["work_days"], [s["site_id"] for s in theirs["by_site"]]) == (1, [w.site_a])


def test_levels_are_judged_per_trade_and_refused_to_primes(read_api: ReadApi) -> None:
    api, w = read_api
    every = get(api, f"/v1/workers/{w.worker}/levels", me(w))["items"]
    assert len(every) >= 5 and [j["trade"] for j in every] == sorted(j["trade"] for j in every)
    tekkin = get(api, f"/v1/workers/{w.worker}/levels", employer(w.sub_a), trade="鉄筋")["items"]
    assert [(j["trade"], j["level"], j["card_colour"]) for j in tekkin] == [
        ("tekkin", 1, "white")]
    assert tekkin[0]["figures"]["work_days"] == 3 and tekkin[0]["missing"]
    unknown = problem(api, f"/v1/workers/{w.worker}/levels?trade=宇宙飛行", me(w), 422)
    assert (unknown["field"], unknown["rule"]) == ("trade", "trade.known")
    refused = problem(api, f"/v1/workers/{w.worker}/levels", prime(w.prime_a), 403)
    assert refused["field"] == "actor"


def test_kentaikyo_days_and_points_per_month(read_api: ReadApi) -> None:
    api, w = read_api
    mine = get(api, f"/v1/workers/{w.worker}/kentaikyo", me(w), month=MONTH)
    assert (mine["eligible_days"], mine["points_yen"], mine["due_on"]) == (3, 960, "2025-07-31")
    assert [(x["site_id"], x["points_yen"]) for x in mine["lines"]] == [
        (w.site_a, 320), (w.site_b, 640)]
    theirs = get(api, f"/v1/workers/{w.worker}/kentaikyo", prime(w.prime_a), month=MONTH)
    assert [(x["site_id"], x["points_yen"]) for x in theirs["lines"]] == [(w.site_a, 320)]


def test_the_careers_csv_opens_in_excel(read_api: ReadApi) -> None:
    api, w = read_api
    response = api.request("GET", f"/v1/workers/{w.worker}/records.csv{RANGE_QUERY}", me(w))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="career-{w.worker}-2025-06-01-2025-06-30.csv"')
    assert response.content.startswith("\ufeff就業日,現場ID".encode())
    rows = csv_rows(response)
    assert [(r["就業日"], r["site_id"], r["状態"]) for r in rows] == [
        (str(D1), w.site_a, "counted"), (str(D2), w.site_b, "counted"),
        (str(D0), w.site_a, "pending"), (str(D0), w.site_b, "pending"),
        (str(TODAY), w.site_b, "counted")]
    assert rows[0]["入場"] == "2025-06-16T08:00+09:00"  # times in JST for the reader


# -- a site ---------------------------------------------------------------------------------------
def attendance(api: Api, w: ReadWorld, actor: Actor) -> list[tuple[str, str, int]]:
    body = get(api, f"/v1/sites/{w.site_a}/attendance", actor, work_date=str(D1))
    return [(r["technician_id"], r["employer_business_id"], r["tier"]) for r in body["items"]]


def test_site_attendance_by_tier_for_the_prime_and_each_subcontractor(read_api: ReadApi) -> None:
    api, w = read_api
    both = [(w.worker, w.sub_a, 1), (w.lower_worker, w.lower_a, 2)]
    assert attendance(api, w, prime(w.prime_a)) == both
    assert attendance(api, w, employer(w.sub_a)) == both  # its own tier and the one below
    assert attendance(api, w, employer(w.lower_a)) == [(w.lower_worker, w.lower_a, 2)]


def test_who_is_on_site_now_and_whose_exit_is_missing(read_api: ReadApi) -> None:
    api, w = read_api
    now_a = get(api, f"/v1/sites/{w.site_a}/on-site-now", prime(w.prime_a))
    assert [(r["technician_id"], r["work_date"]) for r in now_a["items"]] == [
        (w.lower_worker, str(TODAY))]
    now_b = get(api, f"/v1/sites/{w.site_b}/on-site-now", prime(w.prime_b))
    assert [r["technician_id"] for r in now_b["items"]] == [w.worker]
    missing = get(api, f"/v1/sites/{w.site_a}/missing-exits{RANGE_QUERY}", employer(w.sub_a))
    assert [(r["technician_id"], r["work_date"]) for r in missing["items"]] == [
        (w.lower_worker, str(D1))]
    assert get(api, f"/v1/sites/{w.site_b}/missing-exits{RANGE_QUERY}",
               prime(w.prime_b))["items"] == []


def test_the_prime_sees_its_sites_tap_exceptions(read_api: ReadApi) -> None:
    api, w = read_api
    found = get(api, f"/v1/sites/{w.site_a}/exceptions{RANGE_QUERY}", prime(w.prime_a))
    assert [(e["tap_id"], e["kinds"], e["card_id"]) for e in found["items"]] == [
        (f"{w.reader_a}:4", ["unknown_card"], "0CDEAD00")]
    refused = problem(api, f"/v1/sites/{w.site_a}/exceptions{RANGE_QUERY}",
                      employer(w.sub_a), 403)
    assert refused["rule"] == "actor.role"


def test_a_sites_kentaikyo_month_includes_subcontractors(read_api: ReadApi) -> None:
    api, w = read_api
    whole = get(api, f"/v1/sites/{w.site_a}/kentaikyo", prime(w.prime_a), month=MONTH)
    assert (whole["eligible_days"], whole["points_yen"]) == (3, 960)
    assert [(t["employer_business_id"], t["points_yen"]) for t in whole["by_employer"]] == [
        (w.sub_a, 320), (w.lower_a, 640)]
    assert [x["upper_chain"] for x in whole["items"]] == [[w.prime_a], [w.sub_a, w.prime_a]]
    lower = get(api, f"/v1/sites/{w.site_a}/kentaikyo", employer(w.lower_a), month=MONTH)
    assert (lower["points_yen"], [x["technician_id"] for x in lower["items"]]) == (
        640, [w.lower_worker])


def test_a_sites_month_as_csv(read_api: ReadApi) -> None:
    api, w = read_api
    response = api.request("GET", f"/v1/sites/{w.site_a}/records.csv?month={MONTH}",
                           prime(w.prime_a))
    assert response.headers["content-disposition"] == (
        f'attachment; filename="site-{w.site_a}-{MONTH}.csv"')
    rows = csv_rows(response)
    assert [(r["就業日"], r["technician_id"], r["氏名"], r["次数"]) for r in rows] == [
        (str(D1), w.worker, "山田 太郎", "1"), (str(D1), w.lower_worker, "鈴木 次郎", "2"),
        (str(D0), w.worker, "山田 太郎", "1"), (str(TODAY), w.lower_worker, "鈴木 次郎", "2")]
    lower = csv_rows(api.request("GET", f"/v1/sites/{w.site_a}/records.csv?month={MONTH}",
                                 employer(w.lower_a)))
    assert {r["technician_id"] for r in lower} == {w.lower_worker}


# -- the prime's inbox ----------------------------------------------------------------------------
def test_the_inbox_lists_pending_entries_on_the_primes_sites(read_api: ReadApi) -> None:
    api, w = read_api
    inbox = get(api, f"/v1/primes/{w.prime_a}/inbox", prime(w.prime_a))
    assert [(r["request_id"], r["site_id"], r["kind"], r["work_date"]) for r in inbox["items"]] \
        == [(str(w.entries[0]), w.site_a, "ManualEntry", str(D0))]
    deadline = datetime.fromisoformat(inbox["items"][0]["deadline"])
    assert deadline == datetime(2025, 8, 1, tzinfo=JST)  # decisions close with July (JST)
    other_site = get(api, f"/v1/primes/{w.prime_a}/inbox", prime(w.prime_a), site_id=w.site_b)
    assert other_site["items"] == []


# -- auditors -------------------------------------------------------------------------------------
def test_the_event_log_in_pages(read_api: ReadApi) -> None:
    api, _ = read_api
    head = api.ledger.log_position()
    positions, cursor = [], None
    while True:
        page = get(api, "/v1/audit/events", AUDITOR, limit=7, cursor=cursor)
        positions += [e["position"] for e in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert positions == list(range(1, head + 1))
    after = get(api, "/v1/audit/events", AUDITOR, after=head - 2)
    assert [e["position"] for e in after["items"]] == [head - 1, head]


def test_readers_registered_to_no_site_are_listed_for_auditors(read_api: ReadApi) -> None:
    api, _ = read_api
    found = get(api, f"/v1/readers/unregistered{RANGE_QUERY}", ADMIN)["items"]
    assert [(r["reader_id"], [t["tap_id"] for t in r["taps"]]) for r in found] == [
        ("GHOST1", ["GHOST1:1"])]


def test_a_replay_answers_as_the_ledger_was_then(read_api: ReadApi) -> None:
    api, w = read_api
    body = {"technician_id": w.worker, "date_from": "2025-06-01", "date_to": "2025-06-30"}
    asked = api.post("/v1/audit/replays", AUDITOR, body | {"as_of": "2025-06-20T10:00:00+09:00"})
    assert asked.status_code == 202, asked.text
    status_url = f"/v1/audit/replays/{asked.json()['replay_id']}"
    assert asked.headers["location"] == asked.json()["status_url"] == status_url
    now = replay_ended(api, status_url)
    assert now["status"] == "done", now
    assert now["result"]["career"]["work_days"] == 3
    head = api.ledger.log_position()
    assert now["result"]["events_replayed_through"] == now["stop_position"] == head
    assert now["progress"]["events_read"] == now["progress"]["events_to_read"] > 0
    # The world was recorded at 10:00: a second before, the worker was not registered yet. The
    # API knows them now, so it takes the job; the replay does not, and fails as 404 would.
    asked = api.post("/v1/audit/replays", AUDITOR, body | {"as_of": "2025-06-20T09:59:59+09:00"})
    assert asked.status_code == 202, asked.text
    before = replay_ended(api, asked.json()["status_url"])
    assert before["status"] == "failed" and before["result"] is None
    assert before["failure"]["status"] == 404
    assert before["failure"]["field"] == "technician_id"
    assert before["stop_position"] == 0 and before["progress"]["events_to_read"] == 0
    naive = api.post("/v1/audit/replays", AUDITOR, body | {"as_of": "2025-06-20T10:00:00"})
    assert (naive.status_code, naive.json()["field"]) == (422, "as_of")
    unknown = api.post("/v1/audit/replays", AUDITOR, body | {
        "as_of": "2025-06-20T10:00:00+09:00", "technician_id": "99999999999999"})
    assert (unknown.status_code, unknown.json()["field"]) == (404, "technician_id")
    backwards = api.post("/v1/audit/replays", AUDITOR, body | {
        "as_of": "2025-06-20T10:00:00+09:00", "date_from": "2025-06-30",
        "date_to": "2025-06-01"})
    assert backwards.status_code == 422, backwards.text


def test_every_auditor_and_admin_read_is_logged_and_no_one_elses(read_api: ReadApi) -> None:
    api, w = read_api
    log = AuditReadLog(api.ledger.settings)
    try:
        before = {r.read_id for r in log.recent(10_000)}
        get(api, f"/v1/workers/{w.worker}/career{RANGE_QUERY}", AUDITOR)
        get(api, f"/v1/sites/{w.site_a}/on-site-now", ADMIN)
        get(api, f"/v1/workers/{w.worker}/career{RANGE_QUERY}", me(w))
        new = [r for r in log.recent(10_000) if r.read_id not in before]
    finally:
        log.close()
    assert sorted((r.actor, r.method, r.path) for r in new) == [
        ("admin:ops", "GET", f"/v1/sites/{w.site_a}/on-site-now"),
        ("auditor:audit", "GET", f"/v1/workers/{w.worker}/career")]
    assert next(r.query for r in new if r.actor == "auditor:audit").startswith(
        "date_from=2025-06-01&date_to=2025-06-30&min_position=")


# -- refusals -------------------------------------------------------------------------------------
def test_not_yours_is_the_same_404_as_absent(read_api: ReadApi) -> None:
    api, w = read_api
    absent_worker, absent_site = f"{w.k:04d}9999999999", f"{w.k:04d}9000000009"
    same_not_found(api.request("GET", f"/v1/workers/{w.other_worker}/career{RANGE_QUERY}",
                               prime(w.prime_a)),
                   api.request("GET", f"/v1/workers/{absent_worker}/career{RANGE_QUERY}",
                               prime(w.prime_a)))
    same_not_found(api.request("GET", f"/v1/sites/{w.site_b}/on-site-now", prime(w.prime_a)),
                   api.request("GET", f"/v1/sites/{absent_site}/on-site-now", prime(w.prime_a)))
    same_not_found(api.request("GET", f"/v1/primes/{w.prime_b}/inbox", prime(w.prime_a)),
                   api.request("GET", f"/v1/primes/{w.k}999/inbox", prime(w.prime_a)))


@pytest.mark.parametrize(("query", "field", "rule"), [
    ("date_from=2025-06-30&date_to=2025-06-01", "date_to", "date_range.order"),
    ("date_from=2025-02-30&date_to=2025-06-01", "date_from", "request.schema"),
    ("date_from=0001-01-01&date_to=2025-06-01", "date_from", "request.schema"),
    ("date_from=2025-06-01", "date_to", "request.schema"),
    (f"{RANGE_QUERY[1:]}&limit=0", "limit", "request.schema"),
    (f"{RANGE_QUERY[1:]}&limit=1001", "limit", "request.schema"),
    (f"{RANGE_QUERY[1:]}&min_position=-1", "min_position", "request.schema"),
    (f"{RANGE_QUERY[1:]}&min_position=99999999", "min_position", "min_position.range"),
    (f"{RANGE_QUERY[1:]}&min_position=9223372036854775808", "min_position", "request.schema"),
])
def test_bad_parameters_are_a_422_naming_the_field(
    read_api: ReadApi, query: str, field: str, rule: str
) -> None:
    api, w = read_api
    refused = problem(api, f"/v1/workers/{w.worker}/records?{query}", me(w), 422)
    assert (refused["field"], refused["rule"]) == (field, rule)


@pytest.mark.parametrize("path", [
    "/v1/workers/12345/career?date_from=2025-06-01&date_to=2025-06-30",
    "/v1/sites/ABC/attendance?work_date=2025-06-16",
    "/v1/workers/{worker}/kentaikyo?month=2025-13",
    "/v1/primes/{prime}/inbox?site_id=1",
    "/v1/audit/work-records/{worker}/{site}/2025-02-29/events",
])
def test_malformed_ids_months_and_dates_are_a_422(read_api: ReadApi, path: str) -> None:
    api, w = read_api
    path = path.format(worker=w.worker, prime=w.prime_a, site=w.site_a)
    assert problem(api, path, ADMIN, 422)["rule"] == "request.schema"


def test_the_day_closes_findings_appear_in_the_sites_exceptions_list(read_api: ReadApi) -> None:
    from datetime import datetime

    from ledger.actors import Role
    from projections.jobs.day_close import close_day
    from projections.store import ReadStore

    api, w = read_api
    listed = get(api, f"/v1/sites/{w.site_a}/exceptions{RANGE_QUERY}", prime(w.prime_a))
    assert listed["day_close_findings"] == []
    tapped_on = datetime.fromisoformat(listed["items"][0]["reader_time"]).astimezone(JST).date()
    store = ReadStore(api.ledger.settings)
    close_day(api.ledger, store, tapped_on, Actor(Role.SYSTEM, "test"))
    store.close()

    found = get(api, f"/v1/sites/{w.site_a}/exceptions{RANGE_QUERY}", prime(w.prime_a))
    unknown = [f for f in found["day_close_findings"] if f["kind"] == "unknown_card"]
    assert [(f["work_date"], f["subject"]) for f in unknown] == [
        (str(tapped_on), f"{w.reader_a}:4")]

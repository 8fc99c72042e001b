"""Forms from the schema: validation at the field, saving, conflicts, statuses, queries."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from kypho.schema import load_schema
from kypho.schema.forms import load_forms
from kypho.store import Store
from kypho.web import Settings, create_app

from .conftest import PASSWORD, Browser, patients


def _form(b: Browser, rid: str, inst: str) -> dict[str, str]:
    """The hidden and filled values of a form page, as the browser would post them."""
    page = b.get(f"/record/form?id={rid}&inst={inst}").text
    values = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    for name, value in re.findall(r'<input id="f-[^"]+" name="([^"]+)" value="([^"]*)"', page):
        values[name] = value
    for name, value in re.findall(r'name="([^"]+)" value="([^"]*)" checked', page):
        values[name] = value
    return {k: v.replace("&#39;", "'") for k, v in values.items()}


def test_a_mistake_is_shown_at_the_field_by_the_validator(
    store: Store, browser: Callable[..., Browser]
) -> None:
    b = browser("dora")
    data = {**_form(b, "P-00001", "vas"), "vas_pre": "11"}
    response = b.post("/record/check?field=vas_pre", data)
    assert response.status_code == 200
    # the message is kypho.validate's own, without the record prefix
    assert response.text.strip() == (
        '<span class="msg">&#39;vas_pre&#39; must be a number from 0 to 10 (got &#39;11&#39;)</span>'
    )
    assert b.post("/record/check?field=vas_2h", data).text.strip() == ""


def test_a_cross_field_rule_shows_at_both_fields(
    store: Store, browser: Callable[..., Browser]
) -> None:
    b = browser("dora")
    data = {**_form(b, "P-00001", "followup"), "last_followup_date": "1999-01-01"}
    message = b.post("/record/check?field=last_followup_date", data).text
    assert "must not be before the operation date" in message


def test_saving_a_mistake_changes_nothing_then_the_correction_saves(
    store: Store, browser: Callable[..., Browser]
) -> None:
    b = browser("dora")
    before = store.get("P-00001")
    data = {**_form(b, "P-00001", "vas"), "vas_pre": "11", "vas_4h": "2.5"}
    response = b.post("/record/save", data)
    assert response.status_code == 422
    assert "must be a number from 0 to 10 (got &#39;11&#39;)" in response.text
    assert store.get("P-00001") == before
    data["vas_pre"] = "7.5"
    response = b.post("/record/save", data)
    assert response.status_code == 303
    after = store.get("P-00001")
    assert after.version == before.version + 1
    assert after.values["vas_pre"] == 7.5
    assert after.values["vas_4h"] == 2.5
    log = store.log(record="P-00001")
    updates = log[log["action"] == "update"]
    assert set(updates["field"]) == {"vas_pre", "vas_4h"}
    assert set(updates["user_name"]) == {"dora"}
    assert store.verify().ok


def test_saving_incomplete_is_allowed_and_complete_needs_every_required_field(
    store: Store, browser: Callable[..., Browser]
) -> None:
    b = browser("dora")
    data = _form(b, "P-00001", "vas")
    data.update({"vas_4h": "3", "complete": "1"})
    data.pop("vas_48h", None)
    data["vas_48h"] = ""
    response = b.post("/record/save", data)
    assert response.status_code == 422  # saved, but cannot be complete yet
    assert "not complete" in response.text
    assert store.get("P-00001").values["vas_4h"] == 3.0
    data = {**_form(b, "P-00001", "vas"), "vas_48h": "2", "complete": "1"}
    assert b.post("/record/save", data).status_code == 303
    log = store.log(record="P-00001")
    assert log["action"].iloc[-1] == "status"
    assert log["new_value"].iloc[-1] == '"complete"'
    # editing a complete form asks for a reason
    data = {**_form(b, "P-00001", "vas"), "vas_48h": "2.5"}
    response = b.post("/record/save", data)
    assert response.status_code == 422
    assert "say why you change it" in response.text
    assert store.get("P-00001").values["vas_48h"] == 2.0
    data["reason"] = "source document: 2.5"
    assert b.post("/record/save", data).status_code == 303
    assert store.log(record="P-00001")["reason"].iloc[-1] == "source document: 2.5"


def test_the_second_editor_sees_both_values_and_chooses(
    store: Store, browser: Callable[..., Browser]
) -> None:
    first, second = browser("dora"), browser("ada")
    form_1 = _form(first, "P-00002", "vas")
    form_2 = _form(second, "P-00002", "vas")
    assert first.post("/record/save", {**form_1, "vas_pre": "6"}).status_code == 303
    response = second.post("/record/save", {**form_2, "vas_pre": "8"})
    assert response.status_code == 409
    page = response.text
    assert "Someone else changed record" in page
    assert 'value="mine" checked> 8' in page
    assert 'value="theirs"> 6' in page
    assert store.get("P-00002").values["vas_pre"] == 6.0  # nothing overwritten
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version is not None
    choice = {
        "id": "P-00002",
        "inst": "vas",
        "version": version.group(1),
        "choose__vas_pre": "mine",
        "mine__vas_pre": "8",
        "reason": "checked the source",
    }
    assert second.post("/record/resolve", choice).status_code == 303
    rec = store.get("P-00002")
    assert rec.values["vas_pre"] == 8.0
    updates = store.log(record="P-00002")
    values = list(updates[updates["action"] == "update"]["new_value"])
    assert values[-2:] == ["6.0", "8.0"]


def test_queries_raise_answer_close_on_the_dashboard_and_in_the_trail(
    store: Store, browser: Callable[..., Browser]
) -> None:
    mona, dora = browser("mona"), browser("dora")
    ask = {"id": "P-00003", "field": "vas_pre", "text": "VAS 9 before the operation?"}
    assert mona.post("/query/raise", ask).status_code == 303
    assert ">1</span>" in mona.get("/?q=P-00003").text
    assert "1 open query" in mona.get("/").text
    assert "VAS 9 before the operation?" in dora.get("/record/form?id=P-00003&inst=vas").text
    assert dora.post("/query/respond", {"qid": "1", "text": "yes, as charted"}).status_code == 303
    assert dora.post("/query/close", {"qid": "1"}).status_code == 403  # data entry cannot close
    assert mona.post("/query/close", {"qid": "1", "note": "ok"}).status_code == 303
    assert "0 open queries" in mona.get("/").text
    log = store.log(record="P-00003")
    assert list(log["action"])[-3:] == ["query_raise", "query_respond", "query_close"]
    assert list(log["user_name"])[-3:] == ["mona", "dora", "mona"]
    assert store.verify().ok


def test_monitor_verifies_and_locks_admin_unlocks(
    store: Store, browser: Callable[..., Browser]
) -> None:
    mona, dora, ada = browser("mona"), browser("dora"), browser("ada")
    form = {**_form(dora, "P-00004", "vas"), "vas_4h": "1", "vas_48h": "1", "complete": "1"}
    assert dora.post("/record/save", form).status_code == 303
    assert mona.post("/record/verify", {"id": "P-00004", "inst": "vas"}).status_code == 303
    assert 'class="st verified"' in mona.get("/record?id=P-00004").text
    assert mona.post("/record/lock", {"id": "P-00004", "reason": "monitored"}).status_code == 303
    assert store.get("P-00004").locked
    dashboard = mona.get("/?q=P-00004").text
    # one per form, plus the legend
    assert dashboard.count('class="st locked"') == len(load_forms(store.schema)) + 1
    # a locked record refuses the form
    locked = dora.post("/record/save", {**_form(dora, "P-00004", "vas"), "vas_pre": "1"})
    assert locked.status_code == 409
    assert mona.post("/record/unlock", {"id": "P-00004", "reason": "x"}).status_code == 403
    assert ada.post("/record/unlock", {"id": "P-00004", "reason": "correction"}).status_code == 303
    assert not store.get("P-00004").locked


def test_branching_fields_carry_their_condition(
    store: Store, browser: Callable[..., Browser]
) -> None:
    page = browser("dora").get("/record/form?id=P-00001&inst=screening").text
    assert 'data-show-if="denis_type" data-show-op="==" data-show-values="compression"' in page
    cement = browser("dora").get("/record/form?id=P-00001&inst=cement").text
    assert 'data-codes-of="leak_sites"' in cement


def test_a_list_field_saves_none_or_the_ticked_codes(
    store: Store, browser: Callable[..., Browser]
) -> None:
    b = browser("dora")
    form = _form(b, "P-00001", "cement")
    form.update({"leak_sites__any": "yes"})
    body: dict[str, object] = {**form, "leak_sites": ["S", "C"]}
    response = b.post("/record/save", body)
    assert response.status_code == 303
    assert store.get("P-00001").values["leak_sites"] == "C;S"
    form = {**_form(b, "P-00001", "cement"), "leak_sites__any": "no"}
    assert b.post("/record/save", form).status_code == 303
    assert store.get("P-00001").values["leak_sites"] == ""  # observed: no leak


def test_a_schema_extension_appears_in_the_forms_without_code(db_url: str) -> None:
    ext = {
        "timepoints": {"m12": {"label": "12 months", "order": 9}},
        "variables": [
            {
                "name": "odi_pre",
                "label": "Oswestry Disability Index",
                "type": "number",
                "unit": "%",
                "min": 0,
                "max": 100,
                "role": "outcome",
            }
        ],
        "extend_repeated": {"vas": ["m12"]},
    }
    schema = load_schema(extensions=[ext])
    from kypho.store.auth import set_password

    with Store.init(db_url, admin="ada", schema=schema) as store:
        store.import_frame(patients(2), reason="test")
        set_password(store, "ada", PASSWORD)
        b = Browser(create_app(store, Settings(secret="s")))
        assert b.login("ada") == 303
        extra = b.get("/record/form?id=P-00001&inst=additional").text
        assert "Oswestry Disability Index" in extra
        vas = b.get("/record/form?id=P-00001&inst=vas").text
        assert "VAS score, 12 months" in vas
        data = {**_form(b, "P-00001", "additional"), "odi_pre": "140"}
        assert "from 0 to 100" in b.post("/record/check?field=odi_pre", data).text
        data["odi_pre"] = "42"
        assert b.post("/record/save", data).status_code == 303
        assert store.get("P-00001").values["odi_pre"] == 42.0


def test_new_record_needs_the_required_fields(
    store: Store, browser: Callable[..., Browser]
) -> None:
    b = browser("dora")
    fields = {
        "patient_id": "P-NEW",
        "group": "control",
        "sex": "female",
        "age": "17",
        "level": "L1",
    }
    response = b.post("/record/new", fields)
    assert response.status_code == 422
    assert "from 18 to 120" in response.text
    fields["age"] = "71"
    response = b.post("/record/new", fields)
    assert response.status_code == 303
    assert store.get("P-NEW").values["age"] == 71


@pytest.mark.parametrize("role_user", ["ada"])
def test_a_failing_store_is_flagged_on_every_page(
    store: Store, browser: Callable[..., Browser], app: object, role_user: str
) -> None:
    import sqlalchemy as sa

    records = store.tables.records
    with store.engine.begin() as conn:
        conn.execute(sa.update(records).where(records.c.patient_id == "P-00001").values(age=99))
    web = app.state.web  # type: ignore[attr-defined]
    web.refresh_verify()
    b = browser("rita")
    for url in ("/", "/queries", "/screening", "/record?id=P-00001"):
        assert 'id="store-failing"' in b.get(url).text, url
    admin = browser(role_user).get("/admin/verify").text
    assert "record P-00001, &#39;age&#39; is 99 in the table" in admin


def test_double_data_entry_lists_conflicts_for_adjudication(
    store: Store, browser: Callable[..., Browser]
) -> None:
    dora, mona, ada = browser("dora"), browser("mona"), browser("ada")
    # ada created the records (first entry); she may not type the second
    second = {
        "id": "P-00005",
        "inst": "vas",
        "vas_pre": "",
        "vas_2h": "",
        "vas_4h": "2",
        "vas_48h": "1",
    }
    rec = store.get("P-00005")
    second["vas_pre"] = str(rec.values["vas_pre"])
    second["vas_2h"] = "9"
    assert ada.post("/dde/save", second).status_code == 400
    assert dora.post("/dde/save", second).status_code == 303
    assert mona.get("/dde/compare?id=P-00005&inst=vas").status_code == 403
    page = ada.get("/dde/compare?id=P-00005&inst=vas").text
    rows = re.findall(r"<code>(\w+)</code>", page)
    assert rows == ["vas_2h", "vas_4h", "vas_48h"]  # vas_pre agrees
    assert dora.get("/dde/compare?id=P-00005&inst=vas").status_code == 403
    choice = {
        "id": "P-00005",
        "inst": "vas",
        "version": str(rec.version),
        "choose__vas_2h": "first",
        "choose__vas_4h": "second",
        "choose__vas_48h": "second",
    }
    assert ada.post("/dde/adjudicate", choice).status_code == 303
    after = store.get("P-00005")
    assert after.values["vas_2h"] == rec.values["vas_2h"]
    assert (after.values["vas_4h"], after.values["vas_48h"]) == (2.0, 1.0)
    log = store.log(record="P-00005")
    assert list(log["action"])[-4:] == ["second_entry", "update", "update", "adjudicate"]
    assert store.verify().ok

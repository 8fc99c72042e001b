"""The second study (kypho/data/examples/vertebroplasty/) in the web forms, with no code
change: its own variables, arms and timepoints, one form per variable role."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from kypho.schema import load_schema
from kypho.store import Store
from kypho.store.auth import set_password
from kypho.web import Settings, create_app

from .conftest import PASSWORD, Browser

EXAMPLE = Path(str(resources.files("kypho").joinpath("data", "examples", "vertebroplasty")))


def test_the_example_study_is_entered_in_its_own_forms(db_url: str) -> None:
    schema = load_schema(EXAMPLE / "study.yaml")
    cohort = pd.read_csv(EXAMPLE / "cohort.csv", dtype=str, keep_default_na=False).head(3)
    with Store.init(db_url, admin="ada", schema=schema) as store:
        assert store.import_frame(cohort, reason="example study").n_rejected == 0
        set_password(store, "ada", PASSWORD)
        app = create_app(store, Settings(secret="s", schema_path=EXAMPLE / "study.yaml"))
        b = Browser(app)
        assert b.login("ada") == 303
        outcome = b.get("/record/form?id=V001&inst=outcome").text
        assert "Oswestry Disability Index, 12 months" in outcome
        assert "Back pain (VAS), 1 week" in outcome
        baseline = b.get("/record/form?id=V001&inst=group").text
        assert "Vertebroplasty" in baseline
        assert "Conservative care" in baseline

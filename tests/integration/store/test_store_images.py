"""Radiographs in the store: content-addressed files, audited uploads, blinded reads, accept."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest

from kypho.errors import DataError, LandmarkError, PermissionDenied, StoreError
from kypho.radiograph import lateral_phantom, phantom_dicom, phantom_png
from kypho.radiograph.agreement import reliability
from kypho.store import Store
from kypho.store.images import ImageStore

PHANTOM = lateral_phantom()


@pytest.fixture
def films(
    db_url: str, tmp_path: Path, make_patients: Callable[..., pd.DataFrame]
) -> Iterator[ImageStore]:
    store = Store.init(db_url, admin="ada")
    store.import_frame(make_patients(3), reason="baseline")
    store.add_user("rita", "data_entry")
    store.add_user("rob", "data_entry")
    store.add_user("ann", "analyst")
    yield ImageStore(store, tmp_path / "images")
    store.close()


def _as(films: ImageStore, user: str) -> ImageStore:
    return ImageStore(Store(films.store.url, user=user, _engine=films.store.engine), films.folder)


def test_upload_is_content_addressed_and_audited(films: ImageStore) -> None:
    data = phantom_dicom(PHANTOM, photometric="MONOCHROME1")
    image = films.upload(data, record="P-00001", timepoint="pre", view="lateral")
    sha = hashlib.sha256(data).hexdigest()
    assert image.sha256 == sha
    assert (films.folder / sha[:2] / sha).read_bytes() == data
    assert image.pixel_size is not None
    assert image.pixel_size.source == "PixelSpacing"
    assert image.photometric == "MONOCHROME1"
    log = films.store.log(record="P-00001")
    entry = log[log["action"] == "image_upload"].iloc[-1]
    assert entry["field"] == "lateral@pre"
    assert json.loads(entry["new_value"])["sha256"] == sha
    assert films.store.verify().ok
    # the same file again is the same film; for another film it is refused
    assert films.upload(data, record="P-00001", timepoint="pre", view="lateral") == image
    with pytest.raises(DataError, match="already stored for record P-00001, lateral film at pre"):
        films.upload(data, record="P-00002", timepoint="pre", view="lateral")


def test_upload_refuses_unknown_record_view_and_timepoint(films: ImageStore) -> None:
    png = phantom_png(PHANTOM)
    with pytest.raises(DataError, match="view must be one of lateral, ap"):
        films.upload(png, record="P-00001", timepoint="pre", view="oblique")
    with pytest.raises(DataError, match="timepoint '2h' has no radiographic measures"):
        films.upload(png, record="P-00001", timepoint="2h", view="lateral")
    with pytest.raises(StoreError):
        films.upload(png, record="P-99999", timepoint="pre", view="lateral")
    assert films.images() == []


def test_read_accept_fills_the_record_with_provenance(films: ImageStore) -> None:
    image = films.upload(phantom_dicom(PHANTOM), record="P-00002", timepoint="d3", view="lateral")
    rita = _as(films, "rita")
    read = rita.save_read(image.sha256, PHANTOM.landmarks)
    assert read.measures["height_injured_anterior"] == pytest.approx(17.0)
    record = rita.accept(read.id)
    assert record.values["ant_height_injured_d3"] == pytest.approx(17.0)
    assert record.values["mid_height_above_d3"] == pytest.approx(25.0)
    assert record.values["wedge_angle_d3"] == pytest.approx(PHANTOM.wedge_angle)
    assert record.values["sup_ant_x_d3"] == PHANTOM.landmarks[1, 0, 0]
    log = films.store.log(record="P-00002")
    updates = log[log["action"] == "update"]
    assert "ant_height_injured_d3" in set(updates["field"])
    assert updates["reason"].str.contains(f"by rita of image sha256:{image.sha256}").all()
    accept = json.loads(log[log["action"] == "read_accept"].iloc[-1]["new_value"])
    assert accept["rater"] == "rita"
    assert accept["image"] == image.sha256
    assert np.allclose(accept["points"], PHANTOM.landmarks)
    assert films.store.verify().ok
    with pytest.raises(DataError, match="was accepted into the record"):
        rita.save_read(image.sha256, PHANTOM.landmarks)


def test_reads_are_blinded_and_pooled_for_reliability(films: ImageStore) -> None:
    images = [
        films.upload(
            phantom_dicom(lateral_phantom(seed=i), spacing_value=0.25 + i / 100),
            record=f"P-0000{i}",
            timepoint="pre",
            view="lateral",
        )
        for i in (1, 2, 3)
    ]
    rng = np.random.default_rng(1)
    for who in ("rita", "rob"):
        rater = _as(films, who)
        for img in images:
            jitter = rng.normal(0, 0.8, PHANTOM.landmarks.shape)
            rater.save_read(img.sha256, PHANTOM.landmarks + jitter)
    rita, rob = _as(films, "rita"), _as(films, "rob")
    assert rita.raters_done() == {img.sha256: 2 for img in images}
    assert {r.rater for r in rita.my_reads()} == {"rita"}
    assert len(rob.my_reads(images[0].sha256)) == 1
    with pytest.raises(DataError, match="you have no read number"):
        rita.accept(rob.my_reads()[0].id)
    with pytest.raises(PermissionDenied, match="may not see every rater's reads"):
        rita.reads_table()
    table = _as(films, "ann").reads_table()
    assert set(table["rater"]) == {"rita", "rob"}
    result = reliability(table)
    stats = result.to_frame()
    assert "inter-rater" in set(stats["comparison"])


def test_impossible_landmarks_are_not_saved(films: ImageStore) -> None:
    image = films.upload(phantom_dicom(PHANTOM), record="P-00001", timepoint="pre", view="lateral")
    bad = PHANTOM.landmarks.copy()
    bad[1, 3] = bad[1, 0]
    with pytest.raises(LandmarkError, match="injured vertebra: the anterior height is zero"):
        films.save_read(image.sha256, bad)
    assert films.my_reads() == []


def test_a_film_without_pixel_size_needs_calibration(films: ImageStore) -> None:
    image = films.upload(phantom_png(PHANTOM), record="P-00001", timepoint="pre", view="lateral")
    with pytest.raises(LandmarkError, match="states no pixel size"):
        films.save_read(image.sha256, PHANTOM.landmarks)
    start, end = PHANTOM.landmarks[1, 2], PHANTOM.landmarks[1, 5]  # 108 px = 27 mm
    size = films.pixel_size_for(image.sha256, calibration=(tuple(start), tuple(end), 27.0))
    read = films.save_read(image.sha256, PHANTOM.landmarks, pixel_size=size)
    assert read.measures["height_injured_anterior"] == pytest.approx(17.0)
    assert read.pixel_size is not None
    assert read.pixel_size.source == "calibration"


def test_export_is_deidentified_and_audited(films: ImageStore) -> None:
    data = phantom_dicom(PHANTOM)
    image = films.upload(data, record="P-00003", timepoint="last", view="lateral")
    with pytest.raises(PermissionDenied):
        _as(films, "rita").export(image.sha256)
    clean = pydicom.dcmread(
        io.BytesIO(_as(films, "ann").export(image.sha256, reason="methods paper"))
    )
    assert str(clean.PatientName) == ""
    assert clean.PatientIdentityRemoved == "YES"
    log = films.store.log(record="P-00003")
    assert (log["action"] == "image_export").sum() == 1


def test_worklist_asks_for_repeat_reads_of_a_sample(films: ImageStore) -> None:
    for i in range(1, 4):
        films.upload(
            phantom_dicom(lateral_phantom(seed=i)),
            record=f"P-0000{i}",
            timepoint="pre",
            view="lateral",
        )
    rita = _as(films, "rita")
    due = rita.worklist()
    assert [n for _, n in due] == [1, 1, 1]
    rita.plan = {**rita.plan, "reads": {**rita.plan["reads"], "repeat_fraction": 1.0}}
    for image, _ in due:
        rita.save_read(image.sha256, PHANTOM.landmarks)
    assert [n for _, n in rita.worklist()] == [2, 2, 2]


def test_cement_outlines_combine_both_films_and_fill_the_record(films: ImageStore) -> None:
    body = [[0, 0], [100, 0], [100, 100], [0, 100]]
    cement = [[5, 5], [95, 5], [95, 95], [5, 95]]  # 81 %
    lateral = films.upload(phantom_png(PHANTOM), record="P-00001", timepoint="d3", view="lateral")
    ap = films.upload(
        phantom_png(lateral_phantom(seed=9)), record="P-00001", timepoint="d3", view="ap"
    )
    one = films.save_read(
        lateral.sha256, {"body": body, "cement": cement}, kind="cement", pattern="spongy"
    )
    assert one.measures["grade"] is None  # III/IV needs both films
    assert one.measures["area_ap"] is None
    both = films.measure(
        ap.sha256, {"body": body, "cement": cement}, kind="cement", pattern="spongy"
    )
    assert both["grade"] == "IV"
    assert both["area_lat"] == pytest.approx(81.0)
    record = films.accept(one.id)
    assert record.values["cement_area_lat"] == pytest.approx(81.0)
    assert record.values["cement_pattern"] == "spongy"

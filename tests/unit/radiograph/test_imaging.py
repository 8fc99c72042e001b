"""Radiograph files: phantom PNG and DICOM (MONOCHROME1 and 2) decode; de-identified copies."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from PIL import Image

from kypho.errors import InputFileError
from kypho.radiograph import (
    deidentified_copy,
    lateral_phantom,
    phantom_dicom,
    phantom_png,
    read_image,
)

PHANTOM = lateral_phantom()


def test_png_decodes_without_pixel_size() -> None:
    img = read_image(phantom_png(PHANTOM))
    assert (img.media_type, img.rows, img.columns) == ("image/png", 480, 400)
    assert img.pixel_size is None  # a PNG states no pixel size: calibrate
    x, y = PHANTOM.landmarks[1, 1] + np.array([0, 20])
    assert img.pixels[int(y), int(x)] > img.pixels[5, 5]  # bone brighter than background


def test_dicom_monochrome1_is_shown_as_monochrome2() -> None:
    two = read_image(phantom_dicom(PHANTOM))
    one = read_image(phantom_dicom(PHANTOM, photometric="MONOCHROME1"))
    assert (one.photometric, two.photometric) == ("MONOCHROME1", "MONOCHROME2")
    assert np.array_equal(one.pixels, two.pixels)
    assert np.array_equal(two.pixels, PHANTOM.pixels)


@pytest.mark.parametrize("attribute", ["PixelSpacing", "ImagerPixelSpacing"])
def test_pixel_size_from_either_attribute(attribute: str) -> None:
    img = read_image(phantom_dicom(PHANTOM, spacing=attribute))
    assert img.pixel_size is not None
    assert (img.pixel_size.column_mm, img.pixel_size.row_mm) == (0.25, 0.25)
    assert img.pixel_size.source == attribute


@pytest.mark.parametrize(("spacing", "value"), [(None, None), ("PixelSpacing", 0.0)])
def test_missing_or_zero_spacing_needs_calibration(
    spacing: str | None, value: float | None
) -> None:
    assert (
        read_image(phantom_dicom(PHANTOM, spacing=spacing, spacing_value=value)).pixel_size is None
    )


def test_unknown_bytes_are_refused() -> None:
    with pytest.raises(InputFileError, match="not a PNG, JPEG or DICOM"):
        read_image(b"GIF89a....")


def test_dicom_export_strips_identifiers_and_keeps_pixels() -> None:
    data = phantom_dicom(PHANTOM)
    before = bytes(data)
    clean = pydicom.dcmread(io.BytesIO(deidentified_copy(data)))
    original = pydicom.dcmread(io.BytesIO(data))
    assert data == before
    assert str(clean.PatientName) == ""
    assert clean.PatientID == ""
    assert clean.PatientBirthDate == ""
    assert "InstitutionName" not in clean
    assert clean.AccessionNumber == ""
    assert str(clean.ReferringPhysicianName) == ""
    assert 0x00091010 not in clean  # private attribute removed
    assert clean.SOPInstanceUID != original.SOPInstanceUID
    assert clean.file_meta.MediaStorageSOPInstanceUID == clean.SOPInstanceUID
    assert clean.PatientIdentityRemoved == "YES"
    assert clean.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
    assert np.array_equal(clean.pixel_array, original.pixel_array)
    assert clean.PixelSpacing == original.PixelSpacing
    assert b"PHANTOM" not in deidentified_copy(data)


def test_png_and_jpeg_exports_lose_metadata() -> None:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Patient", "DOE^JOHN")
    buf = io.BytesIO()
    Image.fromarray(np.full((8, 8), 100, dtype=np.uint8)).save(buf, format="PNG", pnginfo=info)
    png = buf.getvalue()
    assert b"DOE^JOHN" in png
    clean = deidentified_copy(png)
    assert b"DOE^JOHN" not in clean
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(clean))), np.full((8, 8), 100))
    jbuf = io.BytesIO()
    exif = Image.Exif()
    exif[0x010E] = "DOE^JOHN"  # ImageDescription
    Image.fromarray(np.full((8, 8), 100, dtype=np.uint8)).save(jbuf, format="JPEG", exif=exif)
    jpeg = jbuf.getvalue()
    assert b"DOE^JOHN" in jpeg
    jclean = deidentified_copy(jpeg)
    assert b"DOE^JOHN" not in jclean
    assert np.array_equal(
        np.asarray(Image.open(io.BytesIO(jclean))), np.asarray(Image.open(io.BytesIO(jpeg)))
    )

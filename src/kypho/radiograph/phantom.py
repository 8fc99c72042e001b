"""Phantom lateral radiographs: three vertebral bodies of known geometry.

For tests, demonstrations and benchmarks: :func:`lateral_phantom` draws the
vertebrae above, injured (wedged) and below as bright quadrilaterals on a dark,
slightly noisy background, with the six landmarks of each body on exact pixel
positions, and knows what a correct read must give. :func:`phantom_png` and
:func:`phantom_dicom` write it as a file (DICOM with a chosen pixel-size
attribute and photometric interpretation, and invented patient identifiers
so that de-identification can be checked).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kypho.radiograph.landmarks import PixelSize

__all__ = ["Phantom", "lateral_phantom", "phantom_dicom", "phantom_png"]


@dataclass(frozen=True)
class Phantom:
    """A drawn lateral film and its truth.

    Attributes
    ----------
    pixels
        ``(rows, columns)`` uint16, bone bright.
    landmarks
        ``(3, 6, 2)`` true points in pixels (x right, y down), in
        :data:`kypho.radiograph.POINTS` order for above, injured, below.
    pixel_size
        The true size of a pixel.
    heights_mm
        ``(3, 3)`` true anterior, middle, posterior heights of the three bodies.
    wedge_angle
        The injured body's true wedge angle in degrees.
    """

    pixels: npt.NDArray[np.uint16]
    landmarks: npt.NDArray[np.float64]
    pixel_size: PixelSize
    heights_mm: npt.NDArray[np.float64]
    wedge_angle: float


def lateral_phantom(
    *,
    pixel_mm: float = 0.25,
    heights_px: tuple[tuple[int, int], ...] = ((100, 100), (68, 108), (104, 104)),
    depth_px: int = 120,
    gap_px: int = 24,
    size: tuple[int, int] = (480, 400),
    seed: int = 0,
) -> Phantom:
    """Draw three vertebral bodies with straight endplates, anterior to the left.

    Parameters
    ----------
    pixel_mm
        Pixel size (square).
    heights_px
        ``(anterior, posterior)`` height in pixels of the bodies above, injured,
        below (even numbers keep the middle points on whole pixels).
    depth_px
        Anteroposterior depth of each body (even).
    gap_px
        Disc space between bodies, at the posterior edge.
    size
        ``(rows, columns)`` of the film.
    seed
        Seed of the background noise.

    Returns
    -------
    Phantom

    Examples
    --------
    >>> p = lateral_phantom()
    >>> p.heights_mm[1].tolist(), round(p.wedge_angle, 4)
    ([17.0, 22.0, 27.0], 18.4349)
    """
    from PIL import Image, ImageDraw

    rows, cols = size
    x0 = (cols - depth_px) // 2
    x1 = x0 + depth_px
    xm = (x0 + x1) // 2
    total = sum(max(a, p) for a, p in heights_px) + gap_px * (len(heights_px) - 1)
    top = (rows - total) // 2
    marks = []
    for ant, post in heights_px:
        # the posterior wall is vertical; the superior endplate slopes when ant < post
        bottom = top + max(ant, post)
        sup_post_y, sup_ant_y = bottom - post, bottom - ant
        sup = [(x0, sup_ant_y), (xm, (sup_ant_y + sup_post_y) // 2), (x1, sup_post_y)]
        inf = [(x0, bottom), (xm, bottom), (x1, bottom)]
        marks.append(sup + inf)
        top = bottom + gap_px
    landmarks = np.array(marks, dtype=np.float64)
    img = Image.new("I", (cols, rows), 600)
    draw = ImageDraw.Draw(img)
    for body in marks:
        draw.polygon([body[0], body[2], body[5], body[3]], fill=2600, outline=3400)
    rng = np.random.default_rng(seed)
    pixels = np.asarray(img, dtype=np.float64) + rng.normal(0, 40, (rows, cols))
    heights = np.hypot(*(landmarks[:, 0:3] - landmarks[:, 3:6]).transpose(2, 0, 1)) * pixel_mm
    inj = landmarks[1]
    wedge = float(np.degrees(np.arctan2(inj[0, 1] - inj[2, 1], inj[2, 0] - inj[0, 0])))
    return Phantom(
        pixels=np.clip(np.rint(pixels), 0, 4095).astype(np.uint16),
        landmarks=landmarks,
        pixel_size=PixelSize.square(pixel_mm),
        heights_mm=heights,
        wedge_angle=wedge,
    )


def phantom_png(phantom: Phantom) -> bytes:
    """The phantom as an 8-bit grey-scale PNG (no pixel size: it must be calibrated)."""
    from PIL import Image

    eight = (phantom.pixels.astype(np.float64) / 4095.0 * 255.0).round().astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(eight, mode="L").save(out, format="PNG")
    return out.getvalue()


def phantom_dicom(
    phantom: Phantom,
    *,
    photometric: str = "MONOCHROME2",
    spacing: str | None = "PixelSpacing",
    spacing_value: float | None = None,
) -> bytes:
    """The phantom as a DICOM CR image with 12-bit pixels.

    Parameters
    ----------
    photometric
        ``"MONOCHROME2"``, or ``"MONOCHROME1"`` (values inverted, so that a
        correct reader shows the same picture).
    spacing
        The attribute carrying the pixel size: ``"PixelSpacing"``,
        ``"ImagerPixelSpacing"``, or ``None`` for none.
    spacing_value
        The value written (default: the phantom's true pixel size; 0 to test a
        file that states a zero spacing).
    """
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

    cr_storage = UID("1.2.840.10008.5.1.4.1.1.1")
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = cr_storage
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=["kypho-phantom", photometric])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = cr_storage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid(entropy_srcs=["kypho-phantom-study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=["kypho-phantom-series"])
    ds.Modality = "CR"
    # invented identifiers, present so that tests can see them removed
    ds.PatientName = "PHANTOM^KYPHO"
    ds.PatientID = "KYPHO-PHANTOM-1"
    ds.PatientBirthDate = "19400101"
    ds.InstitutionName = "kypho phantom hospital"
    ds.StudyDate = "20260101"
    ds.ReferringPhysicianName = "DOE^JANE"
    ds.AccessionNumber = "ACC-1"
    ds.add_new(0x00091010, "LO", "private vendor data")
    ds.Rows, ds.Columns = phantom.pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    if spacing is not None:
        value = phantom.pixel_size.column_mm if spacing_value is None else spacing_value
        setattr(
            ds,
            spacing,
            [f"{phantom.pixel_size.row_mm if spacing_value is None else value:g}", f"{value:g}"],
        )
    values = phantom.pixels if photometric == "MONOCHROME2" else 4095 - phantom.pixels
    ds.PixelData = values.astype("<u2").tobytes()
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()

"""Measuring radiographs: landmarks and outlines → the paper's radiographic measures.

From six points per vertebral body (the injured one and its neighbours above
and below) and the pixel size, :func:`measure_lateral` gives the heights in mm,
the paper's anterior and middle height ratios, the wedge angle and the Genant
grade, with :mod:`kypho.measures`' formulas; :func:`cement_distribution` turns
outlines of the body and the cement into area fractions and the grade I–IV by
:func:`kypho.classify.cement_grade`. Impossible point sets raise
:class:`~kypho.errors.LandmarkError` with every problem in words.

>>> from kypho.radiograph import lateral_phantom, measure_lateral
>>> phantom = lateral_phantom()
>>> m = measure_lateral(phantom.landmarks, phantom.pixel_size)
>>> round(m.anterior_ratio, 2), round(m.wedge_angle, 2), m.genant
(66.67, 18.43, '2')
"""

from __future__ import annotations

from kypho.radiograph.cement import (
    CementMeasures,
    cement_distribution,
    cement_fraction,
    polygon_area,
)
from kypho.radiograph.imaging import (
    BASIC_PROFILE,
    RadiographImage,
    deidentified_copy,
    deidentify_dicom,
    media_type_of,
    read_image,
)
from kypho.radiograph.landmarks import (
    HEIGHTS,
    POINTS,
    VERTEBRAE,
    LateralMeasures,
    PixelSize,
    calibrate,
    check_lateral,
    measure_lateral,
    measure_lateral_batch,
)
from kypho.radiograph.phantom import Phantom, lateral_phantom, phantom_dicom, phantom_png

__all__ = [
    "BASIC_PROFILE",
    "HEIGHTS",
    "POINTS",
    "VERTEBRAE",
    "CementMeasures",
    "LateralMeasures",
    "Phantom",
    "PixelSize",
    "RadiographImage",
    "calibrate",
    "cement_distribution",
    "cement_fraction",
    "check_lateral",
    "deidentified_copy",
    "deidentify_dicom",
    "lateral_phantom",
    "measure_lateral",
    "measure_lateral_batch",
    "media_type_of",
    "phantom_dicom",
    "phantom_png",
    "polygon_area",
    "read_image",
]

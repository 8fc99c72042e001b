"""Radiograph files: PNG, JPEG and DICOM in; display pixels, pixel size and de-identified copies out.

:func:`read_image` decodes an uploaded file into a grey-scale array for display
(DICOM ``MONOCHROME1``, where low values are bright, is inverted so that bone is
always bright), the pixel size where the file states one, and a default
window. :func:`deidentified_copy` is what leaves kypho: a DICOM file passed
through the DICOM PS3.15 Basic Application Level Confidentiality Profile
(:func:`deidentify_dicom`), or a PNG/JPEG re-written without its metadata.

References
----------
.. [1] DICOM PS3.15 2024, Annex E "Attribute Confidentiality Profiles", Table
   E.1-1 (Basic Application Level Confidentiality Profile).
.. [2] DICOM PS3.3, C.7.6.3.1.2 (Photometric Interpretation), 10.7.1.3
   (Pixel Spacing and Imager Pixel Spacing).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kypho.errors import InputFileError
from kypho.radiograph.landmarks import PixelSize

__all__ = [
    "BASIC_PROFILE",
    "RadiographImage",
    "deidentified_copy",
    "deidentify_dicom",
    "media_type_of",
    "read_image",
]

_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"


@dataclass(frozen=True)
class RadiographImage:
    """A decoded radiograph.

    Attributes
    ----------
    sha256
        Hex SHA-256 of the file's bytes (its content address).
    media_type
        ``"image/png"``, ``"image/jpeg"`` or ``"application/dicom"``.
    pixels
        ``(rows, columns)`` unsigned 16-bit display values: higher is brighter
        (``MONOCHROME1`` already inverted).
    photometric
        DICOM Photometric Interpretation (``"MONOCHROME2"`` for PNG/JPEG).
    pixel_size
        From ``PixelSpacing`` or else ``ImagerPixelSpacing``; ``None`` when the
        file gives none (or gives 0): the film must be calibrated by a known length.
    window_center, window_width
        The default window (the file's own, else the full range of the values).
    """

    sha256: str
    media_type: str
    pixels: npt.NDArray[np.uint16]
    photometric: str
    pixel_size: PixelSize | None
    window_center: float
    window_width: float

    @property
    def rows(self) -> int:
        """Image height in pixels."""
        return int(self.pixels.shape[0])

    @property
    def columns(self) -> int:
        """Image width in pixels."""
        return int(self.pixels.shape[1])


def media_type_of(data: bytes) -> str:
    """The media type from the file's first bytes (never from its name).

    Raises
    ------
    InputFileError
        If the bytes are not a PNG, a JPEG or a DICOM Part 10 file.
    """
    if data.startswith(_PNG):
        return "image/png"
    if data.startswith(_JPEG):
        return "image/jpeg"
    if len(data) > 132 and data[128:132] == b"DICM":
        return "application/dicom"
    raise InputFileError(
        "the file is not a PNG, JPEG or DICOM (Part 10) image; export the radiograph "
        "in one of those formats"
    )


def read_image(data: bytes, *, name: str = "the file") -> RadiographImage:
    """Decode a radiograph for the viewer.

    Parameters
    ----------
    data
        The file's bytes (not modified).
    name
        The file's name, for messages.

    Raises
    ------
    InputFileError
        If the file is not a readable PNG, JPEG or single-frame grey-scale DICOM.
    """
    media = media_type_of(data)
    digest = hashlib.sha256(data).hexdigest()
    if media == "application/dicom":
        return _read_dicom(data, digest, name)
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            grey = img.convert("I;16") if img.mode in ("I", "I;16") else img.convert("L")
            arr = np.asarray(grey)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InputFileError(f"{name} cannot be decoded as {media}: {exc}") from exc
    pixels = arr.astype(np.uint16)
    lo, hi = float(pixels.min()), float(pixels.max())
    return RadiographImage(
        sha256=digest,
        media_type=media,
        pixels=pixels,
        photometric="MONOCHROME2",
        pixel_size=None,
        window_center=(lo + hi) / 2.0,
        window_width=max(hi - lo, 1.0),
    )


def _spacing(ds: object) -> PixelSize | None:
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        value = getattr(ds, keyword, None)
        if value is None:
            continue
        try:
            row, col = (float(v) for v in value)
        except (TypeError, ValueError):
            continue
        if row > 0 and col > 0 and np.isfinite(row) and np.isfinite(col):
            # DICOM gives (row spacing, column spacing): the y step first
            return PixelSize(column_mm=col, row_mm=row, source=keyword)
    return None


def _read_dicom(data: bytes, digest: str, name: str) -> RadiographImage:
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(io.BytesIO(data))
        arr = ds.pixel_array
    except (InvalidDicomError, AttributeError, ValueError, RuntimeError, KeyError) as exc:
        raise InputFileError(f"{name} cannot be read as a DICOM image: {exc}") from exc
    photometric = str(getattr(ds, "PhotometricInterpretation", "MONOCHROME2"))
    if photometric not in ("MONOCHROME1", "MONOCHROME2") or arr.ndim != 2:
        raise InputFileError(
            f"{name} is a {photometric} DICOM image of shape {arr.shape}; kypho reads "
            "single-frame grey-scale radiographs (MONOCHROME1 or MONOCHROME2)"
        )
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
    values = arr.astype(np.float64) * slope + intercept
    lo, hi = float(values.min()), float(values.max())
    center, width = _dicom_window(ds, lo, hi)
    if photometric == "MONOCHROME1":
        # MONOCHROME1: the minimum value is displayed white. Invert over the range the
        # stored bits allow (not the values present), so that a MONOCHROME2 copy of
        # the same film gives the same display values.
        bits = int(getattr(ds, "BitsStored", 16))
        signed = int(getattr(ds, "PixelRepresentation", 0)) == 1
        low_code, high_code = (
            (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
        )
        ends = sorted((low_code * slope + intercept, high_code * slope + intercept))
        values = ends[0] + ends[1] - values
        center = ends[0] + ends[1] - center
        lo, hi = float(values.min()), float(values.max())
    shift = min(lo, 0.0)
    pixels = np.clip(np.rint(values - shift), 0, 65535).astype(np.uint16)
    return RadiographImage(
        sha256=digest,
        media_type="application/dicom",
        pixels=pixels,
        photometric=photometric,
        pixel_size=_spacing(ds),
        window_center=center - shift,
        window_width=width,
    )


def _first(value: object) -> float:
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        return float(value)  # type: ignore[arg-type]
    return float(next(iter(value)))


def _dicom_window(ds: object, lo: float, hi: float) -> tuple[float, float]:
    try:
        c = _first(getattr(ds, "WindowCenter", None))
        w = _first(getattr(ds, "WindowWidth", None))
    except (TypeError, ValueError, StopIteration):
        return (lo + hi) / 2.0, max(hi - lo, 1.0)
    if not (np.isfinite(c) and np.isfinite(w) and w > 0):
        return (lo + hi) / 2.0, max(hi - lo, 1.0)
    return c, w


def _words(text: str) -> list[str]:
    return text.split()


# Table E.1-1 of PS3.15, Basic Profile: the attribute keywords and their action.
# X remove, Z empty (type 2: kept present), D replace by a dummy value,
# U replace a UID by a new one (the same new UID wherever the old one appears).
# Private tags, overlays and curves are removed too; burned-in text in the
# pixels is not touched (the profile's "Clean Pixel Data" option is not applied).
BASIC_PROFILE: dict[str, str] = {
    **{
        k: "X"
        for k in _words(
            "AcquisitionComments AcquisitionContextSequence AcquisitionDate "
            "AcquisitionDateTime AcquisitionDeviceProcessingDescription AcquisitionTime "
            "ActualHumanPerformersSequence AdditionalPatientHistory AdmissionID "
            "AdmittingDate AdmittingDiagnosesCodeSequence AdmittingDiagnosesDescription "
            "AdmittingTime Allergies Arbitrary Authorization BranchOfService "
            "CommentsOnThePerformedProcedureStep ConfidentialityConstraintOnPatientDataDescription "
            "ContentCreatorIdentificationCodeSequence ContentSequence ContributionDescription "
            "CountryOfResidence CurrentPatientLocation CurveDate CurveTime "
            "CustodialOrganizationSequence DataSetTrailingPadding DerivationDescription "
            "DeviceSerialNumber DigitalSignaturesSequence DischargeDiagnosisDescription "
            "DistributionAddress DistributionName EthnicGroup FrameComments "
            "GraphicAnnotationSequence HumanPerformerName HumanPerformerOrganization "
            "IconImageSequence IdentifyingComments ImageComments ImagePresentationComments "
            "ImagingServiceRequestComments InstitutionAddress InstitutionalDepartmentName "
            "InstitutionCodeSequence InstitutionName InsurancePlanIdentification "
            "IntendedRecipientsOfResultsIdentificationSequence InterpretationApproverSequence "
            "InterpretationAuthor InterpretationDiagnosisDescription InterpretationIDIssuer "
            "InterpretationRecorder InterpretationText InterpretationTranscriber "
            "IssuerOfAdmissionID IssuerOfPatientID IssuerOfServiceEpisodeID "
            "LastMenstrualDate MedicalAlerts MedicalRecordLocator MilitaryRank "
            "ModifiedAttributesSequence ModifiedImageDescription ModifyingDeviceID "
            "NameOfPhysiciansReadingStudy NamesOfIntendedRecipientsOfResults Occupation "
            "OperatorIdentificationSequence OperatorsName OriginalAttributesSequence "
            "OrderCallbackPhoneNumber OrderEnteredBy OrderEntererLocation "
            "OtherPatientIDs OtherPatientIDsSequence OtherPatientNames "
            "ParticipantSequence PatientAddress PatientAge PatientBirthName PatientBirthTime "
            "PatientComments PatientInstitutionResidence PatientInsurancePlanCodeSequence "
            "PatientMotherBirthName PatientPrimaryLanguageCodeSequence "
            "PatientPrimaryLanguageModifierCodeSequence PatientReligiousPreference "
            "PatientSexNeutered PatientSize PatientState PatientTelephoneNumbers PatientWeight "
            "PerformedLocation PerformedProcedureStepDescription PerformedProcedureStepEndDate "
            "PerformedProcedureStepEndTime PerformedProcedureStepID PerformedProcedureStepStartDate "
            "PerformedProcedureStepStartTime PerformedStationAETitle "
            "PerformedStationGeographicLocationCodeSequence PerformedStationName "
            "PerformedStationNameCodeSequence PerformingPhysicianIdentificationSequence "
            "PerformingPhysicianName PersonAddress PersonTelephoneNumbers "
            "PhysicianApprovingInterpretation PhysiciansOfRecord "
            "PhysiciansOfRecordIdentificationSequence PhysiciansReadingStudyIdentificationSequence "
            "PreMedication PregnancyStatus ProtocolName ReasonForTheImagingServiceRequest "
            "ReasonForStudy ReferencedDigitalSignatureSequence ReferencedPatientAliasSequence "
            "ReferencedPatientSequence ReferencedSOPInstanceMACSequence "
            "ReferencedStudySequence ReferringPhysicianAddress "
            "ReferringPhysicianIdentificationSequence ReferringPhysicianTelephoneNumbers "
            "RegionOfResidence RequestAttributesSequence RequestedContrastAgent "
            "RequestedProcedureComments RequestedProcedureDescription RequestedProcedureID "
            "RequestedProcedureLocation RequestingPhysician RequestingService "
            "ResponsibleOrganization ResponsiblePerson ResponsiblePersonRole ResultsComments "
            "ResultsDistributionListSequence ResultsIDIssuer ScheduledHumanPerformersSequence "
            "ScheduledPatientInstitutionResidence ScheduledPerformingPhysicianIdentificationSequence "
            "ScheduledPerformingPhysicianName ScheduledProcedureStepDescription "
            "ScheduledProcedureStepEndDate ScheduledProcedureStepEndTime "
            "ScheduledProcedureStepLocation ScheduledProcedureStepStartDate "
            "ScheduledProcedureStepStartTime ScheduledStationAETitle "
            "ScheduledStationGeographicLocationCodeSequence ScheduledStationName "
            "ScheduledStationNameCodeSequence ScheduledStudyLocation "
            "ScheduledStudyLocationAETitle SeriesDate SeriesDescription SeriesTime "
            "ServiceEpisodeDescription ServiceEpisodeID SmokingStatus SourceImageSequence "
            "SpecialNeeds StationName StudyComments StudyDescription StudyIDIssuer "
            "TextComments TextString TopicAuthor TopicKeywords TopicSubject TopicTitle "
            "VerifyingObserverIdentificationCodeSequence VerifyingObserverSequence "
            "VerifyingOrganization VisitComments"
        )
    },
    **{
        k: "Z"
        for k in _words(
            "AccessionNumber ContentCreatorName ContentDate ContentTime FillerOrderNumberImagingServiceRequest "
            "PatientBirthDate PatientID PatientName PatientSex PlacerOrderNumberImagingServiceRequest "
            "ReferringPhysicianName StudyDate StudyID StudyTime VerifyingObserverName"
        )
    },
    **{
        k: "U"
        for k in _words(
            "ConcatenationUID DimensionOrganizationUID DoseReferenceUID FailedSOPInstanceUIDList "
            "FiducialUID FrameOfReferenceUID InstanceCreatorUID IrradiationEventUID "
            "LargePaletteColorLookupTableUID MediaStorageSOPInstanceUID "
            "ReferencedFrameOfReferenceUID ReferencedGeneralPurposeScheduledProcedureStepTransactionUID "
            "ReferencedSOPInstanceUID RelatedFrameOfReferenceUID "
            "SeriesInstanceUID SOPInstanceUID StorageMediaFileSetUID StudyInstanceUID "
            "SynchronizationFrameOfReferenceUID TargetUID TemplateExtensionCreatorUID "
            "TemplateExtensionOrganizationUID TransactionUID UID"
        )
    },
}


def _new_uid(old: str, salt: str) -> str:
    # a "2.25." UID (ISO/IEC 9834-8: an integer from a UUID-sized number); the same
    # old UID always maps to the same new one within one salt, so references agree
    digest = hashlib.sha256(f"{salt}\n{old}".encode()).digest()[:16]
    return f"2.25.{int.from_bytes(digest, 'big')}"


def deidentify_dicom(data: bytes, *, salt: str = "kypho") -> bytes:
    """A copy of a DICOM file without the identifying attributes of PS3.15's Basic Profile.

    Parameters
    ----------
    data
        The DICOM file's bytes (not modified).
    salt
        Mixed into the replacement UIDs, so that they cannot be reversed by
        hashing known UIDs; keep it secret and constant within a study so that
        the same image always gets the same new UIDs.

    Returns
    -------
    bytes
        A DICOM Part 10 file: every attribute of :data:`BASIC_PROFILE` removed
        (X), emptied (Z) or its UID replaced (U), at every depth of nested
        sequences; all private attributes, overlays and curves removed;
        ``PatientIdentityRemoved`` = ``YES`` and ``DeidentificationMethod`` set,
        with the profile's code (DCM 113100) in ``DeidentificationMethodCodeSequence``.
        The pixel data are unchanged.
    """
    import pydicom
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence as DicomSequence
    from pydicom.uid import UID

    try:
        ds = pydicom.dcmread(io.BytesIO(data))
    except Exception as exc:  # pydicom raises many kinds; any is "not readable"
        raise InputFileError(f"the file cannot be read as DICOM: {exc}") from exc

    def clean(node: Dataset) -> None:
        node.remove_private_tags()
        for elem in list(node):
            group = elem.tag.group
            if 0x5000 <= group <= 0x50FF or (
                0x6000 <= group <= 0x60FF and elem.tag.element >= 0x3000
            ):
                del node[elem.tag]
                continue
            action = BASIC_PROFILE.get(elem.keyword)
            if action == "X":
                del node[elem.tag]
            elif action == "Z":
                node[elem.tag].value = None if elem.VR == "SQ" else ""
            elif action == "U" and elem.value:
                if elem.VM > 1:
                    node[elem.tag].value = [_new_uid(str(v), salt) for v in elem.value]
                else:
                    node[elem.tag].value = _new_uid(str(elem.value), salt)
            elif elem.VR == "SQ" and elem.value:
                for item in elem.value:
                    clean(item)

    clean(ds)
    meta = ds.file_meta
    if "MediaStorageSOPInstanceUID" in meta:
        meta.MediaStorageSOPInstanceUID = UID(_new_uid(str(meta.MediaStorageSOPInstanceUID), salt))
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "PS3.15 Basic Application Confidentiality Profile"
    code = Dataset()
    code.CodeValue = "113100"
    code.CodingSchemeDesignator = "DCM"
    code.CodeMeaning = "Basic Application Confidentiality Profile"
    ds.DeidentificationMethodCodeSequence = DicomSequence([code])
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def _strip_jpeg(data: bytes) -> bytes:
    """The JPEG without its APPn (EXIF, XMP, ...) and COM segments; the coded image untouched."""
    out = bytearray(data[:2])
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise InputFileError("the JPEG file is malformed (a segment marker is missing)")
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            out += data[i:]
            return bytes(out)
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        segment = data[i : i + 2 + length]
        if not (0xE1 <= marker <= 0xEF or marker == 0xFE):
            out += segment
        i += 2 + length
    raise InputFileError("the JPEG file is truncated (no image data)")


def deidentified_copy(data: bytes, *, salt: str = "kypho") -> bytes:
    """What kypho lets leave the store: the image without identifying metadata.

    DICOM goes through :func:`deidentify_dicom`; a PNG is re-encoded from its
    pixels alone (no text chunks, no EXIF); a JPEG keeps its coded image but
    loses its APPn and comment segments (EXIF, XMP, ICC, vendor data), so the
    pixels are not re-compressed.
    """
    media = media_type_of(data)
    if media == "application/dicom":
        return deidentify_dicom(data, salt=salt)
    if media == "image/jpeg":
        return _strip_jpeg(data)
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        img.load()
        clean = Image.frombytes(img.mode, img.size, img.tobytes())
        if img.mode == "P":
            clean.putpalette(img.getpalette() or [])
    out = io.BytesIO()
    clean.save(out, format="PNG")
    return out.getvalue()

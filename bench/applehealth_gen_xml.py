"""Fixed XML text of a synthetic Apple Health export: DTD, header, CDA file, GPX routes.

The DTD is Apple's internal subset as the Health app writes it (the v14 text found in the
app binary, with the version comment and `Me` attributes of the requested version). The
importer never needs it, but it must survive it, including the broken v12 variant.
"""

from __future__ import annotations

import math

from bench.applehealth_gen_clock import utc_iso

_DTD_HEAD = """<!DOCTYPE HealthData [
<!-- HealthKit Export Version: {version} -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord|Audiogram|VisionPrescription)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Me EMPTY>
<!ATTLIST Me
  HKCharacteristicTypeIdentifierDateOfBirth                   CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBiologicalSex                 CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBloodType                     CDATA #REQUIRED
  HKCharacteristicTypeIdentifierFitzpatrickSkinType           CDATA #REQUIRED
{cardio}>
"""  # noqa: E501 - Apple's line, kept verbatim

_CARDIO = "  HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse   CDATA #REQUIRED\n"

_RECORD_ATTRS = """  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
"""

_DTD_BODY = (
    """<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
"""
    + _RECORD_ATTRS
    + """>
<!-- Note: Any Records that appear as children of a correlation also appear as top-level records in this document. -->
<!ELEMENT Correlation ((MetadataEntry|Record)*)>
<!ATTLIST Correlation
  type          CDATA #REQUIRED
"""  # noqa: E501 - Apple's comment, kept verbatim
    + _RECORD_ATTRS
    + """>
<!ELEMENT Workout ((MetadataEntry|WorkoutEvent|WorkoutRoute|WorkoutStatistics)*)>
<!ATTLIST Workout
  workoutActivityType   CDATA #REQUIRED
  duration              CDATA #IMPLIED
  durationUnit          CDATA #IMPLIED
  totalDistance         CDATA #IMPLIED
  totalDistanceUnit     CDATA #IMPLIED
  totalEnergyBurned     CDATA #IMPLIED
  totalEnergyBurnedUnit CDATA #IMPLIED
  sourceName            CDATA #REQUIRED
  sourceVersion         CDATA #IMPLIED
  device                CDATA #IMPLIED
  creationDate          CDATA #IMPLIED
  startDate             CDATA #REQUIRED
  endDate               CDATA #REQUIRED
>
<!ELEMENT WorkoutActivity ((MetadataEntry)*)>
<!ATTLIST WorkoutActivity
  uuid                 CDATA #REQUIRED
  startDate            CDATA #REQUIRED
  endDate              CDATA #IMPLIED
  duration             CDATA #IMPLIED
  durationUnit         CDATA #IMPLIED
>
<!ELEMENT WorkoutEvent ((MetadataEntry)*)>
<!ATTLIST WorkoutEvent
  type                 CDATA #REQUIRED
  date                 CDATA #REQUIRED
  duration             CDATA #IMPLIED
  durationUnit         CDATA #IMPLIED
>
<!ELEMENT WorkoutStatistics EMPTY>
<!ATTLIST WorkoutStatistics
  type                 CDATA #REQUIRED
  startDate            CDATA #REQUIRED
  endDate              CDATA #REQUIRED
  average              CDATA #IMPLIED
  minimum              CDATA #IMPLIED
  maximum              CDATA #IMPLIED
  sum                  CDATA #IMPLIED
  unit                 CDATA #IMPLIED
>
<!ELEMENT WorkoutRoute ((MetadataEntry|FileReference)*)>
<!ATTLIST WorkoutRoute
"""
    + _RECORD_ATTRS
    + """>
<!ELEMENT FileReference EMPTY>
<!ATTLIST FileReference
  path CDATA #REQUIRED
>
<!ELEMENT ActivitySummary EMPTY>
<!ATTLIST ActivitySummary
  dateComponents           CDATA #IMPLIED
  activeEnergyBurned       CDATA #IMPLIED
  activeEnergyBurnedGoal   CDATA #IMPLIED
  activeEnergyBurnedUnit   CDATA #IMPLIED
  appleMoveTime            CDATA #IMPLIED
  appleMoveTimeGoal        CDATA #IMPLIED
  appleExerciseTime        CDATA #IMPLIED
  appleExerciseTimeGoal    CDATA #IMPLIED
  appleStandHours          CDATA #IMPLIED
  appleStandHoursGoal      CDATA #IMPLIED
>
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry
  key   CDATA #REQUIRED
  value CDATA #REQUIRED
>
<!-- Note: Heart Rate Variability records captured by Apple Watch may include an associated list of instantaneous beats-per-minute readings. -->
<!ELEMENT HeartRateVariabilityMetadataList (InstantaneousBeatsPerMinute*)>
<!ELEMENT InstantaneousBeatsPerMinute EMPTY>
<!ATTLIST InstantaneousBeatsPerMinute
  bpm  CDATA #REQUIRED
  time CDATA #REQUIRED
>
<!ELEMENT ClinicalRecord EMPTY>
<!ATTLIST ClinicalRecord
  type              CDATA #REQUIRED
  identifier        CDATA #REQUIRED
  sourceName        CDATA #REQUIRED
  sourceURL         CDATA #REQUIRED
  fhirVersion       CDATA #REQUIRED
  receivedDate      CDATA #REQUIRED
  resourceFilePath  CDATA #REQUIRED
>
<!ELEMENT Audiogram ((MetadataEntry|SensitivityPoint)*)>
<!ATTLIST Audiogram
  type          CDATA #REQUIRED
"""  # noqa: E501 - Apple's comment, kept verbatim
    + _RECORD_ATTRS
    + """>
<!ELEMENT SensitivityPoint EMPTY>
<!ATTLIST SensitivityPoint
  frequencyValue   CDATA #REQUIRED
  frequencyUnit    CDATA #REQUIRED
  leftEarValue     CDATA #IMPLIED
  leftEarUnit      CDATA #IMPLIED
  rightEarValue    CDATA #IMPLIED
  rightEarUnit     CDATA #IMPLIED
>
<!ELEMENT VisionPrescription ((RightEye|LeftEye|Attachment|MetadataEntry)*)>
<!ATTLIST VisionPrescription
  type             CDATA #REQUIRED
  dateIssued       CDATA #REQUIRED
  expirationDate   CDATA #IMPLIED
  brand            CDATA #IMPLIED
>
"""
)

_EYE_ATTRS = "".join(
    f"  {name:<16} CDATA #IMPLIED\n"
    for base in (
        "sphere",
        "cylinder",
        "axis",
        "add",
        "vertex",
        "prismAmount",
        "prismAngle",
        "farPD",
        "nearPD",
        "baseCurve",
        "diameter",
    )
    for name in (base, base + "Unit")
)

_DTD_TAIL = (
    "<!ELEMENT RightEye EMPTY>\n<!ATTLIST RightEye\n"
    + _EYE_ATTRS
    + ">\n<!ELEMENT LeftEye EMPTY>\n<!ATTLIST LeftEye\n"
    + _EYE_ATTRS
    + ">\n<!ELEMENT Attachment EMPTY>\n<!ATTLIST Attachment\n"
    + "  identifier       CDATA #IMPLIED\n>\n]>\n"
)

# iOS 16 (export version 12): the VisionPrescription and RightEye ATTLISTs lose their
# closing `>` (fedecalendino/apple-health#1, k0rventen/apple-health-grafana#14), so expat
# stops with "syntax error" at the `<!ELEMENT RightEye` line, before any data.
_BROKEN_FROM = "  brand            CDATA #IMPLIED\n>\n"
_BROKEN_TO = "  brand            CDATA #IMPLIED\n"


def dtd(version: int, *, broken: bool = False) -> str:
    """The prologue up to and including `]>`, as export `version` writes it."""
    cardio = _CARDIO if version >= 14 else ""
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' + _DTD_HEAD.format(
        version=version, cardio=cardio
    )
    body, tail = _DTD_BODY, _DTD_TAIL
    if broken:
        body = body.replace(_BROKEN_FROM, _BROKEN_TO)
        tail = tail.replace(
            "  diameterUnit     CDATA #IMPLIED\n>\n<!ELEMENT LeftEye",
            ("  diameterUnit     CDATA #IMPLIED\n<!ELEMENT LeftEye"),
            1,
        )
    return head + body + tail


def header(version: int, *, broken: bool, export_date: str, locale: str = "en_FR") -> str:
    """Prologue, root start tag, `ExportDate` and `Me`, with Apple's one-space indent."""
    cardio = (
        ' HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse="None"' if version >= 14 else ""
    )
    return (
        dtd(version, broken=broken)
        + f'<HealthData locale="{locale}">\n'
        + f' <ExportDate value="{export_date}"/>\n'
        + ' <Me HKCharacteristicTypeIdentifierDateOfBirth="1988-04-12"'
        + ' HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale"'
        + ' HKCharacteristicTypeIdentifierBloodType="HKBloodTypeNotSet"'
        + ' HKCharacteristicTypeIdentifierFitzpatrickSkinType="HKFitzpatrickSkinTypeNotSet"'
        + cardio
        + "/>\n"
    )


FOOTER = "</HealthData>\n"


def esc(text: str) -> str:
    """Escape an attribute value for a double-quoted XML attribute."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def cda(first_stamp: str) -> str:
    """A small `export_cda.xml` that, like the real one, has content after its root element."""
    compact = first_stamp.replace("-", "").replace(":", "").replace(" ", "")
    observation = (
        '<entry typeCode="DRIV"><organizer classCode="CLUSTER" moodCode="EVN"><component>'
        '<observation classCode="OBS" moodCode="EVN"><code code="8867-4" '
        'codeSystem="2.16.840.1.113883.6.1" displayName="Heart rate"/><text>'
        "<sourceName>Anna’s Apple Watch</sourceName><value>{v}</value>"
        "<type>HKQuantityTypeIdentifierHeartRate</type><unit>count/min</unit></text>"
        f'<effectiveTime><low value="{compact}"/><high value="{compact}"/></effectiveTime>'
        '<value xsi:type="PQ" value="{v}" unit="count/min"/></observation>'
        "</component></organizer></entry>\n"
    )
    entries = "".join(observation.format(v=v) for v in (64, 71, 69))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ClinicalDocument xmlns="urn:hl7-org:v3" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'classCode="DOCCLIN" moodCode="EVN">\n'
        '<typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>\n'
        "<title>Health Data</title>\n"
        "<component><structuredBody><component><section>\n"
        + entries
        + "</section></component></structuredBody></component>\n"
        "</ClinicalDocument>\n" + entries
    )


def route_name(local_day: str, hour: int, minute: int) -> str:
    """`route_2024-01-05_6.02pm.gpx`: Apple's file name from the local start time."""
    suffix = "am" if hour < 12 else "pm"
    return f"route_{local_day}_{hour % 12 or 12}.{minute:02d}{suffix}.gpx"


def gpx(title: str, start: int, end: int, lat: float, lon: float, speed: float) -> str:
    """A GPX 1.1 track: one point a minute around a loop at `speed` m/s from (lat, lon)."""
    points = []
    radius_m = max(300.0, speed * (end - start) / (2 * math.pi))
    for t in range(start, end + 1, 60):
        angle = speed * (t - start) / radius_m
        p_lat = lat + radius_m * math.sin(angle) / 111_320
        p_lon = lon + radius_m * (1 - math.cos(angle)) / (111_320 * math.cos(math.radians(lat)))
        points.append(
            f'      <trkpt lon="{p_lon:.6f}" lat="{p_lat:.6f}"><ele>{35 + 5 * math.sin(angle):.6f}'
            f"</ele><time>{utc_iso(t)}</time><extensions><speed>{speed:.6f}</speed>"
            f"<course>{math.degrees(angle) % 360:.6f}</course><hAcc>4.500000</hAcc>"
            "<vAcc>3.200000</vAcc></extensions></trkpt>\n"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="Apple Health Export" '
        'xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.topografix.com/GPX/1/1 '
        'http://www.topografix.com/GPX/1/1/gpx.xsd">\n'
        f"  <metadata>\n    <time>{utc_iso(end)}</time>\n  </metadata>\n"
        f"  <trk>\n    <name>{title}</name>\n    <trkseg>\n"
        + "".join(points)
        + "    </trkseg>\n  </trk>\n</gpx>\n"
    )

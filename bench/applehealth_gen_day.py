"""Days of the synthetic person: the plan (where, when up, when in bed) and one day's block.

A block runs from the start of the night before a day (or, after a night flight, from the
previous bedtime) to the start of the next night, so writing blocks one after another keeps
the whole file in chronological order while only one day is ever held in memory.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from bench.applehealth_gen_activity import KINDS, ActivityDay, Route, Session, Window, subtract
from bench.applehealth_gen_clock import Clock, local_to_utc
from bench.applehealth_gen_emit import (
    CUFF,
    HEALTH_APP,
    LB,
    METER,
    MG_PER_MMOL,
    MMOL,
    ODD_WATCH,
    PHONE,
    SCALE,
    WATCH,
)
from bench.applehealth_gen_truth import Tally

SLEEP = "HKCategoryTypeIdentifierSleepAnalysis"
STAGE = "HKCategoryValueSleepAnalysis"
HOUR = 3600


@dataclass(frozen=True)
class DayPlan:
    """One local day: its zone, wake-up and bedtime, and the night that precedes it."""

    index: int
    day: date
    zone: str
    wake: int
    bed: int
    night_start: int | None  # None after an overnight flight east: no sleep recorded


def plan_days(
    start: date, days: int, zone: str, trip: tuple[int, int, str] | None, rng: random.Random
) -> tuple[list[DayPlan], list[tuple[int, str]]]:
    """The days, and the zone segments for the clock (switching at bedtime before travel)."""
    zones = [trip[2] if trip and trip[0] <= i < trip[1] else zone for i in range(days)]
    dates = [start + timedelta(days=i) for i in range(days)]
    wake = [
        local_to_utc(d, 6 * HOUR + 1800 + int(rng.random() * HOUR), z)
        for d, z in zip(dates, zones, strict=True)
    ]
    bed = [
        local_to_utc(d, 22 * HOUR + 1800 + int(rng.random() * 4500), z)
        for d, z in zip(dates, zones, strict=True)
    ]
    for i in range(days - 1):  # flying east can make the next morning come before bedtime
        bed[i] = max(wake[i] + 8 * HOUR, min(bed[i], wake[i + 1] - HOUR))
        wake[i + 1] = max(wake[i + 1], bed[i] + HOUR)
    segments = [(wake[0] - 86400, zones[0])]
    plans = []
    for i in range(days):
        if i and zones[i] != zones[i - 1]:
            segments.append((bed[i - 1], zones[i]))
        previous_bed = bed[i - 1] if i else wake[0] - 9 * HOUR
        night: int | None = max(previous_bed, wake[i] - int(9.5 * HOUR))
        if wake[i] - night < 3 * HOUR:
            night = None
        plans.append(DayPlan(i, dates[i], zones[i], wake[i], bed[i], night))
    return plans, segments


class DaySimulator(ActivityDay):
    """Produces the XML text of each day block and feeds the ground truth."""

    def __init__(
        self, rng: random.Random, clock: Clock, tally: Tally, *, days: int, odd_day: int | None
    ) -> None:
        super().__init__(rng, clock, tally)
        self.days = days
        self.odd_day = odd_day
        self.routes: list[Route] = []
        self.rest = 58.0
        self.kg = 71.5

    def block(self, plan: DayPlan) -> bytes:
        """All elements of one day block, sorted by start, as UTF-8; truth updated."""
        self.new_day(plan.index)
        rng = self.rng
        self.rest = min(66.0, max(50.0, self.rest + rng.gauss(0, 0.5)))
        if plan.night_start is not None:
            self._night(plan.night_start, plan.wake)
        worn, phone, session = self._windows(plan)
        first, minutes = plan.wake // 60, plan.bed // 60 - plan.wake // 60 + 2
        ledgers = (self.tally.steps, self.tally.distance, self.tally.energy)
        for ledger in ledgers:
            ledger.open(first, minutes)
        kcal, exercise = self.day_activity(plan.wake, plan.bed, worn, phone, self.rest, session)
        self._vitals(plan)
        self.events.append(
            (
                plan.bed - 1,
                (
                    f' <ActivitySummary dateComponents="{plan.day.isoformat()}" '
                    f'activeEnergyBurned="{kcal:.3f}" activeEnergyBurnedGoal="450" '
                    'activeEnergyBurnedUnit="kcal" appleMoveTime="0" appleMoveTimeGoal="0" '
                    f'appleExerciseTime="{exercise + int(rng.random() * 25)}" '
                    'appleExerciseTimeGoal="30" '
                    f'appleStandHours="{8 + int(rng.random() * 6)}" appleStandHoursGoal="12"/>\n'
                ),
            )
        )
        self.tally.truth.activity_summaries += 1
        pieces = self.clock.date_pieces(first * 60, (first + minutes) * 60)
        for ledger in ledgers:
            ledger.settle(pieces)
        return self.flush()

    def _at(self, plan: DayPlan, hours: float) -> int:
        """Epoch second of a local clock time on the plan's day, kept within the waking day."""
        t = local_to_utc(plan.day, int(hours * HOUR), plan.zone)
        return min(max(t, plan.wake + 600), plan.bed - 600)

    def _windows(self, plan: DayPlan) -> tuple[list[Window], list[Window], Session | None]:
        """When the watch is worn, when the phone is carried, and today's workout if any."""
        rng = self.rng
        charge = plan.wake + 900 + int(rng.random() * 900)
        worn = subtract([(plan.wake, plan.bed)], charge, charge + 1800 + int(rng.random() * 1800))
        phone = [(plan.wake, plan.bed)]
        travelling = plan.zone != self.clock.zone(plan.wake - 86400)
        if plan.day.weekday() < 5 and not travelling:
            for begin, end in ((9.0, 12.0), (13.5, 17.25)):
                jitter = rng.random() * 0.5
                phone = subtract(
                    phone, self._at(plan, begin + jitter), self._at(plan, end - jitter)
                )
        else:
            left = self._at(plan, 14 + rng.random() * 3)
            phone = subtract(phone, left, left + HOUR + int(rng.random() * HOUR))
        session = None
        if rng.random() < 4 / 7 and not travelling:
            kind = KINDS[min(int(rng.random() * 6), 4)]  # running twice as likely
            begin = self._at(plan, 17.25 + rng.random() * 1.75)
            end = min(begin + 1500 + int(rng.random() * 2700), plan.bed - 1800)
            if end - begin >= 900:
                session = Session(kind, begin, end)
        return worn, phone, session

    def _night(self, start: int, wake: int) -> None:
        """In bed from the phone, stages (or unspecified sleep) from the watch, night vitals."""
        rng = self.rng
        truth = self.tally.truth
        key = self.clock.local_date(wake)
        get_up = wake + 300 + int(rng.random() * 600)
        self.record(SLEEP, PHONE, None, start, get_up, STAGE + "InBed", 60, self.zone_entry(start))
        truth.sleep_in_bed_minutes[key] = (
            truth.sleep_in_bed_minutes.get(key, 0.0) + (get_up - start) / 60
        )
        t = start + 480 + int(rng.random() * 1200)
        asleep = 0
        if rng.random() < 0.08:  # the watch could not tell the stages apart
            middle = t + (wake - t) // 2
            parts = [(t, middle, "AsleepUnspecified"), (middle + 900, wake, "AsleepUnspecified")]
        else:
            parts = []
            cycle = 0
            while t < wake - 300:
                for stage, low, high in (
                    ("AsleepCore", 20, 45),
                    ("AsleepDeep", 8, 35 - 6 * cycle),
                    ("AsleepCore", 10, 25),
                    ("AsleepREM", 8 + 4 * cycle, 30),
                    ("Awake", 0, 5),
                ):
                    minutes = low + rng.random() * max(0, high - low)
                    if minutes < 1 or t >= wake:
                        continue
                    end = min(wake, t + int(minutes * 60))
                    parts.append((t, end, stage))
                    t = end
                cycle += 1
        for begin, end, stage in parts:
            self.record(SLEEP, WATCH, None, begin, end, STAGE + stage, 120, self.zone_entry(begin))
            if stage != "Awake":
                asleep += end - begin
        truth.sleep_asleep_minutes[key] = truth.sleep_asleep_minutes.get(key, 0.0) + asleep / 60
        rnd = rng.random
        samples = []
        t = start + 600
        while t < wake:
            samples.append((t, int(self.rest - 5 + rnd() * 9), 0))
            t += 300 + int(rnd() * 300)
        self.heart_rates(samples)
        for _ in range(5):
            at = start + HOUR + int(rnd() * max(1, wake - start - 2 * HOUR))
            text = f"{0.94 + rnd() * 0.05:.2f}"
            self.record("HKQuantityTypeIdentifierOxygenSaturation", WATCH, "%", at, at, text, 90)
            truth.spo2_percent.append((at, round(float(text) * 100, 6)))
        for at in range(start + 1200, wake, 1800 + int(rnd() * 600)):
            self.record(
                "HKQuantityTypeIdentifierRespiratoryRate",
                WATCH,
                "count/min",
                at,
                at + 1800,
                f"{12.5 + rnd() * 4:.1f}",
                60,
            )
        self._hrv(start + HOUR + int(rnd() * HOUR), 40 + rnd() * 30)

    def _hrv(self, t: int, sdnn: float) -> None:
        """HRV SDNN with its beat-to-beat list; `time` carries a comma decimal separator."""
        rnd = self.rng.random
        clock_time = self.clock.clock_time
        beat = float(t)
        lines = ["  <HeartRateVariabilityMetadataList>\n"]
        while beat < t + 60:
            bpm = int(self.rest + rnd() * 12)
            at = clock_time(beat)
            lines.append(f'   <InstantaneousBeatsPerMinute bpm="{bpm}" time="{at}"/>\n')
            beat += 60 / bpm
        lines.append("  </HeartRateVariabilityMetadataList>\n")
        self.record(
            "HKQuantityTypeIdentifierHeartRateVariabilitySDNN",
            WATCH,
            "ms",
            t,
            t + 60,
            f"{sdnn:.5f}",
            40,
            "".join(lines),
        )

    def _vitals(self, plan: DayPlan) -> None:
        """Resting HR, weight, blood pressure, glucose, HRV, noise, and the sleep goal."""
        rng, truth, rnd = self.rng, self.tally.truth, self.rng.random
        wake, bed = plan.wake, plan.bed
        self.record(
            "HKQuantityTypeIdentifierRestingHeartRate",
            WATCH,
            "count/min",
            wake + 60,
            bed - 60,
            str(round(self.rest)),
            300,
        )
        weigh = wake + 600 + int(rnd() * 600)
        self.kg += rng.gauss(-0.005, 0.15)
        if plan.index < self.days // 2 or self.days == 1:
            text = f"{self.kg / LB:.1f}"
            self.record("HKQuantityTypeIdentifierBodyMass", SCALE, "lb", weigh, weigh, text, 40)
            truth.body_mass_kg.append((weigh, float(text) * LB))
        else:
            text = f"{self.kg:.2f}"
            self.record(
                "HKQuantityTypeIdentifierBodyMass",
                SCALE,
                "kg",
                weigh,
                weigh,
                text,
                40,
                '  <MetadataEntry key="HKWasUserEntered" value="0"/>\n',
            )
            truth.body_mass_kg.append((weigh, float(text)))
        if plan.day.weekday() in (0, 2, 4):
            self._blood_pressure(weigh + 1200 + int(rnd() * 1200))
        meals = (
            (wake + 1500, "mg/dL", f"{85 + rnd() * 25:.0f}", METER, "1"),
            (self._at(plan, 13.5 + rnd()), MMOL, f"{5.2 + rnd() * 3:.1f}", HEALTH_APP, ""),
            (self._at(plan, 20 + rnd()), "mg/dL", f"{100 + rnd() * 50:.0f}", METER, "2"),
        )
        for at, unit, text, source, meal in meals:
            extra = (
                f'  <MetadataEntry key="HKBloodGlucoseMealTime" value="{meal}"/>\n'
                if meal
                else '  <MetadataEntry key="HKWasUserEntered" value="1"/>\n'
            )
            self.record(
                "HKQuantityTypeIdentifierBloodGlucose", source, unit, at, at, text, 20, extra
            )
            truth.glucose_mg_dl.append((at, float(text) * (MG_PER_MMOL if unit == MMOL else 1)))
        for _ in range(1 + int(rnd() * 3)):
            self._hrv(wake + 1800 + int(rnd() * (bed - wake - 3 * HOUR)), 30 + rnd() * 35)
        for n in range(3 + int(rnd() * 3)):
            at = wake + 1200 + int(rnd() * (bed - wake - 2 * HOUR))
            source = ODD_WATCH if n == 0 and plan.index == self.odd_day else WATCH
            self.record(
                "HKQuantityTypeIdentifierEnvironmentalAudioExposure",
                source,
                "dBASPL",
                at,
                at + 1800,
                f"{55 + rnd() * 25:.4f}",
                600,
            )
        if plan.index % 30 == 0:
            self.record(
                "HKDataTypeSleepDurationGoal",
                PHONE,
                "hr",
                wake + 120,
                wake + 120,
                "8" if plan.index % 60 else "7.5",
                1,
            )

    def _blood_pressure(self, t: int) -> None:
        """Top-level systolic and diastolic, then the Correlation repeating both inside it."""
        rnd = self.rng.random
        systolic, diastolic = f"{112 + rnd() * 28:.0f}", f"{70 + rnd() * 18:.0f}"
        pair = [("Systolic", systolic), ("Diastolic", diastolic)]
        if rnd() < 0.4:
            pair.reverse()
        rtype = "HKQuantityTypeIdentifierBloodPressure"
        for name, value in pair:
            self.record(rtype + name, CUFF, "mmHg", t, t, value, 45)
        inner = "".join(self.nested_record(rtype + n, CUFF, "mmHg", t, v, 45) for n, v in pair)
        at = self.stamp(t)
        self.events.append(
            (
                t,
                (
                    ' <Correlation type="HKCorrelationTypeIdentifierBloodPressure" '
                    f"{self.src(CUFF)} "
                    f'creationDate="{self.stamp(t + 45)}" startDate="{at}" endDate="{at}">\n'
                    f"{self.zone_entry(t)}{inner} </Correlation>\n"
                ),
            )
        )
        self.tally.truth.bp_readings.append((t, float(systolic), float(diastolic)))

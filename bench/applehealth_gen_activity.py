"""A waking day of the synthetic person: walking, two step counters, energy, heart rate, sport.

Steps happen in bouts. The watch sees a bout unless it is on its charger; the phone sees it
unless it lies on the desk (or stayed home during a run). Both write overlapping interval
samples with their own boundaries and calibration, which is what makes de-duplication by
source priority necessary, and what the minute ledgers in the tally reproduce.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.applehealth_gen_emit import KJ_PER_KCAL, MILE, PHONE, WATCH, Emitter
from bench.applehealth_gen_xml import route_name

STEPS = "HKQuantityTypeIdentifierStepCount"
WALK_RUN = "HKQuantityTypeIdentifierDistanceWalkingRunning"
CYCLING = "HKQuantityTypeIdentifierDistanceCycling"
ENERGY = "HKQuantityTypeIdentifierActiveEnergyBurned"
Window = tuple[int, int]


@dataclass(frozen=True)
class Kind:
    """A workout type and how the body and the devices behave during it."""

    name: str
    outdoor: bool
    cadence: float  # steps per minute, 0 when no steps are counted
    stride_m: float
    speed_ms: float
    kcal_per_min: float
    effort: int  # typical heart rate


KINDS = (
    Kind("Running", True, 162.0, 1.05, 2.9, 11.0, 152),
    Kind("Walking", True, 112.0, 0.74, 1.45, 4.5, 108),
    Kind("Cycling", True, 0.0, 0.0, 6.5, 9.0, 136),
    Kind("TraditionalStrengthTraining", False, 0.0, 0.0, 0.0, 6.0, 118),
    Kind("Yoga", False, 0.0, 0.0, 0.0, 3.0, 92),
)
# Where outdoor routes start, per zone; anything else uses the home zone's park.
PARKS = {"America/New_York": (40.7812, -73.9665), "Europe/Paris": (48.8462, 2.3372)}


@dataclass(frozen=True)
class Session:
    """A workout the person does today."""

    kind: Kind
    start: int
    end: int


@dataclass(frozen=True)
class Route:
    """What is needed to write a GPX file after the XML: kept small, regenerated later."""

    name: str
    start: int
    end: int
    lat: float
    lon: float
    speed: float


def clip(start: int, end: int, windows: list[Window]) -> list[Window]:
    """Parts of [start, end) inside the windows."""
    return [(max(start, a), min(end, b)) for a, b in windows if a < end and start < b]


def subtract(windows: list[Window], start: int, end: int) -> list[Window]:
    """The windows without [start, end)."""
    out: list[Window] = []
    for a, b in windows:
        if a < start:
            out.append((a, min(b, start)))
        if b > end:
            out.append((max(a, end), b))
    return [(a, b) for a, b in out if b > a]


class ActivityDay(Emitter):
    """Writes the waking part of a day; `day_activity` returns the watch's kcal for the rings."""

    routes: list[Route]

    def _chunks(self, start: int, end: int, longest: int) -> list[Window]:
        """Split [start, end) into samples of 1 minute to `longest` seconds."""
        rnd = self.rng.random
        out: list[Window] = []
        t = start
        while t < end:
            nxt = min(end, t + 60 + int(rnd() * (longest - 60)))
            if end - nxt < 30:
                nxt = end
            out.append((t, nxt))
            t = nxt
        return out

    def _bouts(self, wake: int, bed: int, session: Session | None) -> list[tuple[int, int, float]]:
        """Walking bouts `(start, end, steps per minute)`, plus the workout if it has steps."""
        rng = self.rng
        bouts: list[tuple[int, int, float]] = []
        t = wake + 600 + int(rng.random() * 900)
        while True:
            t += int(rng.expovariate(1 / 2100))
            length = 60 + int(rng.random() * 540)
            if t + length > bed - 300:
                break
            if session and t < session.end + 120 and t + length > session.start - 120:
                t = session.end + 120
                continue
            bouts.append((t, t + length, 70 + rng.random() * 45))
            t += length
        if session and session.kind.cadence:
            bouts.append((session.start, session.end, session.kind.cadence + rng.random() * 8))
            bouts.sort()
        return bouts

    def _steps(
        self,
        bouts: list[tuple[int, int, float]],
        windows: list[Window],
        is_watch: bool,
        session: Session | None,
    ) -> float:
        """Step and distance samples of one device; returns the workout distance it saw (km)."""
        rng = self.rng
        tally = self.tally
        source = WATCH if is_watch else PHONE
        factor = 0.98 + rng.random() * 0.05 if is_watch else 0.90 + rng.random() * 0.07
        longest = 300 if is_watch else 600
        emit = self.emit_dated
        steps_prefix = self.prefix(STEPS, source, "count")
        distance_prefix = self.prefix(WALK_RUN, source, "km" if is_watch else "mi")
        energy_prefix = "" if is_watch else self.prefix(ENERGY, source, "kcal")
        workout_km = 0.0
        for b_start, b_end, cadence in bouts:
            in_session = session is not None and b_start == session.start
            stride = session.kind.stride_m if session and in_session else 0.72
            for a, b in clip(b_start, b_end, windows):
                for c0, c1 in self._chunks(a, b, longest):
                    steps = round(cadence * (c1 - c0) / 60 * factor)
                    if steps < 1:
                        continue
                    lag = 10 + int(rng.random() * 110) if is_watch else 1 + int(rng.random() * 30)
                    dates = self.dates(c0, c1, lag)
                    emit(steps_prefix, STEPS, c0, dates, str(steps))
                    tally.steps.add(is_watch, c0, c1, steps)
                    km = steps * stride / 1000
                    if is_watch:
                        text = f"{km:.5f}"
                        emit(distance_prefix, WALK_RUN, c0, dates, text)
                        km = float(text)
                        if in_session:
                            workout_km += km
                    else:
                        text = f"{km / MILE:.5f}"
                        emit(distance_prefix, WALK_RUN, c0, dates, text)
                        km = float(text) * MILE
                        kcal = f"{steps * 0.04:.3f}"
                        emit(energy_prefix, ENERGY, c0, dates, kcal)
                        tally.energy.add(False, c0, c1, float(kcal))
                    tally.distance.add(is_watch, c0, c1, km)
        return workout_km

    def _energy(
        self, worn: list[Window], bouts: list[tuple[int, int, float]], session: Session | None
    ) -> tuple[float, float]:
        """Watch active energy in kJ over the worn time; returns (day kcal, workout kcal)."""
        rng = self.rng
        day_kcal = workout_kcal = 0.0
        prefix = self.prefix(ENERGY, WATCH, "kJ")
        i = 0
        for a, b in worn:
            for c0, c1 in self._chunks(a, b, 720):
                while i < len(bouts) and bouts[i][1] <= c0:
                    i += 1
                steps = 0.0
                j = i
                while j < len(bouts) and bouts[j][0] < c1:
                    overlap = min(c1, bouts[j][1]) - max(c0, bouts[j][0])
                    steps += max(0, overlap) * bouts[j][2] / 60
                    j += 1
                kcal = (c1 - c0) / 60 * (0.1 + rng.random() * 0.1) + steps * 0.045
                if session and c0 < session.end and session.start < c1:
                    extra = (min(c1, session.end) - max(c0, session.start)) / 60
                    kcal += extra * session.kind.kcal_per_min
                    workout_kcal += extra * session.kind.kcal_per_min
                text = f"{kcal * KJ_PER_KCAL:.3f}"
                self.emit(prefix, ENERGY, c0, c1, text, 30 + int(rng.random() * 200))
                value = float(text) / KJ_PER_KCAL
                self.tally.energy.add(True, c0, c1, value)
                day_kcal += value
        return day_kcal, workout_kcal

    def _heart(self, worn: list[Window], rest: float, session: Session | None) -> list[int]:
        """Heart rate every few minutes while worn, every 5 s in a workout; workout bpm list."""
        rng = self.rng
        rnd = rng.random
        samples: list[tuple[int, int, int]] = []
        for a, b in worn:
            t = a + int(rnd() * 120)
            while t < b:
                if session is None or not session.start - 60 <= t < session.end + 60:
                    moving = rnd() < 0.3
                    samples.append((t, int(rest + 10 + rnd() * 22 + 15 * moving), int(moving)))
                t += 180 + int(rnd() * 240)
        workout: list[int] = []
        if session is not None:
            base, rise = rest + 20, session.kind.effort - rest - 20
            cool_down = session.end - 180
            for t in range(session.start, session.end, 5):
                warm = min(1.0, (t - session.start) / 300)
                noise = (rnd() + rnd() + rnd() - 1.5) * 7  # cheap bell curve, sd ~4 bpm
                bpm = int(base + rise * warm + noise - 4 * (t > cool_down))
                workout.append(bpm)
                samples.append((t, bpm, 2))
        self.heart_rates(samples)
        return workout

    def _cycling(self, session: Session) -> float:
        """Cycling distance samples from the watch; returns the ride's km."""
        total = 0.0
        for c0, c1 in self._chunks(session.start, session.end, 180):
            metres = session.kind.speed_ms * (c1 - c0) * (0.9 + self.rng.random() * 0.2)
            text = f"{metres / 1000:.5f}"
            self.record(CYCLING, WATCH, "km", c0, c1, text, 60)
            total += float(text)
        return total

    def day_activity(
        self,
        wake: int,
        bed: int,
        worn: list[Window],
        phone: list[Window],
        rest: float,
        session: Session | None,
    ) -> tuple[float, int]:
        """Everything the devices write while the person is up; (watch kcal, exercise min)."""
        if session is not None and self.rng.random() < 0.5:
            phone = subtract(phone, session.start, session.end)  # phone stays home
        bouts = self._bouts(wake, bed, session)
        workout_km = self._steps(bouts, worn, True, session)
        self._steps(bouts, phone, False, session)
        day_kcal, workout_kcal = self._energy(worn, bouts, session)
        workout_bpm = self._heart(worn, rest, session)
        minutes = 0
        if session is not None:
            if session.kind.name == "Cycling":
                workout_km = self._cycling(session)
            self._workout(session, workout_km, workout_kcal, workout_bpm)
            minutes = (session.end - session.start) // 60
        return day_kcal, minutes

    def _workout(self, session: Session, km: float, kcal: float, bpm: list[int]) -> None:
        """A v13 `Workout`: metadata, events, statistics children and a route reference."""
        rng, stamp = self.rng, self.stamp
        start, end, kind = session.start, session.end, session.kind
        span = f'startDate="{stamp(start)}" endDate="{stamp(end)}"'
        lines = [
            f' <Workout workoutActivityType="HKWorkoutActivityType{kind.name}" '
            f'duration="{(end - start) / 60!r}" durationUnit="min" {self.src(WATCH)} '
            f'creationDate="{stamp(end + 20)}" {span}>\n'
        ]
        if kind.outdoor or kind.cadence:
            indoor = int(not kind.outdoor)
            lines.append(f'  <MetadataEntry key="HKIndoorWorkout" value="{indoor}"/>\n')
        lines.append(self.zone_entry(start))
        lines.append(
            f'  <WorkoutEvent type="HKWorkoutEventTypeSegment" date="{stamp(start)}" '
            f'duration="{(end - start) / 60!r}" durationUnit="min"/>\n'
        )
        if rng.random() < 0.4:
            pause = start + (end - start) // 2
            event = '  <WorkoutEvent type="HKWorkoutEventType'
            lines.append(f'{event}Pause" date="{stamp(pause)}"/>\n')
            lines.append(f'{event}Resume" date="{stamp(pause + 45)}"/>\n')
        stat = '  <WorkoutStatistics type="HKQuantityTypeIdentifier'
        lines.append(f'{stat}ActiveEnergyBurned" {span} sum="{kcal:.4f}" unit="kcal"/>\n')
        if km:
            dist = "DistanceCycling" if kind.name == "Cycling" else "DistanceWalkingRunning"
            lines.append(f'{stat}{dist}" {span} sum="{km:.5f}" unit="km"/>\n')
        if bpm:
            lines.append(
                f'{stat}HeartRate" {span} average="{sum(bpm) / len(bpm):.4f}" '
                f'minimum="{min(bpm)}" maximum="{max(bpm)}" unit="count/min"/>\n'
            )
        if kind.outdoor:
            local = (start + self.clock.offset(start)) % 86400
            name = route_name(self.clock.local_date(start), local // 3600, local % 3600 // 60)
            lat, lon = PARKS.get(self.clock.zone(start), PARKS["Europe/Paris"])
            self.routes.append(Route(name, start, end, lat, lon, kind.speed_ms))
            uuid = f"{rng.getrandbits(128):032X}"
            lines.append(
                f'  <WorkoutRoute {self.src(WATCH)} creationDate="{stamp(end + 60)}" {span}>\n'
                '   <MetadataEntry key="HKMetadataKeySyncVersion" value="2"/>\n'
                f'   <MetadataEntry key="HKMetadataKeySyncIdentifier" value="{uuid[:8]}-'
                f'{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}"/>\n'
                f'   <FileReference path="/workout-routes/{name}"/>\n  </WorkoutRoute>\n'
            )
        lines.append(" </Workout>\n")
        self.events.append((start, "".join(lines)))
        self.tally.truth.workouts += 1

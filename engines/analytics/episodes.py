"""Toxicity episodes: alerts and flash-crash warnings grouped into episodes per instrument."""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["ToxicityEpisode", "ToxicityEpisodeLog"]


@dataclass(frozen=True, slots=True)
class ToxicityEpisode:
    """A run of toxicity alerts on one instrument with no gap longer than the log's
    `gap_ns`; times are the alerts' `ts_event`."""

    instrument_id: str
    start_ns: int
    last_ns: int
    peak_vpin: float
    peak_vpin_cdf: float
    alerts: int
    flash_crash_warnings: int
    worst_drop_bps: float


class ToxicityEpisodeLog:
    """Keeps each instrument's episodes in time order."""

    def __init__(self, gap_ns: int) -> None:
        if gap_ns <= 0:
            raise ValueError("gap_ns must be > 0")
        self._gap_ns = gap_ns
        self._episodes: dict[str, list[ToxicityEpisode]] = {}

    def episodes(self, instrument_id: str) -> tuple[ToxicityEpisode, ...]:
        """The instrument's episodes, oldest first."""
        return tuple(self._episodes.get(instrument_id, ()))

    def record(
        self,
        instrument_id: str,
        ts_ns: int,
        vpin: float,
        vpin_cdf: float,
        flash_drop_bps: float | None = None,
    ) -> ToxicityEpisode:
        """Adds an alert (or a warning, when `flash_drop_bps` is given); returns its episode."""
        episodes = self._episodes.setdefault(instrument_id, [])
        is_warning = flash_drop_bps is not None
        drop = flash_drop_bps or 0.0
        if episodes and 0 <= ts_ns - episodes[-1].last_ns <= self._gap_ns:
            last = episodes[-1]
            episode = replace(
                last,
                last_ns=max(last.last_ns, ts_ns),
                peak_vpin=max(last.peak_vpin, vpin),
                peak_vpin_cdf=max(last.peak_vpin_cdf, vpin_cdf),
                alerts=last.alerts + (0 if is_warning else 1),
                flash_crash_warnings=last.flash_crash_warnings + int(is_warning),
                worst_drop_bps=max(last.worst_drop_bps, drop),
            )
            episodes[-1] = episode
            return episode
        episode = ToxicityEpisode(
            instrument_id, ts_ns, ts_ns, vpin, vpin_cdf, int(not is_warning), int(is_warning), drop
        )
        episodes.append(episode)
        return episode

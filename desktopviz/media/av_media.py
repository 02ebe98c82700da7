"""Video frames and audio samples of media cells, decoded with PyAV (FFmpeg's libraries, bundled
in its wheels): GIF, MP4, WebM, Ogg... and WAV, MP3, FLAC, Ogg/Vorbis...

Public API: :class:`Clip`, :func:`decode_video`, :func:`video_poster`, :class:`Sound`,
:func:`decode_audio`, :func:`envelope`, :func:`waveform_image`.

Limits: a frame over Pillow's pixel limit is refused (a decompression bomb); frames are scaled
down to ``max_side`` and at most ``FRAME_BUDGET`` bytes of them are kept (a long video keeps an
evenly spaced subset); at most ``MAX_SECONDS`` of a stream are decoded.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from desktopviz.errors import FormatError
from desktopviz.formats.images import check_pixels

try:
    import av
except ImportError:  # the installers' builds leave PyAV (about 100 MB of FFmpeg) out
    av = None

FRAME_BUDGET = 128 * 2**20
"""Bytes of decoded frames a clip keeps (RGB, after scaling)."""
MAX_FRAMES = 900
MAX_SECONDS = 600.0
"""Seconds of a video or audio stream decoded at most."""
PLAYER_SIDE = 720
"""Longest side of the frames decoded for playback."""
MAX_AUDIO_RATE = 48_000
WAVEFORM_COLOUR = (47, 129, 247)

Source = Path | bytes


@contextmanager
def _open(source: Source, label: str | None = None) -> Iterator[av.container.InputContainer]:
    name = label or ("<media bytes>" if isinstance(source, bytes) else str(source))
    if av is None:
        raise FormatError(
            "playing video and audio needs PyAV, which this build of desktopviz leaves out "
            "(pip install 'desktopviz' has it)",
            file=name,
        )
    try:
        container = av.open(io.BytesIO(source) if isinstance(source, bytes) else str(source))
    except FileNotFoundError as e:
        raise FormatError("media file is missing", file=name) from e
    except (av.FFmpegError, OSError, ValueError) as e:
        raise FormatError(f"not a media file FFmpeg can read: {e}", file=name) from e
    try:
        yield container
    except av.FFmpegError as e:
        raise FormatError(f"broken or truncated media: {e}", file=name) from e
    finally:
        container.close()


# -- video -------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Clip:
    """Decoded frames of a video (RGB ``uint8`` arrays, all one size) and their times (s)."""

    frames: list[np.ndarray]
    times: list[float]
    width: int
    height: int
    duration: float
    codec: str
    truncated: bool = False
    """True when the clip holds a subset of the frames (a long video) or stops early."""

    @property
    def fps(self) -> float:
        """Frames a second of the kept frames (for playback)."""
        if len(self.times) < 2:
            return 10.0
        span = self.times[-1] - self.times[0]
        return (len(self.times) - 1) / span if span > 0 else 10.0

    def frame_at(self, seconds: float) -> int:
        """The index of the frame shown at ``seconds``."""
        i = int(np.searchsorted(np.asarray(self.times), seconds, side="right")) - 1
        return min(max(i, 0), len(self.frames) - 1)


def _scaled(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height, 1))
    # even sizes: some pixel formats (yuv420p) need them when reformatting
    return max(2, round(width * scale) // 2 * 2), max(2, round(height * scale) // 2 * 2)


def _check_stream(stream: av.video.stream.VideoStream, label: str | None) -> tuple[int, int]:
    width, height = stream.codec_context.width, stream.codec_context.height
    if not width or not height:
        raise FormatError("video stream has no frame size", file=label)
    check_pixels(width, height, "video frames are", file=label)
    return width, height


def _frame_time(frame: av.VideoFrame, index: int, rate: Fraction | None) -> float:
    if frame.time is not None:
        return float(frame.time)
    return index / float(rate) if rate else index / 10.0


def decode_video(
    source: Source,
    max_side: int = PLAYER_SIDE,
    *,
    budget: int = FRAME_BUDGET,
    max_frames: int = MAX_FRAMES,
    label: str | None = None,
) -> Clip:
    """Decode a video's frames for playback (scaled to ``max_side``; an evenly spaced subset
    when more would not fit in ``budget`` bytes or ``max_frames``)."""
    with _open(source, label) as container:
        if not container.streams.video:
            raise FormatError("no video stream", file=label)
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        width, height = _check_stream(stream, label)
        w, h = _scaled(width, height, max_side)
        keep = max(2, min(max_frames, budget // (w * h * 3)))
        frames: list[np.ndarray] = []
        times: list[float] = []
        step, index, truncated, last = 1, 0, False, 0.0
        for frame in container.decode(stream):
            t = _frame_time(frame, index, stream.average_rate)
            last = t
            if t > MAX_SECONDS:
                truncated = True
                break
            if index % step == 0:
                frames.append(frame.reformat(width=w, height=h, format="rgb24").to_ndarray())
                times.append(t)
                if len(frames) >= keep:  # keep every other frame from now on
                    frames, times = frames[::2], times[::2]
                    step *= 2
                    truncated = True
            index += 1
        if not frames:
            raise FormatError("video has no frames", file=label)
        start = times[0]
        times = [t - start for t in times]
        duration = max(last - start, times[-1])
        if stream.duration and stream.time_base:
            duration = max(duration, float(stream.duration * stream.time_base))
        return Clip(frames, times, w, h, duration, stream.codec_context.name, truncated)


def video_poster(source: Source, max_side: int, label: str | None = None) -> Image.Image:
    """A frame that shows what a video is (the first frame that is not nearly uniform, within its
    first few seconds), at most ``max_side`` pixels."""
    with _open(source, label) as container:
        if not container.streams.video:
            raise FormatError("no video stream", file=label)
        stream = container.streams.video[0]
        width, height = _check_stream(stream, label)
        w, h = _scaled(width, height, max_side)
        best = None
        for index, frame in enumerate(container.decode(stream)):
            pixels = frame.reformat(width=w, height=h, format="rgb24").to_ndarray()
            if best is None or pixels.std() > 8:
                best = pixels
            if pixels.std() > 8 or index >= 60 or _frame_time(frame, index, None) > 5:
                break
        if best is None:
            raise FormatError("video has no frames", file=label)
        return Image.fromarray(best, "RGB")


# -- audio -------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Sound:
    """Decoded audio: float32 samples in -1..1, shape ``(frames, channels)``."""

    samples: np.ndarray
    sample_rate: int
    codec: str
    truncated: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def channels(self) -> int:
        """How many channels (1 or 2)."""
        return int(self.samples.shape[1]) if self.samples.ndim == 2 else 1

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate if self.sample_rate else 0.0


def decode_audio(
    source: Source, *, max_seconds: float = MAX_SECONDS, label: str | None = None
) -> Sound:
    """Decode an audio file's first stream to float32 (mono or stereo, at most 48 kHz, at most
    ``max_seconds``)."""
    with _open(source, label) as container:
        if not container.streams.audio:
            raise FormatError("no audio stream", file=label)
        stream = container.streams.audio[0]
        rate = min(stream.codec_context.sample_rate or MAX_AUDIO_RATE, MAX_AUDIO_RATE)
        channels = 1 if (stream.codec_context.channels or 1) == 1 else 2
        resampler = av.AudioResampler(
            format="flt", layout="mono" if channels == 1 else "stereo", rate=rate
        )
        limit = int(max_seconds * rate)
        chunks: list[np.ndarray] = []
        count, truncated = 0, False

        def add(frames: list[av.AudioFrame]) -> None:
            nonlocal count
            for f in frames:
                chunk = f.to_ndarray().reshape(-1, channels)
                chunks.append(chunk)
                count += len(chunk)

        for frame in container.decode(stream):
            add(resampler.resample(frame))
            if count >= limit:
                truncated = True
                break
        if not truncated:
            add(resampler.resample(None))
        samples = np.concatenate(chunks)[:limit] if chunks else np.zeros((0, channels), np.float32)
        return Sound(
            np.ascontiguousarray(samples, np.float32), rate, stream.codec_context.name, truncated
        )


def envelope(samples: np.ndarray, columns: int) -> np.ndarray:
    """Min and max of the (channel-mixed) samples per column, shape ``(columns, 2)`` (fewer
    columns for fewer samples)."""
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    if mono.size == 0:
        return np.zeros((0, 2), np.float32)
    n = min(columns, mono.size)
    edges = np.linspace(0, mono.size, n + 1).astype(np.int64)
    lows = np.minimum.reduceat(mono, edges[:-1])
    highs = np.maximum.reduceat(mono, edges[:-1])
    return np.stack([lows, highs], axis=1).astype(np.float32)


def waveform_image(
    samples: np.ndarray,
    size: tuple[int, int],
    colour: tuple[int, int, int] = WAVEFORM_COLOUR,
    background: tuple[int, int, int] = (246, 248, 250),
) -> Image.Image:
    """A waveform picture (the envelope as vertical bars about a centre line)."""
    width, height = size
    im = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(im)
    mid = (height - 1) / 2
    draw.line([(0, mid), (width, mid)], fill=(200, 205, 212))
    env = envelope(samples, width)
    peak = float(np.abs(env).max()) if env.size else 0.0
    scale = (height * 0.46) / max(peak, 1e-6)  # a quiet sound fills the picture too
    n = len(env)
    for i, (low, high) in enumerate(env):
        x = i * width / max(n, 1)
        draw.line([(x, mid - high * scale), (x, mid - low * scale)], fill=colour)
    return im

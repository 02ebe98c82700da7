"""The media decoders without Qt: point-cloud forms, molecule formats, video and audio through
PyAV, their limits, and the renderer drawing what it is given."""

from __future__ import annotations

import io
import itertools
import json
import wave

import av
import numpy as np
import pytest
from PIL import Image

from desktopviz.errors import FormatError, LimitError
from desktopviz.media.av_media import decode_audio, decode_video, envelope, video_poster
from desktopviz.media.molecule import parse_molecule
from desktopviz.media.render3d import Camera, render_molecule, render_scene
from desktopviz.media.scene import CATEGORY_COLOURS, load_scene, parse_scene
from desktopviz.media.thumbs import OBJECT3D, flavour_of


def test_point_cloud_forms():
    plain = parse_scene([[0, 0, 0], [1, 1, 1]])
    assert plain.points.shape == (2, 3) and plain.boxes == ()
    cats = parse_scene([[0, 0, 0, 2], [1, 1, 1, 99]])
    assert (cats.colours[0] == CATEGORY_COLOURS[2]).all()
    assert (cats.colours[1] == CATEGORY_COLOURS[0]).all()  # out of range: the default colour
    rgb = parse_scene([[0, 0, 0, 255, 0, 0]])
    assert rgb.colours.tolist() == [[255, 0, 0]]
    corners = [list(c) for c in itertools.product((0, 2), (0, 1), (0, 3))]
    scene = parse_scene(
        {
            "type": "lidar/beta",
            "points": [[0, 0, 0]],
            "boxes": [{"corners": corners, "label": "car", "color": [1, 0.5, 0], "score": 0.5}],
            "vectors": [{"start": [0, 0, 0], "end": [1, 0, 0]}],
        }
    )
    (box,) = scene.boxes
    assert box.colour == (255, 127, 0) and box.text == "car 0.50"
    assert len(box.edges()) == 12
    assert scene.vectors.shape == (1, 2, 3)
    with pytest.raises(FormatError):
        parse_scene([[0, 0]])
    with pytest.raises(FormatError):
        parse_scene({"type": "camera/beta"})
    with pytest.raises(FormatError):
        load_scene(b"{not json")


def test_molecule_formats():
    pdb = (
        "ATOM      1  O   HOH A   1       0.000   0.000   0.000  1.00  0.00           O\n"
        "ATOM      2  H1  HOH A   1       0.957   0.000   0.000  1.00  0.00           H\n"
        "ATOM      3  H2  HOH A   1      -0.240   0.927   0.000  1.00  0.00           H\n"
    )
    water = parse_molecule(pdb, ".pdb")
    assert water.formula == "H2O" and sorted(map(tuple, water.bonds.tolist())) == [(0, 1), (0, 2)]
    sdf = (
        "methanol\n  test\n\n  2  1  0  0  0  0  0  0  0  0999 V2000\n"
        "    0.0000    0.0000    0.0000 C   0  0\n"
        "    1.4000    0.0000    0.0000 O   0  0\n"
        "  1  2  1  0\nM  END\n$$$$\n"
    )
    mol = parse_molecule(sdf, ".sdf")
    assert mol.elements == ["C", "O"] and mol.bonds.tolist() == [[0, 1]]
    xyz = parse_molecule("2\nCO\nC 0 0 0\nO 1.13 0 0\n", ".xyz")
    assert xyz.formula == "CO" and len(xyz.bonds) == 1
    with pytest.raises(FormatError):
        parse_molecule("nothing", ".mmtf")
    with pytest.raises(FormatError):
        parse_molecule("END\n", ".pdb")


def _mp4(frames: int = 12) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as c:
        s = c.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            a = np.zeros((48, 64, 3), np.uint8)
            a[:, i * 4 : i * 4 + 6] = 255
            for p in s.encode(av.VideoFrame.from_ndarray(a, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return buf.getvalue()


def test_video_frames_poster_and_budget():
    data = _mp4()
    clip = decode_video(data)
    assert len(clip.frames) == 12 and clip.frames[0].shape == (48, 64, 3)
    assert clip.fps == pytest.approx(10, rel=0.05) and not clip.truncated
    assert clip.frame_at(0.55) == 5
    small = decode_video(data, budget=64 * 48 * 3 * 4)  # room for 4 frames: every other one
    assert small.truncated and len(small.frames) < 12 and small.times[-1] > 0.5
    assert video_poster(data, 32).size == (32, 24)
    with pytest.raises(FormatError):
        decode_video(b"not a video")


def test_video_over_the_pixel_limit_is_refused(monkeypatch):
    monkeypatch.setenv("DESKTOPVIZ_MAX_IMAGE_PIXELS", "1000")
    with pytest.raises(LimitError):
        decode_video(_mp4())


def test_audio_decodes_to_float_samples():
    buf = io.BytesIO()
    t = np.arange(8000) / 8000
    with wave.open(buf, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        stereo = np.stack([np.sin(2 * np.pi * 200 * t)] * 2, axis=1) * 0.5 * 32767
        w.writeframes(stereo.astype(np.int16).tobytes())
    sound = decode_audio(buf.getvalue())
    assert sound.channels == 2 and sound.sample_rate == 8000
    assert sound.duration == pytest.approx(1.0, abs=0.01)
    env = envelope(sound.samples, 100)
    assert env.shape == (100, 2) and env[:, 1].max() == pytest.approx(0.5, abs=0.01)
    assert decode_audio(buf.getvalue(), max_seconds=0.25).truncated


def test_renders_turn_with_the_camera():
    scene = parse_scene(
        [[x, y, z, 255, 0, 0] for x, y, z in np.random.default_rng(0).random((500, 3))]
    )
    a = np.asarray(render_scene(scene, (120, 100)))
    b = np.asarray(render_scene(scene, (120, 100), Camera().turned(1.0, 0.3)))
    assert a.shape == (100, 120, 3) and (a[..., 0] > 100).sum() > 50 and (a != b).any()
    mol = parse_molecule("2\nCO\nC 0 0 0\nO 1.13 0 0\n", ".xyz")
    labelled = np.asarray(render_molecule(mol, (200, 200), labels=True))
    plain = np.asarray(render_molecule(mol, (200, 200), labels=False))
    assert (labelled != plain).any()
    assert isinstance(render_molecule(mol, (64, 64)), Image.Image)


def test_thumbnail_flavours():
    assert flavour_of("object3D-file", "media/object3D/x.pts.json") == OBJECT3D
    assert flavour_of("object3D-file", "media/object3D/x.glb") is None
    assert flavour_of("html-file", "x.html") is None
    json.dumps(flavour_of("video-file", "a.mp4"))

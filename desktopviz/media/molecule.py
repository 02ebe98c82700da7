"""Molecules of ``molecule-file`` cells as atoms and bonds: PDB and PQR, SDF/MOL (V2000 and
V3000), MOL2, XYZ and mmCIF (``_atom_site``). Bonds come from the file where it lists them
(``CONECT``, a bond block), else from the distance between atoms (covalent radii).

Public API: :class:`Molecule`, :func:`load_molecule`, :func:`parse_molecule`,
:func:`element_colour`, ``MOLECULE_SUFFIXES``.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktopviz.errors import FormatError, LimitError
from desktopviz.media.files import read_within

MAX_FILE_BYTES = 64 * 2**20
MAX_ATOMS = 200_000
BOND_SEARCH_ATOMS = 20_000
"""Bonds are inferred from distances only up to this many atoms."""
MOLECULE_SUFFIXES = (".pdb", ".pqr", ".sdf", ".sd", ".mol", ".mol2", ".xyz", ".cif", ".mmcif")

# Jmol's CPK colours of the common elements
_COLOURS = {
    "H": (255, 255, 255),
    "C": (144, 144, 144),
    "N": (48, 80, 248),
    "O": (255, 13, 13),
    "F": (144, 224, 80),
    "CL": (31, 240, 31),
    "BR": (166, 41, 41),
    "I": (148, 0, 148),
    "P": (255, 128, 0),
    "S": (255, 200, 50),
    "B": (255, 181, 181),
    "NA": (171, 92, 242),
    "MG": (138, 255, 0),
    "K": (143, 64, 212),
    "CA": (61, 255, 0),
    "FE": (224, 102, 51),
    "ZN": (125, 128, 176),
    "CU": (200, 128, 51),
    "SE": (255, 161, 0),
}
_OTHER = (221, 119, 255)
_RADII = {"H": 0.31, "C": 0.76, "N": 0.71, "O": 0.66, "F": 0.57, "P": 1.07, "S": 1.05,
          "CL": 1.02, "BR": 1.20, "I": 1.39, "B": 0.84, "SE": 1.20}  # fmt: skip
_DEFAULT_RADIUS = 1.4


def element_colour(element: str) -> tuple[int, int, int]:
    """The CPK colour of an element symbol (purple for the rare ones)."""
    return _COLOURS.get(element.upper(), _OTHER)


def covalent_radius(element: str) -> float:
    """Covalent radius in Ångström (an upper guess for metals and rare elements)."""
    return _RADII.get(element.upper(), _DEFAULT_RADIUS)


@dataclass(frozen=True, eq=False)
class Molecule:
    """Atoms (element symbols, names, coordinates ``(n, 3)`` in Å) and bonds ``(m, 2)``."""

    elements: list[str]
    names: list[str]
    coords: np.ndarray
    bonds: np.ndarray
    title: str = ""

    @property
    def formula(self) -> str:
        """The Hill formula (C, H, then alphabetical): ``C6H6``, ``H2O``."""
        counts: dict[str, int] = {}
        for e in self.elements:
            counts[e] = counts.get(e, 0) + 1
        order = [e for e in ("C", "H") if e in counts] if "C" in counts else []
        order += sorted(e for e in counts if e not in order)
        return "".join(f"{e}{counts[e] if counts[e] > 1 else ''}" for e in order)


def _element(symbol: str) -> str:
    letters = re.sub(r"[^A-Za-z]", "", symbol)
    if not letters:
        return "X"
    return letters[0].upper() + letters[1:2].lower() if len(letters) > 1 else letters.upper()


def _pdb(text: str) -> tuple[list[str], list[str], list[list[float]], list[tuple[int, int]], str]:
    elements, names, coords, serials, conect = [], [], [], {}, []
    title = ""
    for line in text.splitlines():
        record = line[:6].strip().upper()
        if record in ("ATOM", "HETATM"):
            try:
                xyz = [float(line[30:38]), float(line[38:46]), float(line[46:54])]
            except ValueError:
                parts = line.split()  # PQR: whitespace separated
                xyz = [float(v) for v in parts[-5:-2]]
            name = line[12:16].strip()
            symbol = line[76:78].strip() if len(line) >= 78 else ""
            if not symbol or not symbol.isalpha():
                symbol = name.lstrip("0123456789")[:1]
            try:
                serials[int(line[6:11])] = len(coords)
            except ValueError:
                pass
            elements.append(_element(symbol))
            names.append(name)
            coords.append(xyz)
        elif record == "CONECT":
            numbers = [int(v) for v in re.findall(r"-?\d+", line[6:])]
            conect.extend((numbers[0], n) for n in numbers[1:])
        elif record in ("TITLE", "COMPND", "HEADER") and not title:
            title = line[10:].strip()
        elif record in ("ENDMDL",):
            break  # the first model of an NMR ensemble
    bonds = [
        (serials[a], serials[b])
        for a, b in conect
        if a in serials and b in serials and serials[a] != serials[b]
    ]
    return elements, names, coords, bonds, title


def _molfile(
    text: str,
) -> tuple[list[str], list[str], list[list[float]], list[tuple[int, int]], str]:
    lines = text.splitlines()
    if len(lines) < 4:
        raise ValueError("too short for a molfile")
    title = lines[0].strip()
    elements, coords, bonds = [], [], []
    if "V3000" in lines[3]:
        block = None
        for line in lines[4:]:
            body = line[7:].strip() if line.startswith("M  V30") else ""
            if body.startswith("BEGIN"):
                block = body.split()[1]
            elif body.startswith("END"):
                block = None
            elif block == "ATOM":
                parts = body.split()
                elements.append(_element(parts[1]))
                coords.append([float(v) for v in parts[2:5]])
            elif block == "BOND":
                parts = body.split()
                bonds.append((int(parts[2]) - 1, int(parts[3]) - 1))
            if line.startswith("$$$$"):
                break
    else:
        n_atoms, n_bonds = int(lines[3][0:3]), int(lines[3][3:6])
        for line in lines[4 : 4 + n_atoms]:
            parts = line.split()
            coords.append([float(v) for v in parts[0:3]])
            elements.append(_element(parts[3]))
        for line in lines[4 + n_atoms : 4 + n_atoms + n_bonds]:
            bonds.append((int(line[0:3]) - 1, int(line[3:6]) - 1))
    return elements, list(elements), coords, bonds, title


def _mol2(text: str) -> tuple[list[str], list[str], list[list[float]], list[tuple[int, int]], str]:
    section, title = None, ""
    elements, names, coords, bonds, ids = [], [], [], [], {}
    for line in text.splitlines():
        if line.startswith("@<TRIPOS>"):
            section = line[9:].strip().upper()
            continue
        parts = line.split()
        if not parts:
            continue
        if section == "MOLECULE" and not title:
            title = line.strip()
        elif section == "ATOM" and len(parts) >= 6:
            ids[parts[0]] = len(coords)
            names.append(parts[1])
            coords.append([float(v) for v in parts[2:5]])
            elements.append(_element(parts[5].split(".")[0]))
        elif section == "BOND" and len(parts) >= 3 and parts[1] in ids and parts[2] in ids:
            bonds.append((ids[parts[1]], ids[parts[2]]))
    return elements, names, coords, bonds, title


def _xyz(text: str) -> tuple[list[str], list[str], list[list[float]], list[tuple[int, int]], str]:
    lines = text.splitlines()
    n = int(lines[0].split()[0])
    elements, coords = [], []
    for line in lines[2 : 2 + n]:
        parts = line.split()
        elements.append(_element(parts[0]))
        coords.append([float(v) for v in parts[1:4]])
    return elements, list(elements), coords, [], lines[1].strip() if len(lines) > 1 else ""


def _cif(text: str) -> tuple[list[str], list[str], list[list[float]], list[tuple[int, int]], str]:
    lines = text.splitlines()
    elements, names, coords = [], [], []
    i = 0
    while i < len(lines):
        if (
            lines[i].strip() == "loop_"
            and i + 1 < len(lines)
            and lines[i + 1].startswith("_atom_site.")
        ):
            fields = []
            i += 1
            while i < len(lines) and lines[i].startswith("_atom_site."):
                fields.append(lines[i].strip()[len("_atom_site.") :])
                i += 1
            col = {f: k for k, f in enumerate(fields)}
            while (
                i < len(lines) and lines[i].strip() and not lines[i].startswith(("_", "loop_", "#"))
            ):
                parts = shlex.split(lines[i])
                if len(parts) == len(fields):
                    symbol = parts[col["type_symbol"]] if "type_symbol" in col else parts[0]
                    elements.append(_element(symbol))
                    names.append(parts[col.get("label_atom_id", col.get("type_symbol", 0))])
                    coords.append([float(parts[col[f"Cartn_{a}"]]) for a in "xyz"])
                i += 1
            break
        i += 1
    return elements, names, coords, [], ""


_PARSERS = {
    ".pdb": _pdb,
    ".pqr": _pdb,
    ".ent": _pdb,
    ".sdf": _molfile,
    ".sd": _molfile,
    ".mol": _molfile,
    ".mol2": _mol2,
    ".xyz": _xyz,
    ".cif": _cif,
    ".mmcif": _cif,
    ".mcif": _cif,
}


def infer_bonds(coords: np.ndarray, elements: list[str]) -> np.ndarray:
    """Bonds between atoms closer than the sum of their covalent radii plus 0.45 Å (none when
    there are too many atoms to compare)."""
    n = len(coords)
    if n < 2 or n > BOND_SEARCH_ATOMS:
        return np.zeros((0, 2), np.int64)
    radii = np.array([covalent_radius(e) for e in elements])
    found = []
    block = 2048
    for start in range(0, n, block):
        d = np.linalg.norm(coords[start : start + block, None, :] - coords[None, :, :], axis=2)
        reach = radii[start : start + block, None] + radii[None, :] + 0.45
        i, j = np.nonzero((d < reach) & (d > 0.4))
        i = i + start
        keep = i < j
        found.append(np.stack([i[keep], j[keep]], axis=1))
    return np.concatenate(found) if found else np.zeros((0, 2), np.int64)


def parse_molecule(text: str, suffix: str, label: str | None = None) -> Molecule:
    """A :class:`Molecule` from a file's text; ``suffix`` (``.pdb``...) names the format."""
    parser = _PARSERS.get(suffix.lower())
    if parser is None:
        raise FormatError(
            f"no molecule reader for {suffix or 'files without a suffix'}", file=label
        )
    try:
        elements, names, coords, bonds, title = parser(text)
    except (ValueError, IndexError, KeyError) as e:
        raise FormatError(f"not a readable {suffix} file: {e}", file=label) from e
    if not coords:
        raise FormatError("no atoms in the file", file=label)
    if len(coords) > MAX_ATOMS:
        raise LimitError(f"{len(coords):,} atoms, over the {MAX_ATOMS:,}-atom limit", file=label)
    xyz = np.asarray(coords, np.float64)
    pairs = np.asarray(bonds, np.int64).reshape(-1, 2)
    if len(pairs):
        pairs = pairs[(pairs >= 0).all(axis=1) & (pairs < len(xyz)).all(axis=1)]
    else:
        pairs = infer_bonds(xyz, elements)
    return Molecule(elements, names, xyz, pairs, title)


def molecule_suffix(path: str) -> str:
    """The format suffix of a molecule file's name (``.pdb``; W&B's names end in it)."""
    return Path(path).suffix.lower()


def load_molecule(source: Path | bytes, path: str, label: str | None = None) -> Molecule:
    """Read a molecule file (or its bytes; ``path`` names its format) within the size limit."""
    name = label or path
    data = read_within(source, MAX_FILE_BYTES, "molecule file", name=name)
    return parse_molecule(data.decode("utf-8", errors="replace"), molecule_suffix(path), name)

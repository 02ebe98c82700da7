"""The text of cells and headers (no Qt): numbers with every digit that tells neighbours apart,
a dictionary-encoded column named by its values, nested values on one line, TSV fields."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa

from desktopviz.query.display import (
    column_info,
    compact,
    display_text,
    format_number,
    short_number,
    tsv_field,
    type_label,
)


def test_texts_of_values():
    number = column_info("x", "plain", pa.float64())
    assert format_number(0.5) == "0.5"
    assert format_number(12345678901.0) == "12345678901.0"
    assert format_number(1.5e-7) == "1.5e-07"
    assert format_number(float("nan")) == "NaN"
    assert format_number(float("-inf")) == "-∞"
    assert format_number(True) == "true"
    big = column_info("big", "plain", pa.decimal128(38, 0))  # an integer beyond 64 bits
    assert big.label == "int"
    assert display_text(Decimal(123456789012345678901234567890), big) == (
        "123456789012345678901234567890"
    )
    assert tsv_field(Decimal(-(2**70)), big) == str(-(2**70))
    assert display_text(None, number) == ""
    assert display_text(2.0, number) == "2.0"
    assert display_text(7, column_info("i", "plain", pa.int64())) == "7"
    nested = column_info("m", "plain", pa.struct([("a", pa.int64())]))
    assert compact({"a": [1, 2.5], "b": None}) == "{a: [1, 2.5], b: null}"
    assert compact({"a": 1.0}) == "{a: 1.0}"
    assert display_text({"a": 1}, nested) == "{a: 1}"
    assert compact(list(range(1000)), limit=20).endswith("…")
    text = column_info("s", "plain", pa.string())
    assert display_text("two\nlines", text) == "two ⏎ lines"
    assert tsv_field('say "hi"', text) == 'say "hi"'
    assert tsv_field('"hi"\tthere', text) == '"""hi""\tthere"'
    media = column_info("img", "media", None)
    assert display_text({"_type": "audio-file", "path": "media/a.wav"}, media) == "audio · a.wav"
    assert tsv_field({"path": "media/x.png"}, media) == "media/x.png"


def test_sorted_neighbours_read_apart():
    """The top of a sort of 10M uniform floats read "1.0000" twenty times: each value now reads
    as itself, so different neighbours never show the same text."""
    number = column_info("score", "plain", pa.float64())
    assert display_text(0.99999991, number) == "0.99999991"
    assert display_text(0.99999994, number) == "0.99999994"
    top = np.sort(np.random.default_rng(3).random(1_000_000))[::-1][:200].tolist()
    texts = [display_text(v, number) for v in top]
    assert len(set(texts)) == len(set(top))
    # and read back to within the 15 digits a double keeps of a decimal (Ctrl+C copies all 17)
    assert all(abs(float(t) - v) <= 1e-15 * abs(v) for t, v in zip(texts, top, strict=True))


def test_arithmetic_noise_is_not_shown():
    """A comparison's delta 0.9052 - 0.7138 is 0.19140000000000001 as a double: it reads 0.1914;
    the copy keeps every digit."""
    number = column_info("delta", "plain", pa.float64())
    assert display_text(0.9052 - 0.7138, number) == "0.1914"
    assert display_text(0.1 + 0.2, number) == "0.3"
    assert display_text(2.0, number) == "2.0" and display_text(1 / 3, number) == "0.333333333333333"
    assert tsv_field(0.1 + 0.2, number) == "0.30000000000000004"


def test_narrow_floats_read_at_their_precision():
    """A float32 column's 0.1 is 0.10000000149011612 as a double: it reads "0.1", and
    neighbouring float32 values still read apart."""
    f32 = column_info("p", "plain", pa.float32())
    one_tenth = float(np.float32(0.1))
    assert display_text(one_tenth, f32) == "0.1"
    below = float(np.nextafter(np.float32(1), np.float32(0)))
    assert display_text(below, f32) != display_text(1.0, f32)
    assert np.float32(display_text(below, f32)) == np.float32(below)


def test_short_numbers_where_room_is_short():
    assert short_number(0.50123456) == "0.5012"
    assert short_number(12345678901.0) == "1.235e+10"
    assert short_number(17) == "17"
    assert short_number(float("nan")) == "NaN"
    histogram = column_info(
        "h",
        "plain",
        pa.struct(
            [
                ("min", pa.float64()),
                ("mean", pa.float64()),
                ("max", pa.float64()),
                ("histogram", pa.list_(pa.int64())),
            ]
        ),
    )
    assert histogram.render == "histogram" and histogram.label == "histogram"
    cell = {"min": 0.0012345, "mean": 0.4987654, "max": 0.99999, "histogram": [1, 2]}
    assert display_text(cell, histogram) == "0.001234 … 1, mean 0.4988"


def test_dictionary_column_is_named_by_its_values():
    """A dictionary-encoded column (Parquet writes strings so) read
    ``dictionary<values=string, indices=int32, ordered=0>`` in its header."""
    words = pa.array(["cat", "dog", "cat"]).dictionary_encode()
    column = column_info("label", "plain", words.type)
    assert column.label == "str" and column.render == "text"
    assert display_text("cat", column) == "cat"
    codes = pa.array([3, 5, 3]).dictionary_encode()
    numbers = column_info("code", "plain", codes.type)
    assert numbers.label == "int" and numbers.render == "number"
    listed = pa.list_(pa.dictionary(pa.int8(), pa.string()))
    assert type_label("plain", listed) == "list[str]"

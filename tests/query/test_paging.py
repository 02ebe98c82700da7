"""Paging a large result (no Qt): the page cache around the viewport and the window of rows a
view addresses with ints."""

from __future__ import annotations

from desktopviz.formats.image_cells import image_cell
from desktopviz.query.paging import MIN_WINDOW, PIXEL_LIMIT, Page, PageCache, Window, window_size


def page(start: int, rows: int = 10) -> Page:
    values = [list(range(start, start + rows))]
    return Page(start, values, [[str(v) for v in values[0]]], {})


def test_pages_are_found_by_any_of_their_rows():
    cache = PageCache(page_rows=10, max_pages=8)
    cache.add(page(20))
    assert cache.start_of(27) == 20
    assert cache.page(27) is cache.page(20) and cache.page(27).start == 20
    assert cache.page(30) is None and 20 in cache and 30 not in cache
    assert cache.cached_rows() == 10 and cache.first().start == 20
    cache.clear()
    assert len(cache) == 0 and cache.first() is None


def test_the_cache_keeps_the_pages_nearest_the_viewport():
    cache = PageCache(page_rows=10, max_pages=4)
    for start in range(0, 200, 10):
        cache.add(page(start), viewport=(start, start + 5))
        assert len(cache) <= 4
    assert sorted(p.start for p in cache) == [160, 170, 180, 190]
    on_screen = PageCache(page_rows=10, max_pages=4)
    for start in range(0, 80, 10):  # a viewport of 8 pages keeps all of them
        on_screen.add(page(start), viewport=(0, 79))
    assert len(on_screen) == 8


def test_the_plan_reads_pages_on_screen_first_and_keeps_those_near_it():
    cache = PageCache(page_rows=10)
    cache.add(page(40))
    order, wanted = cache.plan(35, 52, total_rows=1000)
    # a page each side first, then the visible ones last-submitted-first (the queue runs newest
    # first); the cached page 40 is not read again
    assert order == [20, 60, 50, 30]
    assert wanted(20) and wanted(70) and not wanted(0) and not wanted(80)
    assert cache.plan(995, 999, total_rows=1000)[0] == [980, 990]


def test_window_size_fits_the_pixel_range():
    assert window_size(100, row_limit=2_000_000, row_height=24) == 100
    assert window_size(10**9, row_limit=2_000_000, row_height=24) == 2_000_000
    assert window_size(10**9, row_limit=10**9, row_height=24) == PIXEL_LIMIT // 24 // 2
    assert window_size(10**9, row_limit=5, row_height=24) == MIN_WINDOW


def test_window_maps_rows_and_moves_inside_the_result():
    w = Window(start=1000, rows=500, total=10_000)
    assert w.windowed and w.result_row(7) == 1007
    assert w.view_row(1007) == 7 and w.view_row(999) is None and w.view_row(1500) is None
    assert w.moved(-50).start == 0 and w.moved(20_000).start == 9500
    moved = w.moved(1200)
    assert w.follow(250, moved) == 50 and w.follow(100, moved) is None
    assert w.resized(9800).start == 200
    assert list(w.view_rows(990, 20)) == list(range(0, 10))
    assert not w.view_rows(2000, 10)


def test_centring_moves_the_window_only_when_the_row_is_near_its_edge():
    w = Window(start=1000, rows=500, total=10_000)
    same, row = w.centred_on(1250, margin=100)
    assert same is w and row == 250
    moved, row = w.centred_on(1450, margin=100)
    assert moved.start == 1200 and row == 250
    end, row = w.centred_on(10**6)
    assert end.start == 9500 and row == 499


def test_a_page_lists_its_image_cells():
    cell = image_cell({"_type": "image-file", "path": "media/a.png", "width": 4, "height": 3})
    p = Page(0, [[1, 2]], [["1", "2"]], {0: [cell, None], 1: [[cell, cell], None]})
    assert p.images() == [cell, cell, cell] and p.row_count == 2

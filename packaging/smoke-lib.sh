# Shared steps of packaging/linux/smoke.sh and packaging/macos/smoke.sh (sourced, not run): the
# checks of a frozen app run with no Python on its PATH, and the printed targets. The caller
# defines `frozen ARGS...` (runs the app's executable under env -i), `first_paint` (prints the
# seconds from start to the window's first paint) and sets REPO, PYTHON, WORK and VERSION.
# shellcheck shell=bash

say() { printf '\n== %s\n' "$*"; }
fail() {
    printf 'SMOKE FAILED: %s\n' "$*" >&2
    exit 1
}
megabytes() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }

# smoke_frozen_app PLATFORM: --version names the build; demo into a temporary cache; import of a
# W&B artifact folder written by the real wandb SDK; table --filter; screenshots of the table and
# of the run page (their distinct colours counted). Sets CACHE, DATASET, TABLE_COLOURS, RUN_COLOURS.
smoke_frozen_app() {
    local platform=$1 rows
    frozen --version | tee "$WORK/version.txt"
    grep -q "desktopviz $VERSION ($platform build of" "$WORK/version.txt" ||
        fail "--version does not name the build"

    CACHE=$WORK/cache
    frozen --cache "$CACHE" demo | tail -3
    frozen --cache "$CACHE" ls | grep -q street-scenes || fail "demo: no street-scenes project"

    mkdir -p "$WORK/wandb"
    (cd "$REPO" && "$PYTHON" -c "
import sys; from pathlib import Path
from tests.wandb_support import build_wandb_artifacts
build_wandb_artifacts(Path(sys.argv[1]))" "$WORK/wandb") || fail "wandb could not write the artifacts"
    DATASET=$WORK/wandb/artifacts/demo-dataset:v0
    frozen --cache "$CACHE" import --project wandb-smoke "$DATASET" | tee "$WORK/import.txt"
    grep -q "demo-dataset" "$WORK/import.txt" || fail "import of the wandb folder"
    # offline run files (.wandb) need the wandb package, which the installers leave out: a clear
    # message, not a crash
    local run_dir
    run_dir=$("$PYTHON" -c "import json, sys; print(json.load(open(sys.argv[1]))['run_dir'])" \
        "$WORK/wandb/built.json")
    if frozen --cache "$CACHE" import "$run_dir" 2> "$WORK/run-import.txt"; then
        fail "the import of an offline run did not say it needs wandb"
    fi
    grep -q "cannot read W&B offline run files" "$WORK/run-import.txt" ||
        fail "import of an offline run: $(cat "$WORK/run-import.txt")"
    echo "offline run: $(cat "$WORK/run-import.txt")"
    frozen --cache "$CACHE" table wandb-smoke/demo-dataset:latest dataset_table \
        --filter 'row["id"] >= 6' --format csv > "$WORK/filtered.csv"
    rows=$(($(wc -l < "$WORK/filtered.csv") - 1))
    echo "table --filter: $rows rows"
    [ "$rows" = 6 ] || fail "table --filter gave $rows rows, not 6"

    local predictions=street-scenes/scene-predictions:latest
    frozen --cache "$CACHE" gui --open "$predictions" predictions.table.json --tab table \
        --size 1400x900 --screenshot "$WORK/table.png"
    frozen --cache "$CACHE" gui --open "$predictions" --tab run --size 1400x900 \
        --screenshot "$WORK/run.png"
    TABLE_COLOURS=$(colours "$WORK/table.png")
    RUN_COLOURS=$(colours "$WORK/run.png")
    echo "screenshots: table $TABLE_COLOURS colours, run page $RUN_COLOURS colours"
    [ "$TABLE_COLOURS" -gt 1000 ] || fail "the table's screenshot has only $TABLE_COLOURS colours"
    [ "$RUN_COLOURS" -gt 100 ] || fail "the run page's screenshot has only $RUN_COLOURS colours"
    if [ -n "${SMOKE_SHOTS:-}" ]; then cp "$WORK/table.png" "$WORK/run.png" "$SMOKE_SHOTS/"; fi
}

# smoke_frozen_sync: `serve` a store on 127.0.0.1 (with a token), `push` the wandb import to it,
# `sync` it into a new cache, as two analysts would share a project. Needs smoke_frozen_app first.
smoke_frozen_sync() {
    local url=
    echo "smoke-token-$RANDOM$RANDOM" > "$WORK/token"
    chmod 600 "$WORK/token"
    frozen serve "$WORK/store" --port 0 --token-file "$WORK/token" > "$WORK/serve.log" 2>&1 &
    for _ in $(seq 150); do
        url=$(grep -o -m1 'http://127\.0\.0\.1:[0-9]*' "$WORK/serve.log" || true)
        [ -n "$url" ] && break
        sleep 0.1
    done
    [ -n "$url" ] || { cat "$WORK/serve.log"; fail "serve printed no address"; }
    frozen --cache "$CACHE" push "$url" wandb-smoke/demo-dataset:latest --token-file "$WORK/token"
    frozen --cache "$WORK/synced" sync "$url" --token-file "$WORK/token"
    frozen --cache "$WORK/synced" ls | grep -q wandb-smoke || fail "sync: no wandb-smoke project"
    pkill -f "serve $WORK/store" || true
}

# colours PNG: how many distinct colours the image has
colours() {
    "$PYTHON" -c "
import sys; from PIL import Image
print(len(Image.open(sys.argv[1]).convert('RGB').getcolors(1 << 24)))" "$1"
}

# measure_first_paint: sets COLD (the first start) and WARM_MEDIAN (of the next five)
measure_first_paint() {
    local warm=()
    COLD=$(first_paint)
    for _ in 1 2 3 4 5; do warm+=("$(first_paint)"); done
    WARM_MEDIAN=$(printf '%s\n' "${warm[@]}" | sort -n | sed -n 3p)
    echo "first paint: cold $COLD s, warm ${warm[*]} s (median $WARM_MEDIAN s)"
    [ -n "$COLD" ] || fail "the window never painted"
}

# target NAME VALUE LIMIT UNIT: one line of the targets table
target() {
    awk -v n="$1" -v v="$2" -v l="$3" -v u="$4" 'BEGIN {
        printf "%-34s %8s %-3s (target <= %s %s) %s\n", n, v, u, l, u,
            (v == "?" ? "" : (v + 0 <= l + 0 ? "met" : "MISSED")) }'
}

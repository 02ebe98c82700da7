#!/usr/bin/env bash
# Renders the README's screenshots from the demo project (offscreen; no display needed).
#   bash docs/screenshots/make.sh [DESKTOPVIZ]   (default: .venv/bin/desktopviz)
set -euo pipefail
cd "$(dirname "$0")"
dv="${1:-../../.venv/bin/desktopviz}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$dv" --cache "$work/demo" demo --quiet > /dev/null
ref="street-scenes/scene-predictions:v1"
shot() { "$dv" "$@"; }
shot --cache "$work/empty" gui --size 1200x780 --screenshot start.png
shot --cache "$work/demo" gui --open "$ref" --tab overview --size 1200x780 --screenshot overview.png
image="$("$(dirname "$dv")/python" -c "import desktopviz as dv, sys
c = dv.open_cache(sys.argv[1])
print(min(f.path for f in c.cache.files(c.version(sys.argv[2])) if f.path.endswith('.png')))" \
    "$work/demo" "$ref")"
shot --cache "$work/demo" gui --open "$ref" --file "$image" --size 1200x780 --screenshot files.png
shot --cache "$work/demo" gui --open "$ref" predictions.table.json --select 2 --screenshot table.png
shot --cache "$work/demo" gui --open "$ref" predictions.table.json --select 2 --theme dark \
    --screenshot table-dark.png
shot --cache "$work/demo" gui --open "$ref" predictions.table.json \
    --filter 'row["label"] == "car" and row["confidence"] > 0.85' --sort confidence:desc \
    --screenshot filtered.png
shot --cache "$work/demo" gui --open "$ref" predictions.table.json \
    --compare street-scenes/scene-predictions:v0 --only changed --select 0 --screenshot compare.png
shot --cache "$work/demo" gui --open "$ref" predictions.table.json --group-by label \
    --screenshot group.png
shot --cache "$work/demo" gui --open "$ref" --tab lineage --size 1200x700 --screenshot lineage.png
shot --cache "$work/demo" gui --open street-scenes/scene-detector:v1 --tab run --size 900x700 \
    --screenshot run.png
shot --cache "$work/demo" gui --open "$ref" predictions.table.json \
    --compare street-scenes/scene-predictions:v0 --only changed --side-by-side --screenshot side-by-side.png
shot --cache "$work/demo" gui --tab project --project street-scenes --size 1200x780 \
    --screenshot project.png
shot --cache "$work/demo" gui --tab registry --collection scene-detector --size 1200x780 \
    --screenshot registry.png
shot --cache "$work/demo" gui --open "$ref" --tab report --size 1200x780 --screenshot report.png

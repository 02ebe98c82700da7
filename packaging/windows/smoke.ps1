# Smoke test of the Windows installer, as an analyst meets it, from the repository root after
# build.ps1. The same steps and figures as packaging/linux/smoke.sh:
#   install silently for the current user (no admin rights) into a temporary folder; check the
#   Start-menu entry, the association's registry entries and the PATH entry; run the installed
#   desktopviz.exe with no Python on its PATH: --version, demo into a temporary cache, import of a
#   W&B artifact folder written by the real wandb SDK, table --filter, gui --screenshot offscreen of
#   the table and of --tab run (distinct colours counted), serve + push + sync between two caches,
#   the windowed desktopviz-app.exe, the
#   cold and warm start to the first painted window; "double-click" a *.table.json (run the command
#   registered for it) and see a window show it; uninstall silently and check that the folder,
#   the Start-menu entry, the registry entries and the PATH entry are gone; print the targets.
# Needs a Python with the wandb SDK and Pillow: the project's test venv (-Python, default
# .venv\Scripts\python.exe; python -m venv .venv; .venv\Scripts\pip install -e ".[test]").
# Usage: pwsh -File packaging/windows/smoke.ps1 [-Setup dist\desktopviz-<v>-windows-x86_64-setup.exe]

[CmdletBinding()]
param(
    [string]$Setup = '',
    [string]$Python = '.venv\Scripts\python.exe'
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$Repo = (Resolve-Path (Join-Path $PSScriptRoot '..\..')).Path
Set-Location $Repo
$Python = (Resolve-Path -LiteralPath $Python).Path
$AppId = 'org.desktopviz.DesktopViz'
$Version = (& $Python -c 'import desktopviz; print(desktopviz.__version__)')
if ($LASTEXITCODE -ne 0) { throw 'smoke: could not read the version' }
$Version = $Version.Trim()
if (-not $Setup) { $Setup = "dist\desktopviz-$Version-windows-x86_64-setup.exe" }
$Setup = (Resolve-Path -LiteralPath $Setup).Path
# the app writes UTF-8 (PYTHONUTF8 / the spec's utf8 mode): read its output as such
[Console]::OutputEncoding = [Text.Encoding]::UTF8

$TempRoot = if ($env:RUNNER_TEMP) { $env:RUNNER_TEMP } else { [IO.Path]::GetTempPath() }
$Work = Join-Path $TempRoot ('desktopviz-smoke-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
$InstallDir = Join-Path $Work 'install'
$App = Join-Path $InstallDir 'desktopviz.exe'
$AppExe = Join-Path $InstallDir 'desktopviz-app.exe'
$Cache = Join-Path $Work 'cache'
New-Item -ItemType Directory -Force -Path $Work | Out-Null

function Say([string]$Text) { Write-Host "`n== $Text" }
function Fail([string]$Text) { throw "SMOKE FAILED: $Text" }
function Now { [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds() / 1000.0 }
$Invariant = [Globalization.CultureInfo]::InvariantCulture
function Megabytes([double]$Bytes) { ($Bytes / 1e6).ToString('F1', $Invariant) }

function Invoke-Frozen {
    # The installed desktopviz.exe with no Python on the PATH and no PYTHON* variables (as
    # `env -i` on Linux); returns its stdout lines; throws when it fails.
    $saved = @{}
    foreach ($name in 'PATH', 'PYTHONPATH', 'PYTHONHOME', 'PYTHONUTF8', 'VIRTUAL_ENV') {
        $saved[$name] = [Environment]::GetEnvironmentVariable($name, 'Process')
    }
    try {
        $env:PATH = "$env:SystemRoot\System32;$env:SystemRoot"
        foreach ($name in 'PYTHONPATH', 'PYTHONHOME', 'PYTHONUTF8', 'VIRTUAL_ENV') {
            [Environment]::SetEnvironmentVariable($name, $null, 'Process')
        }
        $out = & $App @args
        if ($LASTEXITCODE -ne 0) { Fail "desktopviz $($args -join ' ') exited with code $LASTEXITCODE" }
        return $out
    }
    finally {
        foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name], 'Process') }
    }
}

function Get-DefaultValue([string]$Key) {
    $item = Get-Item -LiteralPath $Key -ErrorAction SilentlyContinue
    if ($item) { return $item.GetValue('') }
    return $null
}

function Test-ValueName([string]$Key, [string]$Name) {
    $item = Get-Item -LiteralPath $Key -ErrorAction SilentlyContinue
    return [bool]($item -and ($item.GetValueNames() -contains $Name))
}

function Test-OnUserPath([string]$Dir) {
    $path = [Environment]::GetEnvironmentVariable('Path', 'User')
    return [bool]($path -and (($path -split ';') -contains $Dir))
}

$Classes = 'HKCU:\Software\Classes'
$StartMenu = Join-Path ([Environment]::GetFolderPath('Programs')) 'desktopviz.lnk'
try {
    # -- install ---------------------------------------------------------------------------------
    Say "installer: $(Split-Path -Leaf $Setup) /VERYSILENT /CURRENTUSER"
    $log = Join-Path $Work 'install.log'
    $p = Start-Process -FilePath $Setup -Wait -PassThru -ArgumentList (
        '/VERYSILENT /SUPPRESSMSGBOXES /NORESTART /CURRENTUSER /TASKS="addtopath" ' +
        "/DIR=`"$InstallDir`" /LOG=`"$log`"")
    if ($p.ExitCode -ne 0) { Get-Content -LiteralPath $log -Tail 40; Fail "setup exited with code $($p.ExitCode)" }
    foreach ($file in 'desktopviz.exe', 'desktopviz-app.exe', 'desktopviz.ico', 'unins000.exe', '_internal') {
        if (-not (Test-Path -LiteralPath (Join-Path $InstallDir $file))) { Fail "not installed: $file" }
    }
    if (-not (Test-Path -LiteralPath $StartMenu)) { Fail "no Start-menu entry $StartMenu" }
    $target = (New-Object -ComObject WScript.Shell).CreateShortcut($StartMenu).TargetPath
    if ($target -ne $AppExe) { Fail "the Start-menu entry starts $target" }
    $command = Get-DefaultValue "$Classes\desktopviz.table\shell\open\command"
    if ($command -ne "`"$AppExe`" open `"%1`"") { Fail "desktopviz.table opens with '$command'" }
    if (-not (Test-ValueName "$Classes\.json\OpenWithProgids" 'desktopviz.table')) {
        Fail '.json\OpenWithProgids does not offer desktopviz.table'
    }
    if (-not (Get-DefaultValue "$Classes\Directory\shell\desktopviz\command")) { Fail 'no "Open in desktopviz" on folders' }
    if (-not (Test-OnUserPath $InstallDir)) { Fail "the user's Path lacks $InstallDir" }
    Write-Host "installed in $InstallDir; Start menu, .json Open with (desktopviz.table), folders, Path"
    $UnpackedBytes = (Get-ChildItem -LiteralPath $InstallDir -Recurse -File | Measure-Object -Property Length -Sum).Sum

    # -- the installed app, run with no Python on the PATH --------------------------------------
    Say 'app: run with no Python on the PATH'
    $versionText = (Invoke-Frozen --version) -join "`n"
    Write-Host $versionText
    if ($versionText -notlike "desktopviz $Version (windows-x86_64 build of*") { Fail '--version does not name the build' }

    Invoke-Frozen --cache $Cache demo | Select-Object -Last 3 | Write-Host
    if (-not ((Invoke-Frozen --cache $Cache ls) -match 'street-scenes')) { Fail 'demo: no street-scenes project' }

    # a W&B artifact folder written by the real wandb SDK (tests.wandb_support: offline, own folders)
    $wandbOut = Join-Path $Work 'wandb'
    New-Item -ItemType Directory -Force -Path $wandbOut | Out-Null
    & $Python -c @'
import sys; from pathlib import Path
from tests.wandb_support import build_wandb_artifacts
build_wandb_artifacts(Path(sys.argv[1]))
'@ $wandbOut | Out-Null
    if ($LASTEXITCODE -ne 0) { Fail 'wandb could not write the artifacts' }
    # the folder is demo-dataset:v0 elsewhere; Windows names it demo-dataset-v0 (no ':' in names)
    $dataset = Get-ChildItem -LiteralPath (Join-Path $wandbOut 'artifacts') -Directory |
        Where-Object Name -Match '^demo-dataset[:-]v0$' | Select-Object -First 1
    if (-not $dataset) { Fail 'wandb wrote no demo-dataset folder' }
    $importText = (Invoke-Frozen --cache $Cache import --project wandb-smoke $dataset.FullName) -join "`n"
    Write-Host $importText
    if ($importText -notmatch 'demo-dataset') { Fail 'import of the wandb folder' }
    $csv = @(Invoke-Frozen --cache $Cache table wandb-smoke/demo-dataset:latest dataset_table --filter "row['id'] >= 6" --format csv)
    if ($csv -contains '') { Fail 'blank lines in the CSV on stdout (\r\r\n line ends?)' }
    $rows = $csv.Count - 1
    Write-Host "table --filter: $rows rows"
    if ($rows -ne 6) { Fail "table --filter gave $rows rows, not 6" }

    $predictions = 'street-scenes/scene-predictions:latest'
    $tablePng = Join-Path $Work 'table.png'
    $runPng = Join-Path $Work 'run.png'
    $env:QT_QPA_PLATFORM = 'offscreen'
    try {
        Invoke-Frozen --cache $Cache gui --open $predictions predictions.table.json --tab table --size 1400x900 --screenshot $tablePng | Out-Null
        Invoke-Frozen --cache $Cache gui --open $predictions --tab run --size 1400x900 --screenshot $runPng | Out-Null
    }
    finally {
        Remove-Item Env:QT_QPA_PLATFORM -ErrorAction SilentlyContinue
    }
    $countColours = 'import sys; from PIL import Image; print(len(Image.open(sys.argv[1]).convert("RGB").getcolors(1 << 24)))'
    $tableColours = [int](& $Python -c $countColours $tablePng)
    $runColours = [int](& $Python -c $countColours $runPng)
    Write-Host "screenshots: table $tableColours colours, run page $runColours colours"
    if ($tableColours -le 1000) { Fail "the table's screenshot has only $tableColours colours" }
    if ($runColours -le 100) { Fail "the run page's screenshot has only $runColours colours" }
    if ($env:SMOKE_SHOTS) { Copy-Item -LiteralPath $tablePng, $runPng -Destination $env:SMOKE_SHOTS }

    # the windowed executable (Start menu, associations): no console; stdout and stderr are None
    # in it, and it must still run to its end
    $appPng = Join-Path $Work 'app.png'
    $p = Start-Process -FilePath $AppExe -Wait -PassThru -ArgumentList (
        "--cache `"$Cache`" gui --open $predictions predictions.table.json --tab table --screenshot `"$appPng`"")
    if ($p.ExitCode -ne 0 -or -not (Test-Path -LiteralPath $appPng)) {
        Fail "desktopviz-app.exe exited with code $($p.ExitCode) without its screenshot"
    }
    Write-Host 'desktopviz-app.exe (windowed): ran gui --screenshot'

    # serve a store on 127.0.0.1 (with a token), push the wandb import, sync it into a new cache
    $token = Join-Path $Work 'token'
    Set-Content -LiteralPath $token -Value "smoke-token-$(Get-Random)" -NoNewline
    $serveLog = Join-Path $Work 'serve.log'
    $server = Start-Process -FilePath $App -PassThru -NoNewWindow -RedirectStandardOutput $serveLog `
        -RedirectStandardError (Join-Path $Work 'serve.err') `
        -ArgumentList "serve `"$(Join-Path $Work 'store')`" --port 0 --token-file `"$token`""
    try {
        $url = $null
        foreach ($i in 1..150) {
            if (Test-Path -LiteralPath $serveLog) {
                $url = Select-String -LiteralPath $serveLog -Pattern 'http://127\.0\.0\.1:\d+' |
                    Select-Object -First 1 | ForEach-Object { $_.Matches[0].Value }
            }
            if ($url) { break }
            Start-Sleep -Milliseconds 100
        }
        if (-not $url) { Fail 'serve printed no address' }
        Invoke-Frozen --cache $Cache push $url wandb-smoke/demo-dataset:latest --token-file $token | Write-Host
        $synced = Join-Path $Work 'synced'
        Invoke-Frozen --cache $synced sync $url --token-file $token | Write-Host
        if (-not ((Invoke-Frozen --cache $synced ls) -match 'wandb-smoke')) { Fail 'sync: no wandb-smoke project' }
    }
    finally {
        Stop-Process -Id $server.Id -Force -ErrorAction SilentlyContinue
    }

    Say "cold start to the first painted window (demo cache, the runner's desktop)"
    function Get-FirstPaint {
        $start = Now
        $line = Invoke-Frozen --cache $Cache gui --first-paint | Where-Object { $_ -like 'first paint:*' } | Select-Object -First 1
        if (-not $line) { return '' }
        return ([double]($line -split ' ')[2] - $start).ToString('F3', $Invariant)
    }
    # the first run after installing is the cold one (Defender also scans the files then)
    $cold = Get-FirstPaint
    $warm = @(1..5 | ForEach-Object { Get-FirstPaint })
    $warmMedian = ($warm | Sort-Object { [double]$_ })[2]
    Write-Host "first paint: cold $cold s (first run after installing), warm $($warm -join ' ') s (median $warmMedian s)"
    if (-not $cold) { Fail 'the window never painted' }

    # -- the association: what a double-click on a *.table.json runs -------------------------------
    Say 'double-click a *.table.json (the command registered for desktopviz.table)'
    $table = Join-Path $Work 'open-me\demo-dataset\dataset_table.table.json'
    New-Item -ItemType Directory -Force -Path (Split-Path $table) | Out-Null
    Copy-Item -Path (Join-Path $dataset.FullName '*') -Destination (Split-Path $table) -Recurse
    $env:DESKTOPVIZ_CACHE = Join-Path $Work 'open-cache'
    try {
        # the registered command without its quoted program: open "%1"
        $arguments = $command.Substring($command.IndexOf('"', 1) + 1).Trim().Replace('%1', $table)
        $opened = Start-Process -FilePath $AppExe -ArgumentList $arguments -PassThru
        $title = ''
        for ($i = 0; $i -lt 300 -and -not $title; $i++) {
            Start-Sleep -Milliseconds 100
            $title = (Get-Process -Id $opened.Id -ErrorAction SilentlyContinue).MainWindowTitle
            if ($title -notlike '*dataset_table*') { $title = '' }
        }
        Stop-Process -Id $opened.Id -Force -ErrorAction SilentlyContinue
        if (-not $title) { Fail 'no window showed the table' }
        Write-Host "window: $title"
    }
    finally {
        Remove-Item Env:DESKTOPVIZ_CACHE -ErrorAction SilentlyContinue
    }

    # -- uninstall -------------------------------------------------------------------------------
    Say 'uninstaller: unins000.exe /VERYSILENT'
    Start-Sleep -Seconds 1  # let the closed app release its files
    $p = Start-Process -FilePath (Join-Path $InstallDir 'unins000.exe') -Wait -PassThru -ArgumentList '/VERYSILENT /SUPPRESSMSGBOXES /NORESTART'
    if ($p.ExitCode -ne 0) { Fail "the uninstaller exited with code $($p.ExitCode)" }
    # it finishes in a copy of itself that may outlive the process waited for
    for ($i = 0; $i -lt 60 -and (Test-Path -LiteralPath $InstallDir); $i++) { Start-Sleep -Milliseconds 500 }
    if (Test-Path -LiteralPath $InstallDir) {
        Get-ChildItem -LiteralPath $InstallDir -Recurse | Select-Object -First 20 | ForEach-Object { Write-Host $_.FullName }
        Fail "the uninstaller left $InstallDir"
    }
    if (Test-Path -LiteralPath $StartMenu) { Fail 'the uninstaller left the Start-menu entry' }
    foreach ($key in "$Classes\desktopviz.table", "$Classes\Directory\shell\desktopviz", "$Classes\Applications\desktopviz-app.exe") {
        if (Test-Path -LiteralPath $key) { Fail "the uninstaller left $key" }
    }
    if (Test-ValueName "$Classes\.json\OpenWithProgids" 'desktopviz.table') { Fail 'the uninstaller left .json\OpenWithProgids\desktopviz.table' }
    if (Test-OnUserPath $InstallDir) { Fail "the uninstaller left $InstallDir on the Path" }
    Write-Host 'uninstalled: nothing left of the install folder, Start menu, registry entries, Path entry'

    # -- targets ---------------------------------------------------------------------------------
    function Write-Target([string]$Name, [string]$Value, [double]$Limit, [string]$Unit) {
        $verdict = if (-not $Value -or $Value -eq '?') { '' } elseif ([double]$Value -le $Limit) { 'met' } else { 'MISSED' }
        Write-Host ('{0,-34} {1,8} {2,-3} (target <= {3} {2}) {4}' -f $Name, $Value, $Unit, $Limit, $verdict)
    }
    Say 'targets'
    Write-Target 'unpacked app' (Megabytes $UnpackedBytes) 350 'MB'
    Write-Host ('{0,-34} {1,8} MB' -f 'setup.exe', (Megabytes (Get-Item -LiteralPath $Setup).Length))
    Write-Target 'cold start to first paint' $cold 1.5 's'
    Write-Target 'warm start to first paint (median)' $warmMedian 1.5 's'
    Write-Host 'smoke test passed'
}
finally {
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction SilentlyContinue
}

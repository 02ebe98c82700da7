# Build the Windows installer, from any folder (it works in the repository root):
#
#   pwsh -File packaging/windows/build.ps1 [-Python python]
#
# 1. a build venv in build\venv with PyInstaller (packaging/build-requirements.txt) and desktopviz
#    installed from the checkout (non-editable: the frozen app sees the package as a user's does);
# 2. the icons (build\icons\desktopviz.ico) and build\build_info.json;
# 3. the PyInstaller one-folder bundle build\dist\desktopviz\ (desktopviz.exe: the console CLI,
#    desktopviz-app.exe: windowed, for the Start menu and the file associations);
# 4. Inno Setup's ISCC -> dist\desktopviz-<version>-windows-x86_64-setup.exe.
# Needs Python 3.11+ and Inno Setup 6.3+ (`choco install innosetup`; ISCC.exe is looked for on
# the PATH, then in Program Files). Stops at the first error.

[CmdletBinding()]
param(
    # the Python that makes the build venv
    [string]$Python = 'python'
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

function Invoke-Native {
    # Run a program (first argument) with the other arguments; throw when it exits non-zero.
    $exe = $args[0]
    $rest = @($args | Select-Object -Skip 1)
    Write-Host "+ $exe $($rest -join ' ')"
    & $exe @rest
    if ($LASTEXITCODE -ne 0) {
        throw "'$exe $($rest -join ' ')' exited with code $LASTEXITCODE"
    }
}

function Find-Iscc {
    # ISCC.exe of Inno Setup 6: on the PATH, else where its installer (or choco) puts it.
    $onPath = Get-Command 'ISCC.exe' -ErrorAction SilentlyContinue
    if ($onPath) { return $onPath.Source }
    $candidates = @(
        (Join-Path ${env:ProgramFiles(x86)} 'Inno Setup 6\ISCC.exe'),
        (Join-Path $env:ProgramFiles 'Inno Setup 6\ISCC.exe'),
        (Join-Path $env:LOCALAPPDATA 'Programs\Inno Setup 6\ISCC.exe')
    )
    foreach ($candidate in $candidates) {
        if ($candidate -and (Test-Path -LiteralPath $candidate)) { return $candidate }
    }
    throw 'ISCC.exe (Inno Setup 6) not found: install it (choco install innosetup) or put it on the PATH'
}

$Root = (Resolve-Path (Join-Path $PSScriptRoot '..\..')).Path
Push-Location $Root
try {
    $started = Get-Date

    $venv = Join-Path $Root 'build\venv'
    $py = Join-Path $venv 'Scripts\python.exe'
    if (-not (Test-Path -LiteralPath $py)) {
        Invoke-Native $Python -m venv $venv
    }
    # PyInstaller at the version packaging/build-requirements.txt pins (the Linux build's too),
    # then this checkout's wheel (a rebuild of the same version must replace the package)
    Invoke-Native $py -m pip install --quiet -r packaging/build-requirements.txt
    # setuptools' in-tree build folders would ship files deleted since the last build
    Remove-Item -Recurse -Force -ErrorAction SilentlyContinue build\lib, build\bdist.*
    Invoke-Native $py -m pip install --quiet --force-reinstall --no-deps .
    Invoke-Native $py -m pip install --quiet .

    $version = (& $py -c 'import desktopviz; print(desktopviz.__version__)')
    if ($LASTEXITCODE -ne 0 -or -not $version) { throw 'could not read desktopviz.__version__' }
    $version = $version.Trim()
    Write-Host "desktopviz $version"

    Invoke-Native $py packaging/make_icons.py build/icons
    Invoke-Native $py packaging/build_info.py build/build_info.json
    Invoke-Native $py -m PyInstaller --noconfirm --distpath build/dist --workpath build/work packaging/desktopviz.spec

    foreach ($exe in 'desktopviz.exe', 'desktopviz-app.exe') {
        $path = Join-Path $Root "build\dist\desktopviz\$exe"
        if (-not (Test-Path -LiteralPath $path)) { throw "the bundle lacks $exe (packaging/desktopviz.spec)" }
    }

    $iscc = Find-Iscc
    Invoke-Native $iscc /Qp "/DAppVersion=$version" packaging\windows\desktopviz.iss

    $setup = Join-Path $Root "dist\desktopviz-$version-windows-x86_64-setup.exe"
    if (-not (Test-Path -LiteralPath $setup)) { throw "ISCC did not write $setup" }
    $bundleBytes = (Get-ChildItem -LiteralPath (Join-Path $Root 'build\dist\desktopviz') -Recurse -File |
        Measure-Object -Property Length -Sum).Sum
    $setupBytes = (Get-Item -LiteralPath $setup).Length
    $seconds = [int]((Get-Date) - $started).TotalSeconds
    Write-Host ('bundle (unpacked): {0:N0} MB' -f ($bundleBytes / 1MB))
    Write-Host ('setup: {0} {1:N0} MB' -f $setup, ($setupBytes / 1MB))
    Write-Host "build time: $seconds s"
}
finally {
    Pop-Location
}

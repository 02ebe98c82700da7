; Inno Setup 6 script of the desktopviz installer for Windows (x64). Needs Inno Setup >= 6.3
; (x64compatible). Built by packaging/windows/build.ps1, which first makes the PyInstaller bundle
; build\dist\desktopviz\ (desktopviz.exe: the console CLI; desktopviz-app.exe: the same program
; without a console, for the Start menu and the file associations; _internal\) and the icon
; build\icons\desktopviz.ico, then runs, from the repository root:
;
;   ISCC.exe /DAppVersion=0.1.0 packaging\windows\desktopviz.iss
;
; -> dist\desktopviz-<version>-windows-x86_64-setup.exe
;
; Installs per user without admin rights ({autopf} = %LOCALAPPDATA%\Programs); an admin may
; choose "all users" in the first dialog (or pass /ALLUSERS), then {autopf} = Program Files and
; the registry entries go to HKLM instead of HKCU (HKA below follows the install mode).
; Silent: setup.exe /VERYSILENT /SUPPRESSMSGBOXES /CURRENTUSER [/DIR=...] [/TASKS="addtopath"]
; (packaging/windows/smoke.ps1 does this). The uninstaller removes every file, shortcut,
; registry entry and PATH entry it added; the user's cache (%LOCALAPPDATA%\desktopviz) is data,
; not program, and stays.

#ifndef AppVersion
  #error Pass the version: ISCC /DAppVersion=<version> (packaging/windows/build.ps1 does)
#endif

#define AppName "desktopviz"
#define AppExe "desktopviz-app.exe"
#define CliExe "desktopviz.exe"
#define ProgId "desktopviz.table"
; the repository root (SourcePath is this script's folder, with a trailing backslash)
#define Root SourcePath + "..\.."

[Setup]
; Never change AppId: it ties upgrades and the uninstaller to earlier installs.
AppId={{0C7D73B8-B78E-4E47-9060-B88D2680979C}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=The desktopviz developers
AppCopyright=Copyright the desktopviz developers (Apache-2.0)
SourceDir={#Root}
OutputDir=dist
OutputBaseFilename=desktopviz-{#AppVersion}-windows-x86_64-setup
SetupIconFile=build\icons\desktopviz.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName} {#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; the .json "Open with" entry and the folder verb: tell Explorer to reload associations
ChangesAssociations=yes
; the optional PATH entry: broadcast WM_SETTINGCHANGE so new consoles see it
ChangesEnvironment=yes
; a running desktopviz holds its DLLs: ask it to close (Restart Manager) before replacing them
CloseApplications=yes
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
SetupLogging=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add the desktopviz command to the PATH (for terminals opened after the install)"; GroupDescription: "Command line:"

[InstallDelete]
; an upgrade replaces the bundle whole: no library of the previous version may linger
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "build\dist\desktopviz\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "build\icons\desktopviz.ico"; DestDir: "{app}"; Flags: ignoreversion

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; IconFilename: "{app}\desktopviz.ico"; Comment: "Browse, query and compare versioned ML datasets offline"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; IconFilename: "{app}\desktopviz.ico"; Tasks: desktopicon

[Registry]
; File association. Windows types a file by its LAST extension only: "preds.table.json" is a
; ".json" file, and there is no way to register "*.table.json" on its own. Taking over ".json"
; (its default program) would steal every JSON file from the user's editor, so instead:
;  * the ProgID desktopviz.table says how to open a table ("desktopviz-app.exe open PATH",
;    which imports it and shows it; a non-table JSON gets a clear error in the window);
;  * ".json\OpenWithProgids" lists that ProgID, so desktopviz is offered under "Open with" for
;    every .json, and "Always use this app" makes it the default where the user wants it;
;  * Applications\desktopviz-app.exe names the program in those lists and declares .json;
;  * Directory\shell\desktopviz: "Open in desktopviz" on folders (W&B artifact download folders,
;    offline run folders, folders of images).
; HKA = HKCU\Software\Classes for a per-user install, HKLM\Software\Classes for all users.
Root: HKA; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueName: ""; ValueData: "W&B table"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueName: "FriendlyTypeName"; ValueData: "W&B table"
Root: HKA; Subkey: "Software\Classes\{#ProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\desktopviz.ico"
Root: HKA; Subkey: "Software\Classes\{#ProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" open ""%1"""
Root: HKA; Subkey: "Software\Classes\.json\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "{#AppName}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\desktopviz.ico"
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".json"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" open ""%1"""
Root: HKA; Subkey: "Software\Classes\Directory\shell\desktopviz"; ValueType: string; ValueName: ""; ValueData: "Open in desktopviz"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Directory\shell\desktopviz"; ValueType: string; ValueName: "Icon"; ValueData: "{app}\desktopviz.ico"
Root: HKA; Subkey: "Software\Classes\Directory\shell\desktopviz\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" open ""%1"""

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; anything the program left in its own folder (never the user's cache, which lives elsewhere)
Type: filesandordirs; Name: "{app}\_internal"
Type: dirifempty; Name: "{app}"

[Code]
{ The optional PATH entry ("addtopath" task): the user's Path (HKCU\Environment) for a per-user
  install, the machine's for all users. Added after the install when the task is selected,
  removed otherwise (an upgrade that unticks it) and by the uninstaller. Entries are compared
  case-insensitively, with or without a trailing backslash; nothing else in Path is touched. }

function EnvRoot: Integer;
begin
  if IsAdminInstallMode then
    Result := HKEY_LOCAL_MACHINE
  else
    Result := HKEY_CURRENT_USER;
end;

function EnvKey: String;
begin
  if IsAdminInstallMode then
    Result := 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment'
  else
    Result := 'Environment';
end;

function WithoutDir(Path, Dir: String): String;
var
  Rest, Entry: String;
  P: Integer;
begin
  Result := '';
  Rest := Path;
  while Rest <> '' do
  begin
    P := Pos(';', Rest);
    if P = 0 then
    begin
      Entry := Rest;
      Rest := '';
    end
    else
    begin
      Entry := Copy(Rest, 1, P - 1);
      Rest := Copy(Rest, P + 1, Length(Rest));
    end;
    if (Entry <> '') and
       (CompareText(RemoveBackslashUnlessRoot(Entry), RemoveBackslashUnlessRoot(Dir)) <> 0) then
    begin
      if Result <> '' then
        Result := Result + ';';
      Result := Result + Entry;
    end;
  end;
end;

procedure SetAppOnPath(Wanted: Boolean);
var
  Path, NewPath, Dir: String;
begin
  Dir := ExpandConstant('{app}');
  if not RegQueryStringValue(EnvRoot, EnvKey, 'Path', Path) then
    Path := '';
  NewPath := WithoutDir(Path, Dir);
  if Wanted then
  begin
    if NewPath <> '' then
      NewPath := NewPath + ';';
    NewPath := NewPath + Dir;
  end;
  if NewPath <> Path then
    if not RegWriteExpandStringValue(EnvRoot, EnvKey, 'Path', NewPath) then
      Log('Could not update Path in ' + EnvKey);
end;

procedure CurStepChanged(CurStep: TSetupStep);
begin
  if CurStep = ssPostInstall then
    SetAppOnPath(WizardIsTaskSelected('addtopath'));
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep = usUninstall then
    SetAppOnPath(False);
end;

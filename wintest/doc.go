// Package wintest runs travelkit's Windows code under Wine (Debian 12's Wine 8.0) in
// `make test`: the package tests of repo, builder, luks, drive, kit, target, profile,
// register, boot, remote and some internal packages built with GOOS=windows, and
// command-line scripts (testdata/script) that drive travelkit.exe beside the Linux binary,
// restic for Windows and Debian's restic, on kit images and repository folders.
//
// The package holds only tests and their harness. [Setup] prepares the Wine prefix
// with scripts/wine/setup.sh (installing wine64 and mingw-w64 when they are missing,
// and building the bcryptprimitives.dll stand-in that Go 1.24+ programs need);
// [ResticExe] builds restic for windows/amd64 at a pinned version from the Go module
// proxy with scripts/wine/build-restic.sh, once, into /var/cache/travelkit-test; [AgeDir]
// age and age-keygen, at go.mod's version, with scripts/wine/build-age.sh.
//
// What Wine cannot show (scripts/wine/README.md): raw disks (\\.\PhysicalDriveN),
// UAC, TBS (the TPM), symlinks (Wine reports success and makes nothing).
//
// Imports: internal packages only.
package wintest

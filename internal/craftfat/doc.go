// Package craftfat changes FAT32 volumes in place the way an attacker with a hex editor
// would, for tests: it adds files, folders and raw directory entries, changes attribute
// bytes and FAT entries. It parses the boot sector itself and shares no code with
// image/fat32, so that the crafted volumes test that reader instead of mirroring it.
//
// Test-only: nothing in travelkit's binary imports it.
//
// Imports: internal packages only. Today it imports none; never image/fat32, which it tests.
package craftfat

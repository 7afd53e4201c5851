// Package menu is the boot environment's full-screen text menu: it names the kit and the
// Secure Boot state, unlocks the kit (passphrase, recovery key, or a colleague's age
// identity on another USB drive), restores a snapshot onto a partition of this computer
// or another drive, rescues this computer's files into the kit's backups, checks the
// kit, and powers off after closing the kit's volume.
//
// It draws the same screens on every console (the screen and the first serial port) and
// reads keys from all of them: the arrow keys, Enter and Esc, and the digit of an item.
// Everything it does is done by the packages the CLI uses (drive, kit, repo); what is
// specific to the running system (finding disks, mounting, powering off) is behind
// [System], implemented by package bootenv on Linux and by the tests with folders.
//
// Output goes through a [Display]: [TextDisplay] writes ANSI text; a display that draws
// right-to-left scripts on a framebuffer can take its place for the screen.
//
// Imports: boot, drive, i18n, image, kit, luks, repo and internal packages only. It must not
// import builder, bootenv or the CLI: the menu is a face, like the CLI, over the same
// packages.
package menu

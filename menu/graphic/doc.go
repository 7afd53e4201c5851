// Package graphic draws the boot menu's screens as pictures, for a framebuffer: text is
// shaped with HarfBuzz's rules (package github.com/go-text/typesetting: Arabic letters
// joined, bidirectional text ordered, lines broken) in the fonts the boot bundle carries
// (Noto Sans for Latin, Greek and Cyrillic; Noto Naskh Arabic for Arabic and Persian; a
// cut of Noto Sans Symbols for the arrows), so that the menu speaks Arabic and Persian,
// which the Linux text console cannot draw. A screen in a right-to-left language is
// aligned to the right.
//
// [Display] is a menu.Display over a [Framebuffer] (package bootenv opens /dev/fb0); it
// also hands every screen to a text display (the serial console).
//
// Outside the module it uses go-text/typesetting and golang.org/x/image.
//
// Imports: menu and internal packages only.
package graphic

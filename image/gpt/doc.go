// Package gpt writes and reads a GUID partition table (UEFI spec, chapter 5)
// with a protective MBR, primary and backup headers and entry arrays.
//
// Imports: internal packages only.
package gpt

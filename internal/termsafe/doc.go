// Package termsafe makes text that came from a drive or a repository safe to print on a
// terminal. A file name, host name, tag or path read from a kit, a FAT32 tools partition or
// a restic snapshot is chosen by whoever wrote it; printed raw, its escape sequences could
// erase lines, move the cursor, draw a fake "OK" or reorder the rest of the line (Unicode
// bidirectional controls).
//
// Name escapes every character that is not printable (control characters, C1 controls,
// bidirectional and other format characters, line and paragraph separators, spaces other
// than U+0020, invalid UTF-8) in Go's notation: \x1b, \n, \u202e. Printable text, including
// backslashes and every script, is left as it is, so ordinary names and Windows paths read
// unchanged. Text does the same but keeps newlines and tabs, for messages that travelkit
// itself lays out on several lines.
//
// Escape at the last moment, where the text reaches a terminal; --json output keeps the
// original bytes (encoding/json escapes control characters itself).
//
// Imports: internal packages only. Today it imports none.
package termsafe

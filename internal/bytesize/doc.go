// Package bytesize parses and formats byte counts, with one rule for the whole program,
// the one the README documents: MB, GB, TB (and kB) are decimal, as drive makers count
// (so "2TB" is the size printed on a 2 TB disk); MiB, GiB, TiB, KiB and the bare letters
// K, M, G, T are binary, as dd and truncate count. Units are case-insensitive.
//
// It holds nothing else.
//
// Imports: internal packages only. Today it imports none.
package bytesize

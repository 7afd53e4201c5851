// Package winetest adapts Windows test binaries to Wine 8.0 (Debian 12), which
// runs them in `make test`; see scripts/wine/README.md. It changes nothing
// unless the binary is built with -tags wine and runs with TRAVELKIT_WINE=1.
//
// Test files import it for its side effect:
//
//	import _ "travelkit/internal/winetest"
//
// Imports: internal packages only. Today it imports none.
package winetest

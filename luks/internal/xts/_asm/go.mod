module travelkit/luks/internal/xts/_asm

go 1.26.8

require (
	github.com/mmcloughlin/avo v0.6.0
	travelkit v0.0.0
)

require (
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/tools v0.52.0 // indirect
)

replace travelkit => ../../../..

// Command mkhome makes, changes and describes the many-file home-folder
// datasets of package homedata (used by scripts/bench-million.sh):
//
//	go run ./scripts/mkhome make FILES DIR [SEED]
//	go run ./scripts/mkhome mutate DIR [SEED] [ROUND]
//	go run ./scripts/mkhome digest DIR
//
// Imports: internal/homedata only.
package main

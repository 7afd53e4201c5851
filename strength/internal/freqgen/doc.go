// Command freqgen writes strength/frequency.txt, zxcvbn's ranked frequency lists as the
// module in go.mod has them (github.com/trustelem/zxcvbn/frequency), for strength to
// embed: the strings then sit in the binary's read-only data and are read on the first
// passphrase check, instead of the module's package copying them into the heap at every
// start. Run it from the module root after changing the module's version:
//
//	go run ./strength/internal/freqgen > strength/frequency.txt
//
// The format: each list, in the order of its name, is a line "list: NAME" then its words,
// one a line, in the module's order (a word's rank is its position). strength's tests
// fail when the file and the module's lists differ.
//
// Imports: no travelkit package (github.com/trustelem/zxcvbn/frequency only).
package main

// Package layering holds no code. Its test keeps the rooms and doors of the README's
// layout table true: every package's doc.go says which packages of travelkit it imports
// ("Imports: ... internal packages only."), and the test fails when the code imports
// another, when shipped code imports a test helper, or when the travelkit command depends
// on one.
//
// Imports: internal packages only.
package layering

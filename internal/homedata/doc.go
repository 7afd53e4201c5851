// Package homedata makes deterministic home-folder datasets of many files for
// benchmarks and interop tests: photos, documents, source trees with many tiny
// files and a mail store, about 50 files per folder and 3.5 KiB per file on
// average (1,000,000 files: about 30,000 folders and 4 GiB). The same seed and
// file count give the same tree, byte for byte, with the same modes and mtimes.
//
// Imports: internal packages only. Today it imports none.
package homedata

//go:build !unix

package repo

// mapsBuffers: mapBuffer maps nothing here; large blobs are read into the collected heap.
const mapsBuffers = false

// mapBuffer is not used here: large blobs are read into the collected heap.
func mapBuffer(n int) (buf []byte, free func()) { return nil, nil }

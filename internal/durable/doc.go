// Package durable holds the one rule for pushing written data to stable storage, whatever
// travelkit writes to: a device that buffers or stacks on another (luks.Volume,
// image.Section) has Flush; a file or a block device (*os.File, a target) has Sync.
//
// It holds nothing else.
//
// Imports: internal packages only. Today it imports none.
package durable

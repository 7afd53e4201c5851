// Package target opens what a kit is written to — an image file or a whole block device —
// as one ReaderAt/WriterAt with its size, after the safety checks that keep travelkit
// from ever writing to the wrong disk: not the disk of the running system, nothing mounted,
// nothing held by device-mapper, RAID or LVM, removable unless allowed, and the same disk
// (serial and size) right before writing as when the plan was shown.
//
// It is also the one other way travelkit opens a device: OpenVolume opens a LUKS container
// file or a partition's block device for `travelkit luks`, exclusively for writing on Linux
// (refused while mounted or held) and never a write-protected one.
//
// Imports: i18n and internal packages only. It must not import drive, builder or image: it knows
// disks, not the kit's layout (drive names the partition it writes).
package target

// Package fat32 creates a FAT32 filesystem holding a known set of files and
// directories (written once, front to back, clusters allocated contiguously),
// and reads FAT32 filesystems back.
//
// Layout facts follow Microsoft's "FAT: General Overview of On-Disk Format"
// (FAT32 File System Specification 1.03).
//
// Imports: internal packages only. It must not import kit or drive: it knows FAT32, not
// what a kit puts on it.
package fat32

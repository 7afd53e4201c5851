package drive

import (
	"fmt"
	"io"
	"strings"

	"travelkit/image"
	"travelkit/image/gpt"
	"travelkit/luks"
)

// LostTableError says that a drive has no partition table, but an intact LUKS2 header
// where a kit's data partition starts: either a build was interrupted before its last
// step, or the table of a kit in use was damaged. Building again would erase the
// encrypted backups, so the message says how to reach them and how to put the table back.
type LostTableError struct {
	DiskSize   int64
	LUKSOffset int64  // byte offset of the LUKS2 header
	Label      string // the LUKS2 label: the kit's name
	UUID       string
}

func (e *LostTableError) Unwrap() error { return ErrNotKit }

func (e *LostTableError) Error() string {
	return fmt.Sprintf("%v: the partition table is missing or damaged, but the encrypted volume of kit %q (LUKS2 UUID %s) is intact at byte %d; "+
		"if the kit was ever used its backups are still inside: do NOT build it again, which would erase them. "+
		"If it is an unfinished kit whose build was interrupted, build it again", ErrNotKit, e.Label, e.UUID, e.LUKSOffset)
}

// Advice is how to reach the data and repair the table, for the drive at device.
func (e *LostTableError) Advice(device string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The encrypted volume starts at byte %d (sector %d of 512 bytes). To reach the data on Linux without a partition table:\n", e.LUKSOffset, e.LUKSOffset/512)
	fmt.Fprintf(&b, "  sudo losetup --find --show --offset %d %s      (prints /dev/loopN)\n", e.LUKSOffset, device)
	b.WriteString("  sudo cryptsetup open /dev/loopN travelkit\n")
	b.WriteString("  sudo mount -o ro /dev/mapper/travelkit /mnt\n")
	b.WriteString("  sudo restic -r /mnt/repo --password-file /mnt/travelkit/repo-password snapshots\n")
	if cmd := e.RepairCommand(device); cmd != "" {
		b.WriteString("To write the kit's partition table back (changes nothing else on the drive):\n  ")
		b.WriteString(cmd)
		b.WriteString("\nthen run travelkit verify with the passphrase.")
	}
	return b.String()
}

// RepairCommand is the sgdisk command that writes back the partition table a build puts
// on a disk of this size with the data partition at LUKSOffset, or "" when the volume is
// not where a build puts it.
func (e *LostTableError) RepairCommand(device string) string {
	l, err := PlanLayout(e.DiskSize, 512, e.LUKSOffset-gpt.Align)
	if err != nil || l.DataOff != e.LUKSOffset {
		return ""
	}
	p1, p2 := l.Table.Partitions[0], l.Table.Partitions[1]
	return fmt.Sprintf("sudo sgdisk -n 1:%d:%d -t 1:0700 -c 1:%s -n 2:%d:%d -t 2:8309 -c '2:%s' %s",
		p1.First, p1.Last, ToolsPartName, p2.First, p2.Last, DataPartName, device)
}

// findLostVolume looks for a LUKS2 header where a kit's data partition may start (1 MiB
// steps from 2 MiB, coarser past 1 GiB): the builder writes LUKS before the partition
// table, and a damaged table leaves it in place.
func findLostVolume(dev image.Device) *LostTableError {
	b := make([]byte, luks.MagicLen)
	for off := int64(2 << 20); off <= 4<<30 && off < dev.Size(); off += 1 << 20 {
		if _, err := dev.ReadAt(b, off); err != nil && err != io.EOF {
			return nil
		}
		if luks.HasMagic(b) {
			e := &LostTableError{DiskSize: dev.Size(), LUKSOffset: off}
			if sec, err := image.NewSection(dev, off, dev.Size()-off); err == nil {
				if c, err := luks.Open(sec, sec.Size()); err == nil {
					e.Label, e.UUID = c.Label(), c.UUID()
				}
			}
			return e
		}
		if off >= 1<<30 {
			off += 63 << 20 // coarser steps past the usual tools sizes
		}
	}
	return nil
}

// Package bootenv is the kit's boot environment: the program that runs as PID 1 when a
// computer starts from the kit. The initramfs that package boot writes holds the
// linux/amd64 travelkit binary as /init; main hands over to [Main] when it runs as PID 1.
//
// Main mounts /proc, /sys, /dev and the firmware's variables (memory only: nothing is
// mounted read-write on the computer's disks), loads the signed kernel modules the
// initramfs lists (finit_module: USB, NVMe, SATA, SD, virtio, filesystems, keyboards),
// opens the screen (tty1, with a console font that covers Cyrillic) and the first serial
// port, both raw, and runs package menu on them. Where the computer has a framebuffer
// (/dev/fb0), the menu is drawn there by package menu/graphic with the bundle's Noto
// fonts, so that it can speak Arabic and Persian; the serial console keeps the text. Partitions are probed by [Probe] and
// mounted by the kernel (vfat, exfat, ext4 without journal replay, hfsplus) or by
// ntfs-3g through FUSE (Debian 12's kernel has no ntfs3). When the menu ends, the kit's
// volume is closed (its key wiped), the disks are synced and the computer powers off.
//
// Imports: boot, drive, image/gpt, luks, menu, menu/graphic, target and internal packages only.
package bootenv

// Package vmtest boots Debian's real Linux kernel under qemu (TCG) on travel kit
// images and checks, from inside the VM, that the kernel agrees with travelkit: its
// GPT parser finds the partitions, vfat mounts the tools partition, cryptsetup and
// dm-crypt open the LUKS2 volume, ext4 mounts it; and, back on the host, that
// travelkit reads exactly what the kernel wrote, also when the VM was powered off
// without unmounting (journal replay).
//
// The package holds only tests and their harness: [Initramfs] builds an initramfs
// from host binaries (with their shared libraries), kernel modules (resolved with
// modprobe --show-depends against the installed kernel) and an init script, and
// [Boot] runs qemu with a disk image as a virtio disk and returns the serial
// console output. Init scripts report results as marker lines
// ("VMTEST-OK name=value", "VMTEST-FAIL what") that [ParseMarkers] parses.
//
// Needs (scripts/install-test-deps.sh): qemu-system-x86_64, linux-image-amd64,
// busybox-static, cryptsetup-bin, gdisk, e2fsprogs, python3-cryptography. The tests
// fail, never skip, when one is missing.
//
// It imports boot for the boot bundle; its tests run the travelkit binary and the kernel.
//
// Imports: boot and internal packages only.
package vmtest

// Package boot makes a kit bootable on x86-64 UEFI computers, with Secure Boot on.
//
// The chain is Debian's, unchanged: shim (signed by Microsoft's UEFI CA) as
// EFI/BOOT/BOOTX64.EFI loads Debian's signed live-media grub (EFI/BOOT/grubx64.efi),
// which finds /.disk/info, reads /boot/grub/grub.cfg and starts Debian's signed kernel
// (boot/vmlinuz) with an initramfs (boot/initrd.img) that travelkit writes itself: the
// linux/amd64 travelkit binary as /init, the signed kernel modules it loads, a console
// font and the NTFS driver (ntfs-3g, through FUSE).
//
// A [Bundle] is the folder `make bootenv` gathers from Debian's packages, laid out as on
// the tools partition, with boot/bundle.json naming every package (version, sha256) and
// every file (size, sha256). [Files] turns a bundle, the linux/amd64 binary and the kit's
// name into the files the tools partition gets. A bundle read from a kit's tools partition
// is hostile input: [ParseBundle] bounds every count and size and accepts only clean paths
// under EFI/BOOT/ and boot/.
//
// The program that runs inside (the boot menu) is package bootenv.
//
// Imports: internal packages only. It must not import drive or menu: it knows the bundle,
// not the kit.
package boot

package boottest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"

	"travelkit/boot"
)

// Files are the synthetic bundle's files and contents.
var Files = map[string][]byte{
	boot.ShimPath:                 []byte("MZ shim stand-in"),
	boot.GrubPath:                 []byte("MZ grub stand-in"),
	boot.KernelPath:               []byte("MZ kernel stand-in"),
	"boot/modules/usb-common.ko":  []byte("\x7fELF usb-common"),
	"boot/modules/usb-storage.ko": []byte("\x7fELF usb-storage"),
	"boot/fonts/Uni2-Fixed16.psf": []byte("\x36\x04\x00\x01"),
	"boot/userspace/ntfs-3g":      []byte("\x7fELF ntfs-3g"),
}

// Write writes the bundle into dir, with its boot/bundle.json.
func Write(dir string) error { return WriteSized(dir, 0) }

// WriteSized writes the bundle with a kernel stand-in of kernelSize bytes (0: tiny), for
// tests of what fits on a tools partition.
func WriteSized(dir string, kernelSize int) error {
	files := map[string][]byte{}
	for p, b := range Files {
		files[p] = b
	}
	if kernelSize > 0 {
		files[boot.KernelPath] = make([]byte, kernelSize)
	}
	b := boot.Bundle{Format: boot.BundleFormat, Arch: "amd64", KernelVersion: "6.1.0-99-amd64",
		Packages:  []boot.Package{{Name: "shim-signed", Version: "1.0", Architecture: "amd64", SHA256: hex.EncodeToString(make([]byte, 32))}},
		Modules:   []string{"boot/modules/usb-common.ko", "boot/modules/usb-storage.ko"},
		Userspace: []boot.Userspace{{Path: "boot/userspace/ntfs-3g", Install: "/usr/bin/ntfs-3g"}},
	}
	var paths []string
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, files[p], 0o644); err != nil {
			return err
		}
		sum := sha256.Sum256(files[p])
		b.Files = append(b.Files, boot.BundleFile{Path: p, Size: int64(len(files[p])), SHA256: hex.EncodeToString(sum[:])})
	}
	j, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, filepath.FromSlash(boot.BundleManifest)), j, 0o644)
}

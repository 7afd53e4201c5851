package vmtest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestDev(t *testing.T) {
	if os.Getenv("VMTEST_DEV") == "" {
		return
	}
	dir := t.TempDir()
	r := &Initramfs{Binaries: kitBinaries, Modules: kitModules, Files: map[string][]byte{"/pass": []byte("correct horse")},
		Script: waitForDisk + os.Getenv("VMTEST_SCRIPT")}
	ird := filepath.Join(dir, "initrd")
	if err := r.WriteFile(ird); err != nil {
		t.Fatal(err)
	}
	res, err := Boot(context.Background(), BootOptions{Initrd: ird, Disk: os.Getenv("VMTEST_DISK"), Console: os.Stderr})
	t.Logf("%v %v", res.Duration, err)
}

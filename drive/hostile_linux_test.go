package drive_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"travelkit/drive"
	"travelkit/internal/rsscheck"
	"travelkit/repo"
)

// editVolume copies the kit's decrypted ext4 out, lets edit change it with the stock
// tools, and writes back the blocks that changed.
func editVolume(t *testing.T, img string, edit func(plain string)) {
	t.Helper()
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	d, err := drive.Open(fileDev{f, fi.Size()})
	if err != nil {
		t.Fatal(err)
	}
	u, err := d.Unlock([]byte("pass"), -1, false)
	if err != nil {
		t.Fatal(err)
	}
	before := make([]byte, u.Volume.Size())
	if _, err := u.Volume.ReadAt(before, 0); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(t.TempDir(), "volume.ext4")
	if err := os.WriteFile(plain, before, 0o600); err != nil {
		t.Fatal(err)
	}
	edit(plain)
	after, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	const blk = 4096
	for off := 0; off < len(before); off += blk {
		if !bytes.Equal(before[off:off+blk], after[off:off+blk]) {
			if _, err := u.Volume.WriteAt(after[off:off+blk], int64(off)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := u.Volume.Flush(); err != nil {
		t.Fatal(err)
	}
	u.Volume.Close()
}

func debugfs(t *testing.T, plain string, cmds ...string) {
	t.Helper()
	for _, c := range cmds {
		out, err := exec.Command("debugfs", "-w", "-R", c, plain).CombinedOutput()
		if err != nil || bytes.Contains(out, []byte("rror")) {
			t.Fatalf("debugfs %s: %v %s", c, err, out)
		}
	}
}

// The inode sizes of a kit's repository files come from a file system someone else may
// have written: a sparse 1 TiB config (which e2fsck accepts) or one of 2^62 bytes made
// drive/repostore.go allocate that much (crash, or a panic). Every size is bounded by the
// file system's size and by what the repository reads of that kind of file.
func TestHostileInodeSizes(t *testing.T) {
	dir := t.TempDir()
	img := buildKit(t, dir, kitOptions{}).Img
	// a repository, made with travelkit
	func() {
		f, _ := os.OpenFile(img, os.O_RDWR, 0)
		defer f.Close()
		fi, _ := f.Stat()
		d, err := drive.Open(fileDev{f, fi.Size()})
		if err != nil {
			t.Fatal(err)
		}
		u, err := d.Unlock([]byte("pass"), -1, true)
		if err != nil {
			t.Fatal(err)
		}
		pw, _ := u.ReadSmallFile(drive.RepoPassword)
		r, err := repo.Open(context.Background(), u.RepoStorage(), pw) // made by the build
		if err != nil {
			t.Fatal(err)
		}
		src := sourceTree(t, dir)
		if _, err := r.Backup(context.Background(), repo.BackupOptions{Paths: []string{src}}); err != nil {
			t.Fatal(err)
		}
		if err := u.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	pristine, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file, size, op, want string
	}{
		{"/repo/config", "1099511627776", "open", "whole file system"},
		{"/repo/config", "4611686018427387904", "open", "whole file system"},
		{"/repo/snapshots/*", "1099511627776", "snapshots", "too large"},
		{"/repo/keys/*", "4611686018427387904", "open", "wrong password"},
		{"/travelkit/repo-password", "1073741824", "password", "more than such a file holds"},
	} {
		t.Run(fmt.Sprintf("%s of %s", tc.file, tc.size), func(t *testing.T) {
			if err := os.WriteFile(img, pristine, 0o600); err != nil {
				t.Fatal(err)
			}
			editVolume(t, img, func(plain string) {
				p := tc.file
				if strings.HasSuffix(p, "/*") {
					out, err := exec.Command("debugfs", "-R", "ls -l "+strings.TrimSuffix(p, "/*"), plain).Output()
					if err != nil {
						t.Fatal(err)
					}
					f := strings.Fields(string(out))
					p = strings.TrimSuffix(p, "*") + f[len(f)-1]
				}
				debugfs(t, plain, fmt.Sprintf("sif %s size %s", p, tc.size))
				if tc.size == "1099511627776" {
					// what e2fsck says of it: a clean file system
					if out, err := exec.Command("e2fsck", "-fn", plain).CombinedOutput(); err != nil {
						t.Logf("e2fsck -fn: %v\n%s", err, out)
					}
				}
			})
			res := rsscheck.Run(t, "TestHostileKitChild", img, tc.op)
			t.Logf("%s", res)
			if res.Killed || res.MaxRSS > rsscheck.Bound {
				t.Errorf("over the 1 GiB bound: %s", res)
			}
			if !strings.Contains(res.Output, tc.want) || strings.Contains(res.Output, "panic") {
				t.Errorf("want %q: %s", tc.want, res.Output)
			}
		})
	}
}

// TestHostileKitChild opens the kit as the CLI does; it does nothing in a normal run.
func TestHostileKitChild(t *testing.T) {
	a, ok := rsscheck.Args()
	if !ok {
		return
	}
	err := func() error {
		f, err := os.Open(a[0])
		if err != nil {
			return err
		}
		fi, _ := f.Stat()
		d, err := drive.Open(fileDev{f, fi.Size()})
		if err != nil {
			return err
		}
		u, err := d.Unlock([]byte("pass"), -1, false)
		if err != nil {
			return err
		}
		pw, err := u.ReadSmallFile(drive.RepoPassword)
		if err != nil || a[1] == "password" {
			return err
		}
		r, err := repo.Open(context.Background(), u.RepoStorage(), pw)
		if err != nil || a[1] == "open" {
			return err
		}
		_, bad, err := r.LoadSnapshots(context.Background())
		if err == nil && len(bad) > 0 {
			err = bad[0]
		}
		return err
	}()
	if err != nil {
		fmt.Println("error:", err)
		rsscheck.Exit(3)
	}
	fmt.Println("ok")
	rsscheck.Exit(0)
}

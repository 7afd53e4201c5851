package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"travelkit/drive"
	"travelkit/target"
)

// testKitPassphrase is the passphrase of every test kit: weak, so every build passes
// --allow-weak-passphrase.
const testKitPassphrase = "passphrase"

// testKitDocument is the one file writeTestKit puts into the folder to back up
// (src/doc.txt).
const testKitDocument = "a document\n"

// testKit is what writeTestKit wrote into a folder: the inputs of `travelkit build` for a
// small kit and a folder to back up into it.
type testKit struct {
	Profile  string // kit.toml
	Binaries string // dist/: a stand-in travelkit binary for each platform of the profile
	Pass     string // pass: testKitPassphrase
	Src      string // src/: doc.txt, holding testKitDocument
}

// testKitProfile is the part of a test kit's profile that makes it small and quick to
// open: a 64 MiB tools partition and PBKDF2 keyslots of 1000 iterations.
const testKitProfile = "[drive]\ntools_size = \"64MiB\"\n[luks]\npbkdf = \"pbkdf2\"\npbkdf_iterations = 1000\n"

// writeTestKit writes into dir the inputs of a small kit named name, with the tools of
// linux/amd64 (see testKit). Build it with testKit.build or testKit.buildArgs.
func writeTestKit(t *testing.T, dir, name string) testKit {
	t.Helper()
	return writeTestKitFiles(t, dir, fmt.Sprintf("name = %q\n", name)+testKitProfile, "", []string{"linux/amd64"}, "dist")
}

// writeEscrowTestKit writes into dir the inputs of a small kit named name whose recovery
// key is escrowed 2 of 3 to testColleagues, in English only, with the tools of
// linux/amd64 and windows/amd64, and a second set of stand-in binaries in dist2/ (other
// bytes than dist/'s) for a refresh to put on the kit.
func writeEscrowTestKit(t *testing.T, dir, name string) testKit {
	t.Helper()
	var escrow strings.Builder
	for _, c := range testColleagues {
		fmt.Fprintf(&escrow, "[[escrow]]\nname = %q\nrecipient = %q\n", c.name, c.recipient)
	}
	return writeTestKitFiles(t, dir, fmt.Sprintf("name = %q\nlanguages = [\"en\"]\n", name)+testKitProfile+"[keys]\nescrow_threshold = 2\n",
		escrow.String(), []string{"linux/amd64", "windows/amd64"}, "dist", "dist2")
}

// writeTestKitFiles writes the profile (head, then the [tools] table with platforms, then
// tail), the passphrase, the folder to back up and, in each of dists, a stand-in binary for
// each of platforms.
func writeTestKitFiles(t *testing.T, dir, head, tail string, platforms []string, dists ...string) testKit {
	t.Helper()
	k := testKit{
		Profile:  filepath.Join(dir, "kit.toml"),
		Binaries: filepath.Join(dir, dists[0]),
		Pass:     filepath.Join(dir, "pass"),
		Src:      filepath.Join(dir, "src"),
	}
	write := func(p, content string, perm os.FileMode) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), perm); err != nil {
			t.Fatal(err)
		}
	}
	quoted := make([]string, len(platforms))
	for i, p := range platforms {
		quoted[i] = fmt.Sprintf("%q", p)
	}
	write(k.Profile, head+"[tools]\nplatforms = ["+strings.Join(quoted, ", ")+"]\n"+tail, 0o600)
	write(k.Pass, testKitPassphrase, 0o600)
	write(filepath.Join(k.Src, "doc.txt"), testKitDocument, 0o644)
	for _, d := range dists {
		for _, p := range platforms {
			name := "travelkit-" + strings.ReplaceAll(p, "/", "-")
			if strings.HasPrefix(p, "windows/") {
				name += ".exe"
			}
			write(filepath.Join(dir, d, name), "stand-in travelkit for "+p+" from "+d, 0o755)
		}
	}
	return k
}

// buildArgs returns the arguments of `travelkit build` that make the kit into img, an
// image file of size (such as "200MiB"), with the flags in extra added.
func (k testKit) buildArgs(img, size string, extra ...string) []string {
	args := []string{"build", "--profile", k.Profile, "--target", img, "--size", size, "--binaries", k.Binaries,
		"--passphrase-file", k.Pass, "--yes", "--allow-weak-passphrase"}
	return append(args, extra...)
}

// build runs buildArgs in this test's process and fails the test unless it exits 0.
func (k testKit) build(t *testing.T, img, size string, extra ...string) {
	t.Helper()
	if code := run(k.buildArgs(img, size, extra...)); code != ExitOK {
		t.Fatalf("travelkit build of %s: exit %d", img, code)
	}
}

// openKitImage opens the kit image img as a drive (for writing when write is set);
// closeKit closes it.
func openKitImage(t *testing.T, img string, write bool) (d *drive.Drive, closeKit func()) {
	t.Helper()
	tg, err := target.Open(img, target.Options{Write: write})
	if err != nil {
		t.Fatal(err)
	}
	d, err = drive.Open(tg)
	if err != nil {
		tg.Close()
		t.Fatal(err)
	}
	return d, func() { tg.Close() }
}

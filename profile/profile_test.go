package profile

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"filippo.io/age"

	"travelkit/kit"
)

func TestExampleParses(t *testing.T) {
	p, err := Parse("example.toml", []byte(Example()))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "amina-2026-12" || !reflect.DeepEqual(p.Languages, []string{"en", "es"}) || len(p.Escrow) != 1 ||
		p.Drive.ToolsSize != 256<<20 || p.LUKS.UnlockTime != 2*time.Second || !p.Keys.RecoveryKey || p.TPM.Enroll {
		t.Errorf("example: %+v", p)
	}
	// Every key of the schema appears in the example, commented or not.
	for table, keys := range schema {
		for _, k := range keys {
			if !strings.Contains(Example(), k+" =") && !strings.Contains(Example(), "["+k+"]") && !strings.Contains(Example(), "[["+k+"]]") {
				t.Errorf("example lacks %s.%s", table, k)
			}
		}
	}
}

func TestDefaults(t *testing.T) {
	p, err := Parse("p.toml", []byte(`name = "x"`))
	if err != nil {
		t.Fatal(err)
	}
	want := New("x")
	if !reflect.DeepEqual(p, want) {
		t.Errorf("defaults:\n%+v\nwant\n%+v", p, want)
	}
	if p.LUKS.SectorSize != 4096 || p.LUKS.KeySize != 512 || p.LUKS.PBKDF != "argon2id" || !p.TPM.PIN ||
		!reflect.DeepEqual(p.TPM.PCRs, []int{7}) || len(p.Tools.Platforms) != 6 || !reflect.DeepEqual(p.Languages, []string{"en"}) {
		t.Errorf("defaults: %+v", p)
	}
	d := Default()
	if d.Name != "demo-kit" || len(d.Languages) != 6 || len(d.Escrow) != 0 || d.Validate() != nil {
		t.Errorf("Default: %+v %v", d, d.Validate())
	}
	o := p.FormatOptions()
	if o.KeySize != 64 || o.SectorSize != 4096 || o.Label != "x" || o.PBKDF.Type != "argon2id" || o.PBKDF.IterTime != 2*time.Second {
		t.Errorf("FormatOptions: %+v", o)
	}
}

func TestFullProfile(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	pq, _ := age.GenerateHybridIdentity()
	src := `
name = "kit.B_2"
languages = ["ar", "fa", "en"]
[drive]
tools_size = 1073741824
[luks]
sector_size = 512
key_size = 256
pbkdf = "pbkdf2"
unlock_time = "500ms"
pbkdf_iterations = 200000
[keys]
recovery_key = true
[[escrow]]
name = "a"
recipient = "` + id.Recipient().String() + `"
[[escrow]]
name = "b"
recipient = "` + pq.Recipient().String() + `"
[[escrow]]
name = "c"
recipient = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHBr1bVHdPx6EdBLGJ2dkS5tMcBnNbYvOBB1i0dnAf4w someone@example"
[tools]
platforms = ["windows/arm64"]
[tpm]
enroll = true
pcrs = [0, 7, 14]
pin = false
`
	p, err := Parse("p.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := &Profile{
		Name: "kit.B_2", Languages: []string{"ar", "fa", "en"},
		Drive: Drive{ToolsSize: 1 << 30},
		LUKS:  LUKS{SectorSize: 512, KeySize: 256, PBKDF: "pbkdf2", UnlockTime: 500 * time.Millisecond, PBKDFIterations: 200000},
		Keys:  Keys{RecoveryKey: true, EscrowThreshold: 1},
		Escrow: []Escrow{
			{"a", id.Recipient().String()}, {"b", pq.Recipient().String()},
			{"c", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHBr1bVHdPx6EdBLGJ2dkS5tMcBnNbYvOBB1i0dnAf4w someone@example"},
		},
		Tools: Tools{Platforms: []string{"windows/arm64"}},
		TPM:   TPM{Enroll: true, PCRs: []int{0, 7, 14}, PIN: false},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got\n%+v\nwant\n%+v", p, want)
	}
	if p.Validate() != nil {
		t.Error(p.Validate())
	}
}

// Each bad profile gives exactly these errors, with their lines.
func TestErrorsNameTheLine(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	rcpt := id.Recipient().String()
	cases := []struct {
		src  string
		want []string
	}{
		{"name = \"x\"\n[luks]\nsector_size = 4096\nsector_sise = 4096\n",
			[]string{`profile.toml:4: unknown key "luks.sector_sise" (did you mean "luks.sector_size"?)`}},
		{"name = \"x\"\nlangauges = [\"en\"]\n",
			[]string{`profile.toml:2: unknown key "langauges" (did you mean "languages"?)`}},
		{"name = \"x\"\nfavourite_colour = \"blue\"\n",
			[]string{`profile.toml:2: unknown key "favourite_colour"`}},
		{"name = \"x\"\n[luks]\nkey_size = \"512\"\n",
			[]string{`profile.toml:3: luks.key_size: want an integer, got the string "512"`}},
		{"name = 7\n", []string{`profile.toml:1: name: want a string, got the integer 7`}},
		{"languages = [\"en\"]\n", []string{`profile.toml: missing required key "name"`}},
		{"name = \"x\"\nlanguages = \"en\"\n", []string{`profile.toml:2: languages: want a list of strings, got the string "en"`}},
		{"name = \"x\"\nlanguages = [\"en\", \"de\"]\n", []string{`profile.toml:2: languages: no restore instructions in language "de"`}},
		{"name = \"bad name!\"\n", []string{`profile.toml:1: name: kit name "bad name!"`}},
		{"name = \"x\"\n[drive]\ntools_size = \"16MiB\"\n", []string{`profile.toml:3: drive.tools_size: partition of 16777216 bytes is too small for FAT32`}},
		{"name = \"x\"\n[drive]\ntools_size = \"100MB\"\n", []string{`profile.toml:3: drive.tools_size: 100000000 bytes is not a whole number of MiB`}},
		{"name = \"x\"\n[drive]\ntools_size = \"lots\"\n", []string{`profile.toml:3: drive.tools_size: bad size "lots"`}},
		{"name = \"x\"\n[drive]\ntools_size = true\n", []string{`profile.toml:3: drive.tools_size: want a size like "256MiB" or a number of bytes, got true`}},
		{"name = \"x\"\n[luks]\nsector_size = 1024\nkey_size = 128\npbkdf = \"scrypt\"\nunlock_time = \"soon\"\n", []string{
			`profile.toml:6: luks.unlock_time: "soon" is not a duration`}},
		{"name = \"x\"\n[luks]\nsector_size = 1024\nkey_size = 128\npbkdf = \"scrypt\"\n", []string{
			`profile.toml:3: luks.sector_size: 1024: use 512 or 4096`,
			`profile.toml:4: luks.key_size: 128: use 512`,
			`profile.toml:5: luks.pbkdf: "scrypt": use argon2id, argon2i or pbkdf2`}},
		{"name = \"x\"\n[luks]\npbkdf = \"pbkdf2\"\npbkdf_memory_kib = 65536\n", []string{`profile.toml:4: luks.pbkdf_memory_kib: pbkdf2 has no memory cost`}},
		{"name = \"x\"\n[luks]\npbkdf_iterations = 1\npbkdf_memory_kib = 8\n", []string{
			`profile.toml:3: luks.pbkdf_iterations: 1: argon2 passes must be 4 to 1000`,
			`profile.toml:4: luks.pbkdf_memory_kib: 8: argon2 memory must be 32 to`}},
		{"name = \"x\"\n[luks]\npbkdf_parallel = 0\n", []string{`profile.toml:3: luks.pbkdf_parallel: 0 is out of range`}},
		{"name = \"x\"\n[luks]\npbkdf_memory_kib = \"lots\"\n", []string{`profile.toml:3: luks.pbkdf_memory_kib: want an integer, got the string "lots"`}},
		{"name = \"x\"\n[luks]\nkey_size = 4294967808\n", []string{`profile.toml:3: luks.key_size: 4294967808 is out of range`}},
		{"name = \"x\"\nluks = 5\n", []string{`profile.toml:2: luks: want a table ([luks]), got the integer 5`}},
		{"name = \"x\"\n[keys]\nrecovery_key = \"yes\"\n", []string{`profile.toml:3: keys.recovery_key: want true or false, got the string "yes"`}},
		{"name = \"x\"\n[keys]\nescrow_threshold = 2\n[[escrow]]\nname = \"a\"\nrecipient = \"" + rcpt + "\"\n", []string{
			`profile.toml:3: keys.escrow_threshold: 2 is more than the 1 [[escrow]] entries`}},
		{"name = \"x\"\n[keys]\nescrow_threshold = 0\n", []string{`profile.toml:3: keys.escrow_threshold: 0: use 1`}},
		{"name = \"x\"\n[tools]\nplatforms = [\"linux/amd64\", \"plan9/386\", \"linux/amd64\"]\n", []string{
			`profile.toml:3: tools.platforms: unknown platform "plan9/386"`, `profile.toml:3: tools.platforms: "linux/amd64" listed twice`}},
		{"name = \"x\"\n[tpm]\npcrs = [7, 24, 7]\n", []string{`profile.toml:3: tpm.pcrs: PCR 24: use 0 to 23`, `profile.toml:3: tpm.pcrs: PCR 7 listed twice`}},
		{"name = \"x\"\n[tpm]\npcrs = [\"7\"]\n", []string{`profile.toml:3: tpm.pcrs: want a list of PCR numbers like [7], got the string "7" in it`}},
		// Escrow errors name the line of the right entry, not the last one.
		{"name = \"x\"\n\n[[escrow]]\nname = \"a\"\nrecipient = \"" + rcpt + "\"\n\n[[escrow]]\nname = \"b\"\nrecipient = \"age1nope\"\n\n[[escrow]]\nname = \"c\"\nrecipient = \"" + rcpt + "\"\n", []string{
			`profile.toml:9: escrow.recipient: invalid age recipient`}},
		{"name = \"x\"\n[[escrow]]\nname = \"a\"\nrecipeint = \"" + rcpt + "\"\n[[escrow]]\nname = \"b\"\nrecipient = \"" + rcpt + "\"\n", []string{
			`profile.toml:2: escrow entry 1: missing recipient`,
			`profile.toml:4: unknown key "escrow.recipeint" (did you mean "escrow.recipient"?)`}},
		{"name = \"x\"\n[[escrow]]\nname = \"Bob\"\nrecipient = \"" + rcpt + "\"\n[[escrow]]\nname = \"bob\"\nrecipient = \"" + rcpt + "\"\n[[escrow]]\nname = \"../etc\"\nrecipient = \"" + rcpt + "\"\n", []string{
			`profile.toml:6: escrow.name: "bob" is also the name of escrow entry 1`,
			`profile.toml:9: escrow.name: escrow name "../etc"`}},
		{"name = \"x\"\n[keys]\nrecovery_key = false\n[[escrow]]\nname = \"a\"\nrecipient = \"" + rcpt + "\"\n", []string{
			`profile.toml:3: keys.recovery_key: escrow needs a recovery key`}},
		{"name = \"x\"\n[[escrow]]\nname = \"a\"\nrecipient = \"AGE-SECRET-KEY-1QQQQ\"\n", []string{
			`profile.toml:4: escrow.recipient: this is an age private key`}},
		{"name = \"x\"\nescrow = [{name = \"a\", recipient = \"age1nope\"}]\n", []string{`profile.toml:2: escrow.recipient: invalid age recipient`}},
		{"name = \"x\"\nescrow = \"a\"\n", []string{`profile.toml:2: escrow: want [[escrow]] tables`}},
		{"name = \"x\"\n[luks]\nsector_size = 4096\n[luks]\n", []string{`profile.toml:4: bad TOML: Key 'luks' has already been defined`}},
		{"name = \"x\"\nlanguages = [\"en\",\n", []string{`profile.toml:2: bad TOML: unexpected EOF`}},
		{"name = \"x\"\nluks.sector_sise = 4096\n", []string{`profile.toml:2: unknown key "luks.sector_sise"`}},
		{"name = \"x\"\nluks = { sector_size = 4096, key_sise = 512 }\n", []string{`profile.toml:2: unknown key "luks.key_sise"`}},
	}
	for _, c := range cases {
		_, err := Parse("profile.toml", []byte(c.src))
		if err == nil {
			t.Errorf("accepted:\n%s", c.src)
			continue
		}
		lines := strings.Split(err.Error(), "\n")
		if len(lines) != len(c.want) {
			t.Errorf("%d errors, want %d:\n%v\nfor:\n%s", len(lines), len(c.want), err, c.src)
			continue
		}
		for i, w := range c.want {
			if !strings.HasPrefix(lines[i], w) {
				t.Errorf("error %d:\n  %s\nwant prefix\n  %s", i, lines[i], w)
			}
		}
		var pe *Error
		if !errors.As(err, &pe) || pe.File != "profile.toml" {
			t.Errorf("not a *profile.Error: %T", err)
		}
		if strings.Contains(err.Error(), "QQQQ") {
			t.Error("error echoes a private key")
		}
	}
}

func TestValidate(t *testing.T) {
	p := New("ok")
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	p.Escrow = []Escrow{{Name: "x", Recipient: "nope"}}
	p.LUKS.SectorSize = 1
	err := p.Validate()
	if err == nil || !strings.Contains(err.Error(), "luks.sector_size: 1") || !strings.Contains(err.Error(), "escrow.recipient") {
		t.Fatalf("Validate: %v", err)
	}
	if ValidName(strings.Repeat("a", 41)) == nil || ValidName("") == nil || ValidName(strings.Repeat("a", 40)) != nil {
		t.Error("name length rule")
	}
	for _, l := range kit.Languages() {
		if _, err := Parse("p.toml", []byte("name = \"x\"\nlanguages = [\""+l+"\"]\n")); err != nil {
			t.Errorf("%s: %v", l, err)
		}
	}
}

// utf16File is text as Windows PowerShell 5.1's `>` writes it: a byte order mark, UTF-16
// (little-endian unless big), CRLF line ends.
func utf16File(text string, big bool) []byte {
	u := utf16.Encode([]rune("\ufeff" + strings.ReplaceAll(text, "\n", "\r\n")))
	b := make([]byte, 0, 2*len(u))
	for _, c := range u {
		if big {
			b = append(b, byte(c>>8), byte(c))
		} else {
			b = append(b, byte(c), byte(c>>8))
		}
	}
	return b
}

// TestUTF16Profile: `travelkit profile example > kit.toml` in Windows PowerShell 5.1 (the
// one Windows comes with) writes UTF-16 with a byte order mark and CRLF line ends; that
// file loads as the UTF-8 one does, and its errors name the same lines.
func TestUTF16Profile(t *testing.T) {
	want, err := Parse("example.toml", []byte(Example()))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, big := range []bool{false, true} {
		p := filepath.Join(dir, "kit.toml")
		if err := os.WriteFile(p, utf16File(Example(), big), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := Load(p)
		if err != nil {
			t.Fatalf("UTF-16 (big-endian %v): %v", big, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("UTF-16 (big-endian %v): %+v, want %+v", big, got, want)
		}
	}
	bad := strings.Replace(Example(), "\nname =", "\nnme =", 1)
	_, errUTF8 := Parse("kit.toml", []byte(bad))
	_, errUTF16 := Parse("kit.toml", utf16File(bad, false))
	if errUTF8 == nil || errUTF16 == nil || errUTF16.Error() != errUTF8.Error() || !strings.Contains(errUTF16.Error(), `kit.toml:`) {
		t.Errorf("errors of a UTF-16 profile: %v, want those of UTF-8: %v", errUTF16, errUTF8)
	}
	if _, err := Parse("kit.toml", utf16File(Example(), false)[:101]); err == nil || !strings.Contains(err.Error(), "odd number of bytes") {
		t.Errorf("UTF-16 with an odd number of bytes: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(Example()))
	f.Add(utf16File("name = \"x\"\n[luks]\nsector_size = 512\n", false))
	f.Add([]byte("name = \"x\"\n[[escrow]]\nname = \"a\"\nrecipent = \"b\"\n[[escrow]]\n[[escrow]]\nname = 1\n"))
	f.Add([]byte("name = \"x\"\nluks = { sector_sise = 1 }\na.b.c = 1\n\"quoted,key\" = 2\n"))
	f.Add([]byte("name = \"x\"\n[tpm]\npcrs = [1, 99999999999]\n[drive]\ntools_size = -5\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse("fuzz.toml", b)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("parsed but invalid: %v", err)
		}
	})
}

// TestLoadBounded: a profile path naming a huge file (here a sparse 4 GiB one) is refused
// after reading at most MaxSize+1 bytes of it, not read whole.
func TestLoadBounded(t *testing.T) {
	p := filepath.Join(t.TempDir(), "huge.toml")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("name = \"x\"\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(4 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = Load(p)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "not a profile") || !strings.Contains(err.Error(), p) {
		t.Fatalf("a 4 GiB profile: %v", err)
	}
	if a := after.TotalAlloc - before.TotalAlloc; a > 8*MaxSize {
		t.Fatalf("refusing a 4 GiB profile allocated %d bytes", a)
	}
	if _, err := Parse("p.toml", []byte(Example()+strings.Repeat("#", MaxSize))); err == nil {
		t.Fatal("Parse accepted more than MaxSize bytes")
	}
}

package remote

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseLocation(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Location
		out  string // String(); "" means in
	}{
		{"/srv/copy", Location{Kind: Local, Path: "/srv/copy"}, ""},
		{`D:\copy`, Location{Kind: Local, Path: `D:\copy`}, ""},
		{"local:/srv/copy", Location{Kind: Local, Path: "/srv/copy"}, "/srv/copy"},
		{"sftp:kit@backup.example.org:/srv/kits/amina", Location{Kind: SFTP, User: "kit", Host: "backup.example.org", Path: "/srv/kits/amina"}, ""},
		{"sftp:backup.example.org:kits/amina", Location{Kind: SFTP, Host: "backup.example.org", Path: "kits/amina"}, ""},
		{"sftp:kit@[::1]:/srv", Location{Kind: SFTP, User: "kit", Host: "::1", Path: "/srv"}, ""},
		{"sftp://kit@backup.example.org:2222//srv/kits/amina", Location{Kind: SFTP, User: "kit", Host: "backup.example.org", Port: 2222, Path: "/srv/kits/amina"}, ""},
		{"sftp://kit@backup.example.org:2222/kits/amina", Location{Kind: SFTP, User: "kit", Host: "backup.example.org", Port: 2222, Path: "kits/amina"}, ""},
		{"sftp://kit@backup.example.org//srv/x", Location{Kind: SFTP, User: "kit", Host: "backup.example.org", Path: "/srv/x"}, "sftp:kit@backup.example.org:/srv/x"},
		{"s3:https://s3.example.org/kits/amina/repo", Location{Kind: S3, Host: "s3.example.org", Bucket: "kits", Path: "amina/repo"}, ""},
		{"s3:http://127.0.0.1:7070/kits", Location{Kind: S3, Host: "127.0.0.1:7070", Bucket: "kits", HTTP: true}, ""},
		{"s3:s3.amazonaws.com/kits/x", Location{Kind: S3, Host: "s3.amazonaws.com", Bucket: "kits", Path: "x"}, "s3:https://s3.amazonaws.com/kits/x"},
		{"rest:https://backup.example.org:8000/amina/", Location{Kind: REST, Host: "backup.example.org:8000", RESTPath: "/amina"}, ""},
		{"rest:http://kit@127.0.0.1:8000/", Location{Kind: REST, Host: "127.0.0.1:8000", User: "kit", HTTP: true}, ""},
	} {
		got, err := ParseLocation(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s: %+v, want %+v", c.in, got, c.want)
		}
		out := c.out
		if out == "" {
			out = c.in
		}
		if got.String() != out {
			t.Errorf("%s: String() = %s, want %s", c.in, got.String(), out)
		}
		// what String gives parses back to the same
		if again, err := ParseLocation(got.String()); err != nil || again != got {
			t.Errorf("%s: round trip %+v %v", c.in, again, err)
		}
	}
	for _, in := range []string{
		"rest:https://kit:secret@backup.example.org/",
		"sftp://kit:secret@backup.example.org//srv",
		"sftp:kit:secret@backup.example.org:/srv",
		"s3:https://key:secret@s3.example.org/b",
	} {
		_, err := ParseLocation(in)
		if err == nil {
			t.Errorf("%s: a password in a location was accepted", in)
			continue
		}
		if strings.Contains(err.Error(), "secret") && !errors.Is(err, ErrSecretInLocation) {
			t.Errorf("%s: the error shows the password: %v", in, err)
		}
	}
	for _, in := range []string{"", "sftp:host", "sftp:host:", "s3:https://host/", "s3:host", "rest:ftp://x/", "b2:bucket/x", "sftp:h:~/x", "s3:https://h/a"} {
		if l, err := ParseLocation(in); err == nil {
			t.Errorf("%q: accepted as %+v", in, l)
		}
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	loc, _ := ParseLocation("sftp://kit@backup.example.org:2222//srv/kits/amina")
	s := &Settings{Name: "office", Location: loc, Added: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC),
		Cred: Credentials{HostKey: "SHA256:abc", SSHKey: []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nxyz\n-----END OPENSSH PRIVATE KEY-----\n"),
			CACert: []byte("-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n")}}
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSettings(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if got.Name != s.Name || got.Location != s.Location || !got.Added.Equal(s.Added) || got.Cred.HostKey != s.Cred.HostKey ||
		string(got.Cred.SSHKey) != string(s.Cred.SSHKey) || string(got.Cred.CACert) != string(s.Cred.CACert) {
		t.Fatalf("round trip:\n%+v\n%+v", got, s)
	}
	pub := got.Public()
	if pub.Location != "sftp://kit@backup.example.org:2222//srv/kits/amina" || len(pub.Credentials) != 1 {
		t.Fatalf("public: %+v", pub)
	}
	if _, err := ParseSettings(append(b, []byte("\nsurprise = 1\n")...)); err == nil {
		t.Fatal("an unknown key was accepted")
	}
}

func TestCredentialsFile(t *testing.T) {
	var c Credentials
	c.FromEnv(S3, func(n string) string {
		return map[string]string{"AWS_ACCESS_KEY_ID": "envid", "AWS_SECRET_ACCESS_KEY": "envsecret"}[n]
	})
	if err := c.FromFile([]byte("# keys\nexport AWS_SECRET_ACCESS_KEY=\"filesecret\"\nAWS_DEFAULT_REGION = eu-west-1\n")); err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID != "envid" || c.SecretAccessKey != "filesecret" || c.Region != "eu-west-1" {
		t.Fatalf("%+v", c)
	}
	if err := c.FromFile([]byte("PASSWORD=x\n")); err == nil {
		t.Fatal("an unknown name was accepted")
	}
	var a Credentials
	a.FromAWSFile([]byte("[other]\naws_access_key_id = no\n[default]\naws_access_key_id = AKIA\naws_secret_access_key = s3cr3t\n"), "")
	if a.AccessKeyID != "AKIA" || a.SecretAccessKey != "s3cr3t" {
		t.Fatalf("%+v", a)
	}
}

func FuzzParseLocation(f *testing.F) {
	for _, s := range []string{"/srv", "sftp:u@h:/p", "sftp://u@h:22//p", "s3:https://h/b/p", "rest:https://u@h:8000/p/", "sftp:u@[::1]:/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLocation(s)
		if err != nil {
			return
		}
		// a parsed location prints as one that parses to the same
		again, err := ParseLocation(l.String())
		if err != nil || again != l {
			if l.Kind == Local {
				return // a folder is taken as given
			}
			t.Fatalf("%q -> %+v -> %q -> %+v %v", s, l, l.String(), again, err)
		}
	})
}

func FuzzParseSettings(f *testing.F) {
	loc, _ := ParseLocation("s3:https://h/bucket/p")
	b, _ := (&Settings{Name: "n", Location: loc, Cred: Credentials{AccessKeyID: "a", SecretAccessKey: "s"}}).Marshal()
	f.Add(b)
	f.Add([]byte("name = \"x\"\nlocation = \"/srv\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSettings(b)
		if err != nil {
			return
		}
		out, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseSettings(out); err != nil {
			t.Fatalf("marshalled settings do not parse: %v\n%s", err, out)
		}
	})
}

func FuzzCredentialsFile(f *testing.F) {
	f.Add([]byte("AWS_ACCESS_KEY_ID=x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Credentials
		c.FromFile(b)
		c.FromAWSFile(b, "")
	})
}

// TestSFTPAtInPath: an '@' in an sftp path is part of the path (FuzzParseLocation found
// sftp://p/@, which printed as sftp:p:@ and then read as a password), a user name may
// hold '@', and user:password@host is still refused.
func TestSFTPAtInPath(t *testing.T) {
	for s, want := range map[string]Location{
		"sftp:h:/p@x":                   {Kind: SFTP, Host: "h", Path: "/p@x"},
		"sftp://p/@":                    {Kind: SFTP, Host: "p", Path: "@"},
		"sftp:user@example.com@host:/p": {Kind: SFTP, User: "user@example.com", Host: "host", Path: "/p"},
		"sftp:u@[::1]:b@c":              {Kind: SFTP, User: "u", Host: "::1", Path: "b@c"},
	} {
		l, err := ParseLocation(s)
		if err != nil || l != want {
			t.Errorf("%q: %+v %v", s, l, err)
			continue
		}
		if again, err := ParseLocation(l.String()); err != nil || again != l {
			t.Errorf("%q printed as %q: %+v %v", s, l.String(), again, err)
		}
	}
	for _, s := range []string{"sftp:u:pw@h:/p", "sftp:u:pw@[::1]:/p"} {
		if _, err := ParseLocation(s); !errors.Is(err, ErrSecretInLocation) {
			t.Errorf("%q: %v", s, err)
		}
	}
}

// TestSFTPHostChecked: a host holding '/' (FuzzParseLocation found sftp:/:@, whose URL
// form sftp://%2F/@ does not parse) or other characters no host has is refused.
func TestSFTPHostChecked(t *testing.T) {
	for _, s := range []string{"sftp:/:@", "sftp:a/b:/p", "sftp:a b:/p", "sftp:a?b:/p", "sftp:{:@"} {
		if _, err := ParseLocation(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	if l, err := ParseLocation("sftp:u@[fe80::1%eth0]:/p"); err != nil || l.Host != "fe80::1%eth0" {
		t.Errorf("an IPv6 address with its zone: %+v %v", l, err)
	}
}

// TestS3PrefixEscaped: an S3 prefix holding '%' prints escaped (FuzzParseLocation found
// s3:0/tpO/%, printed as a URL that did not parse), and a short-form host is checked.
func TestS3PrefixEscaped(t *testing.T) {
	for _, s := range []string{"s3:h/bucket/a%b", "s3:https://h/bucket/a%25b?", "s3:h/bucket/x#y z"} {
		l, err := ParseLocation(s)
		if err != nil {
			t.Errorf("%q: %v", s, err)
			continue
		}
		if again, err := ParseLocation(l.String()); err != nil || again != l {
			t.Errorf("%q printed as %q: %+v %v", s, l.String(), again, err)
		}
	}
	for _, s := range []string{"s3:a%b/bucket", "s3:http:h/bucket"} {
		if _, err := ParseLocation(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	if l, err := ParseLocation("s3:minio:9000/bucket"); err != nil || l.Host != "minio:9000" {
		t.Errorf("a host with its port: %+v %v", l, err)
	}
}

// TestEscapedControlRefused: a control character written as a URL escape is refused as
// one typed in (FuzzParseLocation found sftp://0/.%00..., which parsed and then printed as
// a location that does not), in every part of every server kind.
func TestEscapedControlRefused(t *testing.T) {
	for _, s := range []string{
		"sftp://0/.%000000", "sftp://h/p%0a", "sftp://u%1b@h/p",
		"s3:https://h/bucket/p%0d", "s3:https://h/bucket/%7f",
		"rest:https://h/p%1b[2J", "rest:https://u%00@h/",
	} {
		if l, err := ParseLocation(s); err == nil || !strings.Contains(err.Error(), "control character") {
			t.Errorf("%q: %+v %v", s, l, err)
		}
	}
	// a '%' kept as typed in a short form, and escapes of printable characters, stay
	for _, s := range []string{"sftp:h:/a%00", "sftp://h/a%20b", "rest:https://h/a%41"} {
		if _, err := ParseLocation(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
}

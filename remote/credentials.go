package remote

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// The environment variables travelkit reads, restic's names.
var envNames = map[string]func(c *Credentials, v string){
	"AWS_ACCESS_KEY_ID":     func(c *Credentials, v string) { c.AccessKeyID = v },
	"AWS_SECRET_ACCESS_KEY": func(c *Credentials, v string) { c.SecretAccessKey = v },
	"AWS_SESSION_TOKEN":     func(c *Credentials, v string) { c.SessionToken = v },
	"AWS_DEFAULT_REGION":    func(c *Credentials, v string) { c.Region = v },
	"RESTIC_REST_USERNAME":  func(c *Credentials, v string) { c.Username = v },
	"RESTIC_REST_PASSWORD":  func(c *Credentials, v string) { c.Password = v },
}

// EnvNames lists the environment variables FromEnv reads.
func EnvNames(kind Kind) []string {
	switch kind {
	case S3:
		return []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"}
	case REST:
		return []string{"RESTIC_REST_USERNAME", "RESTIC_REST_PASSWORD"}
	}
	return nil
}

// FromEnv fills in what the environment holds for a location of this kind, under
// restic's variable names. Values set already are kept.
func (c *Credentials) FromEnv(kind Kind, getenv func(string) string) {
	for _, n := range EnvNames(kind) {
		if v := getenv(n); v != "" {
			c.set(n, v, false)
		}
	}
}

func (c *Credentials) set(name, v string, override bool) {
	var cur string
	switch name {
	case "AWS_ACCESS_KEY_ID":
		cur = c.AccessKeyID
	case "AWS_SECRET_ACCESS_KEY":
		cur = c.SecretAccessKey
	case "AWS_SESSION_TOKEN":
		cur = c.SessionToken
	case "AWS_DEFAULT_REGION":
		cur = c.Region
	case "RESTIC_REST_USERNAME":
		cur = c.Username
	case "RESTIC_REST_PASSWORD":
		cur = c.Password
	}
	if cur == "" || override {
		envNames[name](c, v)
	}
}

// maxCredentialsFile bounds a credentials file.
const maxCredentialsFile = 64 << 10

// FromFile reads a credentials file: NAME=VALUE lines with restic's variable names
// (AWS_ACCESS_KEY_ID=..., RESTIC_REST_PASSWORD=...), # comments, optional "export "
// and quotes, as a shell would read it. Values in the file win over the environment.
func (c *Credentials) FromFile(b []byte) error {
	if len(b) > maxCredentialsFile {
		return fmt.Errorf("the credentials file is larger than %d KiB", maxCredentialsFile>>10)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 4096), maxCredentialsFile)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		name, v, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return fmt.Errorf("credentials file, line %d: expected NAME=VALUE", n)
		}
		if _, known := envNames[name]; !known {
			return fmt.Errorf("credentials file, line %d: unknown name %q (known: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_DEFAULT_REGION, RESTIC_REST_USERNAME, RESTIC_REST_PASSWORD)", n, printable(name))
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			v = v[1 : len(v)-1]
		}
		c.set(name, v, true)
	}
	return sc.Err()
}

// FromAWSFile reads the keys of profile (default "default") from an AWS shared
// credentials file (~/.aws/credentials: [profile] sections of aws_access_key_id,
// aws_secret_access_key, aws_session_token). Values set already are kept.
func (c *Credentials) FromAWSFile(b []byte, profile string) {
	if len(b) > maxCredentialsFile {
		return
	}
	if profile == "" {
		profile = "default"
	}
	section := ""
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && strings.HasSuffix(line, "]"):
			section = strings.TrimSpace(line[1 : len(line)-1])
		case section == profile:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "aws_access_key_id":
				c.set("AWS_ACCESS_KEY_ID", v, false)
			case "aws_secret_access_key":
				c.set("AWS_SECRET_ACCESS_KEY", v, false)
			case "aws_session_token":
				c.set("AWS_SESSION_TOKEN", v, false)
			}
		}
	}
}

// Secrets lists the secret values held, to check that none leaks into output.
func (c *Credentials) Secrets() []string {
	var out []string
	for _, s := range []string{c.SecretAccessKey, c.SessionToken, c.Password, string(c.SSHKey)} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

package remote

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"strconv"
	"strings"
	"unicode"
)

// Kind is the kind of place a repository lives in.
type Kind string

// The kinds of location.
const (
	Local Kind = "local" // a folder (another drive)
	SFTP  Kind = "sftp"  // a folder on an SSH server
	S3    Kind = "s3"    // a bucket of an S3-compatible service
	REST  Kind = "rest"  // restic's REST server (protocol v2)
)

// Location is where a repository lives, parsed from restic's syntax:
//
//	/path/to/folder, local:/path
//	sftp:user@host:/absolute/path, sftp:user@host:relative/path
//	sftp://user@host:port//absolute/path, sftp://user@host:port/relative/path
//	s3:https://host[:port]/bucket[/prefix], s3:http://..., s3:host/bucket[/prefix] (https)
//	rest:https://[user@]host[:port]/[path], rest:http://...
//
// A location never holds a secret: a password inside it (rest:https://user:pass@...) is
// refused by ParseLocation, because a command line is visible to every user of a computer.
type Location struct {
	Kind Kind
	// Path is the folder (Local), the path on the server (SFTP: absolute when it starts
	// with "/", else relative to the login folder), or the prefix inside the bucket (S3,
	// no leading slash, "" for the bucket's root).
	Path string
	// User is the login name (SFTP, REST); "" when the location does not name one.
	User string
	// Host is host or host:port (SFTP, S3, REST).
	Host string
	// Port is the SSH port (SFTP); 0 means 22.
	Port int
	// Bucket is the S3 bucket.
	Bucket string
	// HTTP is true for s3:http:// and rest:http:// (plain HTTP, loopback tests and
	// private networks); TLS is otherwise always used and always verified.
	HTTP bool
	// RESTPath is the REST server's base path, with a leading and no trailing slash.
	RESTPath string
}

// ErrSecretInLocation says a password was given inside a location.
var ErrSecretInLocation = errors.New("the location holds a password: a command line is visible to every user of the computer (ps, shell history); give the password through the environment (RESTIC_REST_PASSWORD), a --credentials-file, or let travelkit ask for it")

// ParseLocation parses a repository location in restic's syntax.
func ParseLocation(s string) (Location, error) {
	if s == "" {
		return Location{}, errors.New("empty repository location")
	}
	if strings.ContainsAny(s, "\x00\r\n") {
		return Location{}, errors.New("the repository location holds a control character")
	}
	// a server location goes into URLs, ssh and error messages: no control character at
	// all (a folder keeps any name its file system allows)
	if remoteKind(s) && strings.ContainsFunc(s, unicode.IsControl) {
		return Location{}, errors.New("the repository location holds a control character")
	}
	switch {
	case strings.HasPrefix(s, "sftp:"):
		return noControlDecoded(parseSFTP(s))
	case strings.HasPrefix(s, "s3:"):
		return noControlDecoded(parseS3(s))
	case strings.HasPrefix(s, "rest:"):
		return noControlDecoded(parseREST(s))
	case strings.HasPrefix(s, "local:"):
		if s[len("local:"):] == "" {
			return Location{}, errors.New("local: no folder given")
		}
		return Location{Kind: Local, Path: s[len("local:"):]}, nil
	}
	if i := strings.Index(s, ":"); i > 1 && !strings.ContainsAny(s[:i], `/\`) && isScheme(s[:i]) {
		return Location{}, fmt.Errorf("unknown kind of location %q: use a folder, sftp:, s3: or rest:", s[:i+1])
	}
	return Location{Kind: Local, Path: s}, nil
}

// noControlDecoded refuses a server location whose parts hold a control character once
// their URL escapes are decoded (sftp://h/%00, rest:https://h/%1b[2J): the check on the
// text as typed does not see those (FuzzParseLocation found sftp://0/.%00...).
func noControlDecoded(l Location, err error) (Location, error) {
	if err != nil {
		return l, err
	}
	for _, part := range []string{l.User, l.Host, l.Path, l.Bucket, l.RESTPath} {
		if strings.ContainsFunc(part, unicode.IsControl) {
			return Location{}, errors.New("the repository location holds a control character (written with %)")
		}
	}
	return l, nil
}

// urlHostRoundTrips reports whether host, written in a URL as Location.String writes it,
// reads back as itself: as its Hostname when hostname is given, else as its Host.
func urlHostRoundTrips(scheme, host, hostname string) bool {
	u, err := url.Parse((&url.URL{Scheme: scheme, Host: host, Path: "/"}).String())
	if err != nil {
		return false
	}
	if hostname != "" {
		return u.Hostname() == hostname
	}
	return u.Host == host
}

// remoteKind reports whether s names a server (sftp:, s3:, rest:).
func remoteKind(s string) bool {
	return strings.HasPrefix(s, "sftp:") || strings.HasPrefix(s, "s3:") || strings.HasPrefix(s, "rest:")
}

// isScheme reports whether s looks like a URL scheme (letters only), so that
// "b2:bucket" is refused by name rather than taken for a folder, while Windows drive
// letters (C:) and paths are folders.
func isScheme(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func parseSFTP(s string) (Location, error) {
	l := Location{Kind: SFTP}
	var dir string
	if strings.HasPrefix(s, "sftp://") {
		u, err := url.Parse(s)
		if err != nil {
			return l, fmt.Errorf("sftp: %v", err)
		}
		if u.User != nil {
			if _, ok := u.User.Password(); ok {
				return l, ErrSecretInLocation
			}
			l.User = u.User.Username()
		}
		l.Host = u.Hostname()
		if p := u.Port(); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return l, fmt.Errorf("sftp: invalid port %q", p)
			}
			if n != 22 {
				l.Port = n
			}
		}
		if u.Path == "" || u.Path == "/" {
			return l, errors.New("sftp: no folder given (sftp://user@host:port//absolute/path or /relative/path)")
		}
		dir = u.Path[1:]
	} else {
		rest := s[len("sftp:"):]
		// user@host:path: the user ends at the last '@' before the host's end (its ':',
		// or the '[' of an address); an '@' after that is in the path, unless what
		// precedes it reads as user:password@host:path
		end := strings.IndexAny(rest, ":[")
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
			l.User, rest = rest[:at], rest[at+1:]
		} else if at := strings.Index(rest, "@"); at > end && rest[end] == ':' && strings.Contains(rest[at+1:], ":") {
			return l, ErrSecretInLocation
		}
		if strings.HasPrefix(rest, "[") { // sftp:user@[::1]:/path
			end := strings.Index(rest, "]")
			if end < 0 || len(rest) < end+2 || rest[end+1] != ':' {
				return l, errors.New("sftp: expected sftp:user@[address]:path")
			}
			l.Host, dir = rest[1:end], rest[end+2:]
		} else {
			i := strings.Index(rest, ":")
			if i < 0 {
				return l, errors.New("sftp: expected sftp:user@host:path")
			}
			l.Host, dir = rest[:i], rest[i+1:]
		}
	}
	if l.Host == "" {
		return l, errors.New("sftp: no host given")
	}
	bad := "/\\@?#%[] "
	h := l.Host
	if strings.Contains(h, ":") {
		bad = "/\\@?#[] " // an IPv6 address may carry a zone (fe80::1%eth0)
		h = "[" + h + "]"
	}
	if strings.ContainsAny(l.Host, bad) || !urlHostRoundTrips("sftp", h, l.Host) {
		return l, fmt.Errorf("sftp: %q is not a host name or address", l.Host)
	}
	if dir == "" {
		return l, errors.New("sftp: no folder given")
	}
	l.Path = path.Clean(dir)
	if strings.HasPrefix(l.Path, "~") {
		return l, errors.New("sftp: the path starts with ~, which most servers do not expand; a relative path is relative to the login folder")
	}
	return l, nil
}

func parseS3(s string) (Location, error) {
	l := Location{Kind: S3}
	rest := s[len("s3:"):]
	var host, p string
	switch {
	case strings.HasPrefix(rest, "http://"), strings.HasPrefix(rest, "https://"):
		u, err := url.Parse(rest)
		if err != nil {
			return l, fmt.Errorf("s3: %v", err)
		}
		if u.User != nil {
			return l, errors.New("s3: the location holds credentials; give them through AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a --credentials-file, or let travelkit ask")
		}
		l.HTTP = u.Scheme == "http"
		host, p = u.Host, strings.TrimPrefix(u.Path, "/")
	default:
		rest = strings.TrimPrefix(rest, "//")
		i := strings.Index(rest, "/")
		if i < 0 {
			return l, errors.New("s3: expected s3:https://host/bucket[/prefix]")
		}
		host, p = rest[:i], rest[i+1:]
	}
	if host == "" {
		return l, errors.New("s3: no host given")
	}
	if strings.ContainsAny(host, "\\@?#% ") || !urlHostRoundTrips("https", host, "") {
		return l, fmt.Errorf("s3: %q is not a host name or address (host, host:port or [address]:port)", host)
	}
	l.Host = host
	bucket, prefix, _ := strings.Cut(p, "/")
	if bucket == "" {
		return l, errors.New("s3: no bucket given (s3:https://host/bucket[/prefix])")
	}
	if err := validBucket(bucket); err != nil {
		return l, err
	}
	l.Bucket = bucket
	if prefix != "" {
		prefix = path.Clean(prefix)
		if prefix == "." || prefix == ".." || strings.HasPrefix(prefix, "../") {
			return l, fmt.Errorf("s3: invalid prefix %q", prefix)
		}
	}
	l.Path = strings.Trim(prefix, "/")
	return l, nil
}

func validBucket(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("s3: bucket name %q must be 3 to 63 characters long", b)
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c >= 'A' && c <= 'Z') {
			return fmt.Errorf("s3: bucket name %q holds %q: use letters, digits, '-', '.' and '_'", b, c)
		}
	}
	return nil
}

func parseREST(s string) (Location, error) {
	l := Location{Kind: REST}
	u, err := url.Parse(s[len("rest:"):])
	if err != nil {
		return l, fmt.Errorf("rest: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return l, errors.New("rest: expected rest:https://host:port/path")
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			return l, ErrSecretInLocation
		}
		l.User = u.User.Username()
	}
	if u.Host == "" {
		return l, errors.New("rest: no host given")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return l, errors.New("rest: the location may not hold a query (?) or fragment (#)")
	}
	l.HTTP = u.Scheme == "http"
	l.Host = u.Host
	l.RESTPath = strings.TrimSuffix(path.Clean("/"+u.Path), "/")
	return l, nil
}

// Addr is the host:port to connect to.
func (l Location) Addr() string {
	switch l.Kind {
	case SFTP:
		port := l.Port
		if port == 0 {
			port = 22
		}
		return net.JoinHostPort(l.Host, strconv.Itoa(port))
	}
	return l.Host
}

// String gives the location back in restic's syntax, without any secret.
func (l Location) String() string {
	scheme := "https"
	if l.HTTP {
		scheme = "http"
	}
	switch l.Kind {
	case Local:
		return l.Path
	case SFTP:
		user := ""
		if l.User != "" {
			user = l.User + "@"
		}
		if l.Port != 0 && l.Port != 22 {
			return "sftp://" + user + net.JoinHostPort(l.Host, strconv.Itoa(l.Port)) + "/" + l.Path
		}
		h := l.Host
		if strings.Contains(h, ":") {
			h = "[" + h + "]"
		}
		if strings.Contains(l.Path, "@") {
			// the short form would read the '@' as the end of a user name
			u := url.URL{Scheme: "sftp", Host: h, Path: "/" + l.Path}
			if l.User != "" {
				u.User = url.User(l.User)
			}
			return u.String()
		}
		return "sftp:" + user + h + ":" + l.Path
	case S3:
		// through url.URL, so that a prefix holding '%', '?' or '#' is escaped
		u := url.URL{Scheme: scheme, Host: l.Host, Path: "/" + l.Bucket}
		if l.Path != "" {
			u.Path += "/" + l.Path
		}
		return "s3:" + u.String()
	case REST:
		u := url.URL{Scheme: scheme, Host: l.Host, Path: l.RESTPath + "/"}
		if l.User != "" {
			u.User = url.User(l.User)
		}
		return "rest:" + u.String()
	}
	return string(l.Kind) + ":?"
}

// Remote reports whether the location is on another machine (not a folder).
func (l Location) Remote() bool { return l.Kind != Local && l.Kind != "" }

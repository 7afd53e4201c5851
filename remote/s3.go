package remote

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync/atomic"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"travelkit/repo"
)

// s3Storage keeps a repository in a bucket of an S3-compatible service, laid out as
// restic's s3 backend does: PREFIX/config, PREFIX/data/<2 hex>/<name>, PREFIX/keys/...
type s3Storage struct {
	loc    Location
	client *minio.Client
	core   minio.Core
	opt    Options
	// withMD5: the server does not answer with the sha256 checksum it computed, so files
	// go with their MD5 (Content-MD5, and the ETag compared)
	withMD5 atomic.Bool
	md5s    atomic.Int64 // files whose MD5 was computed (tests)
}

func openS3(ctx context.Context, loc Location, cred *Credentials, opt Options) (*s3Storage, error) {
	if cred.AccessKeyID == "" || cred.SecretAccessKey == "" {
		return nil, fmt.Errorf("%w: no S3 access key: give AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment or a --credentials-file", ErrAuth)
	}
	tr, err := httpTransport(cred, opt.Connections)
	if err != nil {
		return nil, err
	}
	cl, err := minio.New(loc.Host, &minio.Options{
		Creds:      credentials.NewStaticV4(cred.AccessKeyID, cred.SecretAccessKey, cred.SessionToken),
		Secure:     !loc.HTTP,
		Transport:  tr,
		Region:     cred.Region,
		MaxRetries: 1, // retries are the caller's, with backoff
	})
	if err != nil {
		return nil, fmt.Errorf("s3: %v", err)
	}
	s := &s3Storage{loc: loc, client: cl, core: minio.Core{Client: cl}, opt: opt}
	ok, err := cl.BucketExists(ctx, loc.Bucket)
	if err != nil {
		return nil, s.fail("opening the bucket", repo.Handle{}, err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: the bucket %q does not exist on %s; create it first (the provider's console, or `mc mb`), travelkit does not make buckets", ErrMissing, loc.Bucket, loc.Host)
	}
	return s, nil
}

func (s *s3Storage) Location() Location { return s.loc }
func (s *s3Storage) Close() error       { return nil }

// SaveVerifies: the server checks every upload against the signed sha256 of its content
// (which is the file's name) and its MD5, and the returned ETag is compared with the MD5.
func (s *s3Storage) SaveVerifies() bool { return true }

func (s *s3Storage) key(h repo.Handle) string {
	var k string
	switch {
	case h.Type == repo.ConfigFile:
		k = "config"
	case h.Type == repo.PackFile && len(h.Name) >= 2:
		k = "data/" + h.Name[:2] + "/" + h.Name
	default:
		k = string(h.Type) + "/" + h.Name
	}
	if s.loc.Path != "" {
		k = s.loc.Path + "/" + k
	}
	return k
}

// fail turns an S3 error into one of the package's errors.
func (s *s3Storage) fail(op string, h repo.Handle, err error) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf("%s %s on %s", op, h, s.loc.Host)
	if h.Type == "" {
		what = fmt.Sprintf("%s %q on %s", op, s.loc.Bucket, s.loc.Host)
	}
	var er minio.ErrorResponse
	if !errors.As(err, &er) || er.Code == "" && er.StatusCode == 0 {
		if errors.Is(err, context.Canceled) {
			return err
		}
		if untrusted(err) {
			return fmt.Errorf("%s: %w: %v", what, ErrUntrusted, err)
		}
		return fmt.Errorf("%s: %w: %v", what, ErrUnreachable, err)
	}
	msg := printable(er.Message)
	switch {
	case er.Code == "InvalidAccessKeyId" || er.Code == "SignatureDoesNotMatch" || er.Code == "InvalidToken" ||
		er.Code == "ExpiredToken" || er.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%w: %s: %s (%s)", ErrAuth, what, er.Code, msg)
	case er.Code == "NoSuchBucket":
		return fmt.Errorf("%w: %s: the bucket %q does not exist", ErrMissing, what, s.loc.Bucket)
	case er.Code == "NoSuchKey" || er.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%s: %w", what, fs.ErrNotExist)
	case er.Code == "AccessDenied" || er.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%w: %s: %s (%s): the key may lack the permission, or the bucket locks its objects", ErrRefused, what, er.Code, msg)
	case er.Code == "XAmzContentSHA256Mismatch" || er.Code == "BadDigest" || er.Code == "InvalidDigest":
		return fmt.Errorf("%s: %w: the server received other bytes than were sent (%s)", what, errTransient, er.Code)
	case er.Code == "EntityTooLarge" || er.StatusCode == http.StatusInsufficientStorage ||
		strings.Contains(strings.ToLower(msg), "no space left") || er.Code == "QuotaExceeded":
		return fmt.Errorf("%w: %s: %s (%s)", ErrNoSpace, what, er.Code, msg)
	case er.StatusCode >= 500 || er.Code == "SlowDown" || er.Code == "RequestTimeout":
		return fmt.Errorf("%w: %s: %s (%s)", errTransient, what, er.Code, msg)
	}
	return fmt.Errorf("%s: %s (%s)", what, er.Code, msg)
}

// Create: a bucket needs no folders.
func (s *s3Storage) Create(ctx context.Context) error { return nil }

// Save uploads a file in one request, signed with the sha256 of its content, which the
// server checks the body against; see SaveSum.
func (s *s3Storage) Save(ctx context.Context, h repo.Handle, data []byte) error {
	return s.SaveSum(ctx, h, data, sha256.Sum256(data))
}

// SaveSum is Save with the sha256 of data computed by the caller. The request carries it
// twice: as x-amz-content-sha256, which the signature covers and the server checks the
// whole body against (also over plain http, where minio-go would otherwise sign chunk by
// chunk what it sends, which checks the way but not the content), and as the object's
// checksum (x-amz-checksum-sha256), which the server computes over what it stores and
// answers with. A server that does not answer with it gets each file's MD5 as well
// (Content-MD5, refused when damaged on the way) and its ETag, its own MD5 of what it
// stored, is compared; MD5 costs as much CPU as the rest of a copy, so it is left out
// where the server checks the sha256.
func (s *s3Storage) SaveSum(ctx context.Context, h repo.Handle, data []byte, sum [32]byte) error {
	if err := validHandle(h); err != nil {
		return err
	}
	b64 := base64.StdEncoding.EncodeToString(sum[:])
	var m [md5.Size]byte
	withMD5 := s.withMD5.Load()
	put := func() (minio.UploadInfo, error) {
		md5b64 := ""
		if withMD5 {
			m = md5.Sum(data)
			s.md5s.Add(1)
			md5b64 = base64.StdEncoding.EncodeToString(m[:])
		}
		return s.core.PutObject(ctx, s.loc.Bucket, s.key(h), newBody(ctx, data, s.opt), int64(len(data)),
			md5b64, hex.EncodeToString(sum[:]),
			minio.PutObjectOptions{ContentType: "application/octet-stream", DisableMultipart: true, DisableContentSha256: true,
				UserMetadata: map[string]string{"x-amz-checksum-sha256": b64}})
	}
	info, err := put()
	if err != nil && !withMD5 && needsMD5(err) {
		// a bucket with object lock on a server that knows no sha256 checksum
		s.withMD5.Store(true)
		withMD5 = true
		info, err = put()
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return s.fail("saving", h, err)
	}
	if info.ChecksumSHA256 != "" {
		if info.ChecksumSHA256 != b64 {
			return fmt.Errorf("saving %s on %s: %w: the server stored other bytes (sha256 %s)", h, s.loc.Host, errTransient, printable(info.ChecksumSHA256))
		}
		return nil
	}
	if !withMD5 {
		s.withMD5.Store(true)
		m = md5.Sum(data)
		s.md5s.Add(1)
	}
	etag := strings.Trim(info.ETag, `"`)
	if etag != "" && !strings.Contains(etag, "-") && len(etag) == 32 && !strings.EqualFold(etag, hex.EncodeToString(m[:])) {
		return fmt.Errorf("saving %s on %s: %w: the server stored other bytes (MD5 %s, sent %x)", h, s.loc.Host, errTransient, printable(etag), m)
	}
	return nil
}

// needsMD5 says the server refused a PUT for want of a Content-MD5 (object lock).
func needsMD5(err error) bool {
	var er minio.ErrorResponse
	return errors.As(err, &er) && (er.Code == "MissingContentMD5" ||
		(er.Code == "InvalidRequest" && strings.Contains(er.Message, "Content-MD5")))
}

// Load reads n bytes at off (n <= 0: to the end; off < 0: from the end).
func (s *s3Storage) Load(ctx context.Context, h repo.Handle, off int64, n int) ([]byte, error) {
	if err := validHandle(h); err != nil {
		return nil, err
	}
	var o minio.GetObjectOptions
	var err error
	switch {
	case off < 0 && n <= 0:
		err = o.SetRange(0, off)
	case off < 0:
		size, serr := s.Stat(ctx, h)
		if serr != nil {
			return nil, serr
		}
		off = max(0, size+off)
		err = o.SetRange(off, off+int64(n)-1)
	case n > 0:
		err = o.SetRange(off, off+int64(n)-1)
	case off > 0:
		err = o.SetRange(off, 0)
	}
	if err != nil {
		return nil, err
	}
	rc, _, _, err := s.core.GetObject(ctx, s.loc.Bucket, s.key(h), o)
	if err != nil {
		return nil, s.fail("reading", h, err)
	}
	defer rc.Close()
	limit := int64(maxLoad)
	if n > 0 {
		limit = int64(n)
	}
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s on %s: %w: %v", h, s.loc.Host, errTransient, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("reading %s on %s: more bytes than asked for", h, s.loc.Host)
	}
	if n > 0 && len(b) < n {
		return nil, fmt.Errorf("reading %s on %s: %w (%d of %d bytes)", h, s.loc.Host, io.ErrUnexpectedEOF, len(b), n)
	}
	return b, nil
}

// ReadAt reads len(p) bytes at off.
func (s *s3Storage) ReadAt(ctx context.Context, h repo.Handle, p []byte, off int64) error {
	return loadAt(ctx, s.Load, h, p, off)
}

// Sum streams a file through sha256.
func (s *s3Storage) Sum(ctx context.Context, h repo.Handle) ([32]byte, int64, error) {
	if err := validHandle(h); err != nil {
		return [32]byte{}, 0, err
	}
	rc, _, _, err := s.core.GetObject(ctx, s.loc.Bucket, s.key(h), minio.GetObjectOptions{})
	if err != nil {
		return [32]byte{}, 0, s.fail("reading", h, err)
	}
	defer rc.Close()
	return sumStream(rc, h, s.loc.Host)
}

// Stat returns the size of a file.
func (s *s3Storage) Stat(ctx context.Context, h repo.Handle) (int64, error) {
	if err := validHandle(h); err != nil {
		return 0, err
	}
	oi, err := s.client.StatObject(ctx, s.loc.Bucket, s.key(h), minio.StatObjectOptions{})
	if err != nil {
		return 0, s.fail("looking up", h, err)
	}
	return oi.Size, nil
}

// List calls fn for every file of type t.
func (s *s3Storage) List(ctx context.Context, t repo.FileType, fn func(string, int64) error) error {
	prefix := string(t) + "/"
	if s.loc.Path != "" {
		prefix = s.loc.Path + "/" + prefix
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for oi := range s.client.ListObjects(ctx, s.loc.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if oi.Err != nil {
			return s.fail("listing", repo.Handle{Type: t, Name: "."}, oi.Err)
		}
		name := path.Base(oi.Key)
		if strings.HasSuffix(oi.Key, "/") || validHandle(repo.Handle{Type: t, Name: name}) != nil {
			continue
		}
		if err := fn(name, oi.Size); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Remove deletes a file.
func (s *s3Storage) Remove(ctx context.Context, h repo.Handle) error {
	if err := validHandle(h); err != nil {
		return err
	}
	return s.fail("removing", h, s.client.RemoveObject(ctx, s.loc.Bucket, s.key(h), minio.RemoveObjectOptions{}))
}

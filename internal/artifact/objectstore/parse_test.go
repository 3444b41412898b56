package objectstore

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

func TestParseRange(t *testing.T) {
	type result struct {
		Start, Length int64
		Partial       bool
		Invalid       bool
	}
	tests := []struct {
		header string
		size   int64
		want   result
	}{
		{"", 10, result{0, 10, false, false}},
		{"bytes=0-0", 10, result{0, 1, true, false}},
		{"bytes=2-5", 10, result{2, 4, true, false}},
		{"bytes=2-", 10, result{2, 8, true, false}},
		{"bytes=-3", 10, result{7, 3, true, false}},
		{"bytes=-30", 10, result{0, 10, true, false}},
		{"bytes=5-100", 10, result{5, 5, true, false}},
		{"bytes=9-9", 10, result{9, 1, true, false}},
		{"bytes=10-", 10, result{0, 0, false, true}},
		{"bytes=-0", 10, result{0, 0, false, true}},
		{"bytes=0-", 0, result{0, 0, false, true}},
		{"bytes=-5", 0, result{0, 0, false, true}},
		{"bytes=5-2", 10, result{0, 10, false, false}},     // malformed: ignored
		{"bytes=0-1,3-4", 10, result{0, 10, false, false}}, // several ranges: ignored
		{"items=0-1", 10, result{0, 10, false, false}},
		{"bytes=a-b", 10, result{0, 10, false, false}},
		{"bytes=--1", 10, result{0, 10, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			start, length, partial, err := parseRange(tt.header, tt.size)
			got := result{start, length, partial, err != nil}
			if err != nil {
				got = result{Invalid: true}
				if ae, ok := errors.AsType[*apiError](err); !ok || ae.code != "InvalidRange" || ae.status != 416 {
					t.Errorf("error = %v, want 416 InvalidRange", err)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseRange(%q, %d) (-want +got):\n%s", tt.header, tt.size, diff)
			}
		})
	}
}

func TestValidateBucketName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"abc", true},
		{"my-bucket.v2", true},
		{"0123456789", true},
		{"a-b", true},
		{"ab", false},
		{"a234567890123456789012345678901234567890123456789012345678901234", false}, // 64
		{"a23456789012345678901234567890123456789012345678901234567890123", true},   // 63
		{"Upper", false},
		{"under_score", false},
		{"-start", false},
		{"end-", false},
		{".start", false},
		{"end.", false},
		{"two..dots", false},
		{"10.0.0.1", false},
		{"xn--punycode", false},
		{"sthree-thing", false},
		{"bucket-s3alias", false},
		{"bucket--ol-s3", false},
		{"spa ce", false},
		{"ünï", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateBucketName(tt.name)
			if (err == nil) != tt.ok {
				t.Errorf("validateBucketName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
			}
			if err != nil && !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("error %v does not match ErrInvalidArgument", err)
			}
		})
	}
}

func TestEncoder(t *testing.T) {
	enc := encoder(true)
	tests := map[string]string{
		"plain/key-1_2.3~":  "plain/key-1_2.3~",
		"with space":        "with%20space",
		"plus+and&amp":      "plus%2Band%26amp",
		"percent%2F":        "percent%252F",
		"日本":                "%E6%97%A5%E6%9C%AC",
		"tab\tnewline\n<x>": "tab%09newline%0A%3Cx%3E",
	}
	for in, want := range tests {
		if got := enc(in); got != want {
			t.Errorf("encode(%q) = %q, want %q", in, got, want)
		}
	}
	if got := encoder(false)("a b"); got != "a b" {
		t.Errorf("identity encoder changed %q", got)
	}
}

func TestCheckPreconditions(t *testing.T) {
	modified := time.Date(2026, 1, 2, 3, 4, 5, 600e6, time.UTC)
	obj := store.Object{ETag: `"abc"`, CreatedAt: modified}
	before := modified.Add(-time.Hour).Format(http.TimeFormat)
	same := modified.Format(http.TimeFormat) // second precision: not "after" the object
	after := modified.Add(time.Hour).Format(http.TimeFormat)
	tests := []struct {
		name         string
		header       []string
		notModified  bool
		precondition bool
	}{
		{"none", nil, false, false},
		{"if-match hit", []string{"If-Match", `"abc"`}, false, false},
		{"if-match unquoted and in a list", []string{"If-Match", `"x", abc`}, false, false},
		{"if-match star", []string{"If-Match", "*"}, false, false},
		{"if-match miss", []string{"If-Match", `"x"`}, false, true},
		{"if-none-match hit", []string{"If-None-Match", `"abc"`}, true, false},
		{"if-none-match weak hit", []string{"If-None-Match", `W/"abc"`}, true, false},
		{"if-none-match miss", []string{"If-None-Match", `"x"`}, false, false},
		{"if-modified-since before", []string{"If-Modified-Since", before}, false, false},
		{"if-modified-since same second", []string{"If-Modified-Since", same}, true, false},
		{"if-modified-since after", []string{"If-Modified-Since", after}, true, false},
		{"if-unmodified-since before", []string{"If-Unmodified-Since", before}, false, true},
		{"if-unmodified-since after", []string{"If-Unmodified-Since", after}, false, false},
		{"if-match wins over if-unmodified-since", []string{"If-Match", `"abc"`, "If-Unmodified-Since", before}, false, false},
		{"if-none-match miss wins over if-modified-since", []string{"If-None-Match", `"x"`, "If-Modified-Since", after}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://x/", nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(tt.header); i += 2 {
				r.Header.Set(tt.header[i], tt.header[i+1])
			}
			notModified, err := checkPreconditions(r, obj)
			if notModified != tt.notModified || (err != nil) != tt.precondition {
				t.Errorf("checkPreconditions = %v, %v; want notModified=%v precondition failed=%v",
					notModified, err, tt.notModified, tt.precondition)
			}
		})
	}
}

package main

import "testing"

// The Go runtime gets four fifths of the container's memory limit, in whichever form the
// limit comes; GOMEMLIMIT, when someone set it, is left to the runtime.
func TestMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		limit, gomemlimit string
		want              int64
		fails             bool
	}{
		{"", "", 0, false},
		{"268435456", "", 214748364, false}, // what the downward API passes: bytes
		{"256Mi", "", 214748364, false},
		{"268435456", "200MiB", 0, false},
		{"a lot", "", 0, true},
	} {
		t.Setenv("MEMORY_LIMIT", c.limit)
		t.Setenv("GOMEMLIMIT", c.gomemlimit)
		got, err := memoryLimit()
		if (err != nil) != c.fails || got != c.want {
			t.Errorf("MEMORY_LIMIT=%q GOMEMLIMIT=%q: %d, %v; want %d (fails: %v)", c.limit, c.gomemlimit, got, err, c.want, c.fails)
		}
	}
}

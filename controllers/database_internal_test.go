package controllers

import (
	"testing"

	"github.com/jiceng-io/region-operator/internal/desired"
)

// The reconcile after the one that set fresh passwords finds the same fingerprint, so
// it leaves the database server alone.
func TestDBFingerprintIgnoresWhichPasswordsAreSetNow(t *testing.T) {
	db := func(reset bool) *desired.RegionDB {
		return &desired.RegionDB{
			Database: "region_anxi",
			Reset:    map[string]bool{"region_anxi_county": reset},
		}
	}
	passwords := map[string]string{"region_anxi_county": "p1"}
	first, reset := dbFingerprint(db(true), passwords)
	if !reset {
		t.Fatal("a fresh password must be reported as a reset")
	}
	second, reset := dbFingerprint(db(false), passwords)
	if reset {
		t.Fatal("no password is set when none is fresh")
	}
	if first != second {
		t.Fatal("the fingerprint changed with the passwords being set, not with the database's state")
	}
	if third, _ := dbFingerprint(db(false), map[string]string{"region_anxi_county": "p2"}); third == second {
		t.Fatal("a changed password must change the fingerprint")
	}
}

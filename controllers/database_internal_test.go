package controllers

import (
	"testing"

	"github.com/jiceng-io/region-operator/internal/pgsql"
)

// The reconcile after the one that set fresh passwords finds the same fingerprint, so
// it leaves the database server alone.
func TestDBFingerprintIgnoresWhichPasswordsAreSetNow(t *testing.T) {
	db := func(reset bool) *pgsql.RegionDB {
		return &pgsql.RegionDB{
			Database:  "region_anxi",
			Passwords: map[string]string{"region_anxi_county": "p1"},
			Reset:     map[string]bool{"region_anxi_county": reset},
		}
	}
	first, reset := dbFingerprint(db(true))
	if !reset {
		t.Fatal("a fresh password must be reported as a reset")
	}
	second, reset := dbFingerprint(db(false))
	if reset {
		t.Fatal("no password is set when none is fresh")
	}
	if first != second {
		t.Fatal("the fingerprint changed with the passwords being set, not with the database's state")
	}
	changed := db(false)
	changed.Passwords["region_anxi_county"] = "p2"
	if third, _ := dbFingerprint(changed); third == second {
		t.Fatal("a changed password must change the fingerprint")
	}
}

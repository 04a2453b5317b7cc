package naming

import (
	"strings"
	"testing"
)

func TestDerivedNames(t *testing.T) {
	if got := TownshipNamespace("anxi", "feng-cheng"); got != "anxi-feng-cheng" {
		t.Errorf("namespace %s", got)
	}
	if got := TownshipRole("an-xi", "feng-cheng"); got != "region_an_xi_feng_cheng" {
		t.Errorf("role %s: hyphens must become underscores", got)
	}
	if got := TownshipAdminsGroup("{region}-{township}-admins", "anxi", "hutou"); got != "anxi-hutou-admins" {
		t.Errorf("group %s", got)
	}
}

// The API's validation allows a name of at most 40 characters and a Region and township
// name of at most 55 together; every derived name must then fit, and one more character
// must not.
func TestLimitsMatchTheAPIValidation(t *testing.T) {
	region := strings.Repeat("r", 40)
	if bad := TooLong(region, strings.Repeat("t", 15)); len(bad) != 0 {
		t.Errorf("names within the API's limits are too long: %v", bad)
	}
	if bad := TooLong(region, strings.Repeat("t", 16)); len(bad) == 0 {
		t.Error("a township one character over the limit went unnoticed")
	}
	if bad := TooLong(strings.Repeat("r", 46), ""); len(bad) == 0 {
		t.Error("a region name too long for the supervisor role went unnoticed")
	}
}

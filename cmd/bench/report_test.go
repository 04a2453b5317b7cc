package main

import "testing"

func TestMedianCountyIsTheMiddleRatio(t *testing.T) {
	counties := func(ratios ...float64) []AddOneCounty {
		out := make([]AddOneCounty, len(ratios))
		for i, r := range ratios {
			out[i] = AddOneCounty{Region: string(rune('a' + i)), Ratio: r}
		}
		return out
	}
	for _, tc := range []struct {
		ratios []float64
		want   string
	}{
		{[]float64{1.73}, "a"},
		{[]float64{1.73, 0.92, 1.06}, "c"},       // not the first, not the worst
		{[]float64{0.92, 1.06, 1.73, 1.10}, "b"}, // the lower of the two middle ones
		{[]float64{1.2, 1.2, 0.9}, "a"},          // a tie keeps the order of the runs
	} {
		got := medianCounty(counties(tc.ratios...))
		if got.Region != tc.want {
			t.Errorf("median of %v: county %s (ratio %.2f), want %s", tc.ratios, got.Region, got.Ratio, tc.want)
		}
	}
	// The counties given stay in the order they were added.
	in := counties(1.73, 0.92, 1.06)
	medianCounty(in)
	if in[0].Region != "a" || in[1].Region != "b" || in[2].Region != "c" {
		t.Errorf("the counties were reordered: %v", in)
	}
}

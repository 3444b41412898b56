package stats

import "testing"

func TestSummarize(t *testing.T) {
	s := Summarize("ms", []float64{5, 1, 4, 2, 3, 6, 7, 8, 9, 10})
	if s.N != 10 || s.Min != 1 || s.Max != 10 || s.Median != 5 || s.P95 != 10 {
		t.Errorf("summary = %+v", s)
	}
	if e := Summarize("ms", nil); e.N != 0 || e.Median != 0 {
		t.Errorf("empty = %+v", e)
	}
	one := Summarize("ms", []float64{3})
	if one.Min != 3 || one.Median != 3 || one.P95 != 3 || one.Max != 3 {
		t.Errorf("single = %+v", one)
	}
}

package storetest

import (
	"reflect"
	"testing"
)

// checkEverySet fails for every struct field, reachable from v, that is the zero value in
// all of its instances: it keeps fullConfig honest when RuntimeConfig grows a member.
func checkEverySet(t *testing.T, v any) {
	t.Helper()
	set := map[string]bool{}
	var walk func(rv reflect.Value)
	walk = func(rv reflect.Value) {
		switch rv.Kind() {
		case reflect.Pointer:
			if !rv.IsNil() {
				walk(rv.Elem())
			}
		case reflect.Slice:
			for i := range rv.Len() {
				walk(rv.Index(i))
			}
		case reflect.Struct:
			for i := range rv.NumField() {
				name := rv.Type().String() + "." + rv.Type().Field(i).Name
				f := rv.Field(i)
				isSet := !f.IsZero()
				if f.Kind() == reflect.Slice || f.Kind() == reflect.Map {
					isSet = f.Len() > 0
				}
				set[name] = set[name] || isSet
				walk(f)
			}
		default:
		}
	}
	walk(reflect.ValueOf(v))
	for name, ok := range set {
		if !ok {
			t.Errorf("%s is never set in the test config", name)
		}
	}
}

package install

import (
	"encoding/json"
	"os"
	"testing"

	. "github.com/onsi/gomega"
	lua "github.com/yuin/gopher-lua"
)

// toLua turns decoded JSON into Lua values, as Argo CD hands objects to health checks.
func toLua(L *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case map[string]any:
		t := L.NewTable()
		for k, e := range x {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	case []any:
		t := L.NewTable()
		for _, e := range x {
			t.Append(toLua(L, e))
		}
		return t
	case string:
		return lua.LString(x)
	case float64:
		return lua.LNumber(x)
	case bool:
		return lua.LBool(x)
	}
	return lua.LNil
}

func health(t *testing.T, script, object string) (string, string) {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal([]byte(object), &obj); err != nil {
		t.Fatal(err)
	}
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(script); err != nil {
		t.Fatal(err)
	}
	hs, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("the script returned %v", L.Get(-1))
	}
	return hs.RawGetString("status").String(), hs.RawGetString("message").String()
}

func TestArgoCDHealthCheck(t *testing.T) {
	g := NewWithT(t)
	script, err := os.ReadFile(repo("charts", "region-operator", "argocd", "health.lua"))
	g.Expect(err).NotTo(HaveOccurred())
	cond := func(typ, status, msg string) string {
		return `{"type":"` + typ + `","status":"` + status + `","message":"` + msg + `"}`
	}
	obj := func(gen, observed int, conds ...string) string {
		list := "["
		for i, c := range conds {
			if i > 0 {
				list += ","
			}
			list += c
		}
		return `{"kind":"Region","metadata":{"name":"anxi","generation":` + itoa(gen) + `},"status":{"observedGeneration":` + itoa(observed) + `,"conditions":` + list + `]}}`
	}
	cases := []struct {
		name, object, status, message string
	}{
		{"no status yet", `{"kind":"Region","metadata":{"name":"anxi","generation":1}}`, "Progressing", "Waiting for region-operator to report status"},
		{"ready", obj(2, 2, cond("Ready", "True", "24 townships and 72 branches in place"), cond("Reconciling", "False", ""), cond("Stalled", "False", "")), "Healthy", "24 townships and 72 branches in place"},
		{"a newer spec not yet seen", obj(3, 2, cond("Ready", "True", "old")), "Progressing", "Waiting for region-operator to observe the latest spec"},
		{"reconciling", obj(2, 2, cond("Ready", "False", "x"), cond("Reconciling", "True", "3 of 6 Deployments available")), "Progressing", "3 of 6 Deployments available"},
		{"stalled on a conflict", obj(2, 2, cond("Ready", "False", "x"), cond("Stalled", "True", "Namespace anxi-hutou already exists")), "Degraded", "Namespace anxi-hutou already exists"},
		{"suspended", obj(2, 2, cond("Ready", "True", "x"), cond("Suspended", "True", "spec.suspend is true")), "Suspended", "spec.suspend is true"},
		{"a DatabaseServer that does not answer", obj(1, 1, cond("Ready", "False", "connection refused"), cond("Reconciling", "True", "connection refused")), "Progressing", "connection refused"},
		{"not ready and not working on it", obj(1, 1, cond("Ready", "False", "broken")), "Degraded", "broken"},
	}
	for _, tc := range cases {
		status, message := health(t, string(script), tc.object)
		g.Expect(status).To(Equal(tc.status), tc.name)
		g.Expect(message).To(Equal(tc.message), tc.name)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

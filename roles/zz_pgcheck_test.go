package roles

import (
	"os/exec"
	"strings"
	"testing"
)

func psql(sql string) (string, error) {
	out, err := exec.Command("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "/tmp/roles-helper-pg/sock", "-p", "55439", "-U", "postgres", "-c", sql).CombinedOutput()
	return string(out), err
}

func TestPGCheck(t *testing.T) {
	values := append([]string{}, fuzzSeeds...)
	values = append(values, `\\'`, `a\'b`, `x$$y`, "tab\there", `'||'`, `\x27`, `E'\''`)
	templates := []struct{ tpl, want string }{
		{"SELECT {{password}}", "%v"},
		{"SELECT '{{password}}'", "%v"},
		{"SELECT E'{{password}}'", "%v"},
		{"SELECT E'a'\n  -- c\n'{{password}}'", "a%v"},
		{"SELECT E'a' \n\n'{{password}}'", "a%v"},
		{"SELECT 'a'\n'{{password}}'", "a%v"},
		{"SELECT '{{password}}' AS x", "%v"},
		{"SELECT $q$x$q$ || E'\\\\{{password}}'", `x\%v`},
		{"DO $$ BEGIN RAISE NOTICE '%', '{{password}}'; END $$", "NOTICE:  %v"},
		{"DO $fn$ BEGIN RAISE NOTICE '%', $$<{{name}}>$$; END $fn$", "NOTICE:  <%q>"},
		{"DO $fn$ BEGIN RAISE NOTICE '%', E'{{password}}' || {{password}}; END $fn$", "NOTICE:  %v%v"},
		{"SELECT attname FROM (SELECT 1 AS {{name}}) s, LATERAL (SELECT '{{name}}'::text AS attname) a", "%v"},
		{`SELECT "{{name}}" FROM (SELECT 'ok' AS {{name}}) s`, "ok"},
	}
	for _, tpl := range templates {
		for _, v := range values {
			if strings.ContainsRune(v, 0) || len(v) > 60 {
				continue
			}
			sql, err := renderAll(tpl.tpl, v)
			if err != nil {
				t.Logf("render error (ok) %q %q: %v", tpl.tpl, v, err)
				continue
			}
			want := strings.ReplaceAll(tpl.want, "%v", v)
			want = strings.ReplaceAll(want, "%q", `"`+strings.ReplaceAll(v, `"`, `""`)+`"`)
			out, err := psql(sql)
			got := strings.TrimRight(out, "\n")
			if err != nil || got != want {
				if v == "" && strings.Contains(got, "zero-length delimited identifier") {
					continue
				}
				t.Errorf("template %q value %q\nsql: %s\ngot: %q (err %v)\nwant: %q", tpl.tpl, v, sql, got, err, want)
			}
		}
	}
	// 1E'..' on PostgreSQL 15
	out, err := psql(`SELECT 1E'\''`)
	t.Logf("1E: %q %v", out, err)
}

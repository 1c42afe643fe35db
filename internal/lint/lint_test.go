// Package lint holds the project's lint test: gofmt, go vet, and the few
// rules of our own. It runs as part of `make test`.
package lint

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// repoRoot is the module root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// goFiles lists the module's Go files, relative to root.
func goFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".go") {
			rel, _ := filepath.Rel(root, path)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestGofmt(t *testing.T) {
	root := repoRoot(t)
	cmd := exec.Command("gofmt", append([]string{"-l"}, goFiles(t, root)...)...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gofmt: %v\n%s", err, out)
	}
	if len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("gofmt -w these files:\n%s", out)
	}
}

func TestGoVet(t *testing.T) {
	if testing.Short() {
		t.Skip("go vet is slow; run without -short")
	}
	cmd := exec.Command("go", "vet", "./...")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("go vet ./...: %v\n%s", err, out)
	}
}

// rule is one of the project's own checks over a parsed file. It returns a
// message for each violation.
type rule struct {
	name  string
	check func(path string, f *ast.File, fset *token.FileSet) []string
}

// allowedTimeNow are the packages that may read the wall clock.
var allowedTimeNow = map[string]bool{"hlc": true}

// sleepOK marks a time.Sleep in a test that does not wait for a condition
// (for example, it lets real time pass to measure a rate); the comment must
// say why.
const sleepOK = "lint:sleep-ok"

var rules = []rule{
	{
		name: "errors through github.com/cockroachdb/errors",
		check: func(path string, f *ast.File, fset *token.FileSet) []string {
			var msgs []string
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if p == "errors" || p == "github.com/pkg/errors" {
					msgs = append(msgs, fset.Position(imp.Pos()).String()+
						": import github.com/cockroachdb/errors instead of "+p)
				}
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if isCall(n, "fmt", "Errorf") {
					msgs = append(msgs, fset.Position(n.Pos()).String()+
						": use errors.Newf/Wrapf from github.com/cockroachdb/errors, not fmt.Errorf")
				}
				return true
			})
			return msgs
		},
	},
	{
		name: "no time.Now outside the clock package",
		check: func(path string, f *ast.File, fset *token.FileSet) []string {
			if allowedTimeNow[filepath.ToSlash(filepath.Dir(path))] {
				return nil
			}
			var msgs []string
			ast.Inspect(f, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok && isPkgSel(sel, "time", "Now") {
					msgs = append(msgs, fset.Position(n.Pos()).String()+
						": time.Now outside package hlc: use an hlc.Clock or hlc.PhysicalNow")
				}
				return true
			})
			return msgs
		},
	},
	{
		name: "no time.Sleep in tests",
		check: func(path string, f *ast.File, fset *token.FileSet) []string {
			if !strings.HasSuffix(path, "_test.go") {
				return nil
			}
			okLines := map[int]bool{}
			for _, cg := range f.Comments {
				for _, c := range cg.List {
					if strings.Contains(c.Text, sleepOK) {
						line := fset.Position(c.Pos()).Line
						okLines[line], okLines[line+1] = true, true
					}
				}
			}
			var msgs []string
			ast.Inspect(f, func(n ast.Node) bool {
				if isCall(n, "time", "Sleep") && !okLines[fset.Position(n.Pos()).Line] {
					msgs = append(msgs, fset.Position(n.Pos()).String()+
						": time.Sleep in a test: wait for the condition itself (or mark a deliberate pause with // "+sleepOK+": why)")
				}
				return true
			})
			return msgs
		},
	},
}

func isCall(n ast.Node, pkg, fn string) bool {
	call, ok := n.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	return ok && isPkgSel(sel, pkg, fn)
}

func isPkgSel(sel *ast.SelectorExpr, pkg, name string) bool {
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == pkg && sel.Sel.Name == name
}

func TestProjectRules(t *testing.T) {
	root := repoRoot(t)
	fset := token.NewFileSet()
	for _, rel := range goFiles(t, root) {
		if strings.HasPrefix(filepath.ToSlash(rel), "internal/lint/") {
			continue // this file names the banned calls
		}
		src, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, rel, src, parser.ParseComments)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		if ast.IsGenerated(f) {
			continue // protoc's output follows its own conventions
		}
		for _, r := range rules {
			for _, msg := range r.check(rel, f, fset) {
				t.Errorf("[%s] %s", r.name, msg)
			}
		}
	}
}

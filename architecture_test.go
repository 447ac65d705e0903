package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/chatgpt-to-api/chatgpt-to-api"

// layers ranks the packages: a package may import only packages of a lower
// rank (docs/architecture.md draws the same map). Test helpers are not
// ranked; they may import anything.
var layers = map[string]int{
	"assets": 0, "assets/gen": 9, "build": 9, "build/tools/checks": 9, "build/tools/icongen": 9,
	"build/tools/notices": 9, "build/tools/pack": 9, "keychain": 0, "proxy/config": 0, "proxy/apierr": 0, "proxy/auth": 0,
	"proxy/codex": 0, "proxy/catalog": 0, "proxy/status": 0, "tray/applog": 0, "proxy/affinity": 0, "proxy/upstream/codexcli": -1,
	"proxy/jsonscan": -1,
	"proxy/upstream": 1, "proxy/dialect": 1,
	"proxy/relay": 2, "proxy/auth/creds": 2,
	"proxy/dialect/chat": 3, "proxy/dialect/responses": 3, "proxy/dialect/anthropic": 3,
	"proxy/server": 4,
	"proxy":        5, "tray": 5,
	"proxy/auth/authcli": 6,
	"proxy/app":          7,
	"":                   8, // main
}

// testHelpers are packages that exist for tests and may import anything.
var testHelpers = []string{"proxy/bench", "proxy/codextest", "proxy/proxytest", "proxy/conformance", "keychain/keychaintest", "tray/traytest", "build", "proxy/jsonscan/jsonscantest"}

func isTestHelper(pkg string) bool {
	for _, h := range testHelpers {
		if pkg == h || strings.HasPrefix(pkg, h+"/") {
			return true
		}
	}
	return false
}

// sourceFiles returns the non-test Go files of the module by package
// directory (relative, "" for the root).
func sourceFiles(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if dir == "." {
			dir = ""
		}
		out[dir] = append(out[dir], path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestImportsPointDown checks that every import between the module's
// packages goes to a lower layer.
func TestImportsPointDown(t *testing.T) {
	fset := token.NewFileSet()
	for dir, files := range sourceFiles(t) {
		if isTestHelper(dir) {
			continue
		}
		rank, ok := layers[dir]
		if !ok {
			t.Errorf("package %q has no layer in architecture_test.go (and docs/architecture.md)", dir)
			continue
		}
		for _, f := range files {
			af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, im := range af.Imports {
				p, _ := strconv.Unquote(im.Path.Value)
				if !strings.HasPrefix(p, module+"/") {
					continue
				}
				dep := strings.TrimPrefix(p, module+"/")
				if r, ok := layers[dep]; ok && r >= rank {
					t.Errorf("%s imports %s: an arrow that does not point down (layer %d -> %d)", f, dep, rank, r)
				}
				if isTestHelper(dep) {
					t.Errorf("%s imports the test helper %s", f, dep)
				}
			}
		}
	}
}

// TestNoUntypedJSONInTranslation checks that translation code builds the
// typed model instead of map[string]any.
func TestNoUntypedJSONInTranslation(t *testing.T) {
	fset := token.NewFileSet()
	for dir, files := range sourceFiles(t) {
		if !(strings.HasPrefix(dir, "proxy/dialect") || dir == "proxy/codex" || dir == "proxy/relay") {
			continue
		}
		for _, f := range files {
			af, err := parser.ParseFile(fset, f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(af, func(n ast.Node) bool {
				m, ok := n.(*ast.MapType)
				if !ok {
					return true
				}
				if k, ok := m.Key.(*ast.Ident); ok && k.Name == "string" && isAny(m.Value) {
					t.Errorf("%s: map[string]any in translation code", fset.Position(m.Pos()))
				}
				return true
			})
		}
	}
}

func isAny(e ast.Expr) bool {
	switch v := e.(type) {
	case *ast.Ident:
		return v.Name == "any"
	case *ast.InterfaceType:
		return len(v.Methods.List) == 0
	}
	return false
}

// mdRef matches a Markdown file named in a comment.
var mdRef = regexp.MustCompile(`[A-Za-z0-9_./-]+\.md\b`)

// maxComplexity is the highest cyclomatic complexity a function may have.
const maxComplexity = 30

// TestFunctionComplexity checks that no function in non-test code is more
// complex than maxComplexity (counted as gocyclo does: 1 plus one for each
// if, for, case, && and ||).
func TestFunctionComplexity(t *testing.T) {
	fset := token.NewFileSet()
	for _, files := range sourceFiles(t) {
		for _, f := range files {
			af, err := parser.ParseFile(fset, f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range af.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || fn.Body == nil {
					continue
				}
				if c := complexity(fn.Body); c > maxComplexity {
					t.Errorf("%s: %s has cyclomatic complexity %d (limit %d)", fset.Position(fn.Pos()), fn.Name.Name, c, maxComplexity)
				}
			}
		}
	}
}

func complexity(body ast.Node) int {
	c := 1
	ast.Inspect(body, func(n ast.Node) bool {
		switch v := n.(type) {
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt:
			c++
		case *ast.CaseClause:
			if v.List != nil {
				c++
			}
		case *ast.CommClause:
			if v.Comm != nil {
				c++
			}
		case *ast.BinaryExpr:
			if v.Op == token.LAND || v.Op == token.LOR {
				c++
			}
		}
		return true
	})
	return c
}

// TestComplexityCounter keeps the counter honest.
func TestComplexityCounter(t *testing.T) {
	src := `package p
func f(a, b bool, xs []int) {
	if a && b { }
	for range xs { }
	switch { case a: case b: default: }
}`
	af, err := parser.ParseFile(token.NewFileSet(), "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c := complexity(af.Decls[0].(*ast.FuncDecl).Body); c != 6 {
		t.Errorf("complexity = %d, want 6", c)
	}
}

// TestNoNotesOutsideTheRepo checks that comments do not send the reader to
// notes that are not in the repository.
func TestNoNotesOutsideTheRepo(t *testing.T) {
	inRepo := map[string]bool{}
	_ = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".md") {
			inRepo[filepath.Base(path)] = true
			inRepo[filepath.ToSlash(path)] = true
		}
		return nil
	})
	for _, files := range sourceFiles(t) {
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(string(b), "\n") {
				if strings.Contains(line, "shared/reference") || strings.Contains(line, "../shared") {
					t.Errorf("%s:%d points at notes outside the repository: %s", f, i+1, strings.TrimSpace(line))
				}
				for _, m := range mdRef.FindAllString(line, -1) {
					if !inRepo[m] {
						t.Errorf("%s:%d names %s, which is not in the repository: %s", f, i+1, m, strings.TrimSpace(line))
					}
				}
			}
		}
	}
}

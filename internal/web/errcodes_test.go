package web_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestErrorCodesDeclaredAtPackageLevel: a code is declared as a named
// variable, never made up where it is returned. An apperr.New or
// apperr.InvalidField with a literal code inside a function body (or an
// apperr.Error literal with one) is a code no caller can match with
// errors.Is; declare it once beside the function and return the variable,
// or a copy made with At, With or Wrap.
func TestErrorCodesDeclaredAtPackageLevel(t *testing.T) {
	fset := token.NewFileSet()
	apiSourceFiles(t, fset, func(f *ast.File) {
		isLit := func(e ast.Expr) bool {
			b, ok := e.(*ast.BasicLit)
			return ok && b.Kind == token.STRING
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.CallExpr:
					sel, ok := x.Fun.(*ast.SelectorExpr)
					if !ok {
						return true
					}
					if id, ok := sel.X.(*ast.Ident); ok && id.Name == "apperr" && (sel.Sel.Name == "New" || sel.Sel.Name == "InvalidField") {
						if len(x.Args) >= 2 && isLit(x.Args[1]) {
							t.Errorf("%s: %s declares error code %s inside a function; declare it once as a package variable", fset.Position(x.Pos()), fd.Name.Name, x.Args[1].(*ast.BasicLit).Value)
						}
					}
				case *ast.CompositeLit:
					sel, ok := x.Type.(*ast.SelectorExpr)
					if !ok {
						return true
					}
					if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "apperr" || sel.Sel.Name != "Error" {
						return true
					}
					for _, el := range x.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok {
							if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Code" && isLit(kv.Value) {
								t.Errorf("%s: %s builds an apperr.Error with code %s inside a function; declare it once as a package variable", fset.Position(x.Pos()), fd.Name.Name, kv.Value.(*ast.BasicLit).Value)
							}
						}
					}
				}
				return true
			})
		}
	})
}

// apiSourceFiles parses every non-test Go file of the packages behind
// /api/v1 (apiCodeDirs) and calls fn with each: the error-code tests read
// the source through it.
func apiSourceFiles(t *testing.T, fset *token.FileSet, fn func(f *ast.File)) {
	t.Helper()
	dirs := apiCodeDirs(t)
	if len(dirs) < 15 {
		t.Fatalf("found only %d packages under internal/: the walk is broken", len(dirs))
	}
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join("..", dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, file, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			fn(f)
		}
	}
}

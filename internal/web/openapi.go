package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
)

// The OpenAPI document is written by hand and checked against Routes() by a
// test, so the document and the router can never drift apart silently.
// openapi/openapi.json holds the core (info, shared components, the first
// domains' paths); each further domain keeps its own fragment
// openapi/<domain>.json with "paths" and "components" of its own, merged in
// at start. One file per domain keeps parallel work from colliding in one
// large JSON file.
//
//go:embed openapi/*.json
var openapiFiles embed.FS

var openapiDoc = mustMergeOpenAPI(openapiFiles)

// OpenAPI returns the merged document the server serves at /api/openapi.json.
func OpenAPI() []byte { return openapiDoc }

// mustMergeOpenAPI merges every fragment's paths, components and
// x-error-codes-global into the core document. A path or component defined
// twice is a programming error and stops the process at start.
func mustMergeOpenAPI(fsys fs.FS) []byte {
	core := map[string]any{}
	raw, err := fs.ReadFile(fsys, "openapi/openapi.json")
	if err != nil {
		panic(err)
	}
	if err := json.Unmarshal(raw, &core); err != nil {
		panic(fmt.Sprintf("openapi/openapi.json: %v", err))
	}
	names, _ := fs.Glob(fsys, "openapi/*.json")
	sort.Strings(names)
	for _, name := range names {
		if name == "openapi/openapi.json" {
			continue
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			panic(err)
		}
		frag := map[string]any{}
		if err := json.Unmarshal(b, &frag); err != nil {
			panic(fmt.Sprintf("%s: %v", name, err))
		}
		for key, val := range frag {
			switch key {
			case "paths", "x-error-codes-global":
				mergeInto(core, key, val, name)
			case "components":
				comps, _ := core["components"].(map[string]any)
				for kind, set := range val.(map[string]any) {
					mergeInto(comps, kind, set, name)
				}
			case "tags":
				core["tags"] = append(core["tags"].([]any), val.([]any)...)
			default:
				panic(fmt.Sprintf("%s: unexpected top-level key %q (fragments hold paths, components, tags, x-error-codes-global)", name, key))
			}
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(core); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// mergeInto adds the entries of set to parent[key], refusing duplicates.
// x-error-codes-global lists are the exception: they are appended.
func mergeInto(parent map[string]any, key string, set any, from string) {
	dst, _ := parent[key].(map[string]any)
	if dst == nil {
		dst = map[string]any{}
		parent[key] = dst
	}
	for k, v := range set.(map[string]any) {
		if old, dup := dst[k]; dup {
			if list, ok := old.([]any); ok && key == "x-error-codes-global" {
				dst[k] = append(list, v.([]any)...)
				continue
			}
			panic(fmt.Sprintf("%s: %s %q is already defined", from, key, k))
		}
		dst[k] = v
	}
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openapiDoc)
	return err
}

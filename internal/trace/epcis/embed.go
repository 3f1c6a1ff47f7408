package epcis

import _ "embed"

// The GS1 EPCIS 2.0 JSON Schema and JSON-LD context, copied unchanged from
// github.com/gs1/EPCIS (see gs1/LICENSE-GS1.txt). They are embedded so that
// validation and vocabulary expansion never fetch anything at run time.

//go:embed gs1/EPCIS-JSON-Schema.json
var schemaJSON []byte

//go:embed gs1/epcis-context.jsonld
var contextJSON []byte

// ContextURL is the JSON-LD context every EPCIS 2.0 document references.
const ContextURL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

// Context returns the embedded EPCIS 2.0 JSON-LD context document.
func Context() []byte { return contextJSON }

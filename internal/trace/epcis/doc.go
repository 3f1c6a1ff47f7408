// Package epcis reads GS1 EPCIS 2.0 JSON/JSON-LD for the trace domain:
//
//   - Validate / ParseDocument check a document against the GS1 EPCIS 2.0
//     JSON Schema (embedded from gs1/, patterns run as ECMAScript regexps
//     via regexp2) and reject it whole, with problems naming the event
//     index, its eventID, the JSON pointer and a message. Valid documents
//     become trace.Events with normalised, indexable fields.
//   - EventHashes computes the CBV 2.0 event hash ID
//     (ni:///sha-256;…?ver=CBV2.0) assigned to events without eventID; it
//     reproduces the published vectors of GS1's reference implementation
//     (testdata/hashvectors).
//   - NormalizeID turns EPC URIs and GS1 Digital Links on any domain into
//     constrained canonical Digital Links, the form identifiers are stored
//     and matched in.
//   - ParseQuery reads the REST binding's query parameters (with °F/°C/K
//     and other unit conversion for sensor values) into a trace.EventFilter;
//     EncodePageToken/DecodePageToken make nextPageToken values bound to
//     their query.
//   - ParseLotRef reads scanned codes (Digital Link, LGTIN, SGTIN) as lots.
//
// The package has no I/O: storage is trace.EventStore, HTTP is epcishttp.
package epcis

package insight

// Hooks for the cross-validation test (package insight_test): train an
// intent model on chosen samples and classify with it.

// Sample is a labelled comment.
type Sample = sample

// NewSample makes a Sample.
func NewSample(text string, in Intent) Sample { return sample{text: text, intent: in} }

// ParseSamples reads a labelled .tsv file's bytes.
func ParseSamples(b []byte) []Sample { return parseSamples(b) }

// ModelOptions are the model's knobs.
type ModelOptions = modelOptions

// DefaultModelOptions are the shipped model's.
func DefaultModelOptions() ModelOptions { return defaultModelOptions }

// Model is a trained intent model.
type Model = intentModel

// TrainModel trains an intent model on samples, masked with the corpus catalogue.
func TrainModel(seg *Segmenter, samples []Sample, opts ModelOptions) *Model {
	return trainIntentModel(corpusIndex(seg), seg, samples, opts)
}

// ClassifyWith is Classify with the given model.
func (ix *Index) ClassifyWith(m *Model, seg *Segmenter, text string, pinned int64) Result {
	return ix.classify(m, seg, text, pinned)
}

// BadState reports whether the state rules read text as a complaint told
// without a complaint word.
func BadState(text string) bool { return statesOf(normalize(text)).bad }

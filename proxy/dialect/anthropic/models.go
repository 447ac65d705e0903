package anthropic

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/catalog"
)

// DefaultModelMap is the default CHATGPT_CLAUDE_MODELS: Opus names get the
// best model of the catalog at high effort, Sonnet names the default
// model, Haiku names the smallest fast model.
const DefaultModelMap = "opus=best:high,sonnet=default,haiku=mini"

// Targets a model map entry may name besides a model slug.
const (
	TargetBest    = "best"    // the first model the catalog lists
	TargetDefault = "default" // the default model (CHATGPT_DEFAULT_MODEL or the best)
	TargetMini    = "mini"    // the last listed model whose slug has "mini", else the last listed
)

// ModelRule maps Claude model names containing Key to Target at Effort.
type ModelRule struct {
	Key    string
	Target string
	Effort string
}

// ModelMap maps Claude model names (claude-opus-4-5, claude-3-5-haiku-latest,
// …) to catalog models. The longest key contained in the name wins; a
// claude-* name no key matches uses the default model.
type ModelMap []ModelRule

// ParseModelMap reads "key=target[:effort],…".
func ParseModelMap(s string) (ModelMap, error) {
	var m ModelMap
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.ToLower(strings.TrimSpace(v))
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("%q is not key=model[:effort]", part)
		}
		target, effort, _ := strings.Cut(v, ":")
		if effort != "" && !catalog.IsEffort(effort) {
			return nil, fmt.Errorf("%q: %q is not a reasoning effort", part, effort)
		}
		m = append(m, ModelRule{Key: k, Target: target, Effort: effort})
	}
	sort.SliceStable(m, func(i, j int) bool { return len(m[i].Key) > len(m[j].Key) })
	return m, nil
}

// Catalog is what the dialect needs from the model catalog.
type Catalog interface {
	Resolve(name string) (catalog.Resolution, error)
	Visible() []catalog.Model
	Default() string
}

// IsClaude reports whether name is an Anthropic model name.
func IsClaude(name string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(name)), "claude")
}

// Resolve maps a requested model name to what is sent upstream: Claude
// names through the map, every other name as the catalog resolves it.
func (m ModelMap) Resolve(c Catalog, name string) (catalog.Resolution, error) {
	if !IsClaude(name) {
		res, err := c.Resolve(name)
		if err != nil {
			return res, notFound(name)
		}
		return res, nil
	}
	n := strings.ToLower(strings.TrimSpace(name))
	rule := ModelRule{Target: TargetDefault}
	for _, r := range m {
		if strings.Contains(n, r.Key) {
			rule = r
			break
		}
	}
	slug := rule.Target
	switch rule.Target {
	case TargetBest:
		if v := c.Visible(); len(v) > 0 {
			slug = v[0].Slug
		} else {
			slug = c.Default()
		}
	case TargetDefault:
		slug = c.Default()
	case TargetMini:
		slug = mini(c)
	}
	res, err := c.Resolve(slug)
	if err != nil {
		return res, notFound(name)
	}
	res.Requested = name
	res.Alias = true
	if rule.Effort != "" {
		res.Effort = rule.Effort
	}
	return res, nil
}

// mini picks the smallest fast model: the last listed "mini" model, else
// the last listed model.
func mini(c Catalog) string {
	v := c.Visible()
	for i := len(v) - 1; i >= 0; i-- {
		if strings.Contains(v[i].Slug, "mini") {
			return v[i].Slug
		}
	}
	if len(v) > 0 {
		return v[len(v)-1].Slug
	}
	return c.Default()
}

func notFound(name string) *apierr.Error {
	return apierr.Errorf(http.StatusNotFound, "not_found_error", "model: %s", name).WithParam("model").WithCode("model_not_found")
}
